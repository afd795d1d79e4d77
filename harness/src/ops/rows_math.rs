//! The ops table's math rows that are not elementwise: clamps, masked fills, scaled adds and the
//! statistics (`norm`, `var`, `std`, `prod`, `cumsum`, `argmax`, `argmin`). One link of the
//! `op_rows` chain (`rows.rs` says how the chain works): the rows so far come in, these are
//! appended, and the chain goes on to the indexing rows.

macro_rules! math_rows {
    ($cb:ident; $($rows:tt)*) => {
        $crate::ops::index_rows! { $cb; $($rows)*
        }
    };
}
pub(crate) use math_rows;
