//! The engine's side of [`NnCall`]: einsum, the losses, dropout with the harness's mask,
//! batch norm and Adam, each through the engine's own API (`Tensor::einsum`,
//! `Tensor::nll_loss`, `Tensor::cross_entropy`, `Tensor::dropout_with_mask`,
//! `engine::nn::batch_norm`, `engine::optim::Adam`).

use super::{EngineBackend, OrFail, R, wrap};
use crate::backend::nn::NnCall;
use crate::backend::{Failure, Reduction, Value};
use crate::error_kind::ErrorKind;
use engine::Tensor;
use engine::optim::{Adam, AdamOptions};

/// The Adam optimizers a program made, by handle.
#[derive(Default)]
pub struct NnState {
    adams: Vec<Adam>,
}

fn ereduction(r: Reduction) -> engine::Reduction {
    match r {
        Reduction::None => engine::Reduction::None,
        Reduction::Mean => engine::Reduction::Mean,
        Reduction::Sum => engine::Reduction::Sum,
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

impl EngineBackend {
    pub(super) fn nn_call(&mut self, call: NnCall<Tensor>) -> R<Value<Tensor>> {
        let t = |r: engine::Result<Tensor>| r.map(wrap).or_fail();
        match call {
            NnCall::Einsum { equation, operands } => t(Tensor::einsum(&equation, &operands)),
            NnCall::NllLoss {
                input,
                target,
                weight,
                reduction,
                ignore_index,
            } => t(input.nll_loss_nd(
                &target,
                weight.as_ref(),
                ereduction(reduction),
                ignore_index,
            )),
            NnCall::CrossEntropy {
                input,
                target,
                weight,
                reduction,
                ignore_index,
                label_smoothing,
            } => t(input.cross_entropy(
                &target,
                weight.as_ref(),
                ereduction(reduction),
                ignore_index,
                label_smoothing,
            )),
            NnCall::Dropout {
                x,
                p,
                training,
                mask,
            } => t(x.dropout_with_mask(p, training, mask.as_ref())),
            NnCall::BatchNorm {
                x,
                running_mean,
                running_var,
                weight,
                bias,
                training,
                momentum,
                eps,
            } => t(engine::nn::batch_norm(
                &x,
                running_mean.as_ref(),
                running_var.as_ref(),
                weight.as_ref(),
                bias.as_ref(),
                training,
                momentum,
                eps,
            )),
            NnCall::AdamNew { params, options } => {
                let o = AdamOptions {
                    lr: options.lr,
                    betas: options.betas,
                    eps: options.eps,
                    weight_decay: options.weight_decay,
                    amsgrad: options.amsgrad,
                };
                let opt = Adam::new(params, o).or_fail()?;
                self.nn.adams.push(opt);
                Ok(Value::Optimizer(self.nn.adams.len() - 1))
            }
            NnCall::AdamStep { optimizer } => {
                self.nn.adam(optimizer)?.step().or_fail()?;
                Ok(Value::None)
            }
            NnCall::AdamZeroGrad { optimizer } => {
                self.nn.adam(optimizer)?.zero_grad(true).or_fail()?;
                Ok(Value::None)
            }
        }
    }
}
