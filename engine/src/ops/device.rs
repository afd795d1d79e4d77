//! Where an op runs. Every op's forward goes through a choke point (the `ops` macros, `cast`,
//! the copies, the reductions, the products) that asks [`route`] first: host tensors take the
//! CPU kernels, CUDA tensors take the `cuda::ops` kernel of the same meaning, and a CUDA op
//! without one fails with [`Error::NotSupportedOnCuda`] naming the op, instead of a generic
//! host-access error deep inside a kernel. Backward rules are ordinary ops, so routing the
//! forward kernels routes backward too.
//!
//! The routing decision is a pure function of the op name and the input devices, so it is
//! tested on machines without a GPU; the launches behind it need the `cuda` feature.

use crate::ops::linalg::Reduction;
use crate::{Device, Error, Result, Tensor};

/// Elementwise unary ops whose `unary.cu` kernel computes exactly what the CPU closure of the
/// same name does (NaN propagation included).
pub const CUDA_UNARY: &[&str] = &[
    "neg",
    "exp",
    "log",
    "sqrt",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "reciprocal",
    "abs",
    "relu",
    "sgn",
];

/// Binary ops by the name the engine's ops pass, with the `binary.cu` kernel that computes
/// them. `rsub` arrives with its operands already swapped. `maximum` is left out: the engine
/// passes that name for `minimum` too, so the name does not say which kernel to run.
pub const CUDA_BINARY: &[(&str, &str)] = &[
    ("add", "add"),
    ("sub", "sub"),
    ("rsub", "sub"),
    ("mul", "mul"),
    ("div", "div"),
    ("eq", "eq"),
    ("ne", "ne"),
    ("lt", "lt"),
    ("le", "le"),
    ("gt", "gt"),
    ("ge", "ge"),
];

/// Other ops with a CUDA path (copies, casts, reductions, softmax, products, and the fills
/// and in-place writes that go through the tensor's write path).
pub const CUDA_OTHER: &[&str] = &[
    "_to_copy",
    "clone",
    "contiguous",
    "copy_",
    "fill_",
    "zero_",
    "add_",
    "sub_",
    "mul_",
    "div_",
    "sum",
    "mean",
    "max",
    "min",
    "softmax",
    "log_softmax",
    "mm",
    "matmul",
    "bmm",
    "addmm",
    "linear",
    "mse_loss",
    "mse_loss_backward",
    "conv2d",
    "convolution_backward",
    "backward",
];

/// Where an op runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The CPU kernels.
    Cpu,
    /// The CUDA kernels, on this device ordinal.
    Cuda(usize),
}

/// Whether `op` has a CUDA kernel.
pub fn has_cuda_kernel(op: &str) -> bool {
    CUDA_UNARY.contains(&op)
        || CUDA_BINARY.iter().any(|(name, _)| *name == op)
        || CUDA_OTHER.contains(&op)
}

/// The device `op` runs on, given its inputs' devices: all on the CPU is the CPU; inputs on
/// two devices fail with libtorch's "Expected all tensors to be on the same device" (first
/// device, then the first other one, as libtorch names them); CUDA inputs run on CUDA when
/// `op` has a kernel, else fail with [`Error::NotSupportedOnCuda`].
pub fn route(op: &'static str, devices: &[Device]) -> Result<Route> {
    let Some(&first) = devices.first() else {
        return Ok(Route::Cpu);
    };
    if let Some(&other) = devices.iter().find(|&&d| d != first) {
        return Err(Error::DeviceMismatch(first, other));
    }
    match first {
        Device::Cpu => Ok(Route::Cpu),
        Device::Cuda(i) if has_cuda_kernel(op) => Ok(Route::Cuda(i)),
        Device::Cuda(_) => Err(Error::NotSupportedOnCuda { op }),
    }
}

/// [`route`] for tensor inputs, with libtorch's one exception: a 0-dim CPU tensor (a wrapped
/// Python number, or `torch.tensor(2.)`) may join an op on another device.
pub fn route_tensors(op: &'static str, inputs: &[&Tensor]) -> Result<Route> {
    let any_cuda = inputs.iter().any(|t| t.device().is_cuda());
    let devices: Vec<Device> = inputs
        .iter()
        .filter(|t| !(any_cuda && t.device() == Device::Cpu && t.ndim() == 0))
        .map(|t| t.device())
        .collect();
    route(op, &devices)
}

