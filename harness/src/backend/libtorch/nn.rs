//! libtorch's side of [`NnCall`], as CPython torch 2.13 carries out each Python line:
//! `torch.einsum`, `F.nll_loss` (`nll_loss_nd`), `F.cross_entropy` (`cross_entropy_loss`),
//! `F.batch_norm` (Python's batch-size check, then `torch.batch_norm`), dropout on the
//! harness's keep-mask, and `torch.optim.Adam`'s single-tensor update.
//!
//! Dropout: libtorch's `F.dropout` draws its own Bernoulli mask, so the keep-mask comes from the
//! harness and the rest is libtorch's CPU `dropout` on it, op for op: the noise is the mask in
//! the input's dtype divided by `1 - p` in place, and the result `input * noise`
//! (`MulBackward0`, the grad_fn libtorch's own dropout records).
//!
//! Adam: tch's optimizers work on a `VarStore`, not on a program's tensors, so the update is
//! `torch/optim/adam.py`'s `_single_tensor_adam` (the path Python takes for CPU tensors) in
//! libtorch ops under no_grad. tch's `addcmul_`/`addcdiv_` have no `value`, so those two are
//! written as the CPU kernels evaluate them, `self + (value * t1) * t2` and
//! `self + (value * t1) / t2`, one in-place write to `self` each.

use super::{LibtorchBackend, OrFail, R, fail, ffi, py_float, torch_size};
use crate::backend::nn::{AdamOptions, NnCall};
use crate::backend::{Failure, Reduction, Value};
use crate::error_kind::ErrorKind;
use tch::Tensor;

use super::TorchTensor;

/// One Adam parameter's state (`state[p]`), made at its first step with a gradient.
struct AdamState {
    step: f32,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    max_exp_avg_sq: Option<Tensor>,
}

struct Adam {
    params: Vec<Tensor>,
    state: Vec<Option<AdamState>>,
    options: AdamOptions,
}

/// The Adam optimizers a program made, by handle.
#[derive(Default)]
pub struct NnState {
    adams: Vec<Adam>,
}

fn treduction(r: Reduction) -> tch::Reduction {
    match r {
        Reduction::None => tch::Reduction::None,
        Reduction::Mean => tch::Reduction::Mean,
        Reduction::Sum => tch::Reduction::Sum,
    }
}

