//! The CPU storage's reductions: `sum` over a set of dims, `max()`/`min()` over everything, and
//! softmax / log_softmax over one dim.

use super::{CpuStorage, StorageElem};
use crate::layout::{Layout, contiguous_strides, for_each2};
use crate::{DType, Error, Result};

/// The keepdim shape of a reduction (`red[d]`: whether dim `d` is reduced) and the output
/// strides that send every reduced dim to the same element.
fn reduced(shape: &[usize], red: &[bool]) -> (usize, Vec<isize>) {
    let keep: Vec<usize> = shape
        .iter()
        .zip(red)
        .map(|(&n, &r)| if r { 1 } else { n })
        .collect();
    let mut ostr = contiguous_strides(&keep);
    for (s, &r) in ostr.iter_mut().zip(red) {
        if r {
            *s = 0;
        }
    }
    (keep.iter().product(), ostr)
}

/// A float sum, accumulating in f64.
fn float_sum<T: StorageElem>(s: &[T], l: &Layout, red: &[bool], out: DType) -> CpuStorage {
    let (n, ostr) = reduced(&l.shape, red);
    let mut acc = vec![0f64; n];
    for_each2(&l.shape, &l.strides, l.offset, &ostr, 0, |i, o| {
        acc[o] += s[i].to_f64()
    });
    CpuStorage::from_f64(out, acc)
}

/// Integer and bool sums in i64 with wrapping addition, as ATen's integer kernels do (an f64
/// accumulator would round above 2^53 and saturate on overflow).
fn int_sum<T: StorageElem>(s: &[T], l: &Layout, red: &[bool], as_i64: fn(T) -> i64) -> CpuStorage {
    let (n, ostr) = reduced(&l.shape, red);
    let mut acc = vec![0i64; n];
    for_each2(&l.shape, &l.strides, l.offset, &ostr, 0, |i, o| {
        acc[o] = acc[o].wrapping_add(as_i64(s[i]))
    });
    CpuStorage::I64(acc)
}

impl CpuStorage {
    /// `sum` over the dims `red` marks, contiguous in the keepdim shape: floats in `out_dtype`
    /// (accumulated in f64), integers and bools in int64.
    pub(crate) fn sum(&self, l: &Layout, red: &[bool], out_dtype: DType) -> CpuStorage {
        match self {
            CpuStorage::F32(s) => float_sum(s, l, red, out_dtype),
            CpuStorage::F64(s) => float_sum(s, l, red, out_dtype),
            CpuStorage::I64(s) => int_sum(s, l, red, |v| v),
            CpuStorage::I32(s) => int_sum(s, l, red, i64::from),
            CpuStorage::I16(s) => int_sum(s, l, red, i64::from),
            CpuStorage::I8(s) => int_sum(s, l, red, i64::from),
            CpuStorage::Bool(s) => int_sum(s, l, red, i64::from),
        }
    }

    /// `max()` / `min()` over the elements `l` selects (at least one): the first NaN wins.
    pub(crate) fn extreme_all(&self, l: &Layout, is_max: bool) -> CpuStorage {
        let mut it = l.indices().map(|i| self.get_f64(i));
        let mut best = it.next().unwrap_or(f64::NAN);
        for x in it {
            if best.is_nan() {
                break;
            }
            if x.is_nan() || (x > best) == is_max && x != best {
                best = x;
            }
        }
        CpuStorage::from_f64(self.dtype(), [best])
    }

    /// softmax / log_softmax over dim `d` of a float input, contiguous, accumulating in f64.
    pub(crate) fn softmax(&self, l: &Layout, d: usize, log: bool) -> Result<CpuStorage> {
        let dtype = self.dtype();
        if !dtype.is_float() {
            return Err(Error::DtypeNotSupported {
                op: "softmax",
                dtype: dtype.scalar_type_name(),
            });
        }
        let (outer, len, stride) = crate::layout::split_rows(l, d);
        let ol = Layout::contiguous(&l.shape);
        let (oouter, _, ostride) = crate::layout::split_rows(&ol, d);
        let mut out = vec![0f64; l.numel()];
        let mut row = vec![0f64; len];
        for_each2(
            &outer.shape,
            &outer.strides,
            outer.offset,
            &oouter.strides,
            0,
            |i, o| {
                for (k, r) in row.iter_mut().enumerate() {
                    *r = self.get_f64((i as isize + k as isize * stride) as usize);
                }
                let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                if log && dtype == DType::F32 {
                    // ATen sums exp(x - max) and takes its log in float for a float input; a
                    // sum of 1 + 1e-9 is then exactly 1 and the largest entry's result
                    // exactly 0, which a later division or sqrt turns into an observable inf
                    // or 0.
                    let m = m as f32;
                    let s: f32 = row.iter().map(|&v| (v as f32 - m).exp()).sum();
                    let ls = s.ln();
                    for (k, &r) in row.iter().enumerate() {
                        out[(o as isize + k as isize * ostride) as usize] =
                            ((r as f32 - m) - ls) as f64;
                    }
                    return;
                }
                let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
                for (k, r) in row.iter().enumerate() {
                    let v = if log {
                        r - m - s.ln()
                    } else {
                        (r - m).exp() / s
                    };
                    out[(o as isize + k as isize * ostride) as usize] = v;
                }
            },
        );
        Ok(CpuStorage::from_f64(dtype, out))
    }
}
