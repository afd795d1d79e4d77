//! What the CUDA storage does for each op the [`crate::storage::Storage`] dispatch hands it:
//! layouts in, fresh device buffers out. The elementwise ops launch the kernels of their op
//! table row ([`crate::kernel`]); the rest are compositions of the launches in `ops.rs` (GEMM
//! in cuBLAS, im2col convolutions, reductions, softmax).
//!
//! Results are built contiguous by the kernels and then scattered into the dense strides the
//! caller asks for, so they have the same layouts as the CPU storage's.
//!
//! Unverified: none of this has run on a GPU (the kernels compile through NVRTC in the tests;
//! the launches, their arguments and their results have not been checked on a device).

use super::CudaStorage;
use super::ops as k;
use crate::cpu::Conv2dGeometry;
use crate::cpu::CpuStorage;
use crate::kernel::{BinaryKernel, CompareKernel, UnaryKernel, binary_runs, entry, unary_runs};
use crate::layout::{Layout, contiguous_strides};
use crate::{DType, Error, Result};

fn unsupported(op: &'static str, dtype: DType) -> Error {
    Error::DtypeNotSupported {
        op,
        dtype: dtype.scalar_type_name(),
    }
}

/// A row-major buffer of `shape` laid out with the dense `strides`.
fn placed(st: CudaStorage, shape: &[usize], strides: &[isize]) -> Result<CudaStorage> {
    if strides == contiguous_strides(shape) || shape.iter().product::<usize>() <= 1 {
        return Ok(st);
    }
    let layout = Layout {
        shape: shape.to_vec(),
        strides: strides.to_vec(),
        offset: 0,
    };
    let mut dst = k::alloc(&st, st.dtype(), layout.numel())?;
    k::strided_write(&mut dst, &layout, &st)?;
    Ok(dst)
}

/// `layout` read as `shape` with 0 strides on the dims it is broadcast over.
fn broadcast(l: &Layout, shape: &[usize]) -> Layout {
    Layout {
        shape: shape.to_vec(),
        strides: l.broadcast_strides(shape),
        offset: l.offset,
    }
}

