//! Every op, its forward kernel and its backward rule side by side. Kernels here are plain
//! strided loops over the storage; elementwise kernels take a contiguous fast path.

pub mod advanced_index;
pub mod arith;
pub mod batch_norm;
pub mod device;
pub mod einsum;
pub mod elementwise;
pub mod index;
pub mod inplace;
pub mod linalg;
pub mod masked;
pub mod nll;
pub mod reduce;
pub mod shape;
pub mod split;
pub mod stats;

use crate::DType;
use crate::error::{Error, Result};
use crate::layout::{Layout, broadcast_shapes, contiguous_strides};
use crate::memory_format;
use crate::storage::StorageElem;
use crate::tensor::Tensor;

/// Calls `f(ia, ib)` for the storage indices of two layouts over the same logical `shape`, in
/// row-major order.
#[inline]
pub(crate) fn for_each2(
    shape: &[usize],
    sa: &[isize],
    oa: usize,
    sb: &[isize],
    ob: usize,
    mut f: impl FnMut(usize, usize),
) {
    if shape.contains(&0) {
        return;
    }
    let n = shape.len();
    if n == 0 {
        f(oa, ob);
        return;
    }
    let mut idx = vec![0usize; n];
    let (mut pa, mut pb) = (oa as isize, ob as isize);
    let inner = shape[n - 1];
    let (ia, ib) = (sa[n - 1], sb[n - 1]);
    loop {
        let (mut qa, mut qb) = (pa, pb);
        for _ in 0..inner {
            f(qa as usize, qb as usize);
            qa += ia;
            qb += ib;
        }
        // Advance the outer dims.
        let mut d = n - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            pa += sa[d];
            pb += sb[d];
            if idx[d] < shape[d] {
                break;
            }
            pa -= sa[d] * shape[d] as isize;
            pb -= sb[d] * shape[d] as isize;
            idx[d] = 0;
        }
    }
}

/// Elementwise map; the result's strides follow TensorIterator's (see
/// [`crate::memory_format::iterator_strides`]).
pub(crate) fn map1<A: StorageElem, O: StorageElem>(
    x: &Tensor,
    f: impl Fn(A) -> O,
) -> Result<Tensor> {
    map1_into(x, |l| memory_format::iterator_strides(&l.shape, &[l]), f)
}

/// Elementwise map into a result whose strides `strides` picks from the input's layout.
pub(crate) fn map1_into<A: StorageElem, O: StorageElem>(
    x: &Tensor,
    strides: impl FnOnce(&Layout) -> Vec<isize>,
    f: impl Fn(A) -> O,
) -> Result<Tensor> {
    let (shape, st, out) = x.with_slice(|s: &[A], l| {
        // An empty view may sit at an offset past the end of its (empty) storage.
        let v: Vec<O> = if l.numel() == 0 {
            Vec::new()
        } else if l.is_contiguous() {
            s[l.offset..l.offset + l.numel()]
                .iter()
                .map(|&v| f(v))
                .collect()
        } else {
            l.indices().map(|i| f(s[i])).collect()
        };
        (l.shape.clone(), strides(l), v)
    })?;
    Tensor::from_vec_strided(out, shape, st)
}

/// Elementwise map of two tensors with broadcasting; strides as TensorIterator gives them.
pub(crate) fn map2<A: StorageElem, B: StorageElem, O: StorageElem>(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(A, B) -> O,
) -> Result<Tensor> {
    let (shape, st, out) = a.with_slice(|sa: &[A], la| {
        b.with_slice(|sb: &[B], lb| -> Result<(Vec<usize>, Vec<isize>, Vec<O>)> {
            if la.shape == lb.shape && la.is_contiguous() && lb.is_contiguous() && la.numel() > 0 {
                let n = la.numel();
                let xa = &sa[la.offset..la.offset + n];
                let xb = &sb[lb.offset..lb.offset + n];
                return Ok((
                    la.shape.clone(),
                    contiguous_strides(&la.shape),
                    xa.iter().zip(xb).map(|(&x, &y)| f(x, y)).collect(),
                ));
            }
            let shape = broadcast_shapes(&la.shape, &lb.shape)?;
            let mut v = Vec::with_capacity(shape.iter().product());
            let sta = la.broadcast_strides(&shape);
            let stb = lb.broadcast_strides(&shape);
            for_each2(&shape, &sta, la.offset, &stb, lb.offset, |i, j| {
                v.push(f(sa[i], sb[j]))
            });
            let st = memory_format::iterator_strides(&shape, &[la, lb]);
            Ok((shape, st, v))
        })
    })???;
    Tensor::from_vec_strided(out, shape, st)
}

