//! Storage-level CUDA ops: each launches one NVRTC-compiled kernel (or a cuBLAS GEMM) over
//! device buffers described by engine layouts. Outputs are fresh contiguous buffers, except
//! the in-place `fill`/`strided_write`, which write through a layout.

use cudarc::driver::{CudaSlice, LaunchConfig, PushKernelArg};

use super::kernels::{self, Module};
use super::{CudaData, CudaStorage, driver_err, module};
use crate::kernel::dtype_suffix as suffix;
use crate::layout::Layout;
use crate::{DType, Error, Result};

const BLOCK: u32 = 256;

/// Enough blocks for `n` elements, capped: every kernel loops with a grid stride.
fn config(n: usize) -> LaunchConfig {
    let blocks = n.div_ceil(BLOCK as usize).clamp(1, 65_535) as u32;
    LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// `[shape, strides of each layout]` as the kernels read it; never empty, because a
/// zero-length device allocation is refused.
fn info(st: &CudaStorage, shape: &[usize], layouts: &[&Layout]) -> Result<CudaSlice<i64>> {
    let mut v: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    for l in layouts {
        v.extend(l.strides.iter().map(|&s| s as i64));
    }
    v.push(0);
    st.stream.clone_htod(&v).map_err(driver_err)
}

/// A fresh zeroed buffer of `n` elements on `st`'s device and stream.
pub(crate) fn alloc(st: &CudaStorage, dtype: DType, n: usize) -> Result<CudaStorage> {
    // One element at least: zero-length device allocations are refused.
    let n = n.max(1);
    let s = &st.stream;
    let data = match dtype {
        DType::F32 => CudaData::F32(s.alloc_zeros(n).map_err(driver_err)?),
        DType::F64 => CudaData::F64(s.alloc_zeros(n).map_err(driver_err)?),
        DType::I64 => CudaData::I64(s.alloc_zeros(n).map_err(driver_err)?),
        DType::Bool => CudaData::Bool(s.alloc_zeros(n).map_err(driver_err)?),
        d => return Err(crate::dtype::narrow_int_on_cuda(d)),
    };
    Ok(CudaStorage {
        data,
        ordinal: st.ordinal,
        stream: st.stream.clone(),
    })
}

/// A kernel this family lacks for `st`'s dtype: the op is not supported on CUDA.
fn unsupported(op: &'static str, _st: &CudaStorage) -> Error {
    Error::NotSupportedOnCuda { op }
}

/// Runs `$body` with `$a` bound to the typed slice of each storage given, for one dtype.
macro_rules! typed {
    ($st:expr, |$a:ident| $body:expr) => {
        match &$st.data {
            CudaData::F32($a) => $body,
            CudaData::F64($a) => $body,
            CudaData::I64($a) => $body,
            CudaData::Bool($a) => $body,
        }
    };
}
macro_rules! typed_mut {
    ($st:expr, |$a:ident| $body:expr) => {
        match &mut $st.data {
            CudaData::F32($a) => $body,
            CudaData::F64($a) => $body,
            CudaData::I64($a) => $body,
            CudaData::Bool($a) => $body,
        }
    };
}

/// Launches kernel `$func` of module `$module` (a [`Module`]) on `$st`'s stream over `$n` elements with
/// the given arguments (nothing to do for `$n == 0`).
macro_rules! run {
    ($st:expr, $module:expr, $func:expr, $n:expr; $($arg:expr),* $(,)?) => {{
        if $n == 0 {
            Ok(())
        } else {
            let f = module($st.ordinal, $module)?
                .load_function(&$func)
                .map_err(driver_err)?;
            let mut b = $st.stream.launch_builder(&f);
            $( b.arg($arg); )*
            // SAFETY: every kernel's parameter list matches the arguments pushed here
            // (checked against the .cu sources); the grid-stride loops bound accesses by n.
            unsafe { b.launch(config($n)) }.map(|_| ()).map_err(driver_err)
        }
    }};
}

/// The elements `layout` selects, gathered into a fresh contiguous buffer.
pub fn strided_copy(st: &CudaStorage, layout: &Layout) -> Result<CudaStorage> {
    let n = layout.numel();
    let mut out = alloc(st, st.dtype(), n)?;
    let info = info(st, &layout.shape, &[layout])?;
    let (n64, ndim, off) = (n as u64, layout.shape.len() as i32, layout.offset as i64);
    let func = format!("strided_copy_{}", suffix(st.dtype()));
    typed!(st, |src| typed_mut!(
        out,
        |dst| run!(st, kernels::COPY, func, n; &n64, &ndim, &info, src, &off, dst)
    ))?;
    Ok(out)
}

/// Writes the contiguous `src` into the elements `layout` selects of `dst` (in-place ops,
/// slice assignment).
pub fn strided_write(dst: &mut CudaStorage, layout: &Layout, src: &CudaStorage) -> Result<()> {
    if dst.dtype() != src.dtype() {
        return Err(Error::Cuda("strided_write: dtype mismatch".into()));
    }
    let n = layout.numel();
    let info = info(src, &layout.shape, &[layout])?;
    let (n64, ndim, off) = (n as u64, layout.shape.len() as i32, layout.offset as i64);
    let func = format!("strided_write_{}", suffix(src.dtype()));
    let (ordinal, stream) = (dst.ordinal, dst.stream.clone());
    let sink = Sink { ordinal, stream };
    match (&src.data, &mut dst.data) {
        (CudaData::F32(s), CudaData::F32(d)) => {
            run!(sink, kernels::COPY, func, n; &n64, &ndim, &info, s, d, &off)
        }
        (CudaData::F64(s), CudaData::F64(d)) => {
            run!(sink, kernels::COPY, func, n; &n64, &ndim, &info, s, d, &off)
        }
        (CudaData::I64(s), CudaData::I64(d)) => {
            run!(sink, kernels::COPY, func, n; &n64, &ndim, &info, s, d, &off)
        }
        (CudaData::Bool(s), CudaData::Bool(d)) => {
            run!(sink, kernels::COPY, func, n; &n64, &ndim, &info, s, d, &off)
        }
        _ => Err(Error::Cuda("strided_write: dtype mismatch".into())),
    }
}

/// The launch target of an in-place kernel, taken apart from the storage it mutates.
struct Sink {
    ordinal: usize,
    stream: std::sync::Arc<cudarc::driver::CudaStream>,
}

/// Sets the elements `layout` selects to `value` (converted to the storage's dtype).
pub fn fill(st: &mut CudaStorage, layout: &Layout, value: f64) -> Result<()> {
    let n = layout.numel();
    let info = info(st, &layout.shape, &[layout])?;
    let (n64, ndim, off) = (n as u64, layout.shape.len() as i32, layout.offset as i64);
    let func = format!("fill_{}", suffix(st.dtype()));
    let sink = Sink {
        ordinal: st.ordinal,
        stream: st.stream.clone(),
    };
    let (vf, vi, vb) = (value as f32, value as i64, (value != 0.0) as u8);
    match &mut st.data {
        CudaData::F32(d) => run!(sink, kernels::COPY, func, n; &n64, &ndim, &info, d, &off, &vf),
        CudaData::F64(d) => run!(sink, kernels::COPY, func, n; &n64, &ndim, &info, d, &off, &value),
        CudaData::I64(d) => run!(sink, kernels::COPY, func, n; &n64, &ndim, &info, d, &off, &vi),
        CudaData::Bool(d) => run!(sink, kernels::COPY, func, n; &n64, &ndim, &info, d, &off, &vb),
    }
}

/// Kernel `func` of `module`, of one strided operand (the prelude's `UNARY_KERNEL` signature),
/// into a fresh contiguous buffer.
pub fn unary(module: Module, func: &str, st: &CudaStorage, layout: &Layout) -> Result<CudaStorage> {
    let n = layout.numel();
    let mut out = alloc(st, st.dtype(), n)?;
    let info = info(st, &layout.shape, &[layout])?;
    let (n64, ndim, off) = (n as u64, layout.shape.len() as i32, layout.offset as i64);
    typed!(st, |src| typed_mut!(
        out,
        |dst| run!(st, module, func, n; &n64, &ndim, &info, src, &off, dst)
    ))?;
    Ok(out)
}

/// Kernel `func` of `module`, of two same-dtype operands whose layouts are already broadcast
/// to one shape (0 strides on broadcast dims; the prelude's `BINARY_KERNEL` signature), into a
/// fresh contiguous buffer of `out_dtype`.
pub fn binary(
    module: Module,
    func: &str,
    out_dtype: DType,
    lhs: &CudaStorage,
    ll: &Layout,
    rhs: &CudaStorage,
    rl: &Layout,
) -> Result<CudaStorage> {
    if lhs.ordinal != rhs.ordinal {
        return Err(Error::DeviceMismatch(lhs.device(), rhs.device()));
    }
    if ll.shape != rl.shape {
        return Err(Error::Cuda(format!(
            "{func}: operand layouts not broadcast"
        )));
    }
    let shape = &ll.shape;
    let n: usize = shape.iter().product();
    let mut out = alloc(lhs, out_dtype, n)?;
    let info = info(lhs, shape, &[ll, rl])?;
    let (n64, ndim) = (n as u64, shape.len() as i32);
    let (lo, ro) = (ll.offset as i64, rl.offset as i64);
    macro_rules! go {
        ($a:expr, $b:expr) => {
            typed_mut!(out, |dst| run!(lhs, module, func, n;
                &n64, &ndim, &info, $a, &lo, $b, &ro, dst))
        };
    }
    match (&lhs.data, &rhs.data) {
        (CudaData::F32(a), CudaData::F32(b)) => go!(a, b),
        (CudaData::F64(a), CudaData::F64(b)) => go!(a, b),
        (CudaData::I64(a), CudaData::I64(b)) => go!(a, b),
        (CudaData::Bool(a), CudaData::Bool(b)) => go!(a, b),
        _ => Err(Error::Cuda(format!("{func}: operand dtypes differ"))),
    }?;
    Ok(out)
}

/// `where(cond, a, b)` over three layouts already broadcast to one shape (`where_*` of
/// `select.cu`), into a fresh contiguous buffer of `a`'s dtype.
pub fn select(
    c: &CudaStorage,
    cl: &Layout,
    a: &CudaStorage,
    al: &Layout,
    b: &CudaStorage,
    bl: &Layout,
) -> Result<CudaStorage> {
    let n = cl.numel();
    let mut out = alloc(a, a.dtype(), n)?;
    let info = info(a, &cl.shape, &[cl, al, bl])?;
    let (n64, ndim) = (n as u64, cl.shape.len() as i32);
    let (co, ao, bo) = (cl.offset as i64, al.offset as i64, bl.offset as i64);
    let func = format!("where_{}", suffix(a.dtype()));
    let CudaData::Bool(cd) = &c.data else {
        return Err(unsupported("where", c));
    };
    macro_rules! go {
        ($x:expr, $y:expr) => {
            typed_mut!(out, |dst| run!(a, kernels::SELECT, func, n;
                &n64, &ndim, &info, cd, &co, $x, &ao, $y, &bo, dst))
        };
    }
    match (&a.data, &b.data) {
        (CudaData::F32(x), CudaData::F32(y)) => go!(x, y),
        (CudaData::F64(x), CudaData::F64(y)) => go!(x, y),
        (CudaData::I64(x), CudaData::I64(y)) => go!(x, y),
        (CudaData::Bool(x), CudaData::Bool(y)) => go!(x, y),
        _ => Err(Error::Cuda("where: operand dtypes differ".into())),
    }?;
    Ok(out)
}

/// `clamp(lo, hi)` of a strided float input (`clamp_*` of `clamp.cu`; an absent bound is
/// -inf / +inf), into a fresh contiguous buffer.
pub fn clamp(st: &CudaStorage, layout: &Layout, lo: f64, hi: f64) -> Result<CudaStorage> {
    let n = layout.numel();
    let mut out = alloc(st, st.dtype(), n)?;
    let info = info(st, &layout.shape, &[layout])?;
    let (n64, ndim, off) = (n as u64, layout.shape.len() as i32, layout.offset as i64);
    let func = format!("clamp_{}", suffix(st.dtype()));
    let (lf, hf) = (lo as f32, hi as f32);
    match (&st.data, &mut out.data) {
        (CudaData::F32(x), CudaData::F32(y)) => {
            run!(st, kernels::CLAMP, func, n; &n64, &ndim, &info, x, &off, &lf, &hf, y)
        }
        (CudaData::F64(x), CudaData::F64(y)) => {
            run!(st, kernels::CLAMP, func, n; &n64, &ndim, &info, x, &off, &lo, &hi, y)
        }
        _ => Err(Error::NotSupportedOnCuda { op: "clamp" }),
    }?;
    Ok(out)
}

/// Converts a contiguous buffer to `to`.
pub fn cast(st: &CudaStorage, to: DType) -> Result<CudaStorage> {
    let n = st.len();
    let mut out = alloc(st, to, n)?;
    let n64 = n as u64;
    let func = format!("cast_{}_{}", suffix(st.dtype()), suffix(to));
    typed!(st, |src| typed_mut!(
        out,
        |dst| run!(st, kernels::COPY, func, n; &n64, src, dst)
    ))?;
    Ok(out)
}

/// `sum`, `max` or `min` over the dims in `dims` of a strided input; the result is
/// contiguous with those dims kept as size 1. `max`/`min` also give the position of the
/// extremum inside the reduced dims (meaningful for a single reduced dim).
pub fn reduce(
    op: &'static str,
    st: &CudaStorage,
    layout: &Layout,
    dims: &[usize],
) -> Result<(CudaStorage, Option<CudaSlice<i64>>)> {
    if st.dtype() == DType::Bool {
        return Err(unsupported(op, st));
    }
    let shape = &layout.shape;
    let out_shape: Vec<usize> = (0..shape.len())
        .map(|d| if dims.contains(&d) { 1 } else { shape[d] })
        .collect();
    let red_shape: Vec<usize> = (0..shape.len())
        .map(|d| if dims.contains(&d) { shape[d] } else { 1 })
        .collect();
    let (n_out, n_red) = (
        out_shape.iter().product::<usize>(),
        red_shape.iter().product::<usize>(),
    );
    let mut v: Vec<i64> = out_shape.iter().map(|&d| d as i64).collect();
    v.extend(red_shape.iter().map(|&d| d as i64));
    v.extend(layout.strides.iter().map(|&s| s as i64));
    v.push(0);
    let info = st.stream.clone_htod(&v).map_err(driver_err)?;
    let mut out = alloc(st, st.dtype(), n_out)?;
    let mut arg: CudaSlice<i64> = st.stream.alloc_zeros(n_out.max(1)).map_err(driver_err)?;
    let (no, nr, ndim, off) = (
        n_out as u64,
        n_red as u64,
        shape.len() as i32,
        layout.offset as i64,
    );
    let func = format!("{op}_{}", suffix(st.dtype()));
    typed!(st, |src| typed_mut!(
        out,
        |dst| run!(st, kernels::REDUCE, func, n_out;
        &no, &nr, &ndim, &info, src, &off, dst, &mut arg)
    ))?;
    Ok((out, (op != "sum").then_some(arg)))
}

/// softmax (or log_softmax) over the last dim of a contiguous `[rows, cols]` buffer.
pub fn softmax(st: &CudaStorage, rows: usize, cols: usize, log: bool) -> Result<CudaStorage> {
    let mut out = alloc(st, st.dtype(), rows * cols)?;
    let (r, c, l) = (rows as u64, cols as u64, log as i32);
    let func = format!("softmax_{}", suffix(st.dtype()));
    match (&st.data, &mut out.data) {
        (CudaData::F32(x), CudaData::F32(y)) => {
            run!(st, kernels::REDUCE, func, rows; &r, &c, x, y, &l)
        }
        (CudaData::F64(x), CudaData::F64(y)) => {
            run!(st, kernels::REDUCE, func, rows; &r, &c, x, y, &l)
        }
        _ => Err(unsupported("softmax", st)),
    }?;
    Ok(out)
}

/// The cuBLAS handle of `st`'s device, made once: creating one costs far more than a small
/// GEMM. Every storage of a device works on its context's default stream, which the handle
/// was made on.
fn blas(st: &CudaStorage) -> Result<std::sync::Arc<cudarc::cublas::CudaBlas>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Handles = Mutex<HashMap<usize, Arc<cudarc::cublas::CudaBlas>>>;
    static HANDLES: OnceLock<Handles> = OnceLock::new();
    let mut map = HANDLES.get_or_init(Default::default).lock().unwrap();
    if let Some(b) = map.get(&st.ordinal) {
        return Ok(b.clone());
    }
    let b = Arc::new(cudarc::cublas::CudaBlas::new(st.stream.clone()).map_err(driver_err)?);
    map.insert(st.ordinal, b.clone());
    Ok(b)
}

