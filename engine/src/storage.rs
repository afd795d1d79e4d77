//! Tensor memory. A storage is shared (through `Arc<RwLock<_>>` in the tensor) by every view
//! onto it; the layout that interprets it lives in the tensor.
//!
//! Every op's forward asks its storage (the candle-core layout): [`Storage`]'s methods match on
//! the backend, the CPU arm runs the CPU kernel (`cpu/`), the CUDA arm the device one
//! (`cuda/storage.rs`, or the uninhabited `dummy_cuda.rs` without the `cuda` feature). The
//! elementwise ones take the kernel of an op table row ([`crate::kernel`]). Results are fresh
//! buffers in the dense strides the caller passes.

use crate::cpu::{Conv2dGeometry, MatLayout};
pub use crate::cpu::{CpuStorage, StorageElem};
use crate::cuda_backend::CudaStorage;
use crate::kernel::{BinaryKernel, CompareKernel, UnaryKernel};
use crate::layout::Layout;
use crate::{DType, Device, Error, Result};

#[derive(Debug)]
pub enum Storage {
    Cpu(CpuStorage),
    Cuda(CudaStorage),
}

impl Device {
    /// Whether this build can place tensors on the device.
    pub fn is_available(self) -> bool {
        match self {
            Device::Cpu => true,
            Device::Cuda(i) => crate::cuda_backend::device_count() > i,
        }
    }
}

impl Storage {
    pub fn device(&self) -> Device {
        match self {
            Storage::Cpu(_) => Device::Cpu,
            Storage::Cuda(c) => c.device(),
        }
    }
    pub fn dtype(&self) -> DType {
        match self {
            Storage::Cpu(c) => c.dtype(),
            Storage::Cuda(c) => c.dtype(),
        }
    }
    /// The host buffer; `None` for device memory.
    pub fn cpu(&self) -> Option<&CpuStorage> {
        match self {
            Storage::Cpu(c) => Some(c),
            Storage::Cuda(_) => None,
        }
    }
    pub fn cpu_mut(&mut self) -> Option<&mut CpuStorage> {
        match self {
            Storage::Cpu(c) => Some(c),
            Storage::Cuda(_) => None,
        }
    }
}

/// Two operands on different devices: libtorch's "Expected all tensors to be on the same
/// device" error.
fn mismatch(a: &Storage, b: &Storage) -> Error {
    Error::DeviceMismatch(a.device(), b.device())
}

/// The first two devices of `operands` that differ, as libtorch names them.
fn mismatch_of(operands: &[&Storage]) -> Error {
    let first = operands[0];
    let other = operands
        .iter()
        .find(|s| s.device() != first.device())
        .unwrap_or(&first);
    mismatch(first, other)
}