/// For ops with no CUDA kernel: CPU inputs pass, mixed devices fail with libtorch's error,
/// CUDA inputs fail with [`Error::NotSupportedOnCuda`] naming `op` (rather than a generic
/// host-access error from deep inside the CPU kernel).
pub(crate) fn cpu_only(op: &'static str, inputs: &[&Tensor]) -> Result<()> {
    if !any_cuda(inputs) {
        return Ok(());
    }
    match route_tensors(op, inputs)? {
        Route::Cpu => Ok(()),
        Route::Cuda(_) => Err(Error::NotSupportedOnCuda { op }),
    }
}

/// Whether any input is on CUDA: the cheap test the CPU fast paths make before routing.
#[inline]
pub fn any_cuda(inputs: &[&Tensor]) -> bool {
    inputs.iter().any(|t| t.device().is_cuda())
}

/// A host copy without autograd history (for the fused backward formulas, which are Rust
/// closures with no kernel of their own).
pub(crate) fn host(t: &Tensor) -> Result<Tensor> {
    crate::grad_mode::with_no_grad(|| t.to_device(Device::Cpu))
}

/// `t` on `device` without autograd history.
pub(crate) fn to(t: &Tensor, device: Device) -> Result<Tensor> {
    crate::grad_mode::with_no_grad(|| t.to_device(device))
}

/// `mse_loss` forward on CUDA: the CPU's one-pass kernel as routed ops (no autograd; the
/// caller records `MseLossBackward0`).
pub(crate) fn mse_forward(x: &Tensor, t: &Tensor, reduction: Reduction) -> Result<Tensor> {
    route_tensors("mse_loss", &[x, t])?;
    crate::grad_mode::with_no_grad(|| {
        let d = x.sub(t)?;
        let sq = d.mul(&d)?;
        match reduction {
            Reduction::None => Ok(sq),
            Reduction::Sum => sq.sum(None, false),
            Reduction::Mean => sq.mean(None, false),
        }
    })
}

/// `d mse / d input` on CUDA: `scale * (x - t) * g` as routed ops.
pub(crate) fn mse_backward(
    x: &Tensor,
    t: &Tensor,
    g: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    route_tensors("mse_loss_backward", &[x, t, g])?;
    let scale = match reduction {
        Reduction::Mean => 2.0 / x.numel() as f64,
        _ => 2.0,
    };
    crate::grad_mode::with_no_grad(|| {
        let g = super::cast(g, x.dtype())?;
        x.sub(t)?.mul(scale)?.mul(&g)
    })
}

pub(crate) use imp::*;

#[cfg(feature = "cuda")]
mod imp {
    //! The CUDA side of each routed op: tensor-level glue over `cuda::ops`' storage kernels.
    use std::sync::{Arc, RwLock};

    use super::{CUDA_BINARY, CUDA_UNARY, Route, route_tensors};
    use crate::cpu::Conv2dGeometry;
    use crate::cuda::{CudaStorage, ops as k};
    use crate::layout::{Layout, broadcast_shapes, contiguous_strides};
    use crate::storage::Storage;
    use crate::{DType, Device, Error, Result, Tensor};

    /// Runs `f` on the device buffer and layout of a CUDA tensor.
    fn with_cuda<R>(t: &Tensor, f: impl FnOnce(&CudaStorage, &Layout) -> Result<R>) -> Result<R> {
        let d = t.data_ref();
        let s = d.storage.read().unwrap();
        match &*s {
            Storage::Cuda(c) => f(c, &d.layout),
            Storage::Cpu(_) => Err(Error::DeviceMismatch(Device::Cpu, Device::Cuda(0))),
        }
    }

    /// A fresh tensor over a contiguous device buffer.
    fn wrap(st: CudaStorage, shape: &[usize]) -> Tensor {
        let dtype = st.dtype();
        Tensor::from_parts(
            Arc::new(RwLock::new(Storage::Cuda(st))),
            Layout::contiguous(shape),
            dtype,
        )
    }

