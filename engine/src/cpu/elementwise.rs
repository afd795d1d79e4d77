//! The CPU storage's elementwise kernels: strided maps over host buffers, each into a fresh
//! buffer with the dense strides the caller picks (TensorIterator's for elementwise ops,
//! `preserve_format`'s for copies), plus the strided write behind in-place ops.

use super::{CpuStorage, StorageElem};
use crate::kernel::{BinaryKernel, CompareKernel, UnaryKernel};
use crate::layout::{Layout, StridedIndex, contiguous_strides, for_each2};
use crate::{DType, Error, Result};

/// The elements `l` selects, mapped through `f`, in row-major order.
fn map1<A: Copy, O>(s: &[A], l: &Layout, f: impl Fn(A) -> O) -> Vec<O> {
    // An empty view may sit at an offset past the end of its (empty) storage.
    if l.numel() == 0 {
        Vec::new()
    } else if l.is_contiguous() {
        s[l.offset..l.offset + l.numel()]
            .iter()
            .map(|&v| f(v))
            .collect()
    } else {
        l.indices().map(|i| f(s[i])).collect()
    }
}

/// `f` over two layouts broadcast to `shape`, in row-major order.
fn map2<A: Copy, B: Copy, O>(
    sa: &[A],
    la: &Layout,
    sb: &[B],
    lb: &Layout,
    shape: &[usize],
    f: impl Fn(A, B) -> O,
) -> Vec<O> {
    let n: usize = shape.iter().product();
    if la.shape == shape && lb.shape == shape && la.is_contiguous() && lb.is_contiguous() && n > 0 {
        let xa = &sa[la.offset..la.offset + n];
        let xb = &sb[lb.offset..lb.offset + n];
        return xa.iter().zip(xb).map(|(&x, &y)| f(x, y)).collect();
    }
    let mut v = Vec::with_capacity(n);
    let (sta, stb) = (la.broadcast_strides(shape), lb.broadcast_strides(shape));
    for_each2(shape, &sta, la.offset, &stb, lb.offset, |i, j| {
        v.push(f(sa[i], sb[j]))
    });
    v
}

/// Row-major values `v` of `shape` laid out in a dense buffer with `strides`.
fn place<T: Copy>(v: Vec<T>, shape: &[usize], strides: &[isize]) -> Vec<T> {
    if v.len() <= 1 || strides == contiguous_strides(shape) {
        return v;
    }
    let mut buf = v.clone();
    for (x, i) in v.into_iter().zip(StridedIndex::new(shape, strides, 0)) {
        buf[i] = x;
    }
    buf
}

fn unsupported(op: &'static str, dtype: DType) -> Error {
    Error::DtypeNotSupported {
        op,
        dtype: dtype.scalar_type_name(),
    }
}

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

/// Float -> int32 as the x86 32-bit conversion (`cvttsd2si`) does: NaN, infinities and
/// out-of-range values give `INT32_MIN`. libtorch's casts to int8/int16 go through it.
pub(crate) fn f64_to_i32_x86(v: f64) -> i32 {
    const LIMIT: f64 = 2_147_483_648.0;
    if v.is_nan() || !(-LIMIT..LIMIT).contains(&v) {
        i32::MIN
    } else {
        v as i32
    }
}

fn clamp_float<T: PartialOrd + Copy>(v: T, lo: T, hi: T) -> T {
    #[allow(clippy::eq_op)]
    if v != v {
        return v;
    }
    let v = if v < lo { lo } else { v };
    if v > hi { hi } else { v }
}

impl CpuStorage {
    /// `U` over the elements `l` selects, into a buffer with dense strides `out` for `l.shape`.
    pub(crate) fn unary<U: UnaryKernel>(&self, l: &Layout, out: &[isize]) -> Result<CpuStorage> {
        // The dtypes `kernel::unary_runs` names, as the CUDA storage runs them.
        let sh = &l.shape;
        Ok(match self {
            CpuStorage::F32(s) => CpuStorage::F32(place(map1(s, l, U::f32), sh, out)),
            CpuStorage::F64(s) => CpuStorage::F64(place(map1(s, l, U::f64), sh, out)),
            CpuStorage::I64(s) if U::INT => CpuStorage::I64(place(map1(s, l, U::i64), sh, out)),
            // The narrow integers run the int64 kernel and wrap back.
            CpuStorage::I32(s) if U::INT => {
                CpuStorage::I32(place(map1(s, l, |v| U::i64(v.into()) as i32), sh, out))
            }
            CpuStorage::I16(s) if U::INT => {
                CpuStorage::I16(place(map1(s, l, |v| U::i64(v.into()) as i16), sh, out))
            }
            CpuStorage::I8(s) if U::INT => {
                CpuStorage::I8(place(map1(s, l, |v| U::i64(v.into()) as i8), sh, out))
            }
            s => return Err(unsupported(U::NAME, s.dtype())),
        })
    }

