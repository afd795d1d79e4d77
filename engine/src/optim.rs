//! `torch.optim.SGD` and `torch.optim.Adam`, following their single-tensor update rules (the
//! CPU default). SGD:
//!
//! ```text
//! g = p.grad (+ weight_decay * p)
//! if momentum != 0:
//!     buf = clone(g)                                  on the first step
//!     buf = momentum * buf + (1 - dampening) * g      afterwards
//!     g = g + momentum * buf  if nesterov else  buf
//! p += -lr * g                                        (in place, under no_grad)
//! ```
//!
//! Parameters whose grad is None are skipped (and get no momentum buffer). Each update is an
//! in-place op on the parameter, so it bumps the parameter's version like PyTorch's `add_`.
//!
//! Adam (`_single_tensor_adam`), with `step` counted per parameter:
//!
//! ```text
//! g = p.grad (+ weight_decay * p)             grad.add(param, alpha=weight_decay)
//! m.lerp_(g, 1 - beta1)
//! v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
//! bc1 = 1 - beta1 ** step; bc2 = 1 - beta2 ** step          (Python floats)
//! vmax = maximum(vmax, v)                      with amsgrad
//! denom = ((vmax or v).sqrt() / bc2 ** 0.5).add_(eps)
//! p.addcdiv_(m, denom, value=-lr / bc1)
//! ```
//!
//! The tensor ops compute in the parameter's dtype as ATen's CPU kernels do, FMA contraction
//! included (`lerp` and `addcmul` are fused multiply-adds there, `addcdiv` is not), so float32
//! parameters follow libtorch's to the last bit.

use crate::error::{Error, Result};
use crate::grad_mode::no_grad;
use crate::tensor::Tensor;

/// `SGD(params, lr, momentum, dampening, weight_decay, nesterov)` hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdOptions {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
}