    /// A fresh tensor whose layout has `strides` (dense for `shape`): the row-major `st` is
    /// scattered into place, so results keep the strides the CPU kernels give them.
    fn wrap_strided(st: CudaStorage, shape: &[usize], strides: Vec<isize>) -> Result<Tensor> {
        if strides == contiguous_strides(shape) || shape.iter().product::<usize>() <= 1 {
            return Ok(wrap(st, shape));
        }
        let layout = Layout {
            shape: shape.to_vec(),
            strides,
            offset: 0,
        };
        let mut dst = k::alloc(&st, st.dtype(), layout.numel())?;
        k::strided_write(&mut dst, &layout, &st)?;
        let dtype = dst.dtype();
        Ok(Tensor::from_parts(
            Arc::new(RwLock::new(Storage::Cuda(dst))),
            layout,
            dtype,
        ))
    }

    /// `t` on device `ordinal` (a 0-dim CPU operand is copied over, as libtorch does with
    /// CPU scalars), without autograd.
    fn on_device(t: &Tensor, ordinal: usize) -> Result<Tensor> {
        crate::grad_mode::with_no_grad(|| t.to_device(Device::Cuda(ordinal)))
    }

    /// An elementwise unary op by name on a CUDA tensor.
    pub(crate) fn unary(x: &Tensor, op: &'static str) -> Result<Tensor> {
        route_tensors(op, &[x])?;
        if !CUDA_UNARY.contains(&op) {
            return Err(Error::NotSupportedOnCuda { op });
        }
        let l = x.layout();
        let strides = crate::memory_format::iterator_strides(&l.shape, &[&l]);
        let out = with_cuda(x, |s, l| k::unary(op, s, l))?;
        wrap_strided(out, &l.shape, strides)
    }

    /// An elementwise binary op by name on same-dtype operands, broadcasting.
    pub(crate) fn binary(a: &Tensor, b: &Tensor, op: &'static str) -> Result<Tensor> {
        let Route::Cuda(ordinal) = route_tensors(op, &[a, b])? else {
            return Err(Error::NotSupportedOnCuda { op });
        };
        let kernel = CUDA_BINARY
            .iter()
            .find(|(name, _)| *name == op)
            .map(|(_, k)| *k)
            .ok_or(Error::NotSupportedOnCuda { op })?;
        let (a, b) = (on_device(a, ordinal)?, on_device(b, ordinal)?);
        let (la, lb) = (a.layout(), b.layout());
        let shape = broadcast_shapes(&la.shape, &lb.shape)?;
        let bl = |l: &Layout| Layout {
            shape: shape.clone(),
            strides: l.broadcast_strides(&shape),
            offset: l.offset,
        };
        let (ba, bb) = (bl(&la), bl(&lb));
        let strides = crate::memory_format::iterator_strides(&shape, &[&la, &lb]);
        let out = with_cuda(&a, |sa, _| {
            with_cuda(&b, |sb, _| k::binary(kernel, sa, &ba, sb, &bb, &shape))
        })?;
        wrap_strided(out, &shape, strides)
    }

    /// A dtype conversion into a result with `strides` (dense for the shape).
    pub(crate) fn cast(x: &Tensor, to: DType, strides: Vec<isize>) -> Result<Tensor> {
        let shape = x.shape();
        let packed = with_cuda(x, k::strided_copy)?;
        let out = k::cast(&packed, to)?;
        wrap_strided(out, &shape, strides)
    }

    /// A copy with `strides` (dense for the shape), same dtype.
    pub(crate) fn copy(x: &Tensor, strides: Vec<isize>) -> Result<Tensor> {
        let shape = x.shape();
        let packed = with_cuda(x, k::strided_copy)?;
        wrap_strided(packed, &shape, strides)
    }

    /// `sum` into the keepdim shape (`red[d]`: whether dim `d` is reduced), in `out_dtype`.
    /// Bool sums count in int64, as libtorch's do.
    pub(crate) fn sum(x: &Tensor, red: &[bool], out_dtype: DType) -> Result<Tensor> {
        route_tensors("sum", &[x])?;
        let x = if x.dtype() == out_dtype {
            x.clone()
        } else {
            cast(x, out_dtype, contiguous_strides(&x.shape()))?
        };
        let dims: Vec<usize> = (0..red.len()).filter(|&d| red[d]).collect();
        let keep: Vec<usize> = x
            .shape()
            .iter()
            .zip(red)
            .map(|(&n, &r)| if r { 1 } else { n })
            .collect();
        if x.numel() == 0 {
            // Nothing to launch over: an empty sum is zeros of the kept shape.
            let z = Tensor::full(&keep, crate::Scalar::Int(0), out_dtype)?;
            return on_device(&z, ordinal_of(&x));
        }
        let (out, _) = with_cuda(&x, |s, l| k::reduce("sum", s, l, &dims))?;
        Ok(wrap(out, &keep))
    }

