//! Matrix products (`mm`, `mv`, `dot`, `bmm`, `addmm`, `matmul`) and `linear`, forward through
//! the storage's products (`cpu/products.rs`, cuBLAS on CUDA) with backward rules beside them.
//!
//! The composite ops are built the way libtorch 2.13 builds them (`_matmul_impl`, `at::linear`,
//! `at::conv2d`), out of the same pieces, so their graphs carry libtorch's node names: a 3-D
//! `matmul` folds into `mm` through `reshape` and `_unsafe_view`, `linear` on a matrix is
//! `addmm`, a 1-D `@` 2-D product ends in an in-place `squeeze_` (`SqueezeBackward4`), and so on.
//! Argument checks run in libtorch's order with libtorch's messages.

pub use super::conv::Conv2dOptions;
pub use super::loss::Reduction;
use crate::DType;
use crate::autograd::{Recorder, opt};
use crate::cpu::{MatLayout, mat_of};
use crate::error::{Error, Result, Shape, ShapeI};
use crate::layout::{Layout, broadcast_shapes, contiguous_strides};
use crate::storage::StorageElem;
use crate::tensor::Tensor;

fn dims_str(shape: &[usize]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// A 1-D tensor read as a `k × 1` column.
fn column_of(l: &Layout) -> MatLayout {
    MatLayout {
        rows: l.shape[0],
        cols: 1,
        offset: l.offset,
        row_stride: l.strides[0],
        col_stride: 1,
    }
}

/// A 1-D tensor read as a `1 × k` row.
fn row_of(l: &Layout) -> MatLayout {
    column_of(l).t()
}

/// `out = a @ b` for matrices described by `ma`/`mb` over the tensors' storages, into a new
/// contiguous tensor of `out_shape` (which holds `rows(ma) × cols(mb)` elements).
fn product(
    a: &Tensor,
    ma: fn(&Layout) -> MatLayout,
    b: &Tensor,
    mb: fn(&Layout) -> MatLayout,
    out_shape: &[usize],
    kernel: &'static str,
) -> Result<Tensor> {
    let s =
        a.with_storage(|sa, la| b.with_storage(|sb, lb| sa.matmul(ma(la), sb, mb(lb), kernel)))?;
    Ok(Tensor::from_new_storage(
        s,
        out_shape.to_vec(),
        contiguous_strides(out_shape),
    ))
}

/// `out[i] = a[i] @ b[i]` for 3-D tensors, into a new contiguous `[batch, n, p]` tensor.
fn batched_product(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let shape = vec![a.shape()[0], a.shape()[1], b.shape()[2]];
    let s = a.with_storage(|sa, la| b.with_storage(|sb, lb| sa.bmm(la, sb, lb)))?;
    let strides = contiguous_strides(&shape);
    Ok(Tensor::from_new_storage(s, shape, strides))
}

/// `_unsafe_view`: the same (contiguous) storage under a new shape, recorded as
/// `UnsafeViewBackward0`; not a view in autograd's sense.
fn unsafe_view(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let d = x.data_ref();
    debug_assert!(d.layout.is_contiguous());
    let layout = Layout {
        shape: shape.to_vec(),
        strides: contiguous_strides(shape),
        offset: d.layout.offset,
    };
    let out = Tensor::from_parts(d.storage, layout, d.dtype);
    if let Some(rec) = Recorder::new("UnsafeViewBackward0", &[x])? {
        let in_shape = x.shape();
        rec.finish(&out, move |_, g| {
            Ok(vec![Some(g.reshape_usize(&in_shape)?)])
        })?;
    }
    Ok(out)
}

/// `x.squeeze_(0)` on a fresh internal result: libtorch rewrites the tensor in place, so the
/// result's version is 1 and its node is `SqueezeBackward4`.
fn squeeze0_inplace(x: &Tensor) -> Result<Tensor> {
    let d = x.data_ref();
    let mut layout = d.layout.clone();
    if layout.shape.first() == Some(&1) {
        layout.shape.remove(0);
        layout.strides.remove(0);
    }
    let out = Tensor::from_parts(d.storage, layout, d.dtype);
    out.bump_version();
    if let Some(rec) = Recorder::new("SqueezeBackward4", &[x])? {
        let in_shape = x.shape();
        rec.finish(&out, move |_, g| {
            Ok(vec![Some(g.reshape_usize(&in_shape)?)])
        })?;
    }
    Ok(out)
}

/// `x.mT`: the last two dims swapped (`TransposeBackward0`).
fn mt(x: &Tensor) -> Result<Tensor> {
    x.transpose(-2, -1)
}

fn same_dtype_mm(a: &Tensor, b: &Tensor) -> Result<()> {
    if a.dtype() != b.dtype() {
        return Err(Error::DtypeMismatch(format!(
            "expected m1 and m2 to have the same dtype, but got: {} != {}",
            a.dtype().c_name(),
            b.dtype().c_name()
        )));
    }
    Ok(())
}

fn check_mm_shapes(a: &[usize], b: &[usize]) -> Result<()> {
    if a[1] != b[0] {
        return Err(Error::MatmulShape(format!(
            "mat1 and mat2 shapes cannot be multiplied ({} and {})",
            dims_str(a),
            dims_str(b)
        )));
    }
    Ok(())
}

/// libtorch's `should_fold`: whether `matmul` can fold the larger operand's batch dims into
/// rows and call `mm`/`mv` instead of `bmm`.
fn should_fold(t1: &Tensor, t2: &Tensor) -> Result<bool> {
    let larger_first = t1.ndim() >= t2.ndim();
    let (big, small_dim, small_requires_grad) = if larger_first {
        (t1.layout(), t2.ndim(), t2.requires_grad())
    } else {
        let mut l = t2.layout();
        let n = l.ndim();
        l.shape.swap(n - 2, n - 1);
        l.strides.swap(n - 2, n - 1);
        (l, t1.ndim(), t1.requires_grad())
    };
    let dim_big = big.ndim();
    if !(dim_big >= 3 && small_dim <= 2) {
        return Ok(false);
    }
    if small_requires_grad {
        return Ok(true);
    }
    if t1.ndim() == 2 {
        return Ok(false);
    }
    if big.numel() == 0 {
        return Ok(true);
    }
    Ok((0..dim_big - 2).all(|i| big.strides[i] == big.strides[i + 1] * big.shape[i + 1] as isize))
}

/// Whether a matrix is column-major (a transposed contiguous one), as libtorch's
/// `mm_mat1_backward`/`mm_mat2_backward` test it to give that input a column-major gradient.
fn column_major(m: &Tensor) -> bool {
    let (sizes, strides) = (m.shape(), m.strides());
    strides[0] == 1 && strides[1] == sizes[0] as isize
}

/// The gradient of `mat1` in `mat1 @ mat2`: `grad @ mat2.T`, or its column-major twin
/// `(mat2 @ grad.T).T` when `mat1` was column-major (so `.grad` layouts match libtorch's).
fn mm_mat1_backward(g: &Tensor, mat2: &Tensor, column_major: bool) -> Result<Tensor> {
    if column_major {
        mat2.mm(&g.t()?)?.t()
    } else {
        g.mm(&mat2.t()?)
    }
}

/// The gradient of `mat2` in `mat1 @ mat2`: `mat1.T @ grad`, or `(grad.T @ mat1).T` when
/// `mat2` was column-major (`x @ w.T` in `linear`).
fn mm_mat2_backward(g: &Tensor, mat1: &Tensor, column_major: bool) -> Result<Tensor> {
    if column_major {
        g.t()?.mm(mat1)?.t()
    } else {
        mat1.t()?.mm(g)
    }
}

impl Tensor {
    /// `torch.mm` (`MmBackward0`).
    pub fn mm(&self, mat2: &Tensor) -> Result<Tensor> {
        crate::autograd::precheck(&[self, mat2])?;
        if self.ndim() != 2 {
            return Err(Error::InvalidArgument("self must be a matrix".into()));
        }
        if mat2.ndim() != 2 {
            return Err(Error::InvalidArgument("mat2 must be a matrix".into()));
        }
        let (sa, sb) = (self.shape(), mat2.shape());
        check_mm_shapes(&sa, &sb)?;
        super::check_same_device(self, mat2)?;
        same_dtype_mm(self, mat2)?;
        let out = product(
            self,
            |l| mat_of(l, 0, 1),
            mat2,
            |l| mat_of(l, 0, 1),
            &[sa[0], sb[1]],
            "addmm_impl_cpu_",
        )?;
        if let Some(mut rec) = Recorder::new("MmBackward0", &[self, mat2])? {
            let s2 = rec.needs(0).then(|| rec.save(mat2));
            let s1 = rec.needs(1).then(|| rec.save(self));
            let (cm1, cm2) = (column_major(self), column_major(mat2));
            rec.finish(&out, move |ctx, g| {
                Ok(vec![
                    opt(s2.is_some(), || {
                        mm_mat1_backward(&g, &ctx.unpack(s2.unwrap())?, cm1)
                    })?,
                    opt(s1.is_some(), || {
                        mm_mat2_backward(&g, &ctx.unpack(s1.unwrap())?, cm2)
                    })?,
                ])
            })?;
        }
        Ok(out)
    }

    /// `torch.mv` (`MvBackward0`).
    pub fn mv(&self, vec: &Tensor) -> Result<Tensor> {
        if self.ndim() != 2 || vec.ndim() != 1 {
            return Err(Error::InvalidArgument(format!(
                "vector + matrix @ vector expected, got 1, {}, {}",
                self.ndim(),
                vec.ndim()
            )));
        }
        let (sa, sv) = (self.shape(), vec.shape());
        if sa[1] != sv[0] {
            return Err(Error::MatmulShape(format!(
                "size mismatch, got input ({}), mat ({}), vec ({})",
                sa[0],
                dims_str(&sa),
                sv[0]
            )));
        }
        super::check_same_device(self, vec)?;
        if self.dtype() != vec.dtype() {
            // libtorch's result buffer takes the vector's dtype, and is named first.
            let (m, v) = (
                self.dtype().scalar_type_name(),
                vec.dtype().scalar_type_name(),
            );
            return Err(Error::DtypeMismatch(format!(
                "addmv input tensors must have the same dtype, but got {v}, {m}, and {v}"
            )));
        }
        let out = product(
            self,
            |l| mat_of(l, 0, 1),
            vec,
            column_of,
            &[sa[0]],
            "addmv_impl_cpu",
        )?;
        if let Some(mut rec) = Recorder::new("MvBackward0", &[self, vec])? {
            let sv = rec.needs(0).then(|| rec.save(vec));
            let sm = rec.needs(1).then(|| rec.save(self));
            rec.finish(&out, move |ctx, g| {
                Ok(vec![
                    opt(sv.is_some(), || {
                        g.unsqueeze(1)?.mm(&ctx.unpack(sv.unwrap())?.unsqueeze(0)?)
                    })?,
                    opt(sm.is_some(), || ctx.unpack(sm.unwrap())?.t()?.mv(&g))?,
                ])
            })?;
        }
        Ok(out)
    }

    /// `torch.dot` (`DotBackward0`).
    pub fn dot(&self, other: &Tensor) -> Result<Tensor> {
        if self.ndim() != 1 || other.ndim() != 1 {
            return Err(Error::InvalidArgument(format!(
                "1D tensors expected, but got {}D and {}D tensors",
                self.ndim(),
                other.ndim()
            )));
        }
        if self.dtype() != other.dtype() {
            return Err(Error::DtypeMismatch(format!(
                "dot : expected both vectors to have same dtype, but found {} and {}",
                self.dtype().scalar_type_name(),
                other.dtype().scalar_type_name()
            )));
        }
        let (na, nb) = (self.numel(), other.numel());
        if na != nb {
            return Err(Error::MatmulShape(format!(
                "inconsistent tensor size, expected tensor [{na}] and src [{nb}] to have the same number of elements, but got {na} and {nb} elements respectively"
            )));
        }
        super::check_same_device(self, other)?;
        let out = product(self, row_of, other, column_of, &[], "dot")?;
        if let Some(mut rec) = Recorder::new("DotBackward0", &[self, other])? {
            let so = rec.needs(0).then(|| rec.save(other));
            let ss = rec.needs(1).then(|| rec.save(self));
            rec.finish(&out, move |ctx, g| {
                Ok(vec![
                    opt(so.is_some(), || g.mul(&ctx.unpack(so.unwrap())?))?,
                    opt(ss.is_some(), || g.mul(&ctx.unpack(ss.unwrap())?))?,
                ])
            })?;
        }
        Ok(out)
    }

    /// `torch.bmm` (`BmmBackward0`).
    pub fn bmm(&self, mat2: &Tensor) -> Result<Tensor> {
        crate::autograd::precheck(&[self, mat2])?;
        if self.ndim() != 3 {
            return Err(Error::InvalidArgument("batch1 must be a 3D tensor".into()));
        }
        if mat2.ndim() != 3 {
            return Err(Error::InvalidArgument("batch2 must be a 3D tensor".into()));
        }
        let (sa, sb) = (self.shape(), mat2.shape());
        if sb[0] != sa[0] || sb[1] != sa[2] {
            return Err(Error::MatmulShape(format!(
                "Expected size for first two dimensions of batch2 tensor to be: [{}, {}] but got: [{}, {}].",
                sa[0], sa[2], sb[0], sb[1]
            )));
        }
        super::check_same_device(self, mat2)?;
        let out = if sa[0] * sa[1] * sb[2] == 0 || sa[2] == 0 {
            // ATen's bmm allocates the result with batch2's options and returns before its
            // kernel (where the dtype checks live) when the result or the contraction is
            // empty: any dtypes pass, and the result is zeros of batch2's dtype.
            let zeros = Tensor::zeros(&[sa[0], sa[1], sb[2]], mat2.dtype())?;
            if mat2.device().is_cuda() {
                super::to_device_raw(&zeros, mat2.device())?
            } else {
                zeros
            }
        } else {
            self.bmm_kernel(mat2)?
        };
        if let Some(mut rec) = Recorder::new("BmmBackward0", &[self, mat2])? {
            let s2 = rec.needs(0).then(|| rec.save(mat2));
            let s1 = rec.needs(1).then(|| rec.save(self));
            rec.finish(&out, move |ctx, g| {
                Ok(vec![
                    opt(s2.is_some(), || {
                        g.bmm(&ctx.unpack(s2.unwrap())?.transpose(1, 2)?)
                    })?,
                    opt(s1.is_some(), || {
                        ctx.unpack(s1.unwrap())?.transpose(1, 2)?.bmm(&g)
                    })?,
                ])
            })?;
        }
        Ok(out)
    }

    /// bmm's kernel on non-empty operands, with the dtype checks ATen makes there.
    fn bmm_kernel(&self, mat2: &Tensor) -> Result<Tensor> {
        // ATen dispatches on batch1's dtype before comparing the two.
        if self.dtype() == DType::Bool {
            return Err(Error::DtypeNotSupported {
                op: "bmm",
                dtype: "Bool",
            });
        }
        if self.dtype() != mat2.dtype() {
            return Err(Error::DtypeMismatch(format!(
                "expected scalar type {} but found {}",
                self.dtype().scalar_type_name(),
                mat2.dtype().scalar_type_name()
            )));
        }
        batched_product(self, mat2)
    }

    /// `torch.addmm(self, mat1, mat2)` with `beta = alpha = 1`: `self` broadcast to the
    /// product's shape plus `mat1 @ mat2` (`AddmmBackward0`).
    pub fn addmm(&self, mat1: &Tensor, mat2: &Tensor) -> Result<Tensor> {
        crate::autograd::precheck(&[self, mat1, mat2])?;
        // ATen's addmm checks dtypes before any shape (torch 2.13.0).
        if self.dtype() != mat2.dtype() {
            return Err(Error::DtypeMismatch(format!(
                "self and mat2 must have the same dtype, but got {} and {}",
                self.dtype().scalar_type_name(),
                mat2.dtype().scalar_type_name()
            )));
        }
        if mat1.dtype() != mat2.dtype() {
            return Err(Error::DtypeMismatch(format!(
                "mat1 and mat2 must have the same dtype, but got {} and {}",
                mat1.dtype().scalar_type_name(),
                mat2.dtype().scalar_type_name()
            )));
        }
        if mat1.ndim() != 2 {
            return Err(Error::InvalidArgument(format!(
                "mat1 must be a matrix, got {}-D tensor",
                mat1.ndim()
            )));
        }
        if mat2.ndim() != 2 {
            return Err(Error::InvalidArgument(format!(
                "mat2 must be a matrix, got {}-D tensor",
                mat2.ndim()
            )));
        }
        let (s1, s2) = (mat1.shape(), mat2.shape());
        check_mm_shapes(&s1, &s2)?;
        let target = [s1[0], s2[1]];
        let bias_shape = self.shape();
        if bias_shape.len() > 2 || !super::shape::expandable_to(&bias_shape, &target) {
            let pad = 2usize.saturating_sub(bias_shape.len());
            let dim = (0..bias_shape.len())
                .rev()
                .find(|&i| bias_shape[i] != 1 && target.get(i + pad) != Some(&bias_shape[i]))
                .unwrap_or(0);
            return Err(Error::ExpandShape {
                target: target.get(dim + pad).copied().unwrap_or(0) as i64,
                existing: bias_shape[dim],
                dim: dim + pad,
                target_sizes: ShapeI(target.iter().map(|&d| d as i64).collect()),
                sizes: Shape(bias_shape),
            });
        }
        super::check_same_device(mat1, mat2)?;
        super::check_same_device(self, mat1)?;
        let out = addmm_forward(self, mat1, mat2, target)?;
        if let Some(mut rec) = Recorder::new("AddmmBackward0", &[self, mat1, mat2])? {
            let s_m2 = rec.needs(1).then(|| rec.save(mat2));
            let s_m1 = rec.needs(2).then(|| rec.save(mat1));
            let need_bias = rec.needs(0);
            let bias_is_row = bias_shape_1d(self, target[1]);
            let (cm1, cm2) = (column_major(mat1), column_major(mat2));
            rec.finish(&out, move |ctx, g| {
                Ok(vec![
                    opt(need_bias, || {
                        if bias_is_row {
                            column_sums(&g)
                        } else {
                            Ok(g.clone())
                        }
                    })?,
                    opt(s_m2.is_some(), || {
                        mm_mat1_backward(&g, &ctx.unpack(s_m2.unwrap())?, cm1)
                    })?,
                    opt(s_m1.is_some(), || {
                        mm_mat2_backward(&g, &ctx.unpack(s_m1.unwrap())?, cm2)
                    })?,
                ])
            })?;
        }
        Ok(out)
    }

    /// `torch.matmul`, following libtorch's `_matmul_impl` case by case.
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        // matmul is composite: its own dim check comes before the ops it calls collect edges.
        let (d1, d2) = (self.ndim(), other.ndim());
        if d1 == 0 || d2 == 0 {
            return Err(Error::InvalidArgument(format!(
                "both arguments to matmul need to be at least 1D, but they are {d1}D and {d2}D"
            )));
        }
        crate::autograd::precheck(&[self, other])?;
        match (d1, d2) {
            (1, 1) => return self.dot(other),
            (2, 1) => return self.mv(other),
            (1, 2) => return squeeze0_inplace(&self.unsqueeze(0)?.mm(other)?),
            (2, 2) => return self.mm(other),
            _ => {}
        }
        if should_fold(self, other)? {
            let transpose = d2 > d1;
            let t1 = if transpose { mt(other)? } else { self.clone() };
            let t2 = if !transpose {
                other.clone()
            } else if d1 == 2 {
                self.t()?
            } else {
                self.clone()
            };
            let sizes1 = t1.shape();
            let mut out_shape = sizes1[..sizes1.len() - 1].to_vec();
            let folded: usize = out_shape.iter().product();
            let t2_matrix = t2.ndim() == 2;
            if t2_matrix {
                out_shape.push(t2.shape()[1]);
            }
            let t1_folded = t1.reshape(&[folded as i64, *sizes1.last().unwrap() as i64])?;
            return if t2_matrix {
                let out = unsafe_view(&t1_folded.mm(&t2)?, &out_shape)?;
                if transpose {
                    mt(&out)?.contiguous()
                } else {
                    Ok(out)
                }
            } else {
                unsafe_view(&t1_folded.mv(&t2)?, &out_shape)
            };
        }

        let (s1, s2) = (self.shape(), other.shape());
        let n = if d1 > 1 { s1[d1 - 2] } else { 1 };
        let m1 = s1[d1 - 1];
        let batch1 = &s1[..d1.saturating_sub(2)];
        let m2 = if d2 > 1 { s2[d2 - 2] } else { s2[0] };
        let p = if d2 > 1 { s2[d2 - 1] } else { 1 };
        let batch2 = &s2[..d2.saturating_sub(2)];

        if d1 == 3 && d2 == 3 && batch1[0] != batch2[0] {
            if batch1[0] == 1 && self.requires_grad() {
                return self.squeeze(Some(0))?.matmul(other);
            }
            if batch2[0] == 1 && other.requires_grad() {
                return self.matmul(&other.squeeze(Some(0))?);
            }
        }

        let mut out_shape = broadcast_shapes(batch1, batch2)?;
        let batch: usize = out_shape.iter().product();
        let as_i64 = |v: &[usize]| v.iter().map(|&d| d as i64).collect::<Vec<_>>();
        let mut e1 = out_shape.clone();
        e1.extend([n, m1]);
        let t1 = self
            .expand(&as_i64(&e1))?
            .reshape(&[batch as i64, n as i64, m1 as i64])?;
        let vector_rhs = d2 == 1;
        let mut e2 = out_shape.clone();
        if vector_rhs {
            e2.push(m2);
        } else {
            e2.extend([m2, p]);
        }
        let t2 = other.expand(&as_i64(&e2))?;
        let t2 = if vector_rhs {
            t2.reshape(&[batch as i64, m2 as i64])?.unsqueeze(2)?
        } else {
            t2.reshape(&[batch as i64, m2 as i64, p as i64])?
        };
        if d1 > 1 {
            out_shape.push(n);
        }
        if d2 > 1 {
            out_shape.push(p);
        }
        let prod = t1.bmm(&t2)?;
        if vector_rhs {
            unsafe_view(&prod.squeeze(Some(-1))?, &out_shape)
        } else {
            unsafe_view(&prod, &out_shape)
        }
    }

    /// `torch.nn.functional.linear` (`x @ weight.T + bias`), as `at::linear` composes it.
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        crate::autograd::precheck(&[self, weight])?;
        let (di, dw) = (self.ndim(), weight.ndim());
        if di == 0 || dw == 0 {
            return Err(Error::InvalidArgument(format!(
                "both arguments to linear need to be at least 1D, but they are {di}D and {dw}D"
            )));
        }
        if let Some(b) = bias {
            if di == 2 {
                return b.addmm(self, &weight.t()?);
            }
            // libtorch's `is_bias_likely_fusable`: a contiguous bias with one non-1 dim.
            let squeezed = b.shape().iter().filter(|&&d| d != 1).count();
            let fusable = b.is_contiguous() && (b.ndim() == 1 || squeezed == 1);
            if fusable && self.is_contiguous() {
                // _flatten_nd_linear
                let sizes = self.shape();
                let rows: usize = sizes[..di - 1].iter().product();
                let flat = self.reshape(&[rows as i64, sizes[di - 1] as i64])?;
                let out = b.addmm(&flat, &weight.t()?)?;
                let mut new: Vec<i64> = sizes[..di - 1].iter().map(|&d| d as i64).collect();
                new.push(out.shape()[1] as i64);
                return out.view(&new);
            }
        }
        let out = self.matmul(&weight.t()?)?;
        if let Some(b) = bias {
            out.add_(b)?;
        }
        Ok(out)
    }
}

