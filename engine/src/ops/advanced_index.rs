//! Advanced indexing: libtorch's `index(indices)` (`IndexBackward0`; the result is a copy) and
//! `index_put_(indices, values, accumulate)` (`IndexPutBackward0`), where `indices` is a list of
//! optional tensors (int64 positions or bool masks, `None` for a full dim), and Python's
//! `x[items]` / `x[items] = v` with tensors among the items, which apply the basic items as
//! views first and hand the tensors to `index`/`index_put_` (`THPVariable_getitem`/`setitem`).
//!
//! The forward follows `make_info` in `TensorAdvancedIndexing.cpp`: masks become one int64 index
//! per masked dim (their true positions), the index tensors broadcast together, and the result
//! has the broadcast shape in place of the indexed dims when those are adjacent, in front
//! otherwise. A [`Plan`] maps every result element to the input element it reads.

use crate::autograd::{Recorder, SavedId, opt};
use crate::error::{Error, Result, Shape};
use crate::layout::{broadcast_shapes, contiguous_strides};
use crate::ops::elementwise::Operand;
use crate::ops::index::IndexItem;
use crate::ops::inplace::{Overlap, inplace_with_meta};
use crate::storage::StorageElem;
use crate::tensor::Tensor;
use crate::{DType, Scalar};

/// One item of a Python index expression that may hold tensors.
#[derive(Debug, Clone)]
pub enum TensorIndex {
    Basic(IndexItem),
    Tensor(Tensor),
}

impl From<IndexItem> for TensorIndex {
    fn from(i: IndexItem) -> Self {
        TensorIndex::Basic(i)
    }
}
impl From<Tensor> for TensorIndex {
    fn from(t: Tensor) -> Self {
        TensorIndex::Tensor(t)
    }
}
impl From<&Tensor> for TensorIndex {
    fn from(t: &Tensor) -> Self {
        TensorIndex::Tensor(t.clone())
    }
}

/// Where each element of an indexing result comes from.
struct Plan {
    out_shape: Vec<usize>,
    /// Row-major position in the indexed tensor of each result element (row-major); empty
    /// when a position is out of range.
    src: Vec<usize>,
    /// The first out-of-range position in result order, with every element's position (or the
    /// out-of-range index, its dim and size) and what `kernel_writes` needs to walk them in
    /// libtorch's order.
    oob: Option<Error>,
    entries: Vec<std::result::Result<usize, (i64, usize, usize)>>,
    out_dims: Vec<Option<usize>>,
    /// Each index tensor's strides over the result dims (0 over the dims it does not index).
    index_strides: Vec<Vec<isize>>,
}