/// Dispatches a closure body over the float dtypes: `float_map!(x, |v| v.exp())`.
macro_rules! float_map {
    ($x:expr, $op:expr, |$v:ident| $body:expr) => {{
        let x: &$crate::Tensor = $x;
        match x.dtype() {
            // CUDA tensors take the kernel of the op's name (or a typed error naming it).
            $crate::DType::F32 | $crate::DType::F64 if x.device().is_cuda() => {
                $crate::ops::device::unary(x, $op)
            }
            $crate::DType::F32 => $crate::ops::map1::<f32, f32>(x, |$v: f32| $body),
            $crate::DType::F64 => $crate::ops::map1::<f64, f64>(x, |$v: f64| $body),
            d => Err($crate::Error::DtypeNotSupported {
                op: $op,
                dtype: d.scalar_type_name(),
            }),
        }
    }};
}
pub(crate) use float_map;

/// A fused float kernel of two tensors (the gradient and a saved tensor), in the saved
/// tensor's dtype: one pass instead of a chain of ops in backward rules.
macro_rules! float_zip {
    ($g:expr, $r:expr, |$a:ident, $b:ident| $body:expr) => {{
        let r0: &$crate::Tensor = $r;
        let g0 = $crate::ops::cast($g, r0.dtype())?;
        // The fused formula is a Rust closure with no kernel of its own: on CUDA it runs on
        // host copies of the two operands and its result goes back to their device.
        let dev = r0.device();
        let (g, r) = if dev.is_cuda() {
            (
                $crate::ops::device::host(&g0)?,
                $crate::ops::device::host(r0)?,
            )
        } else {
            (g0, r0.clone())
        };
        let r = &r;
        let out = match r.dtype() {
            $crate::DType::F32 => $crate::ops::map2::<f32, f32, f32>(&g, r, |$a, $b| $body),
            $crate::DType::F64 => $crate::ops::map2::<f64, f64, f64>(&g, r, |$a, $b| $body),
            d => Err($crate::Error::DtypeNotSupported {
                op: "backward",
                dtype: d.scalar_type_name(),
            }),
        };
        if dev.is_cuda() {
            out.and_then(|t| $crate::ops::device::to(&t, dev))
        } else {
            out
        }
    }};
}
pub(crate) use float_zip;

/// Dispatches a binary closure over the numeric dtypes of already-cast operands.
macro_rules! num_map2 {
    ($a:expr, $b:expr, $op:expr, |$x:ident, $y:ident| $body:expr) => {{
        let (a, b): (&$crate::Tensor, &$crate::Tensor) = ($a, $b);
        match a.dtype() {
            // CUDA operands take the kernel of the op's name (or a typed error naming it).
            $crate::DType::F32 | $crate::DType::F64 | $crate::DType::I64
                if $crate::ops::device::any_cuda(&[a, b]) =>
            {
                $crate::ops::device::binary(a, b, $op)
            }
            $crate::DType::F32 => $crate::ops::map2::<f32, f32, f32>(a, b, |$x, $y| $body),
            $crate::DType::F64 => $crate::ops::map2::<f64, f64, f64>(a, b, |$x, $y| $body),
            $crate::DType::I64 => $crate::ops::map2::<i64, i64, i64>(a, b, |$x, $y| $body),
            d => Err($crate::Error::DtypeNotSupported {
                op: $op,
                dtype: d.scalar_type_name(),
            }),
        }
    }};
}
pub(crate) use num_map2;