/// Row-major `[m, k] x [k, n]` of contiguous buffers through cuBLAS. cuBLAS is column-major,
/// so it computes `C^T = B^T A^T`, which has the row-major C's memory.
pub fn matmul(
    a: &CudaStorage,
    b: &CudaStorage,
    m: usize,
    k: usize,
    n: usize,
) -> Result<CudaStorage> {
    use cudarc::cublas::{Gemm, GemmConfig, sys::cublasOperation_t::CUBLAS_OP_N};
    let blas = blas(a)?;
    let mut out = alloc(a, a.dtype(), m * n)?;
    fn cfg<T>(m: usize, k: usize, n: usize, one: T, zero: T) -> GemmConfig<T> {
        GemmConfig {
            transa: CUBLAS_OP_N,
            transb: CUBLAS_OP_N,
            m: n as i32,
            n: m as i32,
            k: k as i32,
            alpha: one,
            lda: n as i32,
            ldb: k as i32,
            beta: zero,
            ldc: n as i32,
        }
    }
    // An empty inner dim sums nothing (and cuBLAS refuses a zero leading dimension).
    if m * n == 0 || k == 0 {
        return Ok(out);
    }
    match (&a.data, &b.data, &mut out.data) {
        // SAFETY: the buffers hold m*k, k*n and m*n elements, matching the config.
        (CudaData::F32(x), CudaData::F32(y), CudaData::F32(z)) => unsafe {
            blas.gemm(cfg(m, k, n, 1.0f32, 0.0), y, x, z)
        },
        (CudaData::F64(x), CudaData::F64(y), CudaData::F64(z)) => unsafe {
            blas.gemm(cfg(m, k, n, 1.0f64, 0.0), y, x, z)
        },
        _ => return Err(unsupported("mm", a)),
    }
    .map_err(driver_err)?;
    Ok(out)
}

