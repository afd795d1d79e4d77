//! View and shape ops. Views share storage and the version counter with their base; each has
//! libtorch's node name and a backward rule that maps the gradient back to the input's shape.

use super::cast;
use crate::autograd::Recorder;
use crate::error::{Error, Result, Shape, ShapeI};
use crate::layout::{Layout, wrap_dim};
use crate::tensor::Tensor;
use crate::{DType, Scalar};

/// Whether `from` can be broadcast (expanded) to `to`.
pub fn expandable_to(from: &[usize], to: &[usize]) -> bool {
    if from.len() > to.len() {
        return false;
    }
    let pad = to.len() - from.len();
    from.iter()
        .enumerate()
        .all(|(i, &d)| d == 1 || d == to[i + pad])
}

/// Resolves a `view`/`reshape` shape with at most one `-1`.
fn infer_shape(shape: &[i64], numel: usize) -> Result<Vec<usize>> {
    let mut infer = None;
    let mut known = 1usize;
    for (i, &d) in shape.iter().enumerate() {
        if d == -1 {
            if infer.is_some() {
                return Err(Error::InvalidArgument(
                    "only one dimension can be inferred".into(),
                ));
            }
            infer = Some(i);
        } else if d < 0 {
            return Err(Error::InvalidArgument(format!(
                "invalid shape dimension {d}"
            )));
        } else {
            known *= d as usize;
        }
    }
    let bad = || Error::InvalidShape {
        shape: ShapeI(shape.to_vec()),
        numel,
    };
    let mut out: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
    match infer {
        Some(i) => {
            if known == 0 || !numel.is_multiple_of(known) {
                return Err(bad());
            }
            out[i] = numel / known;
        }
        None => {
            if known != numel {
                return Err(bad());
            }
        }
    }
    Ok(out)
}

pub(crate) fn slice_layout(
    l: &Layout,
    dim: usize,
    start: usize,
    len: usize,
    step: usize,
) -> Layout {
    let mut r = l.clone();
    r.offset = (l.offset as isize + start as isize * l.strides[dim]) as usize;
    r.shape[dim] = len;
    r.strides[dim] *= step as isize;
    r
}

pub(crate) fn select_layout(l: &Layout, dim: usize, index: usize) -> Layout {
    let mut r = l.clone();
    r.offset = (l.offset as isize + index as isize * l.strides[dim]) as usize;
    r.shape.remove(dim);
    r.strides.remove(dim);
    r
}

/// Zeros of `shape` with `g` written into the sub-region `region(contiguous layout of shape)`:
/// the backward of slicing-like views.
pub(crate) fn embed(
    g: &Tensor,
    shape: &[usize],
    region: impl Fn(&Layout) -> Layout,
) -> Result<Tensor> {
    let z = Tensor::full(shape, Scalar::Int(0), g.dtype())?;
    let part = z.make_view(region(&z.layout()));
    part.write_values(&g.contiguous_storage()?)?;
    Ok(z)
}

impl Tensor {
    fn view_op(
        &self,
        layout: Layout,
        name: &'static str,
        rule: impl Fn(Tensor) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Result<Tensor> {
        let out = self.make_view(layout);
        if let Some(rec) = Recorder::new(name, &[self])? {
            rec.finish(&out, move |_, g| Ok(vec![Some(rule(g)?)]))?;
        }
        Ok(out)
    }

    /// A broadcast alias for kernels (no autograd, not a view in libtorch's sense).
    pub(crate) fn expand_raw(&self, shape: &[usize]) -> Result<Tensor> {
        let l = self.layout();
        if l.shape == shape {
            return Ok(self.clone());
        }
        if !expandable_to(&l.shape, shape) {
            let b = crate::layout::broadcast_shapes(&l.shape, shape);
            return Err(b
                .err()
                .unwrap_or(Error::InvalidArgument("cannot broadcast".into())));
        }
        let d = self.data_ref();
        Ok(Tensor::from_parts(
            d.storage,
            Layout {
                shape: shape.to_vec(),
                strides: l.broadcast_strides(shape),
                offset: l.offset,
            },
            d.dtype,
        ))
    }

    pub fn view(&self, shape: &[i64]) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        let l = self.layout();
        let new_shape = infer_shape(shape, l.numel())?;
        let strides = l.view_strides(&new_shape).ok_or(Error::ViewStride)?;
        let in_shape = l.shape.clone();
        let layout = Layout {
            shape: new_shape,
            strides,
            offset: l.offset,
        };
        self.view_op(layout, "ViewBackward0", move |g| g.reshape_usize(&in_shape))
    }