impl Plan {
    fn checked(self) -> Result<Plan> {
        match self.oob {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }

    /// The writes `index_put_`'s CPU kernel makes, as `(result element, position)`, in its order,
    /// up to the first out-of-range position it meets (and that position's error). The kernel
    /// checks each position as it reaches it, walking TensorIterator's order: the result dims sorted by the strides
    /// of its operands, the restrided `self` first (`self_strides`: 0 over the indexed dims),
    /// then the values (`value_strides`), then the index tensors (`reorder_dimensions`).
    fn kernel_writes(
        &self,
        self_strides: &[isize],
        value_strides: Vec<isize>,
    ) -> (Vec<(usize, usize)>, Option<Error>) {
        let shape = &self.out_shape;
        let ndim = shape.len();
        let mut operands = vec![
            self.out_dims
                .iter()
                .map(|d| d.map_or(0, |d| self_strides[d]))
                .collect::<Vec<isize>>(),
            value_strides,
        ];
        operands.extend(self.index_strides.iter().cloned());
        let layouts: Vec<crate::layout::Layout> = operands
            .into_iter()
            .map(|strides| crate::layout::Layout {
                shape: shape.clone(),
                strides,
                offset: 0,
            })
            .collect();
        let perm =
            crate::memory_format::iteration_order(shape, &layouts.iter().collect::<Vec<_>>());
        let rows = contiguous_strides(shape);
        let mut idx = vec![0usize; ndim];
        let mut writes = Vec::new();
        for _ in 0..self.entries.len() {
            let r: isize = idx.iter().zip(&rows).map(|(&i, &s)| i as isize * s).sum();
            match self.entries[r as usize] {
                Ok(pos) => writes.push((r as usize, pos)),
                Err((index, dim, size)) => {
                    return (writes, Some(Error::IndexOutOfRange { index, dim, size }));
                }
            }
            for &k in &perm {
                idx[k] += 1;
                if idx[k] < shape[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        (writes, None)
    }
}

/// An index tensor as int64 positions with its shape.
struct Positions {
    values: Vec<i64>,
    shape: Vec<usize>,
}

fn shapes_as_str(ix: &[Option<Positions>]) -> String {
    ix.iter()
        .flatten()
        .map(|p| Shape(p.shape.clone()).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn plan(shape: &[usize], indices: &[Option<Tensor>]) -> Result<Plan> {
    let ndim = shape.len();
    if indices.len() > ndim {
        return Err(Error::InvalidArgument(format!(
            "too many indices for tensor of dimension {ndim} (got {})",
            indices.len()
        )));
    }
    // Index tensors are int64, int32 or bool (PyTorch refuses int8 and int16 too).
    let index_dtype = |d: DType| matches!(d, DType::I64 | DType::I32 | DType::Bool);
    if indices.iter().flatten().any(|t| !index_dtype(t.dtype())) {
        return Err(Error::IndexDtype);
    }
    // Masks become one int64 index per dim they cover: the coordinates of their true entries.
    let mut per_dim: Vec<Option<Positions>> = Vec::new();
    for t in indices {
        let Some(t) = t else {
            per_dim.push(None);
            continue;
        };
        if t.dtype() != DType::Bool {
            per_dim.push(Some(Positions {
                values: crate::ops::cast(t, DType::I64)?.contiguous_vec::<i64>()?,
                shape: t.shape(),
            }));
            continue;
        }
        let ms = t.shape();
        if ms.is_empty() {
            return Err(Error::InvalidArgument(
                "index(): a 0-dim bool mask is Python's `x[True]`; index with getitem".into(),
            ));
        }
        let at = per_dim.len();
        for (j, &m) in ms.iter().enumerate() {
            let d = crate::layout::wrap_dim((at + j) as i64, ndim)?;
            if m != shape[d] {
                return Err(Error::InvalidArgument(format!(
                    "The shape of the mask {} at index {j} does not match the shape of the indexed tensor {} at index {d}",
                    Shape(ms.clone()),
                    Shape(shape.to_vec())
                )));
            }
        }
        let mv = t.contiguous_vec::<bool>()?;
        let st = contiguous_strides(&ms);
        let hits: Vec<usize> = (0..mv.len()).filter(|&i| mv[i]).collect();
        for j in 0..ms.len() {
            let values = hits
                .iter()
                .map(|&i| ((i as isize / st[j]) as usize % ms[j]) as i64)
                .collect();
            per_dim.push(Some(Positions {
                values,
                shape: vec![hits.len()],
            }));
        }
    }
    if per_dim.len() > ndim {
        return Err(Error::InvalidArgument(format!(
            "too many indices for tensor of dimension {ndim} (got {})",
            per_dim.len()
        )));
    }
    per_dim.resize_with(ndim, || None);
    let mut bshape: Option<Vec<usize>> = None;
    for p in per_dim.iter().flatten() {
        bshape = Some(match bshape {
            None => p.shape.clone(),
            Some(b) => broadcast_shapes(&b, &p.shape).map_err(|_| {
                Error::InvalidArgument(format!(
                    "shape mismatch: indexing tensors could not be broadcast together with shapes {}",
                    shapes_as_str(&per_dim)
                ))
            })?,
        });
    }
    let bshape = bshape.unwrap_or_default();
    let defined: Vec<usize> = (0..ndim).filter(|&d| per_dim[d].is_some()).collect();
    // AdvancedIndex's constructor: an indexed dim of size 0 with a nonempty index shape has no
    // valid position, whatever the positions are (an empty result checks none of them).
    if defined.iter().any(|&d| shape[d] == 0) && !bshape.contains(&0) {
        return Err(Error::IndexEmptyDim);
    }
    let adjacent = defined.windows(2).all(|w| w[1] == w[0] + 1);
    let free: Vec<usize> = (0..ndim).filter(|&d| per_dim[d].is_none()).collect();
    // Result dims: (source dim or None for the broadcast index dims) in order.
    let first = defined.first().copied().unwrap_or(0);
    let mut out_dims: Vec<Option<usize>> = Vec::new();
    if adjacent {
        out_dims.extend(free.iter().filter(|&&d| d < first).map(|&d| Some(d)));
        out_dims.extend(bshape.iter().map(|_| None));
        out_dims.extend(free.iter().filter(|&&d| d > first).map(|&d| Some(d)));
    } else {
        out_dims.extend(bshape.iter().map(|_| None));
        out_dims.extend(free.iter().map(|&d| Some(d)));
    }
    let out_shape: Vec<usize> = {
        let mut b = bshape.iter();
        out_dims
            .iter()
            .map(|d| match d {
                Some(d) => shape[*d],
                None => *b.next().unwrap_or(&1),
            })
            .collect()
    };
    // Each index tensor's strides when broadcast to the index shape.
    let bstrides: Vec<Option<Vec<isize>>> = per_dim
        .iter()
        .map(|p| {
            p.as_ref()
                .map(|p| crate::layout::Layout::contiguous(&p.shape).broadcast_strides(&bshape))
        })
        .collect();
    let in_strides = contiguous_strides(shape);
    let numel: usize = out_shape.iter().product();
    let mut entries = Vec::with_capacity(numel);
    let mut idx = vec![0usize; out_shape.len()];
    for _ in 0..numel {
        let mut b = Vec::with_capacity(bshape.len());
        let mut pos = 0isize;
        for (k, d) in out_dims.iter().enumerate() {
            match d {
                Some(d) => pos += idx[k] as isize * in_strides[*d],
                None => b.push(idx[k]),
            }
        }
        let mut entry = Ok(0);
        for (j, &d) in defined.iter().enumerate() {
            let (Some(p), Some(st)) = (&per_dim[d], &bstrides[d]) else {
                continue;
            };
            let off: isize = b.iter().zip(st).map(|(&i, &s)| i as isize * s).sum();
            let v = p.values[off as usize];
            let size = shape[d] as i64;
            if v < -size || v >= size {
                entry = Err((v, j, shape[d]));
                break;
            }
            let v = if v < 0 { v + size } else { v };
            pos += v as isize * in_strides[d];
        }
        entries.push(entry.map(|_| pos as usize));
        for k in (0..out_shape.len()).rev() {
            idx[k] += 1;
            if idx[k] < out_shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    let oob = entries
        .iter()
        .find_map(|e| e.err())
        .map(|(index, dim, size)| Error::IndexOutOfRange { index, dim, size });
    let src = match oob {
        None => entries.iter().map(|e| e.unwrap_or(0)).collect(),
        Some(_) => Vec::new(),
    };
    let index_strides = defined
        .iter()
        .filter_map(|&d| bstrides[d].as_ref())
        .map(|st| {
            let mut b = st.iter();
            out_dims
                .iter()
                .map(|d| match d {
                    Some(_) => 0,
                    None => *b.next().unwrap_or(&0),
                })
                .collect()
        })
        .collect();
    Ok(Plan {
        out_shape,
        src,
        oob,
        entries,
        out_dims,
        index_strides,
    })
}

fn gather<T: StorageElem>(x: &Tensor, p: &Plan) -> Result<Tensor> {
    let v = x.contiguous_vec::<T>()?;
    Tensor::from_vec(p.src.iter().map(|&i| v[i]).collect(), &p.out_shape)
}

/// How `index_put_`'s kernel meets memory, for [`scatter`]: its writes in its own order
/// ([`Plan::kernel_writes`]), through `x`'s strides (an expanded `x` shares storage elements
/// between positions), reading each value when it writes it (so a value tensor over `x`'s
/// buffer sees the writes before it: `value_cells`, its storage element per result element).
struct Kernel<'a> {
    writes: &'a [(usize, usize)],
    value_cells: Option<Vec<usize>>,
}

/// `x` (its shape, contiguous) with `values` (broadcast to the plan's result) written at the
/// plan's sources, in result order (a later duplicate wins, or adds with `accumulate`): the
/// out-of-place `index_put`; or as the in-place kernel writes them (`kernel`).
fn scatter<T: StorageElem>(
    x: &Tensor,
    p: &Plan,
    kernel: Option<&Kernel<'_>>,
    values: &Tensor,
    accumulate: Option<fn(T, T) -> T>,
) -> Result<Tensor> {
    let mut out = x.contiguous_vec::<T>()?;
    let vals = values.expand_raw(&p.out_shape)?.contiguous_vec::<T>()?;
    let combine = |old: T, v: T| match accumulate {
        Some(add) => add(old, v),
        None => v,
    };
    let Some(k) = kernel else {
        for (&i, v) in p.src.iter().zip(vals) {
            out[i] = combine(out[i], v);
        }
        return Tensor::from_vec(out, &x.shape());
    };
    let cell: Vec<usize> = x.layout().indices().collect();
    let mut cells: std::collections::HashMap<usize, T> =
        cell.iter().copied().zip(out.iter().copied()).collect();
    for &(r, i) in k.writes {
        let v = match &k.value_cells {
            Some(vc) => cells.get(&vc[r]).copied().unwrap_or(vals[r]),
            None => vals[r],
        };
        let c = cells.entry(cell[i]).or_insert(v);
        *c = combine(*c, v);
    }
    for (o, c) in out.iter_mut().zip(&cell) {
        *o = cells[c];
    }
    Tensor::from_vec(out, &x.shape())
}

fn gather_any(x: &Tensor, p: &Plan) -> Result<Tensor> {
    match x.dtype() {
        DType::F32 => gather::<f32>(x, p),
        DType::F64 => gather::<f64>(x, p),
        DType::I64 => gather::<i64>(x, p),
        DType::I32 => gather::<i32>(x, p),
        DType::I16 => gather::<i16>(x, p),
        DType::I8 => gather::<i8>(x, p),
        DType::Bool => gather::<bool>(x, p),
    }
}

fn scatter_any(x: &Tensor, p: &Plan, values: &Tensor, accumulate: bool) -> Result<Tensor> {
    scatter_some(x, p, None, values, accumulate)
}

fn scatter_some(
    x: &Tensor,
    p: &Plan,
    k: Option<&Kernel<'_>>,
    values: &Tensor,
    accumulate: bool,
) -> Result<Tensor> {
    let values = &crate::with_no_grad(|| values.to_dtype(x.dtype()))?;
    match x.dtype() {
        DType::F32 => scatter::<f32>(x, p, k, values, accumulate.then_some(|a, b| a + b)),
        DType::F64 => scatter::<f64>(x, p, k, values, accumulate.then_some(|a, b| a + b)),
        DType::I64 => scatter::<i64>(x, p, k, values, accumulate.then_some(i64::wrapping_add)),
        DType::I32 => scatter::<i32>(x, p, k, values, accumulate.then_some(i32::wrapping_add)),
        DType::I16 => scatter::<i16>(x, p, k, values, accumulate.then_some(i16::wrapping_add)),
        DType::I8 => scatter::<i8>(x, p, k, values, accumulate.then_some(i8::wrapping_add)),
        DType::Bool => scatter::<bool>(x, p, k, values, accumulate.then_some(|a, b| a | b)),
    }
}

/// `index_put_`'s kernel on `x`: its writes, up to an out-of-range position, through `x`'s
/// storage, reading values that share it as they are when written. Returns the result and the
/// out-of-range error, if one stopped the kernel.
fn index_put_kernel(
    x: &Tensor,
    p: &Plan,
    values: &Tensor,
    accumulate: bool,
) -> Result<(Tensor, Option<Error>)> {
    let vs = values.layout().broadcast_strides(&p.out_shape);
    let (writes, e) = p.kernel_writes(&x.layout().strides, vs.clone());
    let value_cells = values.shares_storage(x).then(|| {
        crate::layout::Layout {
            shape: p.out_shape.clone(),
            strides: vs,
            offset: values.layout().offset,
        }
        .indices()
        .collect()
    });
    let k = Kernel {
        writes: &writes,
        value_cells,
    };
    let out = crate::with_no_grad(|| scatter_some(x, p, Some(&k), values, accumulate))?;
    Ok((out, e))
}

/// `assert_no_overlap`: the same tensor, or dense layouts over intersecting ranges of one
/// buffer (layouts too irregular to judge pass, as in ATen).
fn overlaps(t: &Tensor, o: &Tensor) -> bool {
    if t.same(o) {
        return true;
    }
    if t.numel() == 0 || o.numel() == 0 || !t.shares_storage(o) {
        return false;
    }
    let (lt, lo) = (t.layout(), o.layout());
    if !lt.is_non_overlapping_and_dense() || !lo.is_non_overlapping_and_dense() {
        return false;
    }
    lt.offset < lo.offset + lo.numel() && lo.offset < lt.offset + lt.numel()
}

/// Saves the index tensors of a node; `None` entries stay `None`.
fn save_indices(rec: &mut Recorder, indices: &[Option<Tensor>]) -> Vec<Option<SavedId>> {
    indices
        .iter()
        .map(|t| t.as_ref().map(|t| rec.save(t)))
        .collect()
}

fn unpack_indices(
    ctx: &crate::autograd::BackwardCtx<'_>,
    ids: &[Option<SavedId>],
) -> Result<Vec<Option<Tensor>>> {
    ids.iter()
        .map(|id| id.map(|id| ctx.unpack(id)).transpose())
        .collect()
}

/// ATen's `canDispatchToMaskedFill`: one bool mask among full dims and a one-element value make
/// `index_put_` a `masked_fill_` inside the kernel (the value is then cast, not dtype-checked).
fn masked_fill_dispatch(indices: &[Option<Tensor>], values: &Tensor) -> bool {
    let masks = indices.iter().flatten().count();
    values.numel() == 1 && masks == 1 && indices.iter().flatten().all(|t| t.dtype() == DType::Bool)
}

fn is_basic_full_slice(start: Option<i64>, stop: Option<i64>, step: i64, size: usize) -> bool {
    let n = size as i64;
    let e = stop.map_or(n, |v| (if v < 0 { v + n } else { v }).clamp(0, n));
    start.is_none_or(|v| v == 0) && e == n && step == 1
}

/// Python's slice bounds for a positive step, clamped to `[0, size]`.
fn slice_bounds(start: Option<i64>, stop: Option<i64>, size: usize) -> (usize, usize) {
    let n = size as i64;
    let norm = |v: i64| (if v < 0 { v + n } else { v }).clamp(0, n) as usize;
    let s = start.map_or(0, norm);
    let e = stop.map_or(size, norm);
    (s, e.max(s))
}

impl Tensor {
    /// libtorch's `index(indices)` (`IndexBackward0`): int64 positions or bool masks per dim,
    /// `None` for a full dim; out-of-range positions fail with libtorch's message.
    pub fn index_tensors(&self, indices: &[Option<Tensor>]) -> Result<Tensor> {
        let mut inputs = vec![self];
        inputs.extend(indices.iter().flatten());
        if inputs.iter().any(|t| t.device().is_cuda()) {
            return Err(Error::NotSupportedOnCuda { op: "index" });
        }
        crate::autograd::precheck(&[self])?;
        let shape = self.shape();
        let p = plan(&shape, indices)?.checked()?;
        let out = gather_any(self, &p)?;
        if let Some(mut rec) = Recorder::new("IndexBackward0", &[self])? {
            let ids = save_indices(&mut rec, indices);
            rec.finish(&out, move |ctx, g| {
                // index_backward: zeros of the input's shape, `index_put_` with accumulate=True.
                let ix = unpack_indices(ctx, &ids)?;
                let p = plan(&shape, &ix)?.checked()?;
                let z = Tensor::zeros(&shape, g.dtype())?;
                Ok(vec![Some(scatter_any(&z, &p, &g, true)?)])
            })?;
        }
        Ok(out)
    }

    /// libtorch's `index_put_(indices, values, accumulate)` (`IndexPutBackward0`).
    pub fn index_put_(
        &self,
        indices: &[Option<Tensor>],
        values: &Tensor,
        accumulate: bool,
    ) -> Result<&Self> {
        if self.device().is_cuda() || values.device().is_cuda() {
            return Err(Error::NotSupportedOnCuda { op: "index_put_" });
        }
        let shape = self.shape();
        let ix: Vec<Option<Tensor>> = indices.to_vec();
        let masked = !accumulate && masked_fill_dispatch(indices, values);
        // `_index_put_impl_`'s checks, in its order, after the autograd wrapper's: the index
        // count, the expanded-self warning, the masked_fill shortcut, the overlap of self with
        // the values and the indices, `make_info`, the iterator's shape and dtype checks; then
        // the kernel, which writes until it meets an out-of-range position.
        let meta = || {
            if indices.len() > shape.len() {
                return Err(Error::InvalidArgument(format!(
                    "too many indices for tensor of dimension {} (got {})",
                    shape.len(),
                    indices.len()
                )));
            }
            if self.layout().has_internal_overlap() {
                crate::warnings::warn(
                    "Use of index_put_ on expanded tensors is deprecated. Please clone() the tensor before performing this operation. This also applies to advanced indexing e.g. tensor[indices] = tensor",
                );
                if masked {
                    // The shortcut is `self.masked_fill_(mask, value.item())`, which warns too.
                    crate::warnings::warn(
                        "Use of masked_fill_ on expanded tensors is deprecated. Please clone() the tensor before performing this operation. This also applies to advanced indexing e.g. tensor[mask] = scalar",
                    );
                }
            }
            if !masked
                && std::iter::once(values)
                    .chain(indices.iter().flatten())
                    .any(|o| overlaps(self, o))
            {
                return Err(Error::InplacePartialOverlap);
            }
            let p = plan(&shape, indices)?;
            if !masked {
                if !crate::ops::shape::expandable_to(&values.shape(), &p.out_shape) {
                    return Err(Error::IndexPutShape {
                        value: Shape(values.shape()),
                        result: Shape(p.out_shape.clone()),
                    });
                }
                if values.dtype() != self.dtype() {
                    return Err(Error::IndexPutDtype {
                        dest: self.dtype().scalar_type_name(),
                        src: values.dtype().scalar_type_name(),
                    });
                }
            }
            if p.oob.is_some() {
                let v = if masked {
                    values.reshape(&[])?
                } else {
                    values.clone()
                };
                let (partial, e) = index_put_kernel(self, &p, &v, accumulate)?;
                self.write_from(&partial)?;
                return Err(e.unwrap_or(Error::IndexEmptyDim));
            }
            Ok(())
        };
        inplace_with_meta(
            self,
            &[values],
            Overlap::Unchecked,
            "IndexPutBackward0",
            meta,
            || {
                let p = plan(&shape, indices)?.checked()?;
                let v = if masked {
                    values.reshape(&[])?
                } else {
                    values.clone()
                };
                if self.layout().has_internal_overlap() || v.shares_storage(self) {
                    return Ok(index_put_kernel(self, &p, &v, accumulate)?.0);
                }
                scatter_any(self, &p, &v, accumulate)
            },
            |rec| {
                let ids = save_indices(rec, &ix);
                let sv = rec.save(values);
                let (ns, nv) = (rec.needs(0), rec.needs(1));
                let shape = shape.clone();
                Ok(Box::new(move |ctx, g| {
                    let ix = unpack_indices(ctx, &ids)?;
                    let v = ctx.unpack(sv)?;
                    let p = plan(&shape, &ix)?.checked()?;
                    // self: the written places get no gradient (unless accumulating); values:
                    // the gradient at those places, reduced to the values' shape by the engine.
                    let gs = opt(ns, || {
                        if accumulate {
                            Ok(g.clone())
                        } else {
                            let z = Tensor::zeros(&[], v.dtype())?;
                            scatter_any(&g, &p, &z, false)
                        }
                    })?;
                    let gv = opt(nv, || gather_any(&g, &p))?;
                    Ok(vec![gs, gv])
                }))
            },
        )?;
        Ok(self)
    }

    /// Python's `x[items]` with tensors among the items: basic items as views, then `index`
    /// with the tensors at the dims they stand for.
    pub fn getitem(&self, items: &[TensorIndex]) -> Result<Tensor> {
        let (sliced, ix) = self.apply_slicing(items)?;
        if ix.is_empty() {
            return if sliced.same(self) {
                self.alias()
            } else {
                Ok(sliced)
            };
        }
        sliced.index_tensors(&ix)
    }

    /// Python's `x[items] = value` with tensors among the items: basic items as views, then
    /// `index_put_` of the value (a number becomes a 0-dim tensor of the target's dtype;
    /// leading size-1 dims of a tensor value are dropped).
    pub fn setitem(&self, items: &[TensorIndex], value: impl Into<Operand>) -> Result<()> {
        let (sliced, ix) = self.apply_slicing(items)?;
        let value = match value.into() {
            Operand::Scalar(s) => Tensor::scalar(s, sliced.dtype()),
            Operand::Tensor(v) => v,
        };
        if ix.is_empty() {
            return sliced.index_set(&[], &value);
        }
        let vs = value.shape();
        let lead = vs.iter().take_while(|&&d| d == 1).count();
        let value = if lead > 0 {
            let s: Vec<i64> = vs[lead..].iter().map(|&d| d as i64).collect();
            value.view(&s)?
        } else {
            value
        };
        sliced.index_put_(&ix, &value, false)?;
        Ok(())
    }

    /// `applySlicing` of Python indexing: the view after the basic items and the tensors for
    /// `index`, each at the dim it indexes.
    fn apply_slicing(&self, items: &[TensorIndex]) -> Result<(Tensor, Vec<Option<Tensor>>)> {
        let ndim = self.ndim();
        let specified: usize = items
            .iter()
            .map(|i| match i {
                TensorIndex::Basic(IndexItem::Int(_) | IndexItem::Slice { .. }) => 1,
                TensorIndex::Basic(_) => 0,
                TensorIndex::Tensor(t) if t.dtype() == DType::Bool => t.ndim(),
                TensorIndex::Tensor(_) => 1,
            })
            .sum();
        if items
            .iter()
            .filter(|i| matches!(i, TensorIndex::Basic(IndexItem::Ellipsis)))
            .count()
            > 1
        {
            return Err(Error::InvalidArgument(
                "an index can only have a single ellipsis ('...')".into(),
            ));
        }
        if specified > ndim {
            return Err(Error::InvalidArgument(format!(
                "too many indices for tensor of dimension {ndim}"
            )));
        }
        let mut r = self.clone();
        let mut dim = 0usize;
        let mut out: Vec<Option<Tensor>> = Vec::new();
        let record = |out: &mut Vec<Option<Tensor>>, dim: &mut usize, t: Tensor| {
            out.resize_with(*dim + 1, || None);
            out[*dim] = Some(t);
            *dim += 1;
        };
        let select = |r: &Tensor, dim: usize, i: i64| -> Result<Tensor> {
            let size = r.shape()[dim];
            if i < -(size as i64) || i >= size as i64 {
                return Err(Error::IndexOutOfRange {
                    index: i,
                    dim,
                    size,
                });
            }
            r.select(dim as i64, i)
        };
        for item in items {
            match item {
                TensorIndex::Basic(IndexItem::Int(i)) => r = select(&r, dim, *i)?,
                TensorIndex::Basic(IndexItem::Slice { start, stop, step }) => {
                    if *step <= 0 {
                        return Err(Error::InvalidArgument(
                            "step must be greater than zero".into(),
                        ));
                    }
                    let size = r.shape()[dim];
                    if !is_basic_full_slice(*start, *stop, *step, size) {
                        let (s, e) = slice_bounds(*start, *stop, size);
                        r = r.slice(dim, s, e, *step as usize)?;
                    }
                    dim += 1;
                }
                TensorIndex::Basic(IndexItem::NewAxis) => {
                    r = r.unsqueeze(dim as i64)?;
                    dim += 1;
                }
                TensorIndex::Basic(IndexItem::Ellipsis) => dim += ndim - specified,
                TensorIndex::Tensor(t)
                    if t.ndim() == 0 && matches!(t.dtype(), DType::I64 | DType::I32) =>
                {
                    let i = t.item()?.as_f64() as i64;
                    r = select(&r, dim, i)?;
                }
                TensorIndex::Tensor(t) if t.ndim() == 0 && t.dtype() == DType::Bool => {
                    // `x[True]` adds a dim of size 1 and indexes it with [0] (or [] for False).
                    r = r.unsqueeze(dim as i64)?;
                    let hit = matches!(t.item()?, Scalar::Bool(true));
                    let ix =
                        Tensor::from_vec(if hit { vec![0i64] } else { vec![] }, &[hit as usize])?;
                    record(&mut out, &mut dim, ix);
                }
                TensorIndex::Tensor(t) => record(&mut out, &mut dim, t.clone()),
            }
        }
        Ok((r, out))
    }
}
