//! Statistics and scans: `var`, `std`, `norm`, `prod`, `cumsum`, `argmax`/`argmin`, each with
//! libtorch's forward semantics (dtype rules, degrees-of-freedom warning, empty inputs) and its
//! backward rule from `FunctionsManual.cpp` (`var_backward`, `std_backward`, `norm_backward`,
//! `prod_backward`, `cumsum_backward`), written with engine ops in the same order of float
//! operations so that float32 gradients round as libtorch's do.
//!
//! Kernels gather each output's input elements in row-major order ([`groups`]) and accumulate
//! the way ATen's CPU kernels do: Welford/two-pass statistics and cumulative sums in f64 (ATen's
//! `acc_type` of float on the CPU is double), products in the tensor's own type.

use crate::autograd::Recorder;
use crate::error::{Error, Result};
use crate::layout::wrap_dim;
use crate::ops::elementwise::Operand;
use crate::tensor::Tensor;
use crate::{DType, Scalar};

fn cpu_only(op: &'static str, t: &Tensor) -> Result<()> {
    if t.device().is_cuda() {
        return Err(Error::NotSupportedOnCuda { op });
    }
    Ok(())
}

/// Which dims a reduction covers and its keepdim shape; `None` or an empty list reduce every dim
/// (ATen's `make_reduction` treats `dim=[]` as all dims).
fn reduction(shape: &[usize], dims: Option<&[i64]>) -> Result<(Vec<bool>, Vec<usize>)> {
    let n = shape.len();
    let mut red = vec![dims.is_none_or(|d| d.is_empty()); n];
    if let Some(ds) = dims {
        let mut seen = vec![false; n.max(1)];
        for &d in ds {
            let w = wrap_dim(d, n)?;
            if seen[w] {
                return Err(Error::InvalidArgument(format!(
                    "dim {w} appears multiple times in the list of dims"
                )));
            }
            seen[w] = true;
            if n > 0 {
                red[w] = true;
            }
        }
    }
    let keep = shape
        .iter()
        .zip(&red)
        .map(|(&s, &r)| if r { 1 } else { s })
        .collect();
    Ok((red, keep))
}

fn drop_reduced(keep: &[usize], red: &[bool]) -> Vec<usize> {
    keep.iter()
        .zip(red)
        .filter(|p| !*p.1)
        .map(|p| *p.0)
        .collect()
}