/// cuBLAS has no integer GEMM, and libtorch's CUDA `addmm` has no Long kernel either.
fn float_only(st: &CudaStorage) -> Result<()> {
    if st.dtype().is_float() {
        return Ok(());
    }
    Err(unsupported("addmm_cuda", st.dtype()))
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
fn conv_geometry(g: &Conv2dGeometry, x: &CudaStorage) -> Result<k::Im2col> {
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

impl CudaStorage {
    /// `U` over the elements `l` selects, laid out with the dense strides `out`.
    pub(crate) fn unary<U: UnaryKernel>(&self, l: &Layout, out: &[isize]) -> Result<CudaStorage> {
        let d = self.dtype();
        if !unary_runs::<U>(d) {
            return Err(unsupported(U::NAME, d));
        }
        let func = entry(U::NAME, d);
        let r = k::unary((U::MODULE, U::CUDA), &func, self, l)?;
        placed(r, &l.shape, out)
    }

    /// `B` over two same-dtype operands whose layouts broadcast to `shape`.
    pub(crate) fn binary<B: BinaryKernel>(
        &self,
        la: &Layout,
        rhs: &CudaStorage,
        lb: &Layout,
        shape: &[usize],
        out: &[isize],
    ) -> Result<CudaStorage> {
        let d = self.dtype();
        if !binary_runs::<B>(d) {
            return Err(unsupported(B::NAME, d));
        }
        let func = entry(B::NAME, d);
        let (ba, bb) = (broadcast(la, shape), broadcast(lb, shape));
        let r = k::binary((B::MODULE, B::CUDA), &func, d, self, &ba, rhs, &bb)?;
        placed(r, shape, out)
    }

    /// `K` over two same-dtype operands whose layouts broadcast to `shape`; bools.
    pub(crate) fn compare<K: CompareKernel>(
        &self,
        la: &Layout,
        rhs: &CudaStorage,
        lb: &Layout,
        shape: &[usize],
        out: &[isize],
    ) -> Result<CudaStorage> {
        let func = entry(K::NAME, self.dtype());
        let (ba, bb) = (broadcast(la, shape), broadcast(lb, shape));
        let module = (K::MODULE, K::CUDA);
        let r = k::binary(module, &func, DType::Bool, self, &ba, rhs, &bb)?;
        placed(r, shape, out)
    }

    /// `where(cond, a, b)`: this bool buffer picks between two same-dtype operands, the three
    /// layouts broadcast to `shape`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn select(
        &self,
        cl: &Layout,
        a: &CudaStorage,
        al: &Layout,
        b: &CudaStorage,
        bl: &Layout,
        shape: &[usize],
        out: &[isize],
    ) -> Result<CudaStorage> {
        let (bc, ba, bb) = (
            broadcast(cl, shape),
            broadcast(al, shape),
            broadcast(bl, shape),
        );
        placed(k::select(self, &bc, a, &ba, b, &bb)?, shape, out)
    }

    /// `clamp(lo, hi)` of a float input (an absent bound is -inf / +inf); integers have no
    /// kernel here.
    pub(crate) fn clamp(&self, l: &Layout, lo: f64, hi: f64, out: &[isize]) -> Result<CudaStorage> {
        placed(k::clamp(self, l, lo, hi)?, &l.shape, out)
    }

    /// The elements `l` selects converted to `to`, laid out with the dense strides `out`.
    pub(crate) fn cast(&self, l: &Layout, to: DType, out: &[isize]) -> Result<CudaStorage> {
        let packed = k::strided_copy(self, l)?;
        placed(k::cast(&packed, to)?, &l.shape, out)
    }

    /// The elements `l` selects, laid out with the dense strides `out`.
    pub(crate) fn copy(&self, l: &Layout, out: &[isize]) -> Result<CudaStorage> {
        placed(k::strided_copy(self, l)?, &l.shape, out)
    }

    /// Writes the elements `sl` selects of `src` into the elements `l` selects.
    pub(crate) fn write(&mut self, l: &Layout, src: &CudaStorage, sl: &Layout) -> Result<()> {
        if l.numel() == 0 {
            return Ok(());
        }
        let packed = k::strided_copy(src, sl)?;
        k::strided_write(self, l, &packed)
    }

    /// Writes the row-major host `values` into the elements `l` selects.
    pub(crate) fn write_host(&mut self, l: &Layout, values: &CpuStorage) -> Result<()> {
        if values.is_empty() {
            return Ok(());
        }
        let src = super::upload(values, self.device())?;
        k::strided_write(self, l, &src)
    }

    /// `sum` over the dims `red` marks, contiguous in the keepdim shape, in `out_dtype` (bool
    /// sums count in int64, as libtorch's do).
    pub(crate) fn sum(&self, l: &Layout, red: &[bool], out_dtype: DType) -> Result<CudaStorage> {
        let keep: Vec<usize> = l
            .shape
            .iter()
            .zip(red)
            .map(|(&n, &r)| if r { 1 } else { n })
            .collect();
        if l.numel() == 0 {
            // Nothing to launch over: an empty sum is zeros of the kept shape.
            return k::alloc(self, out_dtype, keep.iter().product());
        }
        let cast;
        let (x, xl) = if self.dtype() == out_dtype {
            (self, l.clone())
        } else {
            cast = self.cast(l, out_dtype, &contiguous_strides(&l.shape))?;
            (&cast, Layout::contiguous(&l.shape))
        };
        let dims: Vec<usize> = (0..red.len()).filter(|&d| red[d]).collect();
        Ok(k::reduce("sum", x, &xl, &dims)?.0)
    }

    /// `max()` / `min()` over every element, one element.
    pub(crate) fn extreme_all(&self, l: &Layout, is_max: bool) -> Result<CudaStorage> {
        let dims: Vec<usize> = (0..l.ndim()).collect();
        Ok(k::reduce(if is_max { "max" } else { "min" }, self, l, &dims)?.0)
    }

    /// softmax / log_softmax over `dim` of a float input, contiguous.
    pub(crate) fn softmax(&self, l: &Layout, dim: usize, log: bool) -> Result<CudaStorage> {
        if l.numel() == 0 {
            return k::strided_copy(self, l);
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
        let y = k::softmax(&k::strided_copy(self, &moved)?, rows, cols, log)?;
        // Scatter the rows back into the original dim order.
        let cs = contiguous_strides(&l.shape);
        let back = Layout {
            shape: moved.shape.clone(),
            strides: perm.iter().map(|&d| cs[d]).collect(),
            offset: 0,
        };
        let mut out = k::alloc(&y, y.dtype(), l.numel())?;
        k::strided_write(&mut out, &back, &y)?;
        Ok(out)
    }

    /// `a @ b` of two float matrices that the 2-D layouts `la`/`lb` (any strides) read, into
    /// a contiguous `[rows(la), cols(lb)]` buffer through cuBLAS.
    pub(crate) fn matmul(&self, la: &Layout, b: &CudaStorage, lb: &Layout) -> Result<CudaStorage> {
        float_only(self)?;
        let (m, kk, n) = (la.shape[0], la.shape[1], lb.shape[1]);
        let pa = k::strided_copy(self, la)?;
        let pb = k::strided_copy(b, lb)?;
        // cuBLAS refuses a zero leading dimension; an empty inner dim sums to zeros.
        if kk == 0 {
            return k::alloc(&pa, pa.dtype(), m * n);
        }
        k::matmul(&pa, &pb, m, kk, n)
    }

    /// `a[i] @ b[i]` of two float 3-D operands, one cuBLAS GEMM per batch entry.
    pub(crate) fn bmm(&self, la: &Layout, b: &CudaStorage, lb: &Layout) -> Result<CudaStorage> {
        float_only(self)?;
        let (batch, m, kk, n) = (la.shape[0], la.shape[1], la.shape[2], lb.shape[2]);
        let pa = k::strided_copy(self, la)?;
        let pb = k::strided_copy(b, lb)?;
        let mut out = k::alloc(&pa, pa.dtype(), batch * m * n)?;
        if kk == 0 || m * n == 0 {
            return Ok(out);
        }
        for i in 0..batch {
            let slice = |rows: usize, cols: usize| Layout {
                shape: vec![rows, cols],
                strides: vec![cols as isize, 1],
                offset: i * rows * cols,
            };
            let ai = k::strided_copy(&pa, &slice(m, kk))?;
            let bi = k::strided_copy(&pb, &slice(kk, n))?;
            let ci = k::matmul(&ai, &bi, m, kk, n)?;
            k::strided_write(&mut out, &slice(m, n), &ci)?;
        }
        Ok(out)
    }

    /// `bias + m1 @ m2` with the bias (this buffer) read through `lb`, already expanded to
    /// the product's shape: the product in cuBLAS, then the bias added by a broadcasting kernel.
    pub(crate) fn addmm(
        &self,
        lb: &Layout,
        m1: &CudaStorage,
        l1: &Layout,
        m2: &CudaStorage,
        l2: &Layout,
    ) -> Result<CudaStorage> {
        let p = m1.matmul(l1, m2, l2)?;
        let lp = Layout::contiguous(&lb.shape);
        p.binary::<Accumulate>(&lp, self, lb, &lb.shape, &lp.strides)
    }

    /// `conv2d` forward: per image, im2col then one cuBLAS GEMM `[O, C*kh*kw] x [C*kh*kw,
    /// oh*ow]`, into a contiguous `[n, o, oh, ow]` buffer; the bias is added by a
    /// broadcasting kernel.
    pub(crate) fn conv2d(
        &self,
        xl: &Layout,
        w: &CudaStorage,
        wl: &Layout,
        bias: Option<(&CudaStorage, &Layout)>,
        g: &Conv2dGeometry,
    ) -> Result<CudaStorage> {
        let geo = conv_geometry(g, self)?;
        let (n, o) = (g.batch, g.out_channels);
        let (ck, l, img) = (
            geo.c * geo.kh * geo.kw,
            geo.oh * geo.ow,
            geo.c * geo.h * geo.w,
        );
        let xs = k::strided_copy(self, xl)?;
        let ws = k::strided_copy(w, wl)?;
        let mut out = k::alloc(&xs, xs.dtype(), n * o * l)?;
        for i in 0..n {
            let im = k::strided_copy(&xs, &block(&[geo.c, geo.h, geo.w], i * img))?;
            let col = k::im2col(&im, &geo)?;
            let y = k::matmul(&ws, &col, o, ck, l)?;
            k::strided_write(&mut out, &block(&[o, l], i * o * l), &y)?;
        }
        let Some((b, bl)) = bias else {
            return Ok(out);
        };
        let shape = [n, o, geo.oh, geo.ow];
        let lo = Layout::contiguous(&shape);
        // The `[o]` bias read as `[o, 1, 1]`, broadcast over images and positions.
        let lb = Layout {
            shape: vec![o, 1, 1],
            strides: vec![bl.strides[0], 0, 0],
            offset: bl.offset,
        };
        out.binary::<Accumulate>(&lo, b, &lb, &shape, &lo.strides)
    }

    /// The gradients of `conv2d` (`need`: input, weight, bias) for the output gradient `gout`
    /// (the input's dtype): the input's by `W^T g` and col2im, the weight's by `g col^T`
    /// summed over images, the bias's by a sum. Contiguous, shaped like the input, the weight
    /// and `[o]`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn conv2d_backward(
        &self,
        xl: &Layout,
        w: &CudaStorage,
        wl: &Layout,
        gout: &CudaStorage,
        gl: &Layout,
        g: &Conv2dGeometry,
        need: [bool; 3],
    ) -> Result<[Option<CudaStorage>; 3]> {
        let geo = conv_geometry(g, self)?;
        let (n, o) = (g.batch, g.out_channels);
        let (ck, l, img) = (
            geo.c * geo.kh * geo.kw,
            geo.oh * geo.ow,
            geo.c * geo.h * geo.w,
        );
        let gs = k::strided_copy(gout, gl)?;
        let gx = if need[0] {
            let ws = k::strided_copy(w, wl)?;
            let wt = k::strided_copy(&ws, &transposed(ck, o))?;
            let mut dx = k::alloc(&gs, gs.dtype(), n * img)?;
            for i in 0..n {
                let gi = k::strided_copy(&gs, &block(&[o, l], i * o * l))?;
                let colg = k::matmul(&wt, &gi, ck, o, l)?;
                let im = k::col2im(&colg, &geo)?;
                k::strided_write(&mut dx, &block(&[geo.c, geo.h, geo.w], i * img), &im)?;
            }
            Some(dx)
        } else {
            None
        };
        let gw = if need[1] {
            let xs = k::strided_copy(self, xl)?;
            let mut acc = k::alloc(&gs, gs.dtype(), o * ck)?;
            let flat = block(&[o * ck], 0);
            for i in 0..n {
                let im = k::strided_copy(&xs, &block(&[geo.c, geo.h, geo.w], i * img))?;
                let col = k::im2col(&im, &geo)?;
                let col_t = k::strided_copy(&col, &transposed(l, ck))?;
                let gi = k::strided_copy(&gs, &block(&[o, l], i * o * l))?;
                let dwi = k::matmul(&gi, &col_t, o, l, ck)?;
                acc = acc.binary::<Accumulate>(&flat, &dwi, &flat, &[o * ck], &[1])?;
            }
            Some(acc)
        } else {
            None
        };
        let gb = if need[2] {
            Some(gout.sum(gl, &[true, false, true, true], gout.dtype())?)
        } else {
            None
        };
        Ok([gx, gw, gb])
    }
}

/// `a + b` of floats, for the compositions above (bias additions, the per-image weight
/// gradients' running sum); not an op of its own.
pub struct Accumulate;

impl BinaryKernel for Accumulate {
    const NAME: &'static str = "accumulate";
    const MODULE: &'static str = "accumulate";
    const CUDA: &'static str = "BINARY_FLOAT(accumulate, a, b, a + b)\n";
    const INT: bool = false;
    const BOOL: bool = false;
    fn f32(a: f32, b: f32) -> f32 {
        a + b
    }
    fn f64(a: f64, b: f64) -> f64 {
        a + b
    }
    fn i64(a: i64, _: i64) -> i64 {
        a
    }
    fn bool(a: bool, _: bool) -> bool {
        a
    }
}