/// One image's convolution geometry as `conv.cu` reads it: input `[c, h, w]`, kernel
/// `kh x kw`, stride, padding, dilation, output `oh x ow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Im2col {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub dh: usize,
    pub dw: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Im2col {
    /// Elements of the column matrix `[c*kh*kw, oh*ow]`.
    pub fn col_len(&self) -> usize {
        self.c * self.kh * self.kw * self.oh * self.ow
    }
    fn args(&self) -> [u64; 13] {
        [
            self.c, self.h, self.w, self.kh, self.kw, self.sh, self.sw, self.ph, self.pw, self.dh,
            self.dw, self.oh, self.ow,
        ]
        .map(|v| v as u64)
    }
}

/// The column matrix `[c*kh*kw, oh*ow]` of one contiguous image `[c, h, w]` (`im2col_*`).
pub fn im2col(img: &CudaStorage, g: &Im2col) -> Result<CudaStorage> {
    let mut col = alloc(img, img.dtype(), g.col_len())?;
    conv_kernel("im2col", "conv2d", img, &mut col, g)?;
    Ok(col)
}

/// The image gradient `[c, h, w]` of a column-matrix gradient (`col2im_*`: overlapping
/// windows accumulate with atomic adds into a zeroed image).
pub fn col2im(col: &CudaStorage, g: &Im2col) -> Result<CudaStorage> {
    let mut img = alloc(col, col.dtype(), g.c * g.h * g.w)?;
    conv_kernel("col2im", "convolution_backward", col, &mut img, g)?;
    Ok(img)
}

