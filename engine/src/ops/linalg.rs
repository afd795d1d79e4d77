//! Matrix products (`mm`, `mv`, `dot`, `bmm`, `addmm`, `matmul`), `linear`, `conv2d` and
//! `mse_loss`, forward through the `cpu` kernels with backward rules beside them.
//!
//! The composite ops are built the way libtorch 2.13 builds them (`_matmul_impl`, `at::linear`,
//! `at::conv2d`), out of the same pieces, so their graphs carry libtorch's node names: a 3-D
//! `matmul` folds into `mm` through `reshape` and `_unsafe_view`, `linear` on a matrix is
//! `addmm`, a 1-D `@` 2-D product ends in an in-place `squeeze_` (`SqueezeBackward4`), and so on.
//! Argument checks run in libtorch's order with libtorch's messages.
//!
//! i64 products and convolutions (which libtorch supports) are computed through f64, exact
//! while every partial sum stays below 2^53.

use super::cast;
use crate::DType;
use crate::autograd::{Recorder, opt};
use crate::cpu::{self, Accumulate, Conv2dGeometry, KernelError, MatLayout};
use crate::error::{Error, Result, Shape, ShapeI};
use crate::layout::{Layout, broadcast_shapes, contiguous_strides};
use crate::storage::StorageElem;
use crate::tensor::Tensor;

/// `reduction=` of the loss functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    None,
    #[default]
    Mean,
    Sum,
}

/// `conv2d`'s hyper-parameters, per spatial axis (height, width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dOptions {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Conv2dOptions {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

fn kernel_err(e: KernelError) -> Error {
    Error::InvalidArgument(e.to_string())
}