/// For each output element (row-major over the keepdim shape), the row-major indices of the
/// input elements it reduces, in row-major order.
fn groups(shape: &[usize], red: &[bool]) -> Vec<Vec<usize>> {
    let keep: Vec<usize> = shape
        .iter()
        .zip(red)
        .map(|(&s, &r)| if r { 1 } else { s })
        .collect();
    let n_out: usize = keep.iter().product();
    let mut out = vec![Vec::new(); n_out];
    let numel: usize = shape.iter().product();
    let mut idx = vec![0usize; shape.len()];
    for i in 0..numel {
        let mut o = 0;
        for (d, &k) in keep.iter().enumerate() {
            o = o * k + if red[d] { 0 } else { idx[d] };
        }
        out[o].push(i);
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

fn f64s_as(values: &[f64], shape: &[usize], dtype: DType) -> Result<Tensor> {
    Tensor::from_f64(values, shape, dtype)
}

fn zero() -> Operand {
    Operand::Scalar(Scalar::Float(0.0))
}

/// `t` with size-1 dims inserted at `dims` (libtorch's `unsqueeze_multiple`), by reshape.
fn unsqueeze_to(t: &Tensor, keep: &[usize]) -> Result<Tensor> {
    let s: Vec<i64> = keep.iter().map(|&d| d as i64).collect();
    t.reshape(&s)
}

/// The sorted, wrapped dims of a dims list.
fn wrapped(dims: &[i64], ndim: usize) -> Result<Vec<usize>> {
    let mut v = dims
        .iter()
        .map(|&d| wrap_dim(d, ndim))
        .collect::<Result<Vec<_>>>()?;
    v.sort_unstable();
    Ok(v)
}

impl Tensor {
    // ------------------------------------------------------------------ var / std

    /// `var(dim, correction=, keepdim)` (`VarBackward0`): `dims: None` reduces everything,
    /// `correction: None` is 1 (`unbiased=True`).
    pub fn var(
        &self,
        dims: Option<&[i64]>,
        correction: Option<f64>,
        keepdim: bool,
    ) -> Result<Tensor> {
        self.var_std(dims, correction, keepdim, false)
    }

    /// `std(dim, correction=, keepdim)` (`StdBackward0`).
    pub fn std(
        &self,
        dims: Option<&[i64]>,
        correction: Option<f64>,
        keepdim: bool,
    ) -> Result<Tensor> {
        self.var_std(dims, correction, keepdim, true)
    }

    fn var_std(
        &self,
        dims: Option<&[i64]>,
        correction: Option<f64>,
        keepdim: bool,
        take_sqrt: bool,
    ) -> Result<Tensor> {
        let op = if take_sqrt { "std" } else { "var" };
        crate::autograd::precheck(&[self])?;
        cpu_only(op, self)?;
        if !self.dtype().is_float() {
            return Err(Error::InvalidArgument(
                "std and var only support floating point and complex dtypes".into(),
            ));
        }
        let c = correction.unwrap_or(1.0);
        let shape = self.shape();
        let (red, keep) = reduction(&shape, dims)?;
        let out_shape = if keepdim {
            keep.clone()
        } else {
            drop_reduced(&keep, &red)
        };
        let n_out: usize = keep.iter().product();
        let per = self.numel().checked_div(n_out).unwrap_or(0);
        if per as f64 - c <= 0.0 {
            crate::warnings::warn(format!(
                "{op}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor (input numel divided by output numel)."
            ));
        }
        let vals = self.to_vec_f64();
        let out: Vec<f64> = groups(&shape, &red)
            .iter()
            .map(|g| {
                if g.is_empty() {
                    return f64::NAN;
                }
                let n = g.len() as f64;
                let mean = g.iter().map(|&i| vals[i]).sum::<f64>() / n;
                let m2: f64 = g.iter().map(|&i| (vals[i] - mean) * (vals[i] - mean)).sum();
                // WelfordOps: a divisor of 0 when the degrees of freedom run out (inf or NaN).
                let v = m2 / (n - c).max(0.0);
                if take_sqrt { v.sqrt() } else { v }
            })
            .collect();
        let out = f64s_as(&out, &out_shape, self.dtype())?;
        let name = if take_sqrt {
            "StdBackward0"
        } else {
            "VarBackward0"
        };
        if let Some(mut rec) = Recorder::new(name, &[self])? {
            let sx = rec.save(self);
            let so = take_sqrt.then(|| rec.save_output(&out));
            // `dim=None` (or a 0-dim input) takes var_backward's all-elements branch; a given
            // list, even an empty one, the per-dim branch (whose count of an empty list is 1).
            let listed = match dims {
                Some(d) if !shape.is_empty() => Some(wrapped(d, shape.len())?),
                _ => None,
            };
            rec.finish(&out, move |ctx, g| {
                let x = ctx.unpack(sx)?;
                let g = match so {
                    Some(so) => {
                        // std_backward: grad / (2 * result), 0 where the result is 0.
                        let r = ctx.unpack(so)?;
                        let q = g.div(&r.mul(2.0)?)?;
                        r.eq_(0.0)?.where_(&zero(), &Operand::Tensor(q))?
                    }
                    None => g,
                };
                Ok(vec![Some(var_backward(
                    &g,
                    &x,
                    listed.as_deref(),
                    c,
                    keepdim,
                )?)])
            })?;
        }
        Ok(out)
    }

    // ------------------------------------------------------------------ norm

    /// `norm(p)` (`dims: None`, `NormBackward0`) or `norm(p, dim, keepdim)` (`NormBackward1`);
    /// `p` may be any float, `f64::INFINITY` and `f64::NEG_INFINITY` included.
    pub fn norm(&self, p: f64, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        cpu_only("norm", self)?;
        if !self.dtype().is_float() {
            return Err(Error::InvalidArgument(format!(
                "norm(): input dtype should be either floating point or complex. Got {} instead.",
                self.dtype().scalar_type_name()
            )));
        }
        let shape = self.shape();
        let (red, keep) = reduction(&shape, dims)?;
        let keepdim = keepdim || dims.is_none();
        let out_shape = match (dims, keepdim) {
            (None, _) => Vec::new(),
            (Some(_), true) => keep.clone(),
            (Some(_), false) => drop_reduced(&keep, &red),
        };
        if self.numel() == 0 {
            if p < 0.0 {
                return Err(Error::InvalidArgument(
                    "linalg.vector_norm of negative order cannot be performed on an empty tensor"
                        .into(),
                ));
            }
            if p.is_infinite() && shape.iter().zip(&red).any(|(&s, &r)| r && s == 0) {
                return Err(Error::InvalidArgument(format!(
                    "linalg.vector_norm cannot compute the {} norm on an empty tensor because the operation does not have an identity",
                    if p > 0.0 { "inf" } else { "-inf" }
                )));
            }
        }
        let gs = groups(&shape, &red);
        let out = if self.dtype() == DType::F32 {
            let v = self.contiguous_vec::<f32>()?;
            let o = gs
                .iter()
                .map(|g| norm_of(&g.iter().map(|&i| v[i]).collect::<Vec<_>>(), p));
            Tensor::from_vec(o.collect(), &out_shape)?
        } else {
            let v = self.contiguous_vec::<f64>()?;
            let o = gs
                .iter()
                .map(|g| norm_of(&g.iter().map(|&i| v[i]).collect::<Vec<_>>(), p));
            Tensor::from_vec(o.collect(), &out_shape)?
        };
        let name = if dims.is_none() {
            "NormBackward0"
        } else {
            "NormBackward1"
        };
        if let Some(mut rec) = Recorder::new(name, &[self])? {
            let sx = rec.save(self);
            let so = rec.save_output(&out);
            let listed: Vec<i64> = match dims {
                Some(d) => wrapped(d, shape.len())?.iter().map(|&d| d as i64).collect(),
                None => Vec::new(),
            };
            let unsqueeze = !keepdim && !shape.is_empty();
            rec.finish(&out, move |ctx, g| {
                let x = ctx.unpack(sx)?;
                let r = ctx.unpack(so)?;
                let (g, r) = if unsqueeze {
                    (unsqueeze_to(&g, &keep)?, unsqueeze_to(&r, &keep)?)
                } else {
                    (g, r)
                };
                Ok(vec![norm_backward(&g, &x, p, &r, &listed)?])
            })?;
        }
        Ok(out)
    }

    // ------------------------------------------------------------------ prod

    /// `prod()` over everything (`ProdBackward0`); integer and bool inputs give int64.
    pub fn prod(&self) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        cpu_only("prod", self)?;
        let shape = self.shape();
        let red = vec![true; shape.len()];
        let out = prod_kernel(self, &red, &[])?;
        if let Some(mut rec) = Recorder::new("ProdBackward0", &[self])? {
            let sx = rec.save(self);
            let so = rec.save_output(&out);
            rec.finish(&out, move |ctx, g| {
                let x = ctx.unpack(sx)?;
                let r = ctx.unpack(so)?;
                Ok(vec![Some(prod_backward_all(&g, &x, &r)?)])
            })?;
        }
        Ok(out)
    }

    /// `prod(dim, keepdim)` (`ProdBackward1`).
    pub fn prod_dim(&self, dim: i64, keepdim: bool) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        cpu_only("prod", self)?;
        let shape = self.shape();
        let d = wrap_dim(dim, shape.len())?;
        let mut red = vec![false; shape.len()];
        let mut keep = shape.clone();
        if !shape.is_empty() {
            red[d] = true;
            keep[d] = 1;
        }
        let out_shape = if keepdim || shape.is_empty() {
            keep.clone()
        } else {
            drop_reduced(&keep, &red)
        };
        let out = prod_kernel(self, &red, &out_shape)?;
        if let Some(mut rec) = Recorder::new("ProdBackward1", &[self])? {
            let sx = rec.save(self);
            let so = rec.save_output(&out);
            rec.finish(&out, move |ctx, g| {
                let x = ctx.unpack(sx)?;
                let r = ctx.unpack(so)?;
                Ok(vec![Some(prod_backward_dim(&g, &x, &r, d, &keep)?)])
            })?;
        }
        Ok(out)
    }

    // ------------------------------------------------------------------ cumsum

    /// `cumsum(dim)` (`CumsumBackward0`); integer and bool inputs give int64.
    pub fn cumsum(&self, dim: i64) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        cpu_only("cumsum", self)?;
        let shape = self.shape();
        let d = wrap_dim(dim, shape.len())?;
        let out = cumsum_kernel(self, d, false)?;
        if let Some(rec) = Recorder::new("CumsumBackward0", &[self])? {
            let size = shape.get(d).copied().unwrap_or(1);
            rec.finish(&out, move |_, g| {
                // cumsum_backward: a reversed cumulative sum, trivial for one element per row.
                if g.numel() <= 1 || size == 1 {
                    return Ok(vec![Some(g)]);
                }
                Ok(vec![Some(cumsum_kernel(&g, d, true)?)])
            })?;
        }
        Ok(out)
    }

    // ------------------------------------------------------------------ argmax / argmin

    /// `argmax(dim, keepdim)`: int64, no history; ties give the first index, NaN counts as the
    /// largest value.
    pub fn argmax(&self, dim: Option<i64>, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme(dim, keepdim, true)
    }

    /// `argmin(dim, keepdim)`: as [`Tensor::argmax`], NaN counting as the smallest value.
    pub fn argmin(&self, dim: Option<i64>, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme(dim, keepdim, false)
    }

    fn arg_extreme(&self, dim: Option<i64>, keepdim: bool, is_max: bool) -> Result<Tensor> {
        let op = if is_max { "argmax" } else { "argmin" };
        cpu_only(op, self)?;
        if self.dtype() == DType::Bool {
            return Err(Error::InvalidArgument(format!(
                "{op}(): does not support bool input"
            )));
        }
        let shape = self.shape();
        let (red, keep) = match dim {
            None => {
                if self.numel() == 0 {
                    return Err(Error::InvalidArgument(format!(
                        "{op}(): Expected reduction dim to be specified for input.numel() == 0."
                    )));
                }
                (vec![true; shape.len()], vec![1; shape.len()])
            }
            Some(d) => {
                let w = wrap_dim(d, shape.len())?;
                let mut red = vec![false; shape.len()];
                let mut keep = shape.clone();
                if !shape.is_empty() {
                    if shape[w] == 0 {
                        return Err(Error::InvalidArgument(format!(
                            "{op}(): Expected reduction dim {w} to have non-zero size."
                        )));
                    }
                    red[w] = true;
                    keep[w] = 1;
                }
                (red, keep)
            }
        };
        let out_shape = match (dim, keepdim) {
            (_, true) => keep.clone(),
            (None, false) => Vec::new(),
            (Some(_), false) => drop_reduced(&keep, &red),
        };
        // Position within the reduced elements, in row-major order (a flat index for `dim=None`).
        let pick = |vals: &[f64], g: &[usize]| -> f64 {
            let mut best = 0usize;
            for k in 1..g.len() {
                let (b, v) = (vals[g[best]], vals[g[k]]);
                if b.is_nan() {
                    break;
                }
                if v.is_nan() || (if is_max { v > b } else { v < b }) {
                    best = k;
                }
            }
            best as f64
        };
        let out: Vec<f64> = if self.dtype() == DType::I64 {
            // Exact comparisons above 2^53.
            let ints = self.contiguous_vec::<i64>()?;
            groups(&shape, &red)
                .iter()
                .map(|g| {
                    let mut best = 0usize;
                    for k in 1..g.len() {
                        let (b, v) = (ints[g[best]], ints[g[k]]);
                        if if is_max { v > b } else { v < b } {
                            best = k;
                        }
                    }
                    best as f64
                })
                .collect()
        } else {
            let vals = self.to_vec_f64();
            groups(&shape, &red)
                .iter()
                .map(|g| pick(&vals, g))
                .collect()
        };
        Tensor::from_f64(&out, &out_shape, DType::I64)
    }
}

