//! The CPU storage's matrix products and convolutions: dtype dispatch and layouts around the
//! `gemm` and `conv` kernels. Floats run directly; int64 (which libtorch supports) runs through
//! f64, exact while every partial sum stays below 2^53, on a buffer widened element by element
//! so that the layouts still apply; bools are refused with the kernel's name.

use std::borrow::Cow;

use super::{
    Accumulate, Conv2dGeometry, Float, KernelError, MatLayout, batched_matmul,
    conv2d_backward_bias, conv2d_backward_input, conv2d_backward_weight, conv2d_forward,
    f64_to_i64_x86, matmul_signed_zeros,
};
use super::{CpuStorage, StorageElem};
use crate::layout::Layout;
use crate::{Error, Result};

fn kernel_err(e: KernelError) -> Error {
    Error::InvalidArgument(e.to_string())
}

/// The buffer's values as f64 at the same indices (the int64 path).
fn widened(s: &CpuStorage) -> CpuStorage {
    CpuStorage::F64((0..s.len()).map(|i| s.get_f64(i)).collect())
}

/// An f64 result of the int64 path back in int64, as `.to(torch.int64)` converts.
fn narrowed(s: CpuStorage) -> CpuStorage {
    match s {
        CpuStorage::F64(v) => CpuStorage::I64(v.into_iter().map(f64_to_i64_x86).collect()),
        other => other,
    }
}

/// An int64 result back in the narrow integer dtype `d` of the operands, wrapping as ATen's
/// integer products do in their own width.
fn rewrapped(s: CpuStorage, d: crate::DType) -> CpuStorage {
    let n = s.len();
    s.cast(&Layout::contiguous(&[n]), d, &[1])
}

/// Operands of the narrow integer dtype `d`, or the dtype-mismatch error.
fn same_narrow(d: crate::DType, others: &[&CpuStorage]) -> Result<()> {
    match others.iter().find(|o| o.dtype() != d) {
        Some(o) => Err(Error::DtypeMismatch(format!(
            "expected scalar type {} but found {}",
            d.scalar_type_name(),
            o.dtype().scalar_type_name()
        ))),
        None => Ok(()),
    }
}

fn unsupported(kernel: &'static str, s: &CpuStorage) -> Error {
    Error::DtypeNotSupported {
        op: kernel,
        dtype: s.dtype().scalar_type_name(),
    }
}

fn mismatch(a: &CpuStorage, b: &CpuStorage) -> Error {
    Error::DtypeMismatch(format!(
        "expected scalar type {} but found {}",
        a.dtype().scalar_type_name(),
        b.dtype().scalar_type_name()
    ))
}

/// The typed slice of `s`, or the dtype error naming the buffer it should match.
fn slice<'a, T: StorageElem>(s: &'a CpuStorage, like: &CpuStorage) -> Result<&'a [T]> {
    T::slice(s).ok_or_else(|| mismatch(like, s))
}

/// The elements `l` selects, row-major, borrowed when they are one contiguous run. Strided
/// copies walk the innermost dimension in a tight loop (gradients arriving from `sum` are
/// expanded scalars, and a per-element index iterator over a whole activation is slow).
pub(crate) fn contiguous<'a, T: Copy>(src: &'a [T], l: &Layout) -> Cow<'a, [T]> {
    let n = l.numel();
    if l.is_contiguous() {
        // An empty view may sit at an offset past the end of its (empty) storage.
        return Cow::Borrowed(if n == 0 {
            &[]
        } else {
            &src[l.offset..l.offset + n]
        });
    }
    let mut out = Vec::with_capacity(n);
    gather(src, l, &mut out);
    Cow::Owned(out)
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

/// The 2-D layout of dims `r`, `c` of a tensor layout.
pub(crate) fn mat_of(l: &Layout, r: usize, c: usize) -> MatLayout {
    MatLayout {
        rows: l.shape[r],
        cols: l.shape[c],
        offset: l.offset,
        row_stride: l.strides[r],
        col_stride: l.strides[c],
    }
}