/// Whether `bias` is a vector of the product's width (its gradient is then a column sum).
fn bias_shape_1d(bias: &Tensor, width: usize) -> bool {
    bias.shape() == [width]
}

/// `g.sum(0)` for a 2-D float gradient, without going through a generic reduction.
fn column_sums(g: &Tensor) -> Result<Tensor> {
    if g.device().is_cuda() {
        return g.sum(Some(&[0]), false);
    }
    fn typed<T: crate::cpu::Float + StorageElem>(g: &Tensor) -> Result<Tensor> {
        let l = g.layout();
        let (m, n) = (l.shape[0], l.shape[1]);
        let mut acc = vec![0f64; n];
        g.with_slice(|s: &[T], l| {
            for i in 0..m {
                let row = l.offset as isize + i as isize * l.strides[0];
                for (j, a) in acc.iter_mut().enumerate() {
                    *a += s[(row + j as isize * l.strides[1]) as usize].to_f64();
                }
            }
        })?;
        Tensor::from_vec(acc.into_iter().map(T::from_f64).collect::<Vec<T>>(), &[n])
    }
    match g.dtype() {
        DType::F32 => typed::<f32>(g),
        DType::F64 => typed::<f64>(g),
        _ => g.sum(Some(&[0]), false),
    }
}

/// `bias + mat1 @ mat2` into a contiguous `target` tensor, the bias broadcast.
fn addmm_forward(
    bias: &Tensor,
    mat1: &Tensor,
    mat2: &Tensor,
    target: [usize; 2],
) -> Result<Tensor> {
    let b = bias.expand_raw(&target)?;
    let s = b.with_storage(|sb, lb| {
        mat1.with_storage(|s1, l1| mat2.with_storage(|s2, l2| sb.addmm(lb, s1, l1, s2, l2)))
    })?;
    Ok(Tensor::from_new_storage(
        s,
        target.to_vec(),
        contiguous_strides(&target),
    ))
}