/// `var_backward`: `listed` is `None` for `dim=None` (or a 0-dim input), else the wrapped dims.
fn var_backward(
    g: &Tensor,
    x: &Tensor,
    listed: Option<&[usize]>,
    c: f64,
    keepdim: bool,
) -> Result<Tensor> {
    let shape = x.shape();
    match listed {
        None => {
            let dof = x.numel() as f64 - c;
            if dof <= 0.0 {
                // 2 / dof is infinite: NaN where x equals the mean (inf * 0), inf elsewhere.
                let m = x.mean(None, false)?;
                let f = x.eq_(&m)?.where_(
                    &Operand::Scalar(Scalar::Float(f64::NAN)),
                    &Operand::Scalar(Scalar::Float(f64::INFINITY)),
                )?;
                return g.mul(&f);
            }
            g.mul(2.0 / dof)?.mul(&x.sub(&x.mean(None, false)?)?)
        }
        Some(dims) => {
            let mut keep = shape.clone();
            for &d in dims {
                keep[d] = 1;
            }
            let g = if !keepdim && shape.len() > 1 && !dims.is_empty() {
                unsqueeze_to(g, &keep)?
            } else {
                g.clone()
            };
            // `_safe_size`: the product of the listed sizes (1 for an empty list).
            let rnumel: usize = dims.iter().map(|&d| shape[d]).product();
            let ds: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
            let m = x.mean(Some(&ds), true)?;
            g.mul(2.0 / (rnumel as f64 - c))?.mul(&x.sub(&m)?)
        }
    }
}