impl Default for SgdOptions {
    /// PyTorch 2's defaults (`lr=1e-3`).
    fn default() -> Self {
        SgdOptions {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

impl SgdOptions {
    pub fn lr(lr: f64) -> Self {
        SgdOptions {
            lr,
            ..Self::default()
        }
    }
}

pub struct SGD {
    params: Vec<Tensor>,
    momentum_buffers: Vec<Option<Tensor>>,
    options: SgdOptions,
}

/// Python's `repr` of a float, as `torch.optim`'s messages print it (`1e-06`, `-1.0`).
pub(crate) fn py_float(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e16 {
        return format!("{v:.1}");
    }
    let a = v.abs();
    if (1e-4..1e16).contains(&a) {
        return format!("{v}");
    }
    let s = format!("{v:e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("+", e),
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

impl SGD {
    /// Validates like `torch.optim.SGD.__init__` (same messages).
    pub fn new(params: Vec<Tensor>, options: SgdOptions) -> Result<Self> {
        let SgdOptions {
            lr,
            momentum,
            dampening,
            weight_decay,
            nesterov,
        } = options;
        let bad = |m: String| Err(Error::InvalidArgument(m));
        if lr < 0.0 {
            return bad(format!("Invalid learning rate: {}", py_float(lr)));
        }
        if momentum < 0.0 {
            return bad(format!("Invalid momentum value: {}", py_float(momentum)));
        }
        if weight_decay < 0.0 {
            return bad(format!(
                "Invalid weight_decay value: {}",
                py_float(weight_decay)
            ));
        }
        if nesterov && (momentum <= 0.0 || dampening != 0.0) {
            return bad("Nesterov momentum requires a momentum and zero dampening".into());
        }
        if params.is_empty() {
            return bad("optimizer got an empty parameter list".into());
        }
        if params.iter().any(|p| !p.is_leaf()) {
            return bad("can't optimize a non-leaf Tensor".into());
        }
        let n = params.len();
        Ok(SGD {
            params,
            momentum_buffers: vec![None; n],
            options,
        })
    }

    pub fn params(&self) -> &[Tensor] {
        &self.params
    }

    pub fn options(&self) -> SgdOptions {
        self.options
    }

    /// The momentum buffer of parameter `i` (None before its first update with a grad).
    pub fn momentum_buffer(&self, i: usize) -> Option<&Tensor> {
        self.momentum_buffers.get(i).and_then(|b| b.as_ref())
    }

    /// `optimizer.step()`.
    pub fn step(&mut self) -> Result<()> {
        let _guard = no_grad();
        let o = self.options;
        for (p, buf) in self.params.iter().zip(self.momentum_buffers.iter_mut()) {
            let Some(mut g) = p.grad() else {
                continue;
            };
            if o.weight_decay != 0.0 {
                g = g.add(&p.mul(o.weight_decay)?)?;
            }
            if o.momentum != 0.0 {
                let b = match buf {
                    None => {
                        let b = g.clone_detached()?;
                        *buf = Some(b.clone());
                        b
                    }
                    Some(b) => {
                        b.mul_(o.momentum)?;
                        b.add_(g.mul(1.0 - o.dampening)?)?;
                        b.clone()
                    }
                };
                g = if o.nesterov {
                    g.add(&b.mul(o.momentum)?)?
                } else {
                    b
                };
            }
            p.add_(g.mul(-o.lr)?)?;
        }
        Ok(())
    }

    /// `optimizer.zero_grad()`: grads set to None (`set_to_none=True`, PyTorch 2's default).
    pub fn zero_grad(&self) -> Result<()> {
        for p in &self.params {
            p.set_grad(None)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------- Adam

/// `Adam(params, lr, betas, eps, weight_decay, amsgrad)` hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamOptions {
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
}

impl Default for AdamOptions {
    /// PyTorch's defaults.
    fn default() -> Self {
        AdamOptions {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
        }
    }
}

impl AdamOptions {
    pub fn lr(lr: f64) -> Self {
        AdamOptions {
            lr,
            ..Self::default()
        }
    }
}

/// A parameter's Adam state, created at its first step with a gradient.
pub struct AdamState {
    /// `state["step"]`: a float32 0-dim tensor on the CPU, as PyTorch keeps it.
    pub step: Tensor,
    pub exp_avg: Tensor,
    pub exp_avg_sq: Tensor,
    pub max_exp_avg_sq: Option<Tensor>,
}

pub struct Adam {
    params: Vec<Tensor>,
    state: Vec<Option<AdamState>>,
    options: AdamOptions,
}

/// Writes `values` into `t` as one in-place op (one version bump).
fn write_inplace(t: &Tensor, values: crate::storage::CpuStorage) -> Result<()> {
    t.write_values(&values)?;
    t.bump_version();
    Ok(())
}

/// One parameter's update in its dtype `T`; returns the new parameter, exp_avg, exp_avg_sq and
/// max_exp_avg_sq values.
#[allow(clippy::type_complexity)]
fn adam_kernel<T: num_traits::Float>(
    p: &[T],
    g: &[T],
    m: &[T],
    v: &[T],
    vmax: Option<&[T]>,
    o: AdamOptions,
    step: f64,
) -> (Vec<T>, Vec<T>, Vec<T>, Option<Vec<T>>) {
    let c = |x: f64| T::from(x).unwrap_or(T::nan());
    let (beta1, beta2) = o.betas;
    let wd = c(o.weight_decay);
    // grad.add(param, alpha=wd): ATen's add is `self + alpha * other`, fused.
    let g: Vec<T> = if o.weight_decay != 0.0 {
        p.iter().zip(g).map(|(&p, &g)| p.mul_add(wd, g)).collect()
    } else {
        g.to_vec()
    };
    // lerp with a small weight: `self + w * (end - self)`, fused; else from the end.
    let w = c(1.0 - beta1);
    let half = c(0.5);
    let m: Vec<T> = m
        .iter()
        .zip(&g)
        .map(|(&s, &e)| {
            if w.abs() < half {
                w.mul_add(e - s, s)
            } else {
                (w - T::one()).mul_add(e - s, e)
            }
        })
        .collect();
    // mul_(beta2) then addcmul_(g, g, value=1 - beta2): `self + value * g * g`, fused.
    let (b2, value) = (c(beta2), c(1.0 - beta2));
    let v: Vec<T> = v
        .iter()
        .zip(&g)
        .map(|(&v, &g)| (value * g).mul_add(g, v * b2))
        .collect();
    let bc1 = 1.0 - beta1.powf(step);
    let bc2 = 1.0 - beta2.powf(step);
    let step_size = o.lr / bc1;
    let bc2_sqrt = c(bc2.powf(0.5));
    let vmax: Option<Vec<T>> = vmax.map(|mx| {
        mx.iter()
            .zip(&v)
            .map(|(&a, &b)| {
                if a.is_nan() || b.is_nan() {
                    a + b
                } else {
                    a.max(b)
                }
            })
            .collect()
    });
    let second = vmax.as_deref().unwrap_or(&v);
    let (eps, neg_step) = (c(o.eps), c(-step_size));
    let p: Vec<T> = p
        .iter()
        .zip(&m)
        .zip(second)
        .map(|((&p, &m), &s)| {
            let denom = s.sqrt() / bc2_sqrt + eps;
            p + neg_step * m / denom
        })
        .collect();
    (p, m, v, vmax)
}

impl Adam {
    /// Validates like `torch.optim.Adam.__init__` (same messages).
    pub fn new(params: Vec<Tensor>, options: AdamOptions) -> Result<Self> {
        let bad = |m: String| Err(Error::InvalidArgument(m));
        let o = options;
        if o.lr < 0.0 || o.lr.is_nan() {
            return bad(format!("Invalid learning rate: {}", py_float(o.lr)));
        }
        if o.eps < 0.0 || o.eps.is_nan() {
            return bad(format!("Invalid epsilon value: {}", py_float(o.eps)));
        }
        if !(0.0..1.0).contains(&o.betas.0) {
            return bad(format!(
                "Invalid beta parameter at index 0: {}",
                py_float(o.betas.0)
            ));
        }
        if !(0.0..1.0).contains(&o.betas.1) {
            return bad(format!(
                "Invalid beta parameter at index 1: {}",
                py_float(o.betas.1)
            ));
        }
        if o.weight_decay < 0.0 || o.weight_decay.is_nan() {
            return bad(format!(
                "Invalid weight_decay value: {}",
                py_float(o.weight_decay)
            ));
        }
        if params.is_empty() {
            return bad("optimizer got an empty parameter list".into());
        }
        if params.iter().any(|p| !p.is_leaf()) {
            return bad("can't optimize a non-leaf Tensor".into());
        }
        let n = params.len();
        Ok(Adam {
            params,
            state: (0..n).map(|_| None).collect(),
            options,
        })
    }

    pub fn params(&self) -> &[Tensor] {
        &self.params
    }

    pub fn options(&self) -> AdamOptions {
        self.options
    }

    /// The state of parameter `i` (None before its first step with a gradient).
    pub fn state(&self, i: usize) -> Option<&AdamState> {
        self.state.get(i).and_then(|s| s.as_ref())
    }

    /// `optimizer.step()`: parameters without a gradient are skipped.
    pub fn step(&mut self) -> Result<()> {
        let _guard = no_grad();
        let o = self.options;
        for (p, slot) in self.params.iter().zip(self.state.iter_mut()) {
            let Some(grad) = p.grad_quiet() else {
                continue;
            };
            if p.device().is_cuda() || grad.device().is_cuda() {
                return Err(Error::NotSupportedOnCuda { op: "Adam.step" });
            }
            if !p.dtype().is_float() {
                return Err(Error::DtypeNotSupported {
                    op: "Adam.step",
                    dtype: p.dtype().scalar_type_name(),
                });
            }
            let st = match slot {
                Some(s) => s,
                None => slot.insert(AdamState {
                    step: Tensor::zeros(&[], crate::DType::F32)?,
                    exp_avg: p.zeros_like()?,
                    exp_avg_sq: p.zeros_like()?,
                    max_exp_avg_sq: o.amsgrad.then(|| p.zeros_like()).transpose()?,
                }),
            };
            // `step_t += 1` on a float32 tensor, read back as a Python float.
            let step = st.step.to_vec_f64()[0] as f32 + 1.0;
            write_inplace(&st.step, crate::storage::CpuStorage::F32(vec![step]))?;
            let step = step as f64;
            let grad = grad.to_dtype(p.dtype())?;
            macro_rules! run {
                ($t:ty, $wrap:ident) => {{
                    let vmax = st
                        .max_exp_avg_sq
                        .as_ref()
                        .map(|t| t.contiguous_vec::<$t>())
                        .transpose()?;
                    let (np, nm, nv, nmax) = adam_kernel::<$t>(
                        &p.contiguous_vec::<$t>()?,
                        &grad.contiguous_vec::<$t>()?,
                        &st.exp_avg.contiguous_vec::<$t>()?,
                        &st.exp_avg_sq.contiguous_vec::<$t>()?,
                        vmax.as_deref(),
                        o,
                        step,
                    );
                    use crate::storage::CpuStorage::$wrap;
                    // lerp_ on exp_avg; mul_ and addcmul_ on exp_avg_sq; maximum(out=);
                    // addcdiv_ on the parameter: one version bump each.
                    write_inplace(&st.exp_avg, $wrap(nm))?;
                    write_inplace(&st.exp_avg_sq, $wrap(nv))?;
                    st.exp_avg_sq.bump_version();
                    if let (Some(t), Some(v)) = (&st.max_exp_avg_sq, nmax) {
                        write_inplace(t, $wrap(v))?;
                    }
                    write_inplace(p, $wrap(np))?;
                }};
            }
            match p.dtype() {
                crate::DType::F32 => run!(f32, F32),
                _ => run!(f64, F64),
            }
        }
        Ok(())
    }

    /// `optimizer.zero_grad(set_to_none)`: grads set to None, or detached and zeroed in place.
    pub fn zero_grad(&self, set_to_none: bool) -> Result<()> {
        for p in &self.params {
            if set_to_none {
                p.set_grad(None)?;
            } else if let Some(g) = p.grad_quiet() {
                if g.is_leaf() {
                    g.requires_grad_(false)?;
                } else {
                    g.detach_()?;
                }
                let _guard = no_grad();
                g.zero_()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::py_float;

    #[test]
    fn floats_print_like_python() {
        for (v, s) in [
            (-0.1, "-0.1"),
            (-1.0, "-1.0"),
            (-1e-6, "-1e-06"),
            (1e-3, "0.001"),
            (2.5e-5, "2.5e-05"),
            (1e20, "1e+20"),
        ] {
            assert_eq!(py_float(v), s);
        }
    }
}