/// Launches `{kernel}_{f32|f64}` of `conv.cu` with the geometry's arguments, one thread per
/// column-matrix element; `op` names the op in the unsupported-dtype error.
fn conv_kernel(
    kernel: &str,
    op: &'static str,
    src: &CudaStorage,
    out: &mut CudaStorage,
    g: &Im2col,
) -> Result<()> {
    let n = g.col_len();
    let a = g.args();
    let func = format!("{kernel}_{}", suffix(src.dtype()));
    match (&src.data, &mut out.data) {
        (CudaData::F32(x), CudaData::F32(y)) => run!(src, kernels::CONV, func, n;
            &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7], &a[8], &a[9], &a[10],
            &a[11], &a[12], x, y),
        (CudaData::F64(x), CudaData::F64(y)) => run!(src, kernels::CONV, func, n;
            &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7], &a[8], &a[9], &a[10],
            &a[11], &a[12], x, y),
        _ => Err(unsupported(op, src)),
    }
}

/// Checks `idx` against a dimension of `size` (negative indices count from the end), as
/// libtorch's index checks do, naming dimension `axis` of the tensor.
fn check_indices(idx: &[i64], axis: usize, size: usize) -> Result<()> {
    match idx
        .iter()
        .find(|&&i| i < -(size as i64) || i >= size as i64)
    {
        Some(&index) => Err(Error::IndexOutOfRange {
            index,
            dim: axis,
            size,
        }),
        None => Ok(()),
    }
}