impl CpuStorage {
    /// `a @ b` for the matrices `ma`, `mb` read from the two buffers, into a contiguous
    /// `[rows(ma), cols(mb)]` buffer; `kernel` names the op in the bool error.
    pub(crate) fn matmul(
        &self,
        ma: MatLayout,
        b: &CpuStorage,
        mb: MatLayout,
        kernel: &'static str,
    ) -> Result<CpuStorage> {
        fn typed<T: Float + StorageElem>(
            a: &[T],
            ma: MatLayout,
            b: &[T],
            mb: MatLayout,
        ) -> Result<Vec<T>> {
            let mut out = vec![T::ZERO; ma.rows * mb.cols];
            let lc = MatLayout::contiguous(ma.rows, mb.cols);
            matmul_signed_zeros(a, ma, b, mb, &mut out, lc, Accumulate::Overwrite)
                .map_err(kernel_err)?;
            Ok(out)
        }
        Ok(match self {
            CpuStorage::F32(a) => CpuStorage::F32(typed(a, ma, slice(b, self)?, mb)?),
            CpuStorage::F64(a) => CpuStorage::F64(typed(a, ma, slice(b, self)?, mb)?),
            CpuStorage::I64(_) => {
                slice::<i64>(b, self)?;
                narrowed(widened(self).matmul(ma, &widened(b), mb, kernel)?)
            }
            CpuStorage::I32(_) | CpuStorage::I16(_) | CpuStorage::I8(_) => {
                same_narrow(self.dtype(), &[b])?;
                let r = narrowed(widened(self).matmul(ma, &widened(b), mb, kernel)?);
                rewrapped(r, self.dtype())
            }
            CpuStorage::Bool(_) => return Err(unsupported(kernel, self)),
        })
    }

    /// `a[i] @ b[i]` for the 3-D layouts `la`, `lb`, into a contiguous `[batch, n, p]` buffer.
    pub(crate) fn bmm(&self, la: &Layout, b: &CpuStorage, lb: &Layout) -> Result<CpuStorage> {
        fn typed<T: Float + StorageElem>(
            xa: &[T],
            la: &Layout,
            xb: &[T],
            lb: &Layout,
        ) -> Result<Vec<T>> {
            let (batch, n, p) = (la.shape[0], la.shape[1], lb.shape[2]);
            let mut out = vec![T::ZERO; batch * n * p];
            batched_matmul(
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
            .map_err(kernel_err)?;
            Ok(out)
        }
        Ok(match self {
            CpuStorage::F32(a) => CpuStorage::F32(typed(a, la, slice(b, self)?, lb)?),
            CpuStorage::F64(a) => CpuStorage::F64(typed(a, la, slice(b, self)?, lb)?),
            CpuStorage::I64(_) => {
                slice::<i64>(b, self)?;
                narrowed(widened(self).bmm(la, &widened(b), lb)?)
            }
            CpuStorage::I32(_) | CpuStorage::I16(_) | CpuStorage::I8(_) => {
                same_narrow(self.dtype(), &[b])?;
                let r = narrowed(widened(self).bmm(la, &widened(b), lb)?);
                rewrapped(r, self.dtype())
            }
            CpuStorage::Bool(_) => return Err(unsupported("bmm", self)),
        })
    }

    /// `bias + m1 @ m2` with `bias` (this buffer) read through `lb` (already expanded to the
    /// `target` shape), into a contiguous `target` buffer.
    pub(crate) fn addmm(
        &self,
        lb: &Layout,
        m1: &CpuStorage,
        l1: &Layout,
        m2: &CpuStorage,
        l2: &Layout,
    ) -> Result<CpuStorage> {
        fn typed<T: Float + StorageElem>(
            bias: &[T],
            lb: &Layout,
            s1: &[T],
            l1: &Layout,
            s2: &[T],
            l2: &Layout,
        ) -> Result<Vec<T>> {
            let mut out = contiguous(bias, lb).into_owned();
            let lc = MatLayout::contiguous(lb.shape[0], lb.shape[1]);
            matmul_signed_zeros(
                s1,
                mat_of(l1, 0, 1),
                s2,
                mat_of(l2, 0, 1),
                &mut out,
                lc,
                Accumulate::Add,
            )
            .map_err(kernel_err)?;
            Ok(out)
        }
        // The kernel dispatches on mat1's dtype.
        Ok(match m1 {
            CpuStorage::F32(a) => {
                CpuStorage::F32(typed(slice(self, m1)?, lb, a, l1, slice(m2, m1)?, l2)?)
            }
            CpuStorage::F64(a) => {
                CpuStorage::F64(typed(slice(self, m1)?, lb, a, l1, slice(m2, m1)?, l2)?)
            }
            CpuStorage::I64(_) => {
                let (b, a, c) = (widened(self), widened(m1), widened(m2));
                narrowed(b.addmm(lb, &a, l1, &c, l2)?)
            }
            CpuStorage::I32(_) | CpuStorage::I16(_) | CpuStorage::I8(_) => {
                same_narrow(m1.dtype(), &[self, m2])?;
                let (b, a, c) = (widened(self), widened(m1), widened(m2));
                rewrapped(narrowed(b.addmm(lb, &a, l1, &c, l2)?), m1.dtype())
            }
            CpuStorage::Bool(_) => return Err(unsupported("addmm_impl_cpu_", m1)),
        })
    }

    /// `conv2d` of the input (this buffer, through `xl`) with the weight and optional bias,
    /// into a contiguous `[n, o, oh, ow]` buffer.
    pub(crate) fn conv2d(
        &self,
        xl: &Layout,
        w: &CpuStorage,
        wl: &Layout,
        bias: Option<(&CpuStorage, &Layout)>,
        g: &Conv2dGeometry,
    ) -> Result<CpuStorage> {
        fn typed<T: Float + StorageElem>(
            x: &[T],
            xl: &Layout,
            w: &[T],
            wl: &Layout,
            bias: Option<(&[T], &Layout)>,
            g: &Conv2dGeometry,
        ) -> Result<Vec<T>> {
            let mut out = vec![T::ZERO; g.output_len()];
            let b = bias.map(|(b, bl)| contiguous(b, bl));
            conv2d_forward(
                g,
                &contiguous(x, xl),
                &contiguous(w, wl),
                b.as_deref(),
                &mut out,
            )
            .map_err(kernel_err)?;
            Ok(out)
        }
        fn bias_of<'a, T: StorageElem>(
            b: Option<(&'a CpuStorage, &'a Layout)>,
            like: &CpuStorage,
        ) -> Result<Option<(&'a [T], &'a Layout)>> {
            b.map(|(s, l)| slice(s, like).map(|v| (v, l))).transpose()
        }
        Ok(match self {
            CpuStorage::F32(x) => {
                CpuStorage::F32(typed(x, xl, slice(w, self)?, wl, bias_of(bias, self)?, g)?)
            }
            CpuStorage::F64(x) => {
                CpuStorage::F64(typed(x, xl, slice(w, self)?, wl, bias_of(bias, self)?, g)?)
            }
            CpuStorage::I64(_) => {
                let wb = bias.map(|(b, l)| (widened(b), l));
                let b = wb.as_ref().map(|(b, l)| (b, *l));
                narrowed(widened(self).conv2d(xl, &widened(w), wl, b, g)?)
            }
            CpuStorage::I32(_) | CpuStorage::I16(_) | CpuStorage::I8(_) => {
                return Err(unsupported("slow_conv2d_cpu", self));
            }
            CpuStorage::Bool(_) => return Err(unsupported("slow_conv2d_cpu", self)),
        })
    }

