//! The lowerings of the `nn` area's functions: `torch.einsum` (Python's argument handling in
//! `torch.functional.einsum`), `F.nll_loss` and `F.cross_entropy` (the deprecated
//! `size_average`/`reduce` arguments are refused), and dropout (`F.dropout`, `nn.Dropout`) on
//! the harness's keep-mask.

use super::args::{Args, as_f64, as_tensor};
use crate::backend::nn::NnCall;
use crate::backend::{Backend, Call, Failure};
use crate::error_kind::ErrorKind;
use crate::interp::value::{PyVal, type_error, unsupported};
use crate::interp::{Interp, Res};

impl<B: Backend> Interp<'_, B> {
    /// `F.dropout(input, p=0.5, training=True, inplace=False)`.
    pub(crate) fn dropout_fn(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let x = a.input()?;
        let p = match a.take("p") {
            None => 0.5,
            Some(v) => as_f64(&v, "dropout")?,
        };
        let training = a.flag("training", true)?;
        if a.flag("inplace", false)? {
            return Err(unsupported("F.dropout(inplace=True)"));
        }
        self.dropout(x, p, training)
    }

    /// Dropout's forward. The keep-mask is drawn only where libtorch would draw its noise
    /// (training, `0 < p < 1`, a non-empty input), so the case's stream moves as PyTorch's does.
    pub(crate) fn dropout(
        &mut self,
        x: B::Tensor,
        p: f64,
        training: bool,
    ) -> Res<PyVal<B::Tensor>> {
        let mut mask = None;
        if training && p > 0.0 && p < 1.0 {
            let shape = self.shape_of(&x)?;
            if shape.iter().product::<usize>() > 0 {
                mask = Some(self.keep_mask(shape, p)?);
            }
        }
        self.call(Call::Nn(NnCall::Dropout {
            x,
            p,
            training,
            mask,
        }))
    }

    /// `torch.einsum(equation, *operands)`, or `torch.einsum(equation, [operands])`.
    pub(crate) fn einsum(&mut self, a: &mut Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let equation = match a.req("equation")? {
            PyVal::Str(s) => s,
            PyVal::Tensor(_) => return Err(unsupported("einsum's sublist format")),
            other => {
                return Err(type_error(format!(
                    "einsum(): argument 'equation' must be str, not {}",
                    other.type_name()
                )));
            }
        };
        let mut rest = std::mem::take(&mut a.rest);
        if rest.is_empty() {
            return Err(Failure::new(
                ErrorKind::InvalidArgument,
                "einsum(): must specify the equation string and at least one operand, or at least one operand and its subscripts list",
            ));
        }
        // Python unpacks one list or tuple of operands and calls itself again.
        if let [PyVal::List(xs) | PyVal::Tuple(xs)] = rest.as_mut_slice() {
            rest = std::mem::take(xs);
        }
        let operands = rest
            .into_iter()
            .map(|x| as_tensor(x, "einsum"))
            .collect::<Res<Vec<_>>>()?;
        self.call(Call::Nn(NnCall::Einsum { equation, operands }))
    }

    /// `F.nll_loss(...)` (`ce: false`) or `F.cross_entropy(...)` (`ce: true`).
    pub(crate) fn class_loss(
        &mut self,
        a: &mut Args<B::Tensor>,
        ce: bool,
    ) -> Res<PyVal<B::Tensor>> {
        for key in ["size_average", "reduce"] {
            if !matches!(a.take(key), None | Some(PyVal::None)) {
                return Err(unsupported(format!("the deprecated `{key}` argument")));
            }
        }
        let (input, target) = (a.input()?, a.tensor("target")?);
        let weight = a.opt_tensor("weight")?;
        let ignore_index = a.int_or("ignore_index", -100)?;
        let reduction = a.reduction()?;
        let call = if ce {
            let label_smoothing = match a.take("label_smoothing") {
                None => 0.0,
                Some(v) => as_f64(&v, "cross_entropy")?,
            };
            NnCall::CrossEntropy {
                input,
                target,
                weight,
                reduction,
                ignore_index,
                label_smoothing,
            }
        } else {
            NnCall::NllLoss {
                input,
                target,
                weight,
                reduction,
                ignore_index,
            }
        };
        self.call(Call::Nn(call))
    }
}