/// `index_select` over the middle dimension of a contiguous `[outer, dim, inner]` buffer:
/// rows `idx` (negative ones wrap) into a fresh `[outer, idx.len(), inner]` (`index_select_*`).
/// `axis` is the selected dimension's position in the tensor, for the range error.
pub fn index_select(
    src: &CudaStorage,
    dims: (usize, usize, usize),
    idx: &[i64],
    axis: usize,
) -> Result<CudaStorage> {
    let (outer, dim, inner) = dims;
    check_indices(idx, axis, dim)?;
    let mut out = alloc(src, src.dtype(), outer * idx.len() * inner)?;
    index_kernel("index_select", "index_select", src, &mut out, dims, idx)?;
    Ok(out)
}

/// The backward of [`index_select`]: the contiguous gradient `[outer, idx.len(), inner]`
/// scattered into a zeroed `[outer, dim, inner]`, repeated indices accumulating
/// (`index_add_*`, atomic adds).
pub fn index_add(
    grad: &CudaStorage,
    dims: (usize, usize, usize),
    idx: &[i64],
    axis: usize,
) -> Result<CudaStorage> {
    let (outer, dim, inner) = dims;
    check_indices(idx, axis, dim)?;
    let mut out = alloc(grad, grad.dtype(), outer * dim * inner)?;
    index_kernel(
        "index_add",
        "index_select_backward",
        grad,
        &mut out,
        dims,
        idx,
    )?;
    Ok(out)
}

/// Launches `{kernel}_{f32|f64}` of `index.cu`, one thread per selected element
/// (`outer * idx.len() * inner`); `op` names the op in the unsupported-dtype error.
fn index_kernel(
    kernel: &str,
    op: &'static str,
    src: &CudaStorage,
    out: &mut CudaStorage,
    (outer, dim, inner): (usize, usize, usize),
    idx: &[i64],
) -> Result<()> {
    let n = outer * idx.len() * inner;
    if n == 0 {
        return Ok(());
    }
    let ix = src.stream.clone_htod(idx).map_err(driver_err)?;
    let (o, d, i, k) = (outer as u64, dim as u64, inner as u64, idx.len() as u64);
    let func = format!("{kernel}_{}", suffix(src.dtype()));
    match (&src.data, &mut out.data) {
        (CudaData::F32(x), CudaData::F32(y)) => {
            run!(src, kernels::INDEX, func, n; &o, &d, &i, &ix, &k, x, y)
        }
        (CudaData::F64(x), CudaData::F64(y)) => {
            run!(src, kernels::INDEX, func, n; &o, &d, &i, &ix, &k, x, y)
        }
        _ => Err(unsupported(op, src)),
    }
}