    /// The gradients of `conv2d` (`need`: input, weight, bias) for the output gradient `gout`
    /// (this buffer's dtype), contiguous: `[n, c, h, w]`, the weight's shape, `[o]`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn conv2d_backward(
        &self,
        xl: &Layout,
        w: &CpuStorage,
        wl: &Layout,
        gout: &CpuStorage,
        gl: &Layout,
        geom: &Conv2dGeometry,
        need: [bool; 3],
    ) -> Result<[Option<CpuStorage>; 3]> {
        fn typed<T: Float + StorageElem>(
            (x, xl): (&[T], &Layout),
            (w, wl): (&[T], &Layout),
            (g, gl): (&[T], &Layout),
            geom: &Conv2dGeometry,
            need: [bool; 3],
        ) -> Result<[Option<CpuStorage>; 3]> {
            let gs = contiguous(g, gl);
            let gx = need[0]
                .then(|| {
                    let mut out = vec![T::ZERO; geom.input_len()];
                    conv2d_backward_input(geom, &gs, &contiguous(w, wl), &mut out)
                        .map_err(kernel_err)?;
                    Ok::<_, Error>(T::wrap(out))
                })
                .transpose()?;
            let gw = need[1]
                .then(|| {
                    let mut out = vec![T::ZERO; geom.weight_len()];
                    conv2d_backward_weight(geom, &contiguous(x, xl), &gs, &mut out)
                        .map_err(kernel_err)?;
                    Ok::<_, Error>(T::wrap(out))
                })
                .transpose()?;
            let gb = need[2]
                .then(|| {
                    let mut out = vec![T::ZERO; geom.out_channels];
                    conv2d_backward_bias(geom, &gs, &mut out).map_err(kernel_err)?;
                    Ok::<_, Error>(T::wrap(out))
                })
                .transpose()?;
            Ok([gx, gw, gb])
        }
        match self {
            CpuStorage::F32(x) => typed(
                (x, xl),
                (slice(w, self)?, wl),
                (slice(gout, self)?, gl),
                geom,
                need,
            ),
            CpuStorage::F64(x) => typed(
                (x, xl),
                (slice(w, self)?, wl),
                (slice(gout, self)?, gl),
                geom,
                need,
            ),
            _ => Err(unsupported("convolution_backward", self)),
        }
    }
}