    /// `max()` / `min()` over every element, as a 0-dim tensor.
    pub(crate) fn extreme_all(x: &Tensor, is_max: bool) -> Result<Tensor> {
        let op = if is_max { "max" } else { "min" };
        route_tensors(op, &[x])?;
        let dims: Vec<usize> = (0..x.ndim()).collect();
        let (out, _) = with_cuda(x, |s, l| k::reduce(op, s, l, &dims))?;
        Ok(wrap(out, &[]))
    }

    /// softmax / log_softmax over `dim` of a float CUDA tensor, in a contiguous result.
    pub(crate) fn softmax(x: &Tensor, dim: usize, log: bool) -> Result<Tensor> {
        route_tensors(if log { "log_softmax" } else { "softmax" }, &[x])?;
        let l = x.layout();
        if l.numel() == 0 {
            return copy(x, contiguous_strides(&l.shape));
        }
        // Move `dim` last, so that each softmax row is contiguous once gathered.
        let perm: Vec<usize> = (0..l.shape.len())
            .filter(|&d| d != dim)
            .chain([dim])
            .collect();
        let moved = Layout {
            shape: perm.iter().map(|&d| l.shape[d]).collect(),
            strides: perm.iter().map(|&d| l.strides[d]).collect(),
            offset: l.offset,
        };
        let cols = l.shape[dim];
        let rows = l.numel() / cols;
        let rows_buf = with_cuda(x, |s, _| k::strided_copy(s, &moved))?;
        let y = k::softmax(&rows_buf, rows, cols, log)?;
        // Scatter the rows back into the original dim order.
        let cs = contiguous_strides(&l.shape);
        let back = Layout {
            shape: moved.shape.clone(),
            strides: perm.iter().map(|&d| cs[d]).collect(),
            offset: 0,
        };
        let mut out = k::alloc(&y, y.dtype(), l.numel())?;
        k::strided_write(&mut out, &back, &y)?;
        Ok(wrap(out, &l.shape))
    }

    /// `a @ b` of two float matrices that `la`/`lb` (2-D, any strides) read from the
    /// tensors' storages, into a contiguous tensor of `out_shape` through cuBLAS.
    pub(crate) fn mm(
        a: &Tensor,
        la: Layout,
        b: &Tensor,
        lb: Layout,
        out_shape: &[usize],
    ) -> Result<Tensor> {
        route_tensors("mm", &[a, b])?;
        float_only(a)?;
        let (m, kk, n) = (la.shape[0], la.shape[1], lb.shape[1]);
        let pa = with_cuda(a, |s, _| k::strided_copy(s, &la))?;
        let pb = with_cuda(b, |s, _| k::strided_copy(s, &lb))?;
        // cuBLAS refuses a zero leading dimension; an empty inner dim sums to zeros.
        let out = if kk == 0 {
            k::alloc(&pa, pa.dtype(), m * n)?
        } else {
            k::matmul(&pa, &pb, m, kk, n)?
        };
        Ok(wrap(out, out_shape))
    }

    /// `a[i] @ b[i]` of two float 3-D tensors, one cuBLAS GEMM per batch entry.
    pub(crate) fn bmm(a: &Tensor, b: &Tensor) -> Result<Tensor> {
        route_tensors("bmm", &[a, b])?;
        float_only(a)?;
        let (sa, sb) = (a.shape(), b.shape());
        let (batch, m, kk, n) = (sa[0], sa[1], sa[2], sb[2]);
        let pa = with_cuda(a, k::strided_copy)?;
        let pb = with_cuda(b, k::strided_copy)?;
        let mut out = k::alloc(&pa, pa.dtype(), batch * m * n)?;
        for i in 0..batch {
            let slice = |rows: usize, cols: usize| Layout {
                shape: vec![rows, cols],
                strides: vec![cols as isize, 1],
                offset: i * rows * cols,
            };
            if kk == 0 || m * n == 0 {
                break;
            }
            let ai = k::strided_copy(&pa, &slice(m, kk))?;
            let bi = k::strided_copy(&pb, &slice(kk, n))?;
            let ci = k::matmul(&ai, &bi, m, kk, n)?;
            k::strided_write(&mut out, &slice(m, n), &ci)?;
        }
        Ok(wrap(out, &[batch, m, n]))
    }

