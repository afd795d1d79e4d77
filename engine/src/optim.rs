//! `torch.optim.SGD`, following its single-tensor update rule (the CPU default):
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