/// The p-norm of a group of values, accumulated in `T` (ATen's norm kernels accumulate float32
/// in float32).
fn norm_of<T: num_traits::Float>(v: &[T], p: f64) -> T {
    let pt = T::from(p).unwrap_or(T::zero());
    if p == 0.0 {
        return T::from(v.iter().filter(|&&x| x != T::zero()).count()).unwrap_or(T::zero());
    }
    if p.is_infinite() {
        let mut best = if p > 0.0 { T::zero() } else { T::infinity() };
        for &x in v {
            let a = x.abs();
            if a.is_nan() {
                return a;
            }
            if (p > 0.0 && a > best) || (p < 0.0 && a < best) {
                best = a;
            }
        }
        return best;
    }
    if p == 1.0 {
        return v.iter().fold(T::zero(), |a, &x| a + x.abs());
    }
    if p == 2.0 {
        // ATen's kernel is compiled with FMA contraction: `acc += x * x` is one fused op.
        return v.iter().fold(T::zero(), |a, &x| x.mul_add(x, a)).sqrt();
    }
    let s = v.iter().fold(T::zero(), |a, &x| a + x.abs().powf(pt));
    s.powf(T::one() / pt)
}

/// `norm_backward` (grad and norm already unsqueezed to the input's rank); `None` for p = 0,
/// whose gradient libtorch leaves undefined.
fn norm_backward(
    g: &Tensor,
    x: &Tensor,
    p: f64,
    norm: &Tensor,
    dims: &[i64],
) -> Result<Option<Tensor>> {
    let norm_zero = norm.eq_(0.0)?;
    let masked = |t: Tensor| norm_zero.where_(&zero(), &Operand::Tensor(t));
    let r = if p == 0.0 {
        return Ok(None);
    } else if p == 1.0 {
        x.sgn()?.mul(g)?
    } else if p == 2.0 {
        g.mul(&masked(x.div(norm)?)?)?
    } else if p.is_infinite() {
        // The gradient is shared between the entries whose |x| is the norm (or NaN).
        let a = x.abs()?;
        let mask = a.eq_(norm)?.add(&a.ne(&a)?)?;
        let count = if dims.is_empty() {
            mask.sum(None, true)?
        } else {
            mask.sum(Some(dims), true)?
        };
        x.sgn()?.mul(&g.div(&count)?.mul(&mask)?)?
    } else if p < 1.0 {
        let pw = x
            .eq_(0.0)?
            .where_(&zero(), &Operand::Tensor(x.abs()?.pow(p - 1.0)?))?;
        x.sgn()?.mul(&pw)?.mul(g)?.mul(&norm.pow(1.0 - p)?)?
    } else if p < 2.0 {
        let scaled = x.sgn()?.mul(&x.abs()?.pow(p - 1.0)?)?;
        scaled.mul(&masked(g.div(&norm.pow(p - 1.0)?)?)?)?
    } else {
        let scaled = x.mul(&x.abs()?.pow(p - 2.0)?)?;
        scaled.mul(&masked(g.div(&norm.pow(p - 1.0)?)?)?)?
    };
    Ok(Some(r))
}