    /// `B` over two same-dtype operands whose layouts broadcast to `shape`.
    pub(crate) fn binary<B: BinaryKernel>(
        &self,
        la: &Layout,
        rhs: &CpuStorage,
        lb: &Layout,
        shape: &[usize],
        out: &[isize],
    ) -> Result<CpuStorage> {
        // The dtypes `kernel::binary_runs` names, as the CUDA storage runs them.
        use CpuStorage as C;
        Ok(match (self, rhs) {
            (C::F32(a), C::F32(b)) => C::F32(place(map2(a, la, b, lb, shape, B::f32), shape, out)),
            (C::F64(a), C::F64(b)) => C::F64(place(map2(a, la, b, lb, shape, B::f64), shape, out)),
            (C::I64(a), C::I64(b)) if B::INT => {
                C::I64(place(map2(a, la, b, lb, shape, B::i64), shape, out))
            }
            (C::I32(a), C::I32(b)) if B::INT => {
                let f = |x: i32, y: i32| B::i64(x.into(), y.into()) as i32;
                C::I32(place(map2(a, la, b, lb, shape, f), shape, out))
            }
            (C::I16(a), C::I16(b)) if B::INT => {
                let f = |x: i16, y: i16| B::i64(x.into(), y.into()) as i16;
                C::I16(place(map2(a, la, b, lb, shape, f), shape, out))
            }
            (C::I8(a), C::I8(b)) if B::INT => {
                let f = |x: i8, y: i8| B::i64(x.into(), y.into()) as i8;
                C::I8(place(map2(a, la, b, lb, shape, f), shape, out))
            }
            (C::Bool(a), C::Bool(b)) if B::BOOL => {
                C::Bool(place(map2(a, la, b, lb, shape, B::bool), shape, out))
            }
            (a, b) if a.dtype() != b.dtype() => {
                return Err(Error::DtypeMismatch(format!(
                    "expected scalar type {} but found {}",
                    a.dtype().scalar_type_name(),
                    b.dtype().scalar_type_name()
                )));
            }
            (a, _) => return Err(unsupported(B::NAME, a.dtype())),
        })
    }

    /// `C` over two same-dtype operands whose layouts broadcast to `shape`; a bool buffer.
    pub(crate) fn compare<K: CompareKernel>(
        &self,
        la: &Layout,
        rhs: &CpuStorage,
        lb: &Layout,
        shape: &[usize],
        out: &[isize],
    ) -> Result<CpuStorage> {
        use CpuStorage as C;
        let v = match (self, rhs) {
            (C::F32(a), C::F32(b)) => map2(a, la, b, lb, shape, K::cmp),
            (C::F64(a), C::F64(b)) => map2(a, la, b, lb, shape, K::cmp),
            (C::I64(a), C::I64(b)) => map2(a, la, b, lb, shape, K::cmp),
            (C::I32(a), C::I32(b)) => map2(a, la, b, lb, shape, K::cmp),
            (C::I16(a), C::I16(b)) => map2(a, la, b, lb, shape, K::cmp),
            (C::I8(a), C::I8(b)) => map2(a, la, b, lb, shape, K::cmp),
            (C::Bool(a), C::Bool(b)) => map2(a, la, b, lb, shape, K::cmp),
            (a, b) => {
                return Err(Error::DtypeMismatch(format!(
                    "expected scalar type {} but found {}",
                    a.dtype().scalar_type_name(),
                    b.dtype().scalar_type_name()
                )));
            }
        };
        Ok(C::Bool(place(v, shape, out)))
    }

