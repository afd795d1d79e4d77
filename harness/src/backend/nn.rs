//! The backend calls that came with the contraction, the losses, the `nn` modules beyond
//! `Linear`/`Conv2d` and the Adam optimizer: [`NnCall`], carried as `Call::Nn`. Each backend
//! carries them out in its own `nn.rs` (`backend/engine/nn.rs`, `backend/libtorch/nn.rs`).

use super::Reduction;

/// The `nn` area's calls. Arguments are bound and typed as for every [`super::Call`].
#[derive(Debug, Clone)]
pub enum NnCall<T> {
    /// `torch.einsum(equation, *operands)`
    Einsum { equation: String, operands: Vec<T> },
    /// `F.nll_loss(input, target, weight, ignore_index=, reduction=)`
    NllLoss {
        input: T,
        target: T,
        weight: Option<T>,
        reduction: Reduction,
        ignore_index: i64,
    },
    /// `F.cross_entropy(input, target, weight, ignore_index=, reduction=, label_smoothing=)`
    CrossEntropy {
        input: T,
        target: T,
        weight: Option<T>,
        reduction: Reduction,
        ignore_index: i64,
        label_smoothing: f64,
    },
    /// `nn.Dropout(p)`'s forward with the keep-mask the harness drew from the case's seed
    /// (libtorch would draw its own); `training: false` is the identity.
    Dropout {
        x: T,
        p: f64,
        training: bool,
        mask: Option<T>,
    },
    /// `F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)`:
    /// the running statistics, where given, are updated in place in training.
    BatchNorm {
        x: T,
        running_mean: Option<T>,
        running_var: Option<T>,
        weight: Option<T>,
        bias: Option<T>,
        training: bool,
        momentum: f64,
        eps: f64,
    },
    /// `optim.Adam(params, lr, betas, eps, weight_decay, amsgrad)`: returns an optimizer handle
    /// of its own numbering (the interpreter keeps which handles are Adam's).
    AdamNew {
        params: Vec<T>,
        options: AdamOptions,
    },
    /// `opt.step()`
    AdamStep { optimizer: usize },
    /// `opt.zero_grad()` (set_to_none=True)
    AdamZeroGrad { optimizer: usize },
}

/// Hyper-parameters of one `torch.optim.Adam`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamOptions {
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
}

impl<T> NnCall<T> {
    /// The tensors a call reads, for the float64 shadow's rounding model.
    pub fn rounds(&self) -> bool {
        !matches!(
            self,
            NnCall::AdamNew { .. }
                | NnCall::AdamZeroGrad { .. }
                | NnCall::Dropout {
                    training: false,
                    ..
                }
        )
    }
}
