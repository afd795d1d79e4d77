//! The ops table's indexing rows: advanced indexing by bool masks and integer tensors, and the
//! multi-output views (`split`, `chunk`, `unbind`). One link of the `op_rows` chain (`rows.rs`
//! says how the chain works): the rows so far come in, these are appended, and the chain goes on
//! to the `nn` rows.

macro_rules! index_rows {
    ($cb:ident; $($rows:tt)*) => {
        $crate::ops::nn_rows! { $cb; $($rows)*
        }
    };
}
pub(crate) use index_rows;