fn dims_str(shape: &[usize]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// The 2-D layout of a matrix tensor's `Layout` (dims `r`, `c` of it).
fn mat_of(l: &Layout, r: usize, c: usize) -> MatLayout {
    MatLayout {
        rows: l.shape[r],
        cols: l.shape[c],
        offset: l.offset,
        row_stride: l.strides[r],
        col_stride: l.strides[c],
    }
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

/// How a product runs for a dtype: float kernels directly, i64 through f64, bool not at all.
fn with_float_dtype(
    dtype: DType,
    kernel: &'static str,
    f32_run: impl FnOnce() -> Result<Tensor>,
    f64_run: impl FnOnce() -> Result<Tensor>,
    int_run: impl FnOnce() -> Result<Tensor>,
) -> Result<Tensor> {
    match dtype {
        DType::F32 => f32_run(),
        DType::F64 => f64_run(),
        DType::I64 => int_run(),
        DType::Bool => Err(Error::DtypeNotSupported {
            op: kernel,
            dtype: dtype.scalar_type_name(),
        }),
    }
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
    if super::device::any_cuda(&[a, b]) {
        let as_layout = |m: MatLayout| Layout {
            shape: vec![m.rows, m.cols],
            strides: vec![m.row_stride, m.col_stride],
            offset: m.offset,
        };
        let (la, lb) = (as_layout(ma(&a.layout())), as_layout(mb(&b.layout())));
        return super::device::mm(a, la, b, lb, out_shape);
    }
    fn typed<T: cpu::Float + StorageElem>(
        a: &Tensor,
        ma: fn(&Layout) -> MatLayout,
        b: &Tensor,
        mb: fn(&Layout) -> MatLayout,
        out_shape: &[usize],
    ) -> Result<Tensor> {
        let n_out: usize = out_shape.iter().product();
        let mut out = vec![T::ZERO; n_out];
        a.with_slice(|sa: &[T], la| {
            b.with_slice(|sb: &[T], lb| {
                let (la, lb) = (ma(la), mb(lb));
                let lc = MatLayout::contiguous(la.rows, lb.cols);
                cpu::matmul_signed_zeros(sa, la, sb, lb, &mut out, lc, Accumulate::Overwrite)
            })
        })??
        .map_err(kernel_err)?;
        Tensor::from_vec(out, out_shape)
    }
    with_float_dtype(
        a.dtype(),
        kernel,
        || typed::<f32>(a, ma, b, mb, out_shape),
        || typed::<f64>(a, ma, b, mb, out_shape),
        || {
            let (a, b) = (cast(a, DType::F64)?, cast(b, DType::F64)?);
            cast(&typed::<f64>(&a, ma, &b, mb, out_shape)?, DType::I64)
        },
    )
}

/// `out[i] = a[i] @ b[i]` for 3-D tensors, into a new contiguous `[batch, n, p]` tensor.
fn batched_product(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if super::device::any_cuda(&[a, b]) {
        return super::device::bmm(a, b);
    }
    fn typed<T: cpu::Float + StorageElem>(a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let (sa, sb) = (a.shape(), b.shape());
        let (batch, n, p) = (sa[0], sa[1], sb[2]);
        let mut out = vec![T::ZERO; batch * n * p];
        a.with_slice(|xa: &[T], la| {
            b.with_slice(|xb: &[T], lb| {
                cpu::batched_matmul(
                    batch,
                    xa,
                    mat_of(la, 1, 2),
                    la.strides[0],
                    xb,
                    mat_of(lb, 1, 2),
                    lb.strides[0],
                    &mut out,
                    MatLayout::contiguous(n, p),
                    (n * p) as isize,
                    Accumulate::Overwrite,
                )
            })
        })??
        .map_err(kernel_err)?;
        Tensor::from_vec(out, &[batch, n, p])
    }
    with_float_dtype(
        a.dtype(),
        "bmm",
        || typed::<f32>(a, b),
        || typed::<f64>(a, b),
        || {
            let (a, b) = (cast(a, DType::F64)?, cast(b, DType::F64)?);
            cast(&typed::<f64>(&a, &b)?, DType::I64)
        },
    )
}

/// The elements of `t` in row-major order, borrowed when `t` is contiguous. Strided copies
/// walk the innermost dimension in a tight loop (gradients arriving from `sum` are expanded
/// scalars, and a per-element index iterator over a whole activation is slow).
fn with_contiguous<T: StorageElem, R>(t: &Tensor, f: impl FnOnce(&[T]) -> R) -> Result<R> {
    t.with_slice(|s: &[T], l| {
        let n = l.numel();
        if l.is_contiguous() {
            return f(&s[l.offset..l.offset + n]);
        }
        let mut out = Vec::with_capacity(n);
        gather(s, l, &mut out);
        f(&out)
    })
}

fn gather<T: Copy>(src: &[T], l: &Layout, out: &mut Vec<T>) {
    fn rec<T: Copy>(src: &[T], shape: &[usize], strides: &[isize], off: isize, out: &mut Vec<T>) {
        let (n, s) = (shape[0], strides[0]);
        if shape.len() == 1 {
            let o = off as usize;
            match s {
                1 => out.extend_from_slice(&src[o..o + n]),
                0 => out.extend(std::iter::repeat_n(src[o], n)),
                _ => out.extend((0..n).map(|i| src[(off + i as isize * s) as usize])),
            }
            return;
        }
        for i in 0..n {
            rec(src, &shape[1..], &strides[1..], off + i as isize * s, out);
        }
    }
    if l.shape.contains(&0) {
        return;
    }
    // Drop size-1 dims and merge dims that step through memory as one (an expanded scalar
    // becomes one stride-0 run), so the innermost loop is as long as possible.
    let mut shape: Vec<usize> = Vec::with_capacity(l.shape.len());
    let mut strides: Vec<isize> = Vec::with_capacity(l.shape.len());
    for (&n, &st) in l.shape.iter().zip(&l.strides) {
        if n == 1 {
            continue;
        }
        match (shape.last_mut(), strides.last_mut()) {
            (Some(pn), Some(ps)) if *ps == st * n as isize => {
                *pn *= n;
                *ps = st;
            }
            _ => {
                shape.push(n);
                strides.push(st);
            }
        }
    }
    if shape.is_empty() {
        out.push(src[l.offset]);
    } else {
        rec(src, &shape, &strides, l.offset as isize, out);
    }
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
                super::device::to(&zeros, mat2.device())?
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

    /// `torch.nn.functional.conv2d` on a batched `[n, c, h, w]` or unbatched `[c, h, w]` input
    /// (`ConvolutionBackward0`).
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: Conv2dOptions,
    ) -> Result<Tensor> {
        let dim = self.ndim();
        if dim != 3 && dim != 4 {
            return Err(Error::InvalidArgument(format!(
                "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: {}",
                Shape(self.shape())
            )));
        }
        if let Some(b) = bias
            && b.dtype() != self.dtype()
        {
            return Err(Error::DtypeMismatch(format!(
                "Input type ({}) and bias type ({}) should be the same",
                self.dtype().c_name(),
                b.dtype().c_name()
            )));
        }
        if dim == 3 {
            return self
                .unsqueeze(0)?
                .convolution(weight, bias, opts)?
                .squeeze(Some(0));
        }
        self.convolution(weight, bias, opts)
    }

    /// `at::convolution` for the 2-D case on a batched input, with `check_shape_forward`'s
    /// checks in its order.
    fn convolution(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: Conv2dOptions,
    ) -> Result<Tensor> {
        let inval = |m: String| Err(Error::InvalidArgument(m));
        let wdim = weight.ndim();
        if wdim < 3 {
            return inval("weight should have at least three dimensions".into());
        }
        let groups = opts.groups;
        if groups == 0 {
            return inval("non-positive groups is not supported".into());
        }
        if wdim != 4 {
            return inval(format!(
                "expected stride to be a single integer value or a list of {} values to match the convolution dimensions, but got stride=[{}, {}]",
                wdim - 2,
                opts.stride[0],
                opts.stride[1]
            ));
        }
        if opts.stride.contains(&0) {
            return inval("non-positive stride is not supported".into());
        }
        let (xs, ws) = (self.shape(), weight.shape());
        if ws[0] < groups {
            return inval(format!(
                "Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got weight of size {} instead",
                Shape(ws)
            ));
        }
        if !ws[0].is_multiple_of(groups) {
            return inval(format!(
                "Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size [{}] instead",
                Shape(ws)
            ));
        }
        if xs[1] != ws[1] * groups {
            return Err(Error::MatmulShape(format!(
                "Given groups={groups}, weight of size {}, expected input{} to have {} channels, but got {} channels instead",
                Shape(ws.clone()),
                Shape(xs.clone()),
                ws[1] * groups,
                xs[1]
            )));
        }
        if let Some(b) = bias
            && (b.ndim() != 1 || b.shape()[0] != ws[0])
        {
            return inval(format!(
                "Given weight of size {}, expected bias to be 1-dimensional with {} elements, but got bias of size {} instead",
                Shape(ws.clone()),
                ws[0],
                Shape(b.shape())
            ));
        }
        let padded = [xs[2] + 2 * opts.padding[0], xs[3] + 2 * opts.padding[1]];
        let kernel = [
            opts.dilation[0] * (ws[2].max(1) - 1) + 1,
            opts.dilation[1] * (ws[3].max(1) - 1) + 1,
        ];
        if padded[0] < kernel[0] || padded[1] < kernel[1] {
            return inval(format!(
                "Calculated padded input size per channel: ({} x {}). Kernel size: ({} x {}). Kernel size can't be greater than actual input size",
                padded[0], padded[1], kernel[0], kernel[1]
            ));
        }
        if opts.dilation.contains(&0) {
            return inval(format!(
                "dilation should be greater than zero, but got [{}, {}]",
                opts.dilation[0], opts.dilation[1]
            ));
        }
        super::check_same_device(self, weight)?;
        if weight.dtype() != self.dtype() {
            return Err(Error::DtypeMismatch(format!(
                "expected scalar type {} but found {}",
                self.dtype().scalar_type_name(),
                weight.dtype().scalar_type_name()
            )));
        }
        let geom = Conv2dGeometry {
            batch: xs[0],
            in_channels: xs[1],
            in_h: xs[2],
            in_w: xs[3],
            out_channels: ws[0],
            kernel: (ws[2], ws[3]),
            stride: (opts.stride[0], opts.stride[1]),
            padding: (opts.padding[0], opts.padding[1]),
            dilation: (opts.dilation[0], opts.dilation[1]),
            groups,
        };
        let out = conv_forward(&geom, self, weight, bias)?;
        // libtorch's node always has three inputs; a missing bias is an edge to nothing.
        let no_bias;
        let bias_in = match bias {
            Some(b) => b,
            None => {
                no_bias = Tensor::zeros(&[0], self.dtype())?;
                &no_bias
            }
        };
        if let Some(mut rec) = Recorder::new("ConvolutionBackward0", &[self, weight, bias_in])? {
            // One formula covers all three gradients, so libtorch saves both tensors whichever
            // inputs need a gradient.
            let si = rec.save(self);
            let sw = rec.save(weight);
            let need = [rec.needs(0), rec.needs(1), rec.needs(2) && bias.is_some()];
            rec.finish(&out, move |ctx, g| {
                let (x, w) = (ctx.unpack(si)?, ctx.unpack(sw)?);
                conv_backward(&geom, &x, &w, &g, need)
            })?;
        }
        Ok(out)
    }

    /// `torch.nn.functional.mse_loss` as `at::mse_loss` computes it: operands broadcast and
    /// promote (`MseLossBackward0`).
    pub fn mse_loss(&self, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
        crate::autograd::precheck(&[self, target])?;
        let dt =
            crate::dtype::promote_tensors(self.dtype(), self.ndim(), target.dtype(), target.ndim());
        if !dt.is_float() {
            return Err(Error::DtypeNotSupported {
                op: "mse_cpu",
                dtype: dt.scalar_type_name(),
            });
        }
        broadcast_shapes(&self.shape(), &target.shape())?;
        // The fused kernels read contiguous runs; an empty view may sit past its storage.
        let fast = self.shape() == target.shape()
            && self.dtype() == target.dtype()
            && self.numel() > 0
            && self.is_contiguous()
            && target.is_contiguous();
        let out = if fast {
            mse_forward_fused(self, target, reduction)?
        } else {
            crate::with_no_grad(|| -> Result<Tensor> {
                // Promoted first, as TensorIterator does: a bool operand is no subtraction.
                let d = cast(self, dt)?.sub(&cast(target, dt)?)?;
                let sq = d.mul(&d)?;
                match reduction {
                    Reduction::None => Ok(sq),
                    Reduction::Sum => sq.sum(None, false),
                    Reduction::Mean => sq.mean(None, false),
                }
            })?
        };
        if let Some(mut rec) = Recorder::new("MseLossBackward0", &[self, target])? {
            let si = rec.save(self);
            let st = rec.save(target);
            let need = [rec.needs(0), rec.needs(1)];
            rec.finish(&out, move |ctx, g| {
                let (x, t) = (ctx.unpack(si)?, ctx.unpack(st)?);
                if fast {
                    let gx = mse_backward_fused(&x, &t, &g, reduction)?;
                    return Ok(vec![
                        need[0].then(|| gx.clone()),
                        opt(need[1], || gx.neg())?,
                    ]);
                }
                let diff = cast(&x, dt)?.sub(&cast(&t, dt)?)?;
                let scale = match reduction {
                    Reduction::Mean => 2.0 / diff.numel() as f64,
                    _ => 2.0,
                };
                let gx = diff.mul(scale)?.mul(&g)?;
                Ok(vec![
                    need[0].then(|| gx.clone()),
                    opt(need[1], || gx.neg())?,
                ])
            })?;
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
    fn typed<T: cpu::Float + StorageElem>(g: &Tensor) -> Result<Tensor> {
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

/// `mse_loss` of same-shape, same-dtype operands in one pass (sums accumulate in f64).
fn mse_forward_fused(x: &Tensor, t: &Tensor, reduction: Reduction) -> Result<Tensor> {
    if super::device::any_cuda(&[x, t]) {
        return super::device::mse_forward(x, t, reduction);
    }
    fn typed<T: cpu::Float + StorageElem>(
        x: &Tensor,
        t: &Tensor,
        reduction: Reduction,
    ) -> Result<Tensor> {
        let n = x.numel();
        with_contiguous(x, |xs: &[T]| {
            with_contiguous(t, |ts: &[T]| match reduction {
                Reduction::None => {
                    let v: Vec<T> = xs
                        .iter()
                        .zip(ts)
                        .map(|(&a, &b)| (a - b) * (a - b))
                        .collect();
                    Tensor::from_vec(v, &x.shape())
                }
                _ => {
                    let mut sum = 0f64;
                    for (&a, &b) in xs.iter().zip(ts) {
                        let d = (a - b).to_f64();
                        sum += d * d;
                    }
                    if reduction == Reduction::Mean {
                        sum /= n as f64;
                    }
                    Tensor::from_vec(vec![T::from_f64(sum)], &[])
                }
            })
        })??
    }
    match x.dtype() {
        DType::F32 => typed::<f32>(x, t, reduction),
        DType::F64 => typed::<f64>(x, t, reduction),
        d => Err(Error::DtypeNotSupported {
            op: "mse_cpu",
            dtype: d.scalar_type_name(),
        }),
    }
}

/// `d mse / d input` for same-shape operands: `scale * (x - t) * g`, with `g` a scalar for
/// the reduced losses.
fn mse_backward_fused(x: &Tensor, t: &Tensor, g: &Tensor, reduction: Reduction) -> Result<Tensor> {
    if super::device::any_cuda(&[x, t, g]) {
        return super::device::mse_backward(x, t, g, reduction);
    }
    fn typed<T: cpu::Float + StorageElem>(
        x: &Tensor,
        t: &Tensor,
        g: &Tensor,
        reduction: Reduction,
    ) -> Result<Tensor> {
        let n = x.numel();
        let scale = match reduction {
            Reduction::Mean => T::from_f64(2.0 / n as f64),
            _ => T::from_f64(2.0),
        };
        let g = if g.dtype() == T::DTYPE {
            g.clone()
        } else {
            cast(g, T::DTYPE)?
        };
        let g = if reduction == Reduction::None {
            g
        } else {
            g.expand_raw(&x.shape())?
        };
        with_contiguous(x, |xs: &[T]| {
            with_contiguous(t, |ts: &[T]| {
                with_contiguous(&g, |gs: &[T]| {
                    let v: Vec<T> = xs
                        .iter()
                        .zip(ts)
                        .zip(gs)
                        .map(|((&a, &b), &gv)| scale * (a - b) * gv)
                        .collect();
                    Tensor::from_vec(v, &x.shape())
                })
            })
        })???
    }
    match x.dtype() {
        DType::F32 => typed::<f32>(x, t, g, reduction),
        DType::F64 => typed::<f64>(x, t, g, reduction),
        d => Err(Error::DtypeNotSupported {
            op: "mse_backward_cpu",
            dtype: d.scalar_type_name(),
        }),
    }
}

fn addmm_forward(
    bias: &Tensor,
    mat1: &Tensor,
    mat2: &Tensor,
    target: [usize; 2],
) -> Result<Tensor> {
    if super::device::any_cuda(&[bias, mat1, mat2]) {
        // `mat1 @ mat2` in cuBLAS, then the broadcast bias added by the binary kernel.
        let (l1, l2) = (mat1.layout(), mat2.layout());
        let p = super::device::mm(mat1, l1, mat2, l2, &target)?;
        return super::device::binary(&p, &super::cast(bias, p.dtype())?, "add");
    }
    fn typed<T: cpu::Float + StorageElem>(
        bias: &Tensor,
        mat1: &Tensor,
        mat2: &Tensor,
        target: [usize; 2],
    ) -> Result<Tensor> {
        let mut out: Vec<T> = with_contiguous(&bias.expand_raw(&target)?, |v: &[T]| v.to_vec())?;
        mat1.with_slice(|s1: &[T], l1| {
            mat2.with_slice(|s2: &[T], l2| {
                cpu::matmul_signed_zeros(
                    s1,
                    mat_of(l1, 0, 1),
                    s2,
                    mat_of(l2, 0, 1),
                    &mut out,
                    MatLayout::contiguous(target[0], target[1]),
                    Accumulate::Add,
                )
            })
        })??
        .map_err(kernel_err)?;
        Tensor::from_vec(out, &target)
    }
    with_float_dtype(
        mat1.dtype(),
        "addmm_impl_cpu_",
        || typed::<f32>(bias, mat1, mat2, target),
        || typed::<f64>(bias, mat1, mat2, target),
        || {
            let c = |t: &Tensor| cast(t, DType::F64);
            cast(
                &typed::<f64>(&c(bias)?, &c(mat1)?, &c(mat2)?, target)?,
                DType::I64,
            )
        },
    )
}

fn conv_forward(g: &Conv2dGeometry, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor> {
    let mut inputs = vec![x, w];
    inputs.extend(b);
    if super::device::any_cuda(&inputs) {
        return super::device::conv2d(g, x, w, b);
    }
    fn typed<T: cpu::Float + StorageElem>(
        g: &Conv2dGeometry,
        x: &Tensor,
        w: &Tensor,
        b: Option<&Tensor>,
    ) -> Result<Tensor> {
        let mut out = vec![T::ZERO; g.output_len()];
        let bias: Option<Vec<T>> = b.map(|b| b.contiguous_vec()).transpose()?;
        with_contiguous(x, |xs: &[T]| {
            with_contiguous(w, |ws: &[T]| {
                cpu::conv2d_forward(g, xs, ws, bias.as_deref(), &mut out)
            })
        })??
        .map_err(kernel_err)?;
        let (oh, ow) = g.out_hw().unwrap_or((0, 0));
        Tensor::from_vec(out, &[g.batch, g.out_channels, oh, ow])
    }
    with_float_dtype(
        x.dtype(),
        "slow_conv2d_cpu",
        || typed::<f32>(g, x, w, b),
        || typed::<f64>(g, x, w, b),
        || {
            let c = |t: &Tensor| cast(t, DType::F64);
            let b64 = b.map(c).transpose()?;
            cast(&typed::<f64>(g, &c(x)?, &c(w)?, b64.as_ref())?, DType::I64)
        },
    )
}

/// The three gradients of a convolution (`need`: input, weight, bias).
fn conv_backward(
    geom: &Conv2dGeometry,
    x: &Tensor,
    w: &Tensor,
    g: &Tensor,
    need: [bool; 3],
) -> Result<Vec<Option<Tensor>>> {
    if super::device::any_cuda(&[x, w, g]) {
        return super::device::conv2d_backward(geom, x, w, g, need);
    }
    fn typed<T: cpu::Float + StorageElem>(
        geom: &Conv2dGeometry,
        x: &Tensor,
        w: &Tensor,
        g: &Tensor,
        need: [bool; 3],
    ) -> Result<Vec<Option<Tensor>>> {
        let g = if g.dtype() == T::DTYPE {
            g.clone()
        } else {
            cast(g, T::DTYPE)?
        };
        let xs = x.shape();
        let ws = w.shape();
        with_contiguous(&g, |gs: &[T]| -> Result<Vec<Option<Tensor>>> {
            let gx = opt(need[0], || {
                let mut out = vec![T::ZERO; geom.input_len()];
                with_contiguous(w, |wv: &[T]| {
                    cpu::conv2d_backward_input(geom, gs, wv, &mut out)
                })?
                .map_err(kernel_err)?;
                Tensor::from_vec(out, &xs)
            })?;
            let gw = opt(need[1], || {
                let mut out = vec![T::ZERO; geom.weight_len()];
                with_contiguous(x, |xv: &[T]| {
                    cpu::conv2d_backward_weight(geom, xv, gs, &mut out)
                })?
                .map_err(kernel_err)?;
                Tensor::from_vec(out, &ws)
            })?;
            let gb = opt(need[2], || {
                let mut out = vec![T::ZERO; geom.out_channels];
                cpu::conv2d_backward_bias(geom, gs, &mut out).map_err(kernel_err)?;
                Tensor::from_vec(out, &[geom.out_channels])
            })?;
            Ok(vec![gx, gw, gb])
        })?
    }
    match x.dtype() {
        DType::F32 => typed::<f32>(geom, x, w, g, need),
        DType::F64 => typed::<f64>(geom, x, w, g, need),
        d => Err(Error::DtypeNotSupported {
            op: "convolution_backward",
            dtype: d.scalar_type_name(),
        }),
    }
}