    /// cuBLAS has no integer GEMM, and libtorch's CUDA `addmm` has no Long kernel either.
    fn float_only(t: &Tensor) -> Result<()> {
        if t.dtype().is_float() {
            return Ok(());
        }
        Err(Error::DtypeNotSupported {
            op: "addmm_cuda",
            dtype: t.dtype().scalar_type_name(),
        })
    }

    fn ordinal_of(t: &Tensor) -> usize {
        match t.device() {
            Device::Cuda(i) => i,
            Device::Cpu => 0,
        }
    }

    /// A contiguous `shape` block at element `offset` of a buffer (one image, one batch entry).
    fn block(shape: &[usize], offset: usize) -> Layout {
        Layout {
            shape: shape.to_vec(),
            strides: contiguous_strides(shape),
            offset,
        }
    }

    /// The `[rows, cols]` transpose of a contiguous `[cols, rows]` matrix.
    fn transposed(rows: usize, cols: usize) -> Layout {
        Layout {
            shape: vec![rows, cols],
            strides: vec![1, rows as isize],
            offset: 0,
        }
    }

    /// The per-image geometry of a convolution the CUDA kernels run: floats, one group.
    fn conv_geometry(g: &Conv2dGeometry, x: &Tensor) -> Result<k::Im2col> {
        if g.groups != 1 {
            // conv.cu has no grouped im2col yet.
            return Err(Error::NotSupportedOnCuda { op: "conv2d" });
        }
        float_only(x)?;
        let (oh, ow) = g
            .out_hw()
            .ok_or(Error::NotSupportedOnCuda { op: "conv2d" })?;
        Ok(k::Im2col {
            c: g.in_channels,
            h: g.in_h,
            w: g.in_w,
            kh: g.kernel.0,
            kw: g.kernel.1,
            sh: g.stride.0,
            sw: g.stride.1,
            ph: g.padding.0,
            pw: g.padding.1,
            dh: g.dilation.0,
            dw: g.dilation.1,
            oh,
            ow,
        })
    }

    /// `conv2d` forward: per image, im2col then one cuBLAS GEMM `[O, C*kh*kw] x [C*kh*kw,
    /// oh*ow]`; the bias is added by the broadcasting binary kernel.
    pub(crate) fn conv2d(
        g: &Conv2dGeometry,
        x: &Tensor,
        w: &Tensor,
        b: Option<&Tensor>,
    ) -> Result<Tensor> {
        let mut inputs = vec![x, w];
        inputs.extend(b);
        route_tensors("conv2d", &inputs)?;
        let geo = conv_geometry(g, x)?;
        let (n, o) = (g.batch, g.out_channels);
        let (ck, l, img) = (
            geo.c * geo.kh * geo.kw,
            geo.oh * geo.ow,
            geo.c * geo.h * geo.w,
        );
        let xs = with_cuda(x, k::strided_copy)?;
        let ws = with_cuda(w, k::strided_copy)?;
        let mut out = k::alloc(&xs, xs.dtype(), n * o * l)?;
        for i in 0..n {
            let im = k::strided_copy(&xs, &block(&[geo.c, geo.h, geo.w], i * img))?;
            let col = k::im2col(&im, &geo)?;
            let y = k::matmul(&ws, &col, o, ck, l)?;
            k::strided_write(&mut out, &block(&[o, l], i * o * l), &y)?;
        }
        let y = wrap(out, &[n, o, geo.oh, geo.ow]);
        match b {
            Some(b) => binary(&y, &b.raw_reshape(&[o, 1, 1])?, "add"),
            None => Ok(y),
        }
    }