/// Float -> int64 as libtorch's C++ cast compiles on x86 (`cvttsd2si`): NaN, infinities and
/// out-of-range values give `INT64_MIN` (the "integer indefinite" value), where Rust's `as`
/// would saturate.
pub(crate) fn f64_to_i64_x86(v: f64) -> i64 {
    // 2^63 is exactly representable; every finite v in [-2^63, 2^63) truncates in range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if v.is_nan() || !(-LIMIT..LIMIT).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

/// Copy with a dtype conversion (no autograd); the same tensor when the dtype already matches.
pub(crate) fn cast(x: &Tensor, dtype: DType) -> Result<Tensor> {
    if x.dtype() == dtype {
        return Ok(x.clone());
    }
    if x.device().is_cuda() {
        return device::cast(x, dtype, memory_format::preserve_strides(&x.layout()));
    }
    // `.to(dtype)` allocates with `empty_like(preserve_format)`.
    fn go<A: StorageElem>(x: &Tensor, dtype: DType) -> Result<Tensor> {
        let st = memory_format::preserve_strides;
        match dtype {
            DType::F32 => map1_into::<A, f32>(x, st, |v| v.to_f64() as f32),
            DType::F64 => map1_into::<A, f64>(x, st, |v| v.to_f64()),
            DType::I64 => map1_into::<A, i64>(x, st, |v| f64_to_i64_x86(v.to_f64())),
            DType::Bool => map1_into::<A, bool>(x, st, |v| v.to_f64() != 0.0),
        }
    }
    match x.dtype() {
        DType::F32 => go::<f32>(x, dtype),
        DType::F64 => go::<f64>(x, dtype),
        DType::I64 => go::<i64>(x, dtype),
        DType::Bool => go::<bool>(x, dtype),
    }
}

/// A plain contiguous copy (no autograd).
pub(crate) fn copy_raw(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cuda() {
        return device::copy(x, contiguous_strides(&x.shape()));
    }
    Tensor::from_storage(x.contiguous_storage()?, &x.shape())
}

/// A copy with `strides` (a dense layout for `x`'s shape), no autograd.
pub(crate) fn copy_strided(x: &Tensor, strides: Vec<isize>) -> Result<Tensor> {
    if x.device().is_cuda() {
        return device::copy(x, strides);
    }
    fn go<T: StorageElem>(x: &Tensor, strides: Vec<isize>) -> Result<Tensor> {
        Tensor::from_vec_strided(x.contiguous_vec::<T>()?, x.shape(), strides)
    }
    match x.dtype() {
        DType::F32 => go::<f32>(x, strides),
        DType::F64 => go::<f64>(x, strides),
        DType::I64 => go::<i64>(x, strides),
        DType::Bool => go::<bool>(x, strides),
    }
}

/// Strided layout of `l` with `dim` moved last: `(outer layout, inner length, inner stride)`.
pub(crate) fn split_rows(l: &Layout, dim: usize) -> (Layout, usize, isize) {
    let mut shape = l.shape.clone();
    let mut strides = l.strides.clone();
    let len = shape.remove(dim);
    let stride = strides.remove(dim);
    (
        Layout {
            shape,
            strides,
            offset: l.offset,
        },
        len,
        stride,
    )
}

pub(crate) fn check_same_device(a: &Tensor, b: &Tensor) -> Result<()> {
    let (da, db) = (a.device(), b.device());
    // libtorch lets a 0-dim CPU tensor join an op on another device (as a CPU scalar).
    let cpu_scalar = |t: &Tensor, other: crate::Device| {
        other.is_cuda() && t.device() == crate::Device::Cpu && t.ndim() == 0
    };
    if da != db && !cpu_scalar(a, db) && !cpu_scalar(b, da) {
        return Err(Error::DeviceMismatch(da, db));
    }
    Ok(())
}
