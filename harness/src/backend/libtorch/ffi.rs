//! Declarations of the C++ shim's entry points (`shim.cpp`) and safe wrappers over them.
//!
//! Every entry point that can fail returns a malloc'd message (the libtorch text without the C++
//! backtrace) or NULL; [`check`] turns that into a `Result`. Tensors cross as tch's raw
//! `C_tensor` pointers; a tensor the shim returns through an out-parameter is a fresh handle that
//! `tch::Tensor::from_ptr` takes ownership of.

use crate::backend::{DType, Scalar};
use std::ffi::{CStr, c_char, c_int, c_void};
use tch::Tensor;
use torch_sys::C_tensor;

type StrSink = extern "C" fn(ctx: *mut c_void, s: *const c_char);
type NodeSink =
    extern "C" fn(ctx: *mut c_void, name: *const c_char, leaf_shape: *const i64, leaf_ndim: i64);
type EdgeSink = extern "C" fn(ctx: *mut c_void, from: usize, to: usize);

unsafe extern "C" {
    fn shim_free(s: *mut c_char);
    fn shim_install_warning_handler();
    fn shim_set_warn_always(on: c_int);
    fn shim_take_warnings(sink: StrSink, ctx: *mut c_void);
    fn shim_impl_ptr(t: *const C_tensor) -> *const c_void;
    fn shim_defined(t: *const C_tensor) -> c_int;
    fn shim_grad_fn_name(t: *const C_tensor, sink: StrSink, ctx: *mut c_void) -> *mut c_char;
    fn shim_graph(
        t: *const C_tensor,
        node_sink: NodeSink,
        edge_sink: EdgeSink,
        ctx: *mut c_void,
    ) -> *mut c_char;
    fn shim_backward(
        root: *const C_tensor,
        grad: *const C_tensor,
        retain_graph: c_int,
        create_graph: c_int,
    ) -> *mut c_char;
    fn shim_retain_grad(t: *const C_tensor) -> *mut c_char;
    fn shim_flags(
        t: *const C_tensor,
        requires_grad: *mut c_int,
        is_leaf: *mut c_int,
        retains_grad: *mut c_int,
        is_view: *mut c_int,
        version: *mut i64,
    ) -> *mut c_char;
    fn shim_requires_grad_(t: *const C_tensor, flag: c_int) -> *mut c_char;
    fn shim_set_requires_grad(t: *const C_tensor, flag: c_int) -> *mut c_char;
    fn shim_detach_(t: *mut C_tensor) -> *mut c_char;
    fn shim_variable_data(t: *const C_tensor, out: *mut *mut C_tensor) -> *mut c_char;
    fn shim_set_data(t: *const C_tensor, data: *const C_tensor) -> *mut c_char;
    fn shim_grad(t: *const C_tensor, warn: c_int, out: *mut *mut C_tensor) -> *mut c_char;
    fn shim_set_grad(t: *const C_tensor, grad: *const C_tensor) -> *mut c_char;
    fn shim_wrapped_scalar(kind: c_int, f: f64, i: i64, out: *mut *mut C_tensor) -> *mut c_char;
    fn shim_get_item(
        t: *const C_tensor,
        kinds: *const i32,
        a: *const i64,
        b: *const i64,
        c: *const i64,
        has_a: *const u8,
        has_b: *const u8,
        n: usize,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_set_item(
        t: *const C_tensor,
        kinds: *const i32,
        a: *const i64,
        b: *const i64,
        c: *const i64,
        has_a: *const u8,
        has_b: *const u8,
        n: usize,
        value: *const C_tensor,
        scalar_kind: c_int,
        f: f64,
        i: i64,
    ) -> *mut c_char;
    fn shim_item(t: *const C_tensor, kind: *mut c_int, f: *mut f64, i: *mut i64) -> *mut c_char;
    fn shim_set_grad_enabled(enabled: c_int) -> c_int;
    fn shim_is_grad_enabled() -> c_int;
    fn shim_from_data(
        values: *const f64,
        shape: *const i64,
        ndim: usize,
        dtype: c_int,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_clone(t: *const C_tensor, out: *mut *mut C_tensor) -> *mut c_char;
    fn shim_clamp(
        t: *const C_tensor,
        has_min: c_int,
        min_kind: c_int,
        min_f: f64,
        min_i: i64,
        has_max: c_int,
        max_kind: c_int,
        max_f: f64,
        max_i: i64,
        inplace: c_int,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_clamp_side(
        t: *const C_tensor,
        is_min: c_int,
        kind: c_int,
        f: f64,
        i: i64,
        inplace: c_int,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_torch_version() -> *mut c_char;
    fn shim_full(
        shape: *const i64,
        ndim: usize,
        kind: c_int,
        f: f64,
        i: i64,
        dtype: c_int,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_arange(
        sk: c_int,
        sf: f64,
        si: i64,
        ek: c_int,
        ef: f64,
        ei: i64,
        tk: c_int,
        tf: f64,
        ti: i64,
        dtype: c_int,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_linspace(
        start: f64,
        end: f64,
        steps: i64,
        dtype: c_int,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_fill_(t: *const C_tensor, kind: c_int, f: f64, i: i64) -> *mut c_char;
    fn shim_pow_inplace_scalar(t: *const C_tensor, kind: c_int, f: f64, i: i64) -> *mut c_char;
    fn shim_remainder_scalar(
        t: *const C_tensor,
        kind: c_int,
        f: f64,
        i: i64,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_pow_tensor_scalar(
        t: *const C_tensor,
        kind: c_int,
        f: f64,
        i: i64,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_pow_scalar(
        kind: c_int,
        f: f64,
        i: i64,
        exp: *const C_tensor,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_rsub_scalar(
        t: *const C_tensor,
        kind: c_int,
        f: f64,
        i: i64,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_where(
        cond: *const C_tensor,
        a: *const C_tensor,
        ak: c_int,
        af: f64,
        ai: i64,
        b: *const C_tensor,
        bk: c_int,
        bf: f64,
        bi: i64,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_sgd_step(
        params: *const *mut C_tensor,
        bufs: *const *mut C_tensor,
        n: usize,
        lr: f64,
        momentum: f64,
        dampening: f64,
        weight_decay: f64,
        nesterov: c_int,
    ) -> *mut c_char;
}

/// A libtorch error message, backtrace already stripped.
pub type ShimResult<T> = Result<T, String>;

pub(super) fn check(err: *mut c_char) -> ShimResult<()> {
    if err.is_null() {
        return Ok(());
    }
    // SAFETY: a non-null return is a NUL-terminated malloc'd string that we now own.
    let msg = unsafe { CStr::from_ptr(err) }
        .to_string_lossy()
        .into_owned();
    unsafe { shim_free(err) };
    Err(msg)
}

/// Takes ownership of a tensor handle the shim allocated; NULL means None.
pub(super) fn owned(ptr: *mut C_tensor) -> Option<Tensor> {
    // SAFETY: the shim hands over a fresh `new at::Tensor`, which tch frees on drop.
    (!ptr.is_null()).then(|| unsafe { Tensor::from_ptr(ptr) })
}

extern "C" fn push_string(ctx: *mut c_void, s: *const c_char) {
    // SAFETY: ctx is the `&mut Vec<String>` passed below, s a valid C string for this call.
    let out = unsafe { &mut *(ctx as *mut Vec<String>) };
    out.push(unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned());
}

/// Routes libtorch warnings raised on this thread into the shim's collector.
pub fn install_warning_handler() {
    unsafe { shim_install_warning_handler() }
}

/// Makes TORCH_WARN_ONCE warn every time (process-wide), as `torch.set_warn_always(True)`.
pub fn set_warn_always(on: bool) {
    unsafe { shim_set_warn_always(on as c_int) }
}

/// Warnings raised on this thread since the last call, oldest first.
pub fn take_warnings() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    unsafe { shim_take_warnings(push_string, &mut out as *mut _ as *mut c_void) };
    out
}

/// The TensorImpl behind a handle: equal for the same Python tensor object.
pub fn impl_ptr(t: &Tensor) -> *const c_void {
    unsafe { shim_impl_ptr(t.as_ptr()) }
}

pub fn defined(t: &Tensor) -> bool {
    unsafe { shim_defined(t.as_ptr()) != 0 }
}

pub fn grad_fn_name(t: &Tensor) -> ShimResult<Option<String>> {
    let mut out: Vec<String> = Vec::new();
    check(unsafe {
        shim_grad_fn_name(t.as_ptr(), push_string, &mut out as *mut _ as *mut c_void)
    })?;
    Ok(out.pop())
}

/// One node of the graph behind a `grad_fn`, as the shim reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawNode {
    pub name: String,
    pub leaf_shape: Option<Vec<usize>>,
}

/// The graph behind a `grad_fn`: nodes (the root first) and `next_functions` edges as
/// `(from, to)` indices into `nodes`.
#[derive(Debug, Default)]
pub struct RawGraph {
    pub nodes: Vec<RawNode>,
    pub edges: Vec<(usize, usize)>,
}

extern "C" fn push_node(ctx: *mut c_void, name: *const c_char, shape: *const i64, ndim: i64) {
    // SAFETY: ctx is the `&mut RawGraph` passed below; shape has `ndim` entries when ndim >= 0.
    let sink = unsafe { &mut *(ctx as *mut RawGraph) };
    let name = unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned();
    let leaf_shape = (ndim >= 0).then(|| {
        (0..ndim as usize)
            .map(|k| unsafe { *shape.add(k) } as usize)
            .collect()
    });
    sink.nodes.push(RawNode { name, leaf_shape });
}

extern "C" fn push_edge(ctx: *mut c_void, from: usize, to: usize) {
    // SAFETY: ctx is the `&mut RawGraph` passed below.
    let sink = unsafe { &mut *(ctx as *mut RawGraph) };
    sink.edges.push((from, to));
}

/// The nodes reachable from `t.grad_fn`; empty for a tensor without one.
pub fn graph(t: &Tensor) -> ShimResult<RawGraph> {
    let mut sink = RawGraph::default();
    check(unsafe {
        shim_graph(
            t.as_ptr(),
            push_node,
            push_edge,
            &mut sink as *mut _ as *mut c_void,
        )
    })?;
    Ok(sink)
}

pub fn backward(
    root: &Tensor,
    grad: Option<&Tensor>,
    retain_graph: bool,
    create_graph: bool,
) -> ShimResult<()> {
    let g = grad.map_or(std::ptr::null(), |g| g.as_ptr());
    check(unsafe {
        shim_backward(
            root.as_ptr(),
            g,
            retain_graph as c_int,
            create_graph as c_int,
        )
    })
}

pub fn retain_grad(t: &Tensor) -> ShimResult<()> {
    check(unsafe { shim_retain_grad(t.as_ptr()) })
}

/// The autograd flags of a tensor, read without side effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    pub requires_grad: bool,
    pub is_leaf: bool,
    pub retains_grad: bool,
    pub is_view: bool,
    pub version: u64,
}

pub fn flags(t: &Tensor) -> ShimResult<Flags> {
    let (mut rg, mut leaf, mut rt, mut view, mut version) = (0, 0, 0, 0, 0i64);
    check(unsafe {
        shim_flags(
            t.as_ptr(),
            &mut rg,
            &mut leaf,
            &mut rt,
            &mut view,
            &mut version,
        )
    })?;
    Ok(Flags {
        requires_grad: rg != 0,
        is_leaf: leaf != 0,
        retains_grad: rt != 0,
        is_view: view != 0,
        version: version.max(0) as u64,
    })
}

/// `x.requires_grad_(flag)`.
pub fn requires_grad_(t: &Tensor, flag: bool) -> ShimResult<()> {
    check(unsafe { shim_requires_grad_(t.as_ptr(), flag as c_int) })
}

/// `x.requires_grad = flag` (Python's setter).
pub fn set_requires_grad(t: &Tensor, flag: bool) -> ShimResult<()> {
    check(unsafe { shim_set_requires_grad(t.as_ptr(), flag as c_int) })
}

pub fn detach_(t: &Tensor) -> ShimResult<()> {
    // The shim mutates the TensorImpl the handle points at, never the handle itself.
    check(unsafe { shim_detach_(t.as_ptr() as *mut C_tensor) })
}

pub fn variable_data(t: &Tensor) -> ShimResult<Tensor> {
    let mut out = std::ptr::null_mut();
    check(unsafe { shim_variable_data(t.as_ptr(), &mut out) })?;
    owned(out).ok_or_else(|| "variable_data returned no tensor".to_owned())
}

pub fn set_data(t: &Tensor, data: &Tensor) -> ShimResult<()> {
    check(unsafe { shim_set_data(t.as_ptr(), data.as_ptr()) })
}

/// `.grad`; with `warn`, raises libtorch's non-leaf warning as Python's getter does.
pub fn grad(t: &Tensor, warn: bool) -> ShimResult<Option<Tensor>> {
    let mut out = std::ptr::null_mut();
    check(unsafe { shim_grad(t.as_ptr(), warn as c_int, &mut out) })?;
    Ok(owned(out))
}

/// `x.grad = g` (Python's setter checks) or `x.grad = None`.
pub fn set_grad(t: &Tensor, g: Option<&Tensor>) -> ShimResult<()> {
    let g = g.map_or(std::ptr::null(), |g| g.as_ptr());
    check(unsafe { shim_set_grad(t.as_ptr(), g) })
}

/// How a scalar crosses to the shim: (kind, float value, int value).
pub fn scalar_parts(s: Scalar) -> (c_int, f64, i64) {
    match s {
        Scalar::Bool(b) => (0, 0.0, b as i64),
        Scalar::Int(i) => (1, 0.0, i),
        Scalar::Float(f) => (2, f, 0),
    }
}

/// A Python number as CPython passes it to a Tensor parameter: a wrapped-number 0-dim tensor.
pub fn wrapped_scalar(s: Scalar) -> ShimResult<Tensor> {
    let (kind, f, i) = scalar_parts(s);
    let mut out = std::ptr::null_mut();
    check(unsafe { shim_wrapped_scalar(kind, f, i, &mut out) })?;
    owned(out).ok_or_else(|| "wrapped_scalar returned no tensor".to_owned())
}

/// Index items laid out as the shim's parallel arrays.
pub(super) struct RawIndices {
    pub(super) kinds: Vec<i32>,
    pub(super) a: Vec<i64>,
    pub(super) b: Vec<i64>,
    pub(super) c: Vec<i64>,
    pub(super) has_a: Vec<u8>,
    pub(super) has_b: Vec<u8>,
}

pub(super) fn raw_indices(items: &[crate::backend::Index]) -> RawIndices {
    use crate::backend::Index;
    let mut r = RawIndices {
        kinds: Vec::new(),
        a: Vec::new(),
        b: Vec::new(),
        c: Vec::new(),
        has_a: Vec::new(),
        has_b: Vec::new(),
    };
    for item in items {
        let (kind, a, b, c, ha, hb) = match *item {
            Index::Int(i) => (0, i, 0, 0, 1, 0),
            Index::Slice { start, stop, step } => (
                1,
                start.unwrap_or(0),
                stop.unwrap_or(0),
                step,
                start.is_some() as u8,
                stop.is_some() as u8,
            ),
            Index::NewAxis => (2, 0, 0, 0, 0, 0),
            Index::Ellipsis => (3, 0, 0, 0, 0, 0),
        };
        r.kinds.push(kind);
        r.a.push(a);
        r.b.push(b);
        r.c.push(c);
        r.has_a.push(ha);
        r.has_b.push(hb);
    }
    r
}

/// `x[items]`, as Python's `__getitem__`.
pub fn get_item(t: &Tensor, items: &[crate::backend::Index]) -> ShimResult<Tensor> {
    let r = raw_indices(items);
    let mut out = std::ptr::null_mut();
    check(unsafe {
        shim_get_item(
            t.as_ptr(),
            r.kinds.as_ptr(),
            r.a.as_ptr(),
            r.b.as_ptr(),
            r.c.as_ptr(),
            r.has_a.as_ptr(),
            r.has_b.as_ptr(),
            items.len(),
            &mut out,
        )
    })?;
    owned(out).ok_or_else(|| "get_item returned no tensor".to_owned())
}

/// `x[items] = value`, as Python's `__setitem__`: a tensor, or a number (`Err` side unused).
pub fn set_item(
    t: &Tensor,
    items: &[crate::backend::Index],
    value: Result<&Tensor, Scalar>,
) -> ShimResult<()> {
    let r = raw_indices(items);
    let (vptr, (kind, f, i)) = match value {
        Ok(v) => (v.as_ptr(), (0, 0.0, 0)),
        Err(s) => (std::ptr::null(), scalar_parts(s)),
    };
    check(unsafe {
        shim_set_item(
            t.as_ptr(),
            r.kinds.as_ptr(),
            r.a.as_ptr(),
            r.b.as_ptr(),
            r.c.as_ptr(),
            r.has_a.as_ptr(),
            r.has_b.as_ptr(),
            items.len(),
            vptr,
            kind,
            f,
            i,
        )
    })
}

/// `x.item()`, typed by x's dtype as Python's is.
pub fn item(t: &Tensor) -> ShimResult<Scalar> {
    let (mut kind, mut f, mut i) = (0, 0.0, 0i64);
    check(unsafe { shim_item(t.as_ptr(), &mut kind, &mut f, &mut i) })?;
    Ok(match kind {
        0 => Scalar::Bool(i != 0),
        1 => Scalar::Int(i),
        _ => Scalar::Float(f),
    })
}

/// Sets this thread's grad mode; returns the previous one.
pub fn set_grad_enabled(enabled: bool) -> bool {
    unsafe { shim_set_grad_enabled(enabled as c_int) != 0 }
}

pub fn is_grad_enabled() -> bool {
    unsafe { shim_is_grad_enabled() != 0 }
}

/// Hyper-parameters of one `torch.optim.SGD`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdOptions {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
}

/// One `opt.step()`; `bufs` (one per param, initially undefined) hold the momentum buffers.
pub fn sgd_step(params: &[Tensor], bufs: &mut [Tensor], o: SgdOptions) -> ShimResult<()> {
    assert_eq!(
        params.len(),
        bufs.len(),
        "one momentum buffer per parameter"
    );
    let p: Vec<*mut C_tensor> = params.iter().map(|t| t.as_ptr() as *mut C_tensor).collect();
    let b: Vec<*mut C_tensor> = bufs.iter_mut().map(|t| t.as_mut_ptr()).collect();
    check(unsafe {
        shim_sgd_step(
            p.as_ptr(),
            b.as_ptr(),
            p.len(),
            o.lr,
            o.momentum,
            o.dampening,
            o.weight_decay,
            o.nesterov as c_int,
        )
    })
}

/// `torch.tensor(values).reshape(shape)` as one fresh leaf of `dtype`.
pub fn from_data(values: &[f64], shape: &[usize], dtype: DType) -> ShimResult<Tensor> {
    let code = dtype_code(dtype);
    let numel: usize = shape.iter().product();
    if numel != values.len() {
        return Err(format!(
            "tensor data has {} values but shape {:?} holds {}",
            values.len(),
            shape,
            numel
        ));
    }
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    let mut out = std::ptr::null_mut();
    check(unsafe { shim_from_data(values.as_ptr(), dims.as_ptr(), dims.len(), code, &mut out) })?;
    owned(out).ok_or_else(|| "from_data returned no tensor".to_owned())
}

/// `x.clone()`.
pub fn clone(t: &Tensor) -> ShimResult<Tensor> {
    let mut out = std::ptr::null_mut();
    check(unsafe { shim_clone(t.as_ptr(), &mut out) })?;
    owned(out).ok_or_else(|| "clone returned no tensor".to_owned())
}

/// `x.clamp(min, max)`, or `x.clamp_(min, max)` when `inplace` (then `Ok(None)`).
/// `clamp_min(bound)` (`is_min`) or `clamp_max(bound)`, in place where asked (then `None`).
pub fn clamp_side(
    t: &Tensor,
    bound: Scalar,
    is_min: bool,
    inplace: bool,
) -> ShimResult<Option<Tensor>> {
    let (k, f, i) = scalar_parts(bound);
    let mut out = std::ptr::null_mut();
    check(unsafe {
        shim_clamp_side(
            t.as_ptr(),
            is_min as c_int,
            k,
            f,
            i,
            inplace as c_int,
            &mut out,
        )
    })?;
    Ok(owned(out))
}

pub fn clamp(
    t: &Tensor,
    min: Option<Scalar>,
    max: Option<Scalar>,
    inplace: bool,
) -> ShimResult<Option<Tensor>> {
    let (lk, lf, li) = min.map_or((0, 0.0, 0), scalar_parts);
    let (hk, hf, hi) = max.map_or((0, 0.0, 0), scalar_parts);
    let mut out = std::ptr::null_mut();
    check(unsafe {
        shim_clamp(
            t.as_ptr(),
            min.is_some() as c_int,
            lk,
            lf,
            li,
            max.is_some() as c_int,
            hk,
            hf,
            hi,
            inplace as c_int,
            &mut out,
        )
    })?;
    Ok(owned(out))
}

/// The libtorch version the shim was compiled against ("2.13.0").
pub fn torch_version() -> String {
    let p = unsafe { shim_torch_version() };
    if p.is_null() {
        return "unknown".to_owned();
    }
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    unsafe { shim_free(p) };
    s
}

fn dtype_code(dtype: DType) -> c_int {
    match dtype {
        DType::Bool => 0,
        DType::I64 => 1,
        DType::F32 => 2,
        DType::F64 => 3,
        DType::I8 => 4,
        DType::I16 => 5,
        DType::I32 => 6,
    }
}

fn made(out: *mut C_tensor, what: &str) -> ShimResult<Tensor> {
    owned(out).ok_or_else(|| format!("{what} returned no tensor"))
}

/// `torch.full(shape, value, dtype=dtype)`.
pub fn full(shape: &[usize], value: Scalar, dtype: DType) -> ShimResult<Tensor> {
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    let (k, f, i) = scalar_parts(value);
    let mut out = std::ptr::null_mut();
    check(unsafe {
        shim_full(
            dims.as_ptr(),
            dims.len(),
            k,
            f,
            i,
            dtype_code(dtype),
            &mut out,
        )
    })?;
    made(out, "full")
}

/// `torch.arange(start, end, step, dtype=dtype)` with Python numbers.
pub fn arange(start: Scalar, end: Scalar, step: Scalar, dtype: DType) -> ShimResult<Tensor> {
    let (sk, sf, si) = scalar_parts(start);
    let (ek, ef, ei) = scalar_parts(end);
    let (tk, tf, ti) = scalar_parts(step);
    let mut out = std::ptr::null_mut();
    check(unsafe {
        shim_arange(
            sk,
            sf,
            si,
            ek,
            ef,
            ei,
            tk,
            tf,
            ti,
            dtype_code(dtype),
            &mut out,
        )
    })?;
    made(out, "arange")
}

/// `torch.linspace(start, end, steps, dtype=dtype)`.
pub fn linspace(start: f64, end: f64, steps: i64, dtype: DType) -> ShimResult<Tensor> {
    let mut out = std::ptr::null_mut();
    check(unsafe { shim_linspace(start, end, steps, dtype_code(dtype), &mut out) })?;
    made(out, "linspace")
}

/// `x.fill_(value)`.
pub fn fill_(t: &Tensor, value: Scalar) -> ShimResult<()> {
    let (k, f, i) = scalar_parts(value);
    check(unsafe { shim_fill_(t.as_ptr(), k, f, i) })
}

/// `x.pow_(exponent)` with a Python number exponent.
pub fn pow_inplace_scalar(t: &Tensor, exponent: Scalar) -> ShimResult<()> {
    let (k, f, i) = scalar_parts(exponent);
    check(unsafe { shim_pow_inplace_scalar(t.as_ptr(), k, f, i) })
}

/// `x % other` with a Python number `other`.
pub fn remainder_scalar(t: &Tensor, other: Scalar) -> ShimResult<Tensor> {
    let (k, f, i) = scalar_parts(other);
    let mut out = std::ptr::null_mut();
    check(unsafe { shim_remainder_scalar(t.as_ptr(), k, f, i, &mut out) })?;
    made(out, "remainder")
}

/// `x ** exponent` with a Python number exponent.
pub fn pow_tensor_scalar(t: &Tensor, exponent: Scalar) -> ShimResult<Tensor> {
    let (k, f, i) = scalar_parts(exponent);
    let mut out = std::ptr::null_mut();
    check(unsafe { shim_pow_tensor_scalar(t.as_ptr(), k, f, i, &mut out) })?;
    made(out, "pow")
}

/// `base ** x` with a Python number base.
pub fn pow_scalar(base: Scalar, exp: &Tensor) -> ShimResult<Tensor> {
    let (k, f, i) = scalar_parts(base);
    let mut out = std::ptr::null_mut();
    check(unsafe { shim_pow_scalar(k, f, i, exp.as_ptr(), &mut out) })?;
    made(out, "pow")
}

/// `other - x` with a Python number `other`.
pub fn rsub_scalar(t: &Tensor, other: Scalar) -> ShimResult<Tensor> {
    let (k, f, i) = scalar_parts(other);
    let mut out = std::ptr::null_mut();
    check(unsafe { shim_rsub_scalar(t.as_ptr(), k, f, i, &mut out) })?;
    made(out, "rsub")
}

/// `torch.where(cond, a, b)`; `Err(number)` stands for a Python number operand.
pub fn where_(
    cond: &Tensor,
    a: Result<&Tensor, Scalar>,
    b: Result<&Tensor, Scalar>,
) -> ShimResult<Tensor> {
    let split = |v: Result<&Tensor, Scalar>| match v {
        Ok(t) => (t.as_ptr(), (0, 0.0, 0)),
        Err(s) => (std::ptr::null(), scalar_parts(s)),
    };
    let (ap, (ak, af, ai)) = split(a);
    let (bp, (bk, bf, bi)) = split(b);
    let mut out = std::ptr::null_mut();
    check(unsafe { shim_where(cond.as_ptr(), ap, ak, af, ai, bp, bk, bf, bi, &mut out) })?;
    made(out, "where")
}