/// Products over `red` in the input's own type (int64 for integers and bools, wrapping),
/// shaped `out_shape`.
fn prod_kernel(x: &Tensor, red: &[bool], out_shape: &[usize]) -> Result<Tensor> {
    let shape = x.shape();
    let gs = groups(&shape, red);
    match x.dtype() {
        // The narrow integers multiply in int64, as their result dtype is.
        DType::I8 | DType::I16 | DType::I32 => {
            prod_kernel(&crate::ops::cast(x, DType::I64)?, red, out_shape)
        }
        DType::F32 => {
            let v = x.contiguous_vec::<f32>()?;
            let out = gs
                .iter()
                .map(|g| g.iter().fold(1f32, |a, &i| a * v[i]))
                .collect();
            Tensor::from_vec(out, out_shape)
        }
        DType::F64 => {
            let v = x.contiguous_vec::<f64>()?;
            let out = gs
                .iter()
                .map(|g| g.iter().fold(1f64, |a, &i| a * v[i]))
                .collect();
            Tensor::from_vec(out, out_shape)
        }
        DType::I64 | DType::Bool => {
            let v: Vec<i64> = match x.dtype() {
                DType::I64 => x.contiguous_vec::<i64>()?,
                _ => x
                    .contiguous_vec::<bool>()?
                    .into_iter()
                    .map(i64::from)
                    .collect(),
            };
            let out = gs
                .iter()
                .map(|g| g.iter().fold(1i64, |a, &i| a.wrapping_mul(v[i])))
                .collect();
            Tensor::from_vec(out, out_shape)
        }
    }
}