    /// `where(cond, a, b)`: this bool buffer picks between two same-dtype operands, the three
    /// layouts broadcast to `shape`, into dense strides `out`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn select(
        &self,
        cl: &Layout,
        a: &CpuStorage,
        al: &Layout,
        b: &CpuStorage,
        bl: &Layout,
        shape: &[usize],
        out: &[isize],
    ) -> Result<CpuStorage> {
        fn go<T: Copy>(
            c: &[bool],
            cl: &Layout,
            (a, al): (&[T], &Layout),
            (b, bl): (&[T], &Layout),
            shape: &[usize],
            out: &[isize],
        ) -> Vec<T> {
            let walk = |l: &Layout| {
                let st = l.broadcast_strides(shape);
                StridedIndex::new(shape, &st, l.offset).collect::<Vec<_>>()
            };
            let (ic, ia, ib) = (walk(cl), walk(al), walk(bl));
            let v = ic
                .iter()
                .zip(ia.iter().zip(&ib))
                .map(|(&k, (&i, &j))| if c[k] { a[i] } else { b[j] })
                .collect();
            place(v, shape, out)
        }
        use CpuStorage as C;
        let C::Bool(c) = self else {
            return Err(unsupported("where", self.dtype()));
        };
        Ok(match (a, b) {
            (C::F32(x), C::F32(y)) => C::F32(go(c, cl, (x, al), (y, bl), shape, out)),
            (C::F64(x), C::F64(y)) => C::F64(go(c, cl, (x, al), (y, bl), shape, out)),
            (C::I64(x), C::I64(y)) => C::I64(go(c, cl, (x, al), (y, bl), shape, out)),
            (C::I32(x), C::I32(y)) => C::I32(go(c, cl, (x, al), (y, bl), shape, out)),
            (C::I16(x), C::I16(y)) => C::I16(go(c, cl, (x, al), (y, bl), shape, out)),
            (C::I8(x), C::I8(y)) => C::I8(go(c, cl, (x, al), (y, bl), shape, out)),
            (C::Bool(x), C::Bool(y)) => C::Bool(go(c, cl, (x, al), (y, bl), shape, out)),
            (x, y) => {
                return Err(Error::DtypeMismatch(format!(
                    "expected scalar type {} but found {}",
                    x.dtype().scalar_type_name(),
                    y.dtype().scalar_type_name()
                )));
            }
        })
    }

    /// `clamp(lo, hi)` of the elements `l` selects (an absent bound is -inf / +inf): a NaN
    /// stays NaN, then the lower bound applies and then the upper one (so `lo > hi` gives
    /// `hi`); integers compare with the bounds cast to int64. Into dense strides `out`.
    pub(crate) fn clamp(&self, l: &Layout, lo: f64, hi: f64, out: &[isize]) -> Result<CpuStorage> {
        let sh = &l.shape;
        Ok(match self {
            CpuStorage::F32(s) => {
                let (lo, hi) = (lo as f32, hi as f32);
                CpuStorage::F32(place(map1(s, l, |v| clamp_float(v, lo, hi)), sh, out))
            }
            CpuStorage::F64(s) => {
                CpuStorage::F64(place(map1(s, l, |v| clamp_float(v, lo, hi)), sh, out))
            }
            CpuStorage::I64(s) => {
                let (lo, hi) = (lo as i64, hi as i64);
                CpuStorage::I64(place(map1(s, l, |v| v.max(lo).min(hi)), sh, out))
            }
            CpuStorage::I32(s) => {
                let (lo, hi) = (lo as i64 as i32, hi as i64 as i32);
                CpuStorage::I32(place(map1(s, l, |v| v.max(lo).min(hi)), sh, out))
            }
            CpuStorage::I16(s) => {
                let (lo, hi) = (lo as i64 as i16, hi as i64 as i16);
                CpuStorage::I16(place(map1(s, l, |v| v.max(lo).min(hi)), sh, out))
            }
            CpuStorage::I8(s) => {
                let (lo, hi) = (lo as i64 as i8, hi as i64 as i8);
                CpuStorage::I8(place(map1(s, l, |v| v.max(lo).min(hi)), sh, out))
            }
            CpuStorage::Bool(_) => return Err(unsupported("clamp", DType::Bool)),
        })
    }

    /// The elements `l` selects converted to `to` (`.to(dtype)`'s conversions), into a buffer
    /// with dense strides `out`. Integers convert between widths by wrapping; a float goes to
    /// int64 through the 64-bit x86 conversion and to a narrower integer through the 32-bit
    /// one and then wraps (torch 2.13: `tensor([300., 3e9]).to(torch.int8)` is `[44, 0]`).
    pub(crate) fn cast(&self, l: &Layout, to: DType, out: &[isize]) -> CpuStorage {
        fn go<A: StorageElem>(s: &[A], l: &Layout, to: DType, out: &[isize]) -> CpuStorage {
            let sh = &l.shape;
            let float = A::DTYPE.is_float();
            let int = |v: A| {
                if !float {
                    v.to_i64()
                } else if to == DType::I64 {
                    f64_to_i64_x86(v.to_f64())
                } else {
                    f64_to_i32_x86(v.to_f64()) as i64
                }
            };
            match to {
                DType::F32 => CpuStorage::F32(place(map1(s, l, |v| v.to_f64() as f32), sh, out)),
                DType::F64 => CpuStorage::F64(place(map1(s, l, |v| v.to_f64()), sh, out)),
                DType::I64 => CpuStorage::I64(place(map1(s, l, int), sh, out)),
                DType::I32 => CpuStorage::I32(place(map1(s, l, |v| int(v) as i32), sh, out)),
                DType::I16 => CpuStorage::I16(place(map1(s, l, |v| int(v) as i16), sh, out)),
                DType::I8 => CpuStorage::I8(place(map1(s, l, |v| int(v) as i8), sh, out)),
                DType::Bool => CpuStorage::Bool(place(map1(s, l, |v| v.to_f64() != 0.0), sh, out)),
            }
        }
        match self {
            CpuStorage::F32(s) => go(s, l, to, out),
            CpuStorage::F64(s) => go(s, l, to, out),
            CpuStorage::I64(s) => go(s, l, to, out),
            CpuStorage::I32(s) => go(s, l, to, out),
            CpuStorage::I16(s) => go(s, l, to, out),
            CpuStorage::I8(s) => go(s, l, to, out),
            CpuStorage::Bool(s) => go(s, l, to, out),
        }
    }

    /// The elements `l` selects, into a buffer with dense strides `out` (same dtype).
    pub(crate) fn copy(&self, l: &Layout, out: &[isize]) -> CpuStorage {
        let sh = &l.shape;
        match self {
            CpuStorage::F32(s) => CpuStorage::F32(place(map1(s, l, |v| v), sh, out)),
            CpuStorage::F64(s) => CpuStorage::F64(place(map1(s, l, |v| v), sh, out)),
            CpuStorage::I64(s) => CpuStorage::I64(place(map1(s, l, |v| v), sh, out)),
            CpuStorage::I32(s) => CpuStorage::I32(place(map1(s, l, |v| v), sh, out)),
            CpuStorage::I16(s) => CpuStorage::I16(place(map1(s, l, |v| v), sh, out)),
            CpuStorage::I8(s) => CpuStorage::I8(place(map1(s, l, |v| v), sh, out)),
            CpuStorage::Bool(s) => CpuStorage::Bool(place(map1(s, l, |v| v), sh, out)),
        }
    }

    /// Writes the row-major `src` (this buffer's dtype, `l.numel()` elements) into the
    /// elements `l` selects.
    pub(crate) fn write(&mut self, l: &Layout, src: &CpuStorage) -> Result<()> {
        fn go<T: StorageElem>(dst: &mut [T], src: &[T], l: &Layout) {
            // An empty view may sit at an offset one past its storage's end.
            if src.is_empty() {
                return;
            }
            if l.is_contiguous() {
                dst[l.offset..l.offset + src.len()].copy_from_slice(src);
            } else {
                for (i, v) in l.indices().zip(src) {
                    dst[i] = *v;
                }
            }
        }
        use CpuStorage as C;
        match (self, src) {
            (C::F32(d), C::F32(s)) => go(d, s, l),
            (C::F64(d), C::F64(s)) => go(d, s, l),
            (C::I64(d), C::I64(s)) => go(d, s, l),
            (C::I32(d), C::I32(s)) => go(d, s, l),
            (C::I16(d), C::I16(s)) => go(d, s, l),
            (C::I8(d), C::I8(s)) => go(d, s, l),
            (C::Bool(d), C::Bool(s)) => go(d, s, l),
            (d, s) => {
                return Err(Error::DtypeMismatch(format!(
                    "expected scalar type {} but found {}",
                    d.dtype().scalar_type_name(),
                    s.dtype().scalar_type_name()
                )));
            }
        }
        Ok(())
    }
}