    /// `reshape`: a view when the strides allow it (`ViewBackward0` for contiguous input,
    /// `ReshapeAliasBackward0` otherwise), else a copy (`CloneBackward0` then
    /// `UnsafeViewBackward0`), as libtorch records it.
    pub fn reshape(&self, shape: &[i64]) -> Result<Tensor> {
        // reshape is composite: a contiguous input goes straight to `view`, whose autograd
        // wrapper collects the input's edge (regenerating a stale view's grad_fn, which may
        // fail) before the size check; any other input has its size inferred first.
        let l = self.layout();
        if l.is_contiguous() {
            return self.view(shape);
        }
        let new_shape = infer_shape(shape, l.numel())?;
        crate::autograd::precheck(&[self])?;
        // A viewable non-contiguous tensor goes through `_reshape_alias`, as in ATen.
        if let Some(strides) = l.view_strides(&new_shape) {
            let in_shape = l.shape.clone();
            let layout = Layout {
                shape: new_shape,
                strides,
                offset: l.offset,
            };
            return self.view_op(layout, "ReshapeAliasBackward0", move |g| {
                g.reshape_usize(&in_shape)
            });
        }
        let c = self.clone_contiguous()?;
        let d = c.data_ref();
        let out = Tensor::from_parts(d.storage, Layout::contiguous(&new_shape), d.dtype);
        if let Some(rec) = Recorder::new("UnsafeViewBackward0", &[&c])? {
            let in_shape = l.shape.clone();
            rec.finish(&out, move |_, g| {
                Ok(vec![Some(g.reshape_usize(&in_shape)?)])
            })?;
        }
        Ok(out)
    }

    pub(crate) fn reshape_usize(&self, shape: &[usize]) -> Result<Tensor> {
        let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        self.reshape(&s)
    }