/// `prod_backward` of the full reduction.
fn prod_backward_all(g: &Tensor, x: &Tensor, r: &Tensor) -> Result<Tensor> {
    if x.ndim() == 0 {
        return Ok(g.clone());
    }
    let zeros = x.to_vec_f64().iter().filter(|&&v| v == 0.0).count();
    match zeros {
        0 => g.mul(&r.div(x)?),
        // Backward runs with grad mode off: two zeros make every partial product zero.
        1 => {
            let flat = x.reshape(&[-1])?;
            safe_zeros_backward(&g.reshape(&[1])?, &flat, 0)?.reshape(&shape_i64(&x.shape()))
        }
        _ => x.zeros_like(),
    }
}

/// `prod_backward` along `dim`; `keep` is the keepdim shape.
fn prod_backward_dim(
    g: &Tensor,
    x: &Tensor,
    r: &Tensor,
    dim: usize,
    keep: &[usize],
) -> Result<Tensor> {
    if x.ndim() == 0 {
        return Ok(g.clone());
    }
    let g = unsqueeze_to(g, keep)?;
    let r = unsqueeze_to(r, keep)?;
    if x.to_vec_f64().iter().all(|&v| v != 0.0) {
        return g.mul(&r.div(x)?);
    }
    safe_zeros_backward(&g, x, dim)
}