    /// The three gradients of `conv2d` (`need`: input, weight, bias): the input's by
    /// `W^T g` and col2im, the weight's by `g col^T` summed over images, the bias's by `sum`.
    pub(crate) fn conv2d_backward(
        g: &Conv2dGeometry,
        x: &Tensor,
        w: &Tensor,
        gout: &Tensor,
        need: [bool; 3],
    ) -> Result<Vec<Option<Tensor>>> {
        route_tensors("convolution_backward", &[x, w, gout])?;
        let geo = conv_geometry(g, x)?;
        let gout = if gout.dtype() == x.dtype() {
            gout.clone()
        } else {
            super::super::cast(gout, x.dtype())?
        };
        let (n, o) = (g.batch, g.out_channels);
        let (ck, l, img) = (
            geo.c * geo.kh * geo.kw,
            geo.oh * geo.ow,
            geo.c * geo.h * geo.w,
        );
        let gs = with_cuda(&gout, k::strided_copy)?;
        let gx = if need[0] {
            let ws = with_cuda(w, k::strided_copy)?;
            let wt = k::strided_copy(&ws, &transposed(ck, o))?;
            let mut dx = k::alloc(&gs, gs.dtype(), n * img)?;
            for i in 0..n {
                let gi = k::strided_copy(&gs, &block(&[o, l], i * o * l))?;
                let colg = k::matmul(&wt, &gi, ck, o, l)?;
                let im = k::col2im(&colg, &geo)?;
                k::strided_write(&mut dx, &block(&[geo.c, geo.h, geo.w], i * img), &im)?;
            }
            Some(wrap(dx, &x.shape()))
        } else {
            None
        };
        let gw = if need[1] {
            let xs = with_cuda(x, k::strided_copy)?;
            let mut acc = k::alloc(&gs, gs.dtype(), o * ck)?;
            let flat = block(&[o * ck], 0);
            for i in 0..n {
                let im = k::strided_copy(&xs, &block(&[geo.c, geo.h, geo.w], i * img))?;
                let col = k::im2col(&im, &geo)?;
                let col_t = k::strided_copy(&col, &transposed(l, ck))?;
                let gi = k::strided_copy(&gs, &block(&[o, l], i * o * l))?;
                let dwi = k::matmul(&gi, &col_t, o, l, ck)?;
                acc = k::binary("add", &acc, &flat, &dwi, &flat, &[o * ck])?;
            }
            Some(wrap(acc, &w.shape()))
        } else {
            None
        };
        let gb = if need[2] {
            Some(gout.sum(Some(&[0, 2, 3]), false)?)
        } else {
            None
        };
        Ok(vec![gx, gw, gb])
    }

    /// Writes the row-major host `values` into a CUDA tensor's elements through its layout.
    pub(crate) fn write_values(t: &Tensor, values: &crate::storage::CpuStorage) -> Result<()> {
        let d = t.data_ref();
        let mut s = d.storage.write().unwrap();
        let Storage::Cuda(dst) = &mut *s else {
            return Err(Error::DeviceMismatch(Device::Cpu, t.device()));
        };
        if values.is_empty() {
            return Ok(());
        }
        let src = crate::cuda::upload(values, dst.device())?;
        k::strided_write(dst, &d.layout, &src)
    }
}

#[cfg(not(feature = "cuda"))]
mod imp {
    //! Without the `cuda` feature no tensor can live on CUDA, so these are never reached;
    //! they keep the call sites free of `cfg`s.
    use crate::{DType, Error, Result, Tensor};