impl Storage {
    /// The kernel `U` over the elements `l` selects, into dense strides `out` of `l.shape`.
    pub(crate) fn unary<U: UnaryKernel>(&self, l: &Layout, out: &[isize]) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(c) => Storage::Cpu(c.unary::<U>(l, out)?),
            Storage::Cuda(c) => Storage::Cuda(c.unary::<U>(l, out)?),
        })
    }

    /// The kernel `B` over two same-dtype operands whose layouts broadcast to `shape`, into
    /// dense strides `out`.
    pub(crate) fn binary<B: BinaryKernel>(
        &self,
        la: &Layout,
        rhs: &Storage,
        lb: &Layout,
        shape: &[usize],
        out: &[isize],
    ) -> Result<Storage> {
        Ok(match (self, rhs) {
            (Storage::Cpu(a), Storage::Cpu(b)) => {
                Storage::Cpu(a.binary::<B>(la, b, lb, shape, out)?)
            }
            (Storage::Cuda(a), Storage::Cuda(b)) => {
                Storage::Cuda(a.binary::<B>(la, b, lb, shape, out)?)
            }
            (a, b) => return Err(mismatch(a, b)),
        })
    }

    /// The comparison `K` over two same-dtype operands broadcast to `shape`: bools.
    pub(crate) fn compare<K: CompareKernel>(
        &self,
        la: &Layout,
        rhs: &Storage,
        lb: &Layout,
        shape: &[usize],
        out: &[isize],
    ) -> Result<Storage> {
        Ok(match (self, rhs) {
            (Storage::Cpu(a), Storage::Cpu(b)) => {
                Storage::Cpu(a.compare::<K>(la, b, lb, shape, out)?)
            }
            (Storage::Cuda(a), Storage::Cuda(b)) => {
                Storage::Cuda(a.compare::<K>(la, b, lb, shape, out)?)
            }
            (a, b) => return Err(mismatch(a, b)),
        })
    }

    /// `where(cond, a, b)`: this bool buffer picks between two same-dtype operands, the three
    /// layouts broadcast to `shape`, into dense strides `out`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn select(
        &self,
        cl: &Layout,
        a: &Storage,
        al: &Layout,
        b: &Storage,
        bl: &Layout,
        shape: &[usize],
        out: &[isize],
    ) -> Result<Storage> {
        Ok(match (self, a, b) {
            (Storage::Cpu(c), Storage::Cpu(x), Storage::Cpu(y)) => {
                Storage::Cpu(c.select(cl, x, al, y, bl, shape, out)?)
            }
            (Storage::Cuda(c), Storage::Cuda(x), Storage::Cuda(y)) => {
                Storage::Cuda(c.select(cl, x, al, y, bl, shape, out)?)
            }
            (c, x, y) => return Err(mismatch_of(&[c, x, y])),
        })
    }

    /// `clamp(lo, hi)` of the elements `l` selects (an absent bound is -inf / +inf), into
    /// dense strides `out`.
    pub(crate) fn clamp(&self, l: &Layout, lo: f64, hi: f64, out: &[isize]) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(c) => Storage::Cpu(c.clamp(l, lo, hi, out)?),
            Storage::Cuda(c) => Storage::Cuda(c.clamp(l, lo, hi, out)?),
        })
    }

    /// The elements `l` selects converted to `to`, into dense strides `out`.
    pub(crate) fn cast(&self, l: &Layout, to: DType, out: &[isize]) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(c) => Storage::Cpu(c.cast(l, to, out)),
            Storage::Cuda(c) => Storage::Cuda(c.cast(l, to, out)?),
        })
    }

    /// The elements `l` selects, into dense strides `out`.
    pub(crate) fn copy(&self, l: &Layout, out: &[isize]) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(c) => Storage::Cpu(c.copy(l, out)),
            Storage::Cuda(c) => Storage::Cuda(c.copy(l, out)?),
        })
    }

    /// Writes the elements `sl` selects of `src` (same dtype and count) into the elements `l`
    /// selects; across devices the elements travel once.
    pub(crate) fn write(&mut self, l: &Layout, src: &Storage, sl: &Layout) -> Result<()> {
        match (self, src) {
            (Storage::Cpu(d), Storage::Cpu(s)) => d.write(l, &s.copy(sl, &sl_strides(sl))),
            (Storage::Cpu(d), Storage::Cuda(s)) => {
                d.write(l, &crate::cuda_backend::download(s, sl)?)
            }
            (Storage::Cuda(d), Storage::Cuda(s)) => d.write(l, s, sl),
            (Storage::Cuda(d), Storage::Cpu(s)) => d.write_host(l, &s.copy(sl, &sl_strides(sl))),
        }
    }

    /// Writes the row-major host `values` (same dtype, `l.numel()` of them) into the elements
    /// `l` selects.
    pub(crate) fn write_host(&mut self, l: &Layout, values: &CpuStorage) -> Result<()> {
        match self {
            Storage::Cpu(d) => d.write(l, values),
            Storage::Cuda(d) => d.write_host(l, values),
        }
    }
}