fn shape_i64(s: &[usize]) -> Vec<i64> {
    s.iter().map(|&d| d as i64).collect()
}

/// `prod_safe_zeros_backward`: `grad * (exclusive prefix products * exclusive suffix
/// products)` along `dim`, each a cumulative product in the input's type as ATen's `cumprod`
/// computes it.
fn safe_zeros_backward(g: &Tensor, x: &Tensor, dim: usize) -> Result<Tensor> {
    let shape = x.shape();
    if x.numel() == 0 {
        return g.expand(&shape_i64(&shape));
    }
    if shape[dim] == 1 {
        return Ok(g.clone());
    }
    let mut red = vec![false; shape.len()];
    red[dim] = true;
    let gs = groups(&shape, &red);
    fn weights<T: num_traits::Float>(v: &[T], gs: &[Vec<usize>]) -> Vec<T> {
        let mut w = vec![T::zero(); v.len()];
        for g in gs {
            let n = g.len();
            let mut prefix = T::one();
            let mut pre = vec![T::one(); n];
            for k in 0..n {
                pre[k] = prefix;
                prefix = prefix * v[g[k]];
            }
            let mut suffix = T::one();
            for k in (0..n).rev() {
                w[g[k]] = pre[k] * suffix;
                suffix = suffix * v[g[k]];
            }
        }
        w
    }
    let w = match x.dtype() {
        DType::F32 => Tensor::from_vec(weights(&x.contiguous_vec::<f32>()?, &gs), &shape)?,
        _ => Tensor::from_vec(weights(&x.contiguous_vec::<f64>()?, &gs), &shape)?,
    };
    g.mul(&w)
}

/// Cumulative sums along `dim` (from the end when `reverse`): f64 accumulation for floats,
/// wrapping int64 for integers and bools.
fn cumsum_kernel(x: &Tensor, dim: usize, reverse: bool) -> Result<Tensor> {
    let shape = x.shape();
    let mut red = vec![false; shape.len()];
    if !shape.is_empty() {
        red[dim] = true;
    }
    let gs = groups(&shape, &red);
    let order = |g: &Vec<usize>| -> Vec<usize> {
        if reverse {
            g.iter().rev().copied().collect()
        } else {
            g.clone()
        }
    };
    match x.dtype() {
        DType::I8 | DType::I16 | DType::I32 => {
            cumsum_kernel(&crate::ops::cast(x, DType::I64)?, dim, reverse)
        }
        DType::F32 | DType::F64 => {
            let v = x.to_vec_f64();
            let mut out = vec![0f64; v.len()];
            let round = |a: f64| {
                if x.dtype() == DType::F32 {
                    a as f32 as f64
                } else {
                    a
                }
            };
            for g in &gs {
                let mut acc = 0f64;
                for i in order(g) {
                    acc += v[i];
                    out[i] = round(acc);
                }
            }
            Tensor::from_f64(&out, &shape, x.dtype())
        }
        DType::I64 | DType::Bool => {
            let v: Vec<i64> = match x.dtype() {
                DType::I64 => x.contiguous_vec::<i64>()?,
                _ => x
                    .contiguous_vec::<bool>()?
                    .into_iter()
                    .map(i64::from)
                    .collect(),
            };
            let mut out = vec![0i64; v.len()];
            for g in &gs {
                let mut acc = 0i64;
                for i in order(g) {
                    acc = acc.wrapping_add(v[i]);
                    out[i] = acc;
                }
            }
            Tensor::from_vec(out, &shape)
        }
    }
}
