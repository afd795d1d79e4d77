//! The ops table's `nn.functional` and contraction rows that came with the losses and modules:
//! `einsum`, `cross_entropy`, `nll_loss`, `dropout`. The last link of the `op_rows` chain (`rows.rs` says
//! how the chain works): the rows so far come in, these are appended, and all of them go to the
//! consumer `$cb`.

macro_rules! nn_rows {
    ($cb:ident; $($rows:tt)*) => {
        $cb! { $($rows)*
            "einsum" { spelled: [Torch], sig: "equation: str, *operands: any",
                ret: "tensor", family: Reduce,
                doc: "the sum of products the equation names; the operands may come as one list. \
                      libtorch contracts left to right (no `opt_einsum` path), into \
                      `MulBackward0`/`SumBackward1`/`BmmBackward0` with the permutes and views \
                      around them",
                lower: |it, a| it.einsum(a) },
            "nll_loss" { spelled: [F],
                sig: "input: tensor, target: tensor, weight: tensor = None, size_average: any = None, ignore_index: int = -100, reduce: any = None, reduction: str = 'mean'",
                ret: "tensor", family: Reduce,
                doc: "the negative log-likelihood of int64 class targets (`NllLossBackward0`); \
                      `size_average` and `reduce` are refused",
                lower: |it, a| it.class_loss(a, false) },
            "cross_entropy" { spelled: [F],
                sig: "input: tensor, target: tensor, weight: tensor = None, size_average: any = None, ignore_index: int = -100, reduce: any = None, reduction: str = 'mean', label_smoothing: number = 0.0",
                ret: "tensor", family: Reduce,
                doc: "`log_softmax` then `nll_loss` for int64 class targets, or the mean over \
                      class probabilities for a target of the input's shape",
                lower: |it, a| it.class_loss(a, true) },
            "dropout" { spelled: [F],
                sig: "input: tensor, p: number = 0.5, training: bool = True, inplace: bool = False",
                ret: "tensor", family: Elementwise,
                doc: "in training, `input * (mask / (1 - p))` (`MulBackward0`) with a Bernoulli(1 - p) \
                      keep-mask drawn from the case's seed (libtorch's own draw is not used); the \
                      input itself when not training or `p == 0`; `input * 0` for `p == 1`. \
                      `inplace=True` is refused",
                lower: |it, a| it.dropout_fn(a) },
        }
    };
}
pub(crate) use nn_rows;