impl Storage {
    /// `sum` over the dims `red` marks, contiguous in the keepdim shape; floats in
    /// `out_dtype`, integers and bools in int64.
    pub(crate) fn sum(&self, l: &Layout, red: &[bool], out_dtype: DType) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(c) => Storage::Cpu(c.sum(l, red, out_dtype)),
            Storage::Cuda(c) => Storage::Cuda(c.sum(l, red, out_dtype)?),
        })
    }

    /// `max()` / `min()` over the (at least one) elements `l` selects: one element.
    pub(crate) fn extreme_all(&self, l: &Layout, is_max: bool) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(c) => Storage::Cpu(c.extreme_all(l, is_max)),
            Storage::Cuda(c) => Storage::Cuda(c.extreme_all(l, is_max)?),
        })
    }

    /// softmax / log_softmax over dim `d` of a float input, contiguous.
    pub(crate) fn softmax(&self, l: &Layout, d: usize, log: bool) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(c) => Storage::Cpu(c.softmax(l, d, log)?),
            Storage::Cuda(c) => Storage::Cuda(c.softmax(l, d, log)?),
        })
    }

    /// `a @ b` for the matrices `ma`, `mb` read from the two buffers, contiguous
    /// `[rows(ma), cols(mb)]`; `kernel` names the op in the dtype error.
    pub(crate) fn matmul(
        &self,
        ma: MatLayout,
        b: &Storage,
        mb: MatLayout,
        kernel: &'static str,
    ) -> Result<Storage> {
        Ok(match (self, b) {
            (Storage::Cpu(x), Storage::Cpu(y)) => Storage::Cpu(x.matmul(ma, y, mb, kernel)?),
            (Storage::Cuda(x), Storage::Cuda(y)) => {
                Storage::Cuda(x.matmul(&ma.to_layout(), y, &mb.to_layout())?)
            }
            (x, y) => return Err(mismatch(x, y)),
        })
    }

    /// `a[i] @ b[i]` for 3-D layouts, contiguous `[batch, n, p]`.
    pub(crate) fn bmm(&self, la: &Layout, b: &Storage, lb: &Layout) -> Result<Storage> {
        Ok(match (self, b) {
            (Storage::Cpu(x), Storage::Cpu(y)) => Storage::Cpu(x.bmm(la, y, lb)?),
            (Storage::Cuda(x), Storage::Cuda(y)) => Storage::Cuda(x.bmm(la, y, lb)?),
            (x, y) => return Err(mismatch(x, y)),
        })
    }

    /// `bias + m1 @ m2` with the bias (this buffer) read through `lb`, expanded to the
    /// product's 2-D shape; contiguous.
    pub(crate) fn addmm(
        &self,
        lb: &Layout,
        m1: &Storage,
        l1: &Layout,
        m2: &Storage,
        l2: &Layout,
    ) -> Result<Storage> {
        Ok(match (self, m1, m2) {
            (Storage::Cpu(b), Storage::Cpu(x), Storage::Cpu(y)) => {
                Storage::Cpu(b.addmm(lb, x, l1, y, l2)?)
            }
            (Storage::Cuda(b), Storage::Cuda(x), Storage::Cuda(y)) => {
                Storage::Cuda(b.addmm(lb, x, l1, y, l2)?)
            }
            (b, x, y) => return Err(mismatch_of(&[b, x, y])),
        })
    }

    /// `conv2d` of this input with a weight and optional bias, contiguous `[n, o, oh, ow]`.
    pub(crate) fn conv2d(
        &self,
        xl: &Layout,
        w: &Storage,
        wl: &Layout,
        bias: Option<(&Storage, &Layout)>,
        g: &Conv2dGeometry,
    ) -> Result<Storage> {
        Ok(match (self, w) {
            (Storage::Cpu(x), Storage::Cpu(w)) => {
                let b = match bias {
                    Some((Storage::Cpu(b), l)) => Some((b, l)),
                    Some((b, _)) => return Err(mismatch(self, b)),
                    None => None,
                };
                Storage::Cpu(x.conv2d(xl, w, wl, b, g)?)
            }
            (Storage::Cuda(x), Storage::Cuda(w)) => {
                let b = match bias {
                    Some((Storage::Cuda(b), l)) => Some((b, l)),
                    Some((b, _)) => return Err(mismatch(self, b)),
                    None => None,
                };
                Storage::Cuda(x.conv2d(xl, w, wl, b, g)?)
            }
            (x, w) => return Err(mismatch(x, w)),
        })
    }

    /// The gradients of `conv2d` (`need`: input, weight, bias) for the output gradient
    /// `gout` (this input's dtype), contiguous.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn conv2d_backward(
        &self,
        xl: &Layout,
        w: &Storage,
        wl: &Layout,
        gout: &Storage,
        gl: &Layout,
        g: &Conv2dGeometry,
        need: [bool; 3],
    ) -> Result<[Option<Storage>; 3]> {
        Ok(match (self, w, gout) {
            (Storage::Cpu(x), Storage::Cpu(w), Storage::Cpu(go)) => x
                .conv2d_backward(xl, w, wl, go, gl, g, need)?
                .map(|s| s.map(Storage::Cpu)),
            (Storage::Cuda(x), Storage::Cuda(w), Storage::Cuda(go)) => x
                .conv2d_backward(xl, w, wl, go, gl, g, need)?
                .map(|s| s.map(Storage::Cuda)),
            (x, w, go) => return Err(mismatch_of(&[x, w, go])),
        })
    }
}

/// Row-major strides for a layout's shape (the order host copies are exchanged in).
fn sl_strides(l: &Layout) -> Vec<isize> {
    crate::layout::contiguous_strides(&l.shape)
}
