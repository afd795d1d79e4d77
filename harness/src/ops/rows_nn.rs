//! The ops table's `nn.functional` and contraction rows that came with the losses and modules:
//! `einsum`, `cross_entropy`, `nll_loss`. The last link of the `op_rows` chain (`rows.rs` says
//! how the chain works): the rows so far come in, these are appended, and all of them go to the
//! consumer `$cb`.

macro_rules! nn_rows {
    ($cb:ident; $($rows:tt)*) => {
        $cb! { $($rows)*
        }
    };
}
pub(crate) use nn_rows;