    fn none(op: &'static str) -> Error {
        Error::NotSupportedOnCuda { op }
    }
    pub(crate) fn unary(_: &Tensor, op: &'static str) -> Result<Tensor> {
        Err(none(op))
    }
    pub(crate) fn binary(_: &Tensor, _: &Tensor, op: &'static str) -> Result<Tensor> {
        Err(none(op))
    }
    pub(crate) fn cast(_: &Tensor, _: DType, _: Vec<isize>) -> Result<Tensor> {
        Err(none("_to_copy"))
    }
    pub(crate) fn copy(_: &Tensor, _: Vec<isize>) -> Result<Tensor> {
        Err(none("clone"))
    }
    pub(crate) fn sum(_: &Tensor, _: &[bool], _: DType) -> Result<Tensor> {
        Err(none("sum"))
    }
    pub(crate) fn extreme_all(_: &Tensor, is_max: bool) -> Result<Tensor> {
        Err(none(if is_max { "max" } else { "min" }))
    }
    pub(crate) fn softmax(_: &Tensor, _: usize, log: bool) -> Result<Tensor> {
        Err(none(if log { "log_softmax" } else { "softmax" }))
    }
    pub(crate) fn mm(
        _: &Tensor,
        _: crate::Layout,
        _: &Tensor,
        _: crate::Layout,
        _: &[usize],
    ) -> Result<Tensor> {
        Err(none("mm"))
    }
    pub(crate) fn bmm(_: &Tensor, _: &Tensor) -> Result<Tensor> {
        Err(none("bmm"))
    }
    pub(crate) fn write_values(_: &Tensor, _: &crate::storage::CpuStorage) -> Result<()> {
        Err(none("copy_"))
    }
    pub(crate) fn conv2d(
        _: &crate::cpu::Conv2dGeometry,
        _: &Tensor,
        _: &Tensor,
        _: Option<&Tensor>,
    ) -> Result<Tensor> {
        Err(none("conv2d"))
    }
    pub(crate) fn conv2d_backward(
        _: &crate::cpu::Conv2dGeometry,
        _: &Tensor,
        _: &Tensor,
        _: &Tensor,
        _: [bool; 3],
    ) -> Result<Vec<Option<Tensor>>> {
        Err(none("convolution_backward"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPU: Device = Device::Cpu;
    const GPU: Device = Device::Cuda(0);

    #[test]
    fn host_inputs_run_on_the_cpu_whatever_the_op() {
        assert_eq!(route("index_select", &[CPU, CPU]), Ok(Route::Cpu));
        assert_eq!(route("add", &[CPU]), Ok(Route::Cpu));
        assert_eq!(route("index", &[]), Ok(Route::Cpu));
    }

    #[test]
    fn cuda_inputs_with_a_kernel_run_on_their_device() {
        for op in [
            "exp", "tanh", "add", "rsub", "lt", "sum", "softmax", "mm", "bmm", "copy_", "conv2d",
        ] {
            assert_eq!(route(op, &[GPU, GPU]), Ok(Route::Cuda(0)), "{op}");
        }
        assert_eq!(route("mul", &[Device::Cuda(1)]), Ok(Route::Cuda(1)));
    }

    #[test]
    fn cuda_inputs_without_a_kernel_name_the_op() {
        for op in ["index_select", "maximum", "clamp", "pow", "cat", "where"] {
            let e = route(op, &[GPU]).unwrap_err();
            assert_eq!(e, Error::NotSupportedOnCuda { op });
            assert!(
                e.to_string()
                    .starts_with(&format!("{op}: not supported on CUDA")),
                "{e}"
            );
        }
    }

    #[test]
    fn mixed_devices_fail_with_libtorchs_message_before_the_kernel_check() {
        let e = route("index_select", &[GPU, CPU]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"
        );
        assert_eq!(
            route("add", &[CPU, GPU]),
            Err(Error::DeviceMismatch(CPU, GPU))
        );
        assert_eq!(
            route("add", &[GPU, Device::Cuda(1)]),
            Err(Error::DeviceMismatch(GPU, Device::Cuda(1)))
        );
    }

    #[test]
    fn every_unary_kernel_named_here_exists_in_unary_cu() {
        let src = include_str!("../../kernels/unary.cu");
        for op in CUDA_UNARY {
            assert!(src.contains(&format!("UNARY_FLOAT({op},")), "{op}");
        }
        let bin = include_str!("../../kernels/binary.cu");
        for (_, kernel) in CUDA_BINARY {
            assert!(bin.contains(&format!("BINARY({kernel},")), "{kernel}");
        }
    }

    #[test]
    fn host_tensors_route_to_the_cpu_and_cpu_scalars_may_join() {
        let x = Tensor::from_f64(&[1.0, 2.0], &[2], crate::DType::F32).unwrap();
        let s = Tensor::from_f64(&[3.0], &[], crate::DType::F32).unwrap();
        assert_eq!(route_tensors("add", &[&x, &s]), Ok(Route::Cpu));
        assert!(!any_cuda(&[&x, &s]));
    }
}