    /// `squeeze()` (every size-1 dim, `SqueezeBackward0`) or `squeeze(dim)` (`SqueezeBackward1`).
    pub fn squeeze(&self, dim: Option<i64>) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        let l = self.layout();
        let keep: Vec<bool> = match dim {
            None => l.shape.iter().map(|&d| d != 1).collect(),
            Some(d) => {
                let d = wrap_dim(d, l.ndim())?;
                (0..l.ndim()).map(|i| i != d || l.shape[i] != 1).collect()
            }
        };
        let layout = Layout {
            shape: l
                .shape
                .iter()
                .zip(&keep)
                .filter(|p| *p.1)
                .map(|p| *p.0)
                .collect(),
            strides: l
                .strides
                .iter()
                .zip(&keep)
                .filter(|p| *p.1)
                .map(|p| *p.0)
                .collect(),
            offset: l.offset,
        };
        let name = if dim.is_none() {
            "SqueezeBackward0"
        } else {
            "SqueezeBackward1"
        };
        let in_shape = l.shape.clone();
        self.view_op(layout, name, move |g| g.reshape_usize(&in_shape))
    }

    pub fn unsqueeze(&self, dim: i64) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        let l = self.layout();
        let d = wrap_dim(dim, l.ndim() + 1)?;
        let mut layout = l.clone();
        let stride = if d < l.ndim() {
            l.strides[d] * l.shape[d] as isize
        } else {
            1
        };
        layout.shape.insert(d, 1);
        layout.strides.insert(d, stride);
        self.view_op(layout, "UnsqueezeBackward0", move |g| {
            g.squeeze(Some(d as i64))
        })
    }

    /// `flatten(start, end)`: `self` when there is nothing to merge, else a reshape.
    pub fn flatten(&self, start: i64, end: i64) -> Result<Tensor> {
        let shape = self.shape();
        if shape.is_empty() {
            return self.reshape(&[1]);
        }
        let s = wrap_dim(start, shape.len())?;
        let e = wrap_dim(end, shape.len())?;
        if s > e {
            return Err(Error::InvalidArgument(
                "flatten() has invalid args: start_dim cannot come after end_dim".into(),
            ));
        }
        if s == e {
            return Ok(self.clone());
        }
        let mut new: Vec<i64> = shape[..s].iter().map(|&d| d as i64).collect();
        new.push(shape[s..=e].iter().product::<usize>() as i64);
        new.extend(shape[e + 1..].iter().map(|&d| d as i64));
        self.reshape(&new)
    }

    /// `t()`: transposes a 2-d tensor; 0-d and 1-d tensors are returned as views of themselves.
    pub fn t(&self) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        let n = self.ndim();
        if n > 2 {
            return Err(Error::InvalidArgument(format!(
                "t() expects a tensor with <= 2 dimensions, but self is {n}D"
            )));
        }
        let mut l = self.layout();
        if n == 2 {
            l.shape.swap(0, 1);
            l.strides.swap(0, 1);
        }
        self.view_op(l, "TBackward0", |g| g.t())
    }

    pub fn transpose(&self, dim0: i64, dim1: i64) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        let mut l = self.layout();
        let n = l.ndim();
        let (a, b) = (wrap_dim(dim0, n)?, wrap_dim(dim1, n)?);
        if n > 0 {
            l.shape.swap(a, b);
            l.strides.swap(a, b);
        }
        self.view_op(l, "TransposeBackward0", move |g| {
            g.transpose(a as i64, b as i64)
        })
    }

    pub fn permute(&self, dims: &[i64]) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        let l = self.layout();
        let n = l.ndim();
        if dims.len() != n {
            return Err(Error::InvalidArgument(format!(
                "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {}",
                dims.len()
            )));
        }
        let mut seen = vec![false; n];
        let mut perm = Vec::with_capacity(n);
        for &d in dims {
            let d = wrap_dim(d, n)?;
            if seen[d] {
                return Err(Error::InvalidArgument(
                    "permute(): duplicate dims are not allowed.".into(),
                ));
            }
            seen[d] = true;
            perm.push(d);
        }
        let layout = Layout {
            shape: perm.iter().map(|&d| l.shape[d]).collect(),
            strides: perm.iter().map(|&d| l.strides[d]).collect(),
            offset: l.offset,
        };
        let mut inv = vec![0i64; n];
        for (i, &p) in perm.iter().enumerate() {
            inv[p] = i as i64;
        }
        self.view_op(layout, "PermuteBackward0", move |g| g.permute(&inv))
    }

    /// `expand(sizes)`, `-1` keeping a size.
    pub fn expand(&self, sizes: &[i64]) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        let l = self.layout();
        let n = l.ndim();
        if sizes.len() < n {
            return Err(Error::InvalidArgument(format!(
                "expand({}{{{}}}, size={}): the number of sizes provided ({}) must be greater or equal to the number of dimensions in the tensor ({})",
                self.dtype().legacy_type_name(),
                Shape(l.shape.clone()),
                ShapeI(sizes.to_vec()),
                sizes.len(),
                n
            )));
        }
        // A 0-dim tensor skips the geometry checks in ATen, and a -1 reaches the size
        // computation as a negative size.
        if n == 0 && sizes.iter().any(|&s| s < 0) {
            return Err(Error::InvalidArgument(
                "numel: integer multiplication overflow".into(),
            ));
        }
        // ATen's `inferExpandGeometry`, walked from the last dim: a new leading dim of size 1
        // gets the stride that would make it contiguous with the next, any other new or
        // broadcast dim gets stride 0.
        let pad = sizes.len() - n;
        let mut shape = vec![0usize; sizes.len()];
        let mut strides = vec![0isize; sizes.len()];
        for (i, &s) in sizes.iter().enumerate().rev() {
            if i < pad {
                if s < 0 {
                    return Err(Error::InvalidArgument(format!(
                        "The expanded size of the tensor ({s}) isn't allowed in a leading, non-existing dimension {i}"
                    )));
                }
                shape[i] = s as usize;
                strides[i] = match (s, shape.get(i + 1)) {
                    (1, Some(&next)) => next as isize * strides[i + 1],
                    (1, None) => 0,
                    _ => 0,
                };
                continue;
            }
            let (d, st) = (l.shape[i - pad], l.strides[i - pad]);
            if s == -1 || s as usize == d {
                shape[i] = d;
                strides[i] = st;
            } else if d == 1 && s >= 0 {
                shape[i] = s as usize;
                strides[i] = 0;
            } else {
                return Err(Error::ExpandShape {
                    target: s,
                    existing: d,
                    dim: i,
                    target_sizes: ShapeI(sizes.to_vec()),
                    sizes: Shape(l.shape.clone()),
                });
            }
        }
        let in_shape = l.shape.clone();
        let layout = Layout {
            shape,
            strides,
            offset: l.offset,
        };
        self.view_op(layout, "ExpandBackward0", move |g| g.sum_to(&in_shape))
    }

    /// `narrow(dim, start, length)` (recorded as `SliceBackward0`, as libtorch does).
    pub fn narrow(&self, dim: i64, start: i64, length: i64) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        let l = self.layout();
        if l.ndim() == 0 {
            return Err(Error::InvalidArgument(
                "narrow() cannot be applied to a 0-dim tensor.".into(),
            ));
        }
        let d = wrap_dim(dim, l.ndim())?;
        let size = l.shape[d];
        if length < 0 {
            return Err(Error::InvalidArgument(
                "narrow(): length must be non-negative.".into(),
            ));
        }
        let s = size as i64;
        if start < -s || start > s {
            // TORCH_CHECK_INDEX: an IndexError, like the length check below.
            return Err(Error::NarrowStartOutOfRange { start, size });
        }
        let start = if start < 0 { start + s } else { start };
        if start + length > s {
            return Err(Error::NarrowOutOfRange {
                start,
                length,
                size,
            });
        }
        self.slice(d, start as usize, (start + length) as usize, 1)
    }

    /// `x[start:stop:step]` along `dim`, bounds already clamped (`SliceBackward0`).
    pub fn slice(&self, dim: usize, start: usize, stop: usize, step: usize) -> Result<Tensor> {
        let l = self.layout();
        if dim >= l.ndim() {
            return Err(Error::DimOutOfRange {
                dim: dim as i64,
                min: -(l.ndim().max(1) as i64),
                max: l.ndim().max(1) as i64 - 1,
            });
        }
        if step == 0 {
            return Err(Error::InvalidArgument("slice step must be positive".into()));
        }
        // Clamp like ATen's slice does.
        let stop = stop.min(l.shape[dim]);
        let start = start.min(stop);
        let len = if stop > start {
            (stop - start).div_ceil(step)
        } else {
            0
        };
        let layout = slice_layout(&l, dim, start, len, step);
        let in_shape = l.shape.clone();
        self.view_op(layout, "SliceBackward0", move |g| {
            embed(&g, &in_shape, |c| slice_layout(c, dim, start, len, step))
        })
    }

    /// `select(dim, index)` (`SelectBackward0`).
    pub fn select(&self, dim: i64, index: i64) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        let l = self.layout();
        if l.ndim() == 0 {
            return Err(Error::InvalidArgument(
                "select() cannot be applied to a 0-dim tensor.".into(),
            ));
        }
        let d = wrap_dim(dim, l.ndim())?;
        let size = l.shape[d] as i64;
        if index < -size || index >= size {
            return Err(Error::SelectOutOfRange {
                index,
                shape: Shape(l.shape.clone()),
                dim,
            });
        }
        let i = if index < 0 { index + size } else { index } as usize;
        let layout = select_layout(&l, d, i);
        let in_shape = l.shape.clone();
        self.view_op(layout, "SelectBackward0", move |g| {
            embed(&g, &in_shape, |c| select_layout(c, d, i))
        })
    }

    /// `alias()`: a view of the whole tensor (`AliasBackward0`; what `x[...]` returns).
    pub fn alias(&self) -> Result<Tensor> {
        self.view_op(self.layout(), "AliasBackward0", Ok)
    }

    /// Sums a broadcast-shaped tensor down to `shape` (libtorch's `sum_to`).
    pub fn sum_to(&self, shape: &[usize]) -> Result<Tensor> {
        let cur = self.shape();
        if cur == shape {
            return Ok(self.clone());
        }
        let pad = cur.len() - shape.len();
        let dims: Vec<i64> = (0..cur.len())
            .filter(|&i| i < pad || (shape[i - pad] == 1 && cur[i] != 1))
            .map(|i| i as i64)
            .collect();
        let s = if dims.is_empty() {
            self.clone()
        } else {
            self.sum(Some(&dims), true)?
        };
        s.reshape_usize(shape)
    }

    /// `torch.cat(xs, dim)` (`CatBackward0`).
    pub fn cat(xs: &[Tensor], dim: i64) -> Result<Tensor> {
        let inputs: Vec<&Tensor> = xs.iter().collect();
        crate::autograd::precheck(&inputs)?;
        super::cpu_only("cat", &inputs)?;
        if xs.is_empty() {
            return Err(Error::InvalidArgument(
                "torch.cat(): expected a non-empty list of Tensors".into(),
            ));
        }
        for (i, x) in xs.iter().enumerate() {
            if x.ndim() == 0 {
                return Err(Error::CatZeroDim { index: i });
            }
        }
        // Legacy rule: 1-d empty tensors are skipped.
        let parts: Vec<&Tensor> = xs
            .iter()
            .filter(|x| !(x.ndim() == 1 && x.numel() == 0))
            .collect();
        let dtype = xs.iter().map(|x| x.dtype()).max().unwrap_or(DType::F32);
        let Some(first) = parts.first() else {
            // Every input is a skipped 1-d empty tensor: libtorch still records CatBackward0.
            let out = Tensor::full(&[0], Scalar::Int(0), dtype)?;
            let all: Vec<&Tensor> = xs.iter().collect();
            if let Some(rec) = Recorder::new("CatBackward0", &all)? {
                let n = xs.len();
                rec.finish(&out, move |_, g| {
                    (0..n).map(|_| Ok(Some(g.clone()))).collect()
                })?;
            }
            return Ok(out);
        };
        let ref_shape = first.shape();
        let d = wrap_dim(dim, ref_shape.len())?;
        let mut total = 0;
        for (i, x) in parts.iter().enumerate() {
            let s = x.shape();
            if s.len() != ref_shape.len() {
                return Err(Error::InvalidArgument(format!(
                    "Tensors must have same number of dimensions: got {} and {}",
                    ref_shape.len(),
                    s.len()
                )));
            }
            for k in 0..s.len() {
                if k != d && s[k] != ref_shape[k] {
                    return Err(Error::CatShape {
                        dim: d,
                        expected: ref_shape[k],
                        got: s[k],
                        index: i,
                    });
                }
            }
            total += s[d];
        }
        let mut out_shape = ref_shape.clone();
        out_shape[d] = total;
        let out = Tensor::full(&out_shape, Scalar::Int(0), dtype)?;
        // ATen's compute_output_memory_format: the result is channels-last when every input
        // (skipped ones included) suggests channels-last, else contiguous.
        let channels_last = xs
            .iter()
            .all(|x| crate::memory_format::strides_like_channels_last(&x.layout()));
        let out = if channels_last {
            super::copy_strided(
                &out,
                crate::memory_format::channels_last_strides_nd(&out_shape),
            )?
        } else {
            out
        };
        let mut at = 0;
        // One entry per input, skipped ones included (None): they still take part in
        // requires_grad and get an empty gradient, as in libtorch's cat_tensors_backward.
        let mut sizes = Vec::with_capacity(xs.len());
        for x in xs {
            if x.ndim() == 1 && x.numel() == 0 {
                sizes.push(None);
                continue;
            }
            let n = x.shape()[d];
            let dst = out.make_view(slice_layout(&out.layout(), d, at, n, 1));
            dst.write_values(&cast(x, dtype)?.contiguous_storage()?)?;
            sizes.push(Some((at, n)));
            at += n;
        }
        let out = out.detach();
        let all: Vec<&Tensor> = xs.iter().collect();
        if let Some(rec) = Recorder::new("CatBackward0", &all)? {
            rec.finish(&out, move |_, g| {
                sizes
                    .iter()
                    .map(|sz| match *sz {
                        Some((s, n)) => g.narrow(d as i64, s as i64, n as i64).map(Some),
                        None => Tensor::full(&[0], Scalar::Int(0), g.dtype()).map(Some),
                    })
                    .collect()
            })?;
        }
        Ok(out)
    }

    /// `torch.stack(xs, dim)` (`StackBackward0`).
    pub fn stack(xs: &[Tensor], dim: i64) -> Result<Tensor> {
        let inputs: Vec<&Tensor> = xs.iter().collect();
        crate::autograd::precheck(&inputs)?;
        super::cpu_only("stack", &inputs)?;
        let Some(first) = xs.first() else {
            return Err(Error::InvalidArgument(
                "stack expects a non-empty TensorList".into(),
            ));
        };
        let s0 = first.shape();
        let d = wrap_dim(dim, s0.len() + 1)?;
        for (i, x) in xs.iter().enumerate().skip(1) {
            if x.shape() != s0 {
                return Err(Error::StackShape {
                    first: Shape(s0),
                    other: Shape(x.shape()),
                    index: i,
                });
            }
        }
        let out = crate::grad_mode::with_no_grad(|| {
            let parts = xs
                .iter()
                .map(|x| x.unsqueeze(d as i64))
                .collect::<Result<Vec<_>>>()?;
            Tensor::cat(&parts, d as i64)
        })?
        .detach();
        let refs: Vec<&Tensor> = xs.iter().collect();
        if let Some(rec) = Recorder::new("StackBackward0", &refs)? {
            let n = xs.len();
            rec.finish(&out, move |_, g| {
                (0..n)
                    .map(|i| g.select(d as i64, i as i64).map(Some))
                    .collect()
            })?;
        }
        Ok(out)
    }
}