/// `torch.optim.Adam.__init__`'s checks, then `Optimizer.__init__`'s.
fn adam_new(params: Vec<TorchTensor>, o: AdamOptions) -> R<Adam> {
    let bad = |m: String| Err(fail(m));
    if o.lr.is_nan() || o.lr < 0.0 {
        return bad(format!("Invalid learning rate: {}", py_float(o.lr)));
    }
    if o.eps.is_nan() || o.eps < 0.0 {
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
    if o.weight_decay.is_nan() || o.weight_decay < 0.0 {
        return bad(format!(
            "Invalid weight_decay value: {}",
            py_float(o.weight_decay)
        ));
    }
    if params.is_empty() {
        return bad("optimizer got an empty parameter list".into());
    }
    for p in &params {
        if !ffi::flags(&p.0).or_fail()?.is_leaf {
            return bad("can't optimize a non-leaf Tensor".into());
        }
    }
    let n = params.len();
    Ok(Adam {
        params: params.into_iter().map(|p| p.0).collect(),
        state: (0..n).map(|_| None).collect(),
        options: o,
    })
}

/// `_single_tensor_adam` for one parameter with a gradient (grad mode is off).
fn adam_update(p: &Tensor, grad: &Tensor, st: &mut AdamState, o: AdamOptions) -> R<()> {
    let (beta1, beta2) = o.betas;
    // `step_t += 1` on a float32 tensor; `_get_value` reads it back as a Python float.
    st.step += 1.0;
    let step = st.step as f64;
    let grad = if o.weight_decay != 0.0 {
        grad.f_add(&p.f_mul_scalar(o.weight_decay).or_fail()?)
            .or_fail()?
    } else {
        grad.shallow_clone()
    };
    let _ = st.exp_avg.f_lerp_(&grad, 1.0 - beta1).or_fail()?;
    let _ = st.exp_avg_sq.f_mul_scalar_(beta2).or_fail()?;
    let sq = grad
        .f_mul_scalar(1.0 - beta2)
        .or_fail()?
        .f_mul(&grad)
        .or_fail()?;
    let _ = st.exp_avg_sq.f_add_(&sq).or_fail()?;
    let bias_correction1 = 1.0 - beta1.powf(step);
    let bias_correction2 = 1.0 - beta2.powf(step);
    let step_size = o.lr / bias_correction1;
    let bias_correction2_sqrt = bias_correction2.sqrt();
    let v = match &st.max_exp_avg_sq {
        Some(m) => {
            let _ = m.f_maximum_out(m, &st.exp_avg_sq).or_fail()?;
            m.shallow_clone()
        }
        None => st.exp_avg_sq.shallow_clone(),
    };
    let mut denom = v
        .f_sqrt()
        .or_fail()?
        .f_div_scalar(bias_correction2_sqrt)
        .or_fail()?;
    let _ = denom.f_add_scalar_(o.eps).or_fail()?;
    let upd = st
        .exp_avg
        .f_mul_scalar(-step_size)
        .or_fail()?
        .f_div(&denom)
        .or_fail()?;
    let _ = p.shallow_clone().f_add_(&upd).or_fail()?;
    Ok(())
}

impl Adam {
    fn step(&mut self) -> R<()> {
        for (p, slot) in self.params.iter().zip(self.state.iter_mut()) {
            let Some(grad) = ffi::grad(p, false).or_fail()? else {
                continue;
            };
            let st = match slot {
                Some(s) => s,
                None => {
                    let zeros = || p.f_zeros_like().or_fail();
                    slot.insert(AdamState {
                        step: 0.0,
                        exp_avg: zeros()?,
                        exp_avg_sq: zeros()?,
                        max_exp_avg_sq: if self.options.amsgrad {
                            Some(zeros()?)
                        } else {
                            None
                        },
                    })
                }
            };
            adam_update(p, &grad, st, self.options)?;
        }
        Ok(())
    }
}

impl NnState {
    fn adam(&mut self, index: usize) -> R<&mut Adam> {
        self.adams.get_mut(index).ok_or_else(|| {
            Failure::new(
                ErrorKind::TypeError,
                format!("no Adam optimizer with handle {index}"),
            )
        })
    }
}

/// `F.dropout(x, p, training)` on the harness's keep-mask, as libtorch's CPU `dropout` runs.
fn dropout(x: &Tensor, p: f64, training: bool, mask: Option<&Tensor>) -> R<Tensor> {
    if !(0.0..=1.0).contains(&p) {
        return Err(fail(format!(
            "dropout probability has to be between 0 and 1, but got {}",
            py_float(p)
        )));
    }
    if !training || p == 0.0 || x.numel() == 0 {
        return Ok(x.shallow_clone());
    }
    if p == 1.0 {
        let zero = Tensor::f_zeros(&[] as &[i64], (x.f_kind().or_fail()?, x.device())).or_fail()?;
        return x.f_mul(&zero).or_fail();
    }
    let mask = mask.ok_or_else(|| fail("dropout in training mode needs the harness's mask"))?;
    let prev = ffi::set_grad_enabled(false);
    // The divisor goes in as a wrapped-number tensor, as Python's `div_(float)` passes it: a
    // failing in-place call with a tch `Scalar` argument panics when the scalar is freed.
    let noise = (|| -> R<Tensor> {
        let mut n = mask.f_to_kind(x.f_kind().or_fail()?).or_fail()?;
        let divisor = ffi::wrapped_scalar(crate::backend::Scalar::Float(1.0 - p)).or_fail()?;
        let _ = n.f_div_(&divisor).or_fail()?;
        Ok(n)
    })();
    ffi::set_grad_enabled(prev);
    x.f_mul(&noise?).or_fail()
}

/// `F.batch_norm`: `_verify_batch_size` in training, then `torch.batch_norm`.
#[allow(clippy::too_many_arguments)]
fn batch_norm(
    x: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> R<Tensor> {
    let size = x.size();
    if training && size.len() >= 2 {
        let prod: i64 = size[0] * size[2..].iter().product::<i64>();
        if prod == 1 {
            return Err(fail(format!(
                "Expected more than 1 value per channel when training, got input size {}",
                torch_size(&size)
            )));
        }
    }
    x.f_batch_norm(
        weight,
        bias,
        running_mean,
        running_var,
        training,
        momentum,
        eps,
        false,
    )
    .or_fail()
}

impl LibtorchBackend {
    pub(super) fn nn_call(&mut self, call: NnCall<TorchTensor>) -> R<Value<TorchTensor>> {
        let t = |r: R<Tensor>| r.map(Self::wrap);
        match call {
            NnCall::Einsum { equation, operands } => {
                let ops: Vec<&Tensor> = operands.iter().map(|o| &o.0).collect();
                t(Tensor::f_einsum(&equation, &ops, None::<&[i64]>).or_fail())
            }
            NnCall::NllLoss {
                input,
                target,
                weight,
                reduction,
                ignore_index,
            } => t(input
                .0
                .f_nll_loss_nd(
                    &target.0,
                    weight.as_ref().map(|w| &w.0),
                    treduction(reduction),
                    ignore_index,
                )
                .or_fail()),
            NnCall::CrossEntropy {
                input,
                target,
                weight,
                reduction,
                ignore_index,
                label_smoothing,
            } => t(input
                .0
                .f_cross_entropy_loss(
                    &target.0,
                    weight.as_ref().map(|w| &w.0),
                    treduction(reduction),
                    ignore_index,
                    label_smoothing,
                )
                .or_fail()),
            NnCall::Dropout {
                x,
                p,
                training,
                mask,
            } => t(dropout(&x.0, p, training, mask.as_ref().map(|m| &m.0))),
            NnCall::BatchNorm {
                x,
                running_mean,
                running_var,
                weight,
                bias,
                training,
                momentum,
                eps,
            } => t(batch_norm(
                &x.0,
                running_mean.as_ref().map(|m| &m.0),
                running_var.as_ref().map(|m| &m.0),
                weight.as_ref().map(|m| &m.0),
                bias.as_ref().map(|m| &m.0),
                training,
                momentum,
                eps,
            )),
            NnCall::AdamNew { params, options } => {
                let opt = adam_new(params, options)?;
                self.nn.adams.push(opt);
                Ok(Value::Optimizer(self.nn.adams.len() - 1))
            }
            NnCall::AdamStep { optimizer } => {
                let opt = self.nn.adam(optimizer)?;
                // `Optimizer.step` runs under `torch.set_grad_enabled(differentiable)`.
                let prev = ffi::set_grad_enabled(false);
                let r = opt.step();
                ffi::set_grad_enabled(prev);
                r.map(|()| Value::None)
            }
            NnCall::AdamZeroGrad { optimizer } => {
                let opt = self.nn.adam(optimizer)?;
                for p in &opt.params {
                    ffi::set_grad(p, None).or_fail()?;
                }
                Ok(Value::None)
            }
        }
    }
}
