//! The ops table's indexing rows: advanced indexing by bool masks and integer tensors, and the
//! multi-output views (`split`, `chunk`, `unbind`). One link of the `op_rows` chain (`rows.rs`
//! says how the chain works): the rows so far come in, these are appended, and the chain goes on
//! to the `nn` rows. Advanced indexing is written `x[mask]` and `x[idx] = v`, so it has no row
//! here: the interpreter lowers subscripts with tensor items itself (`interp/builtins/indexing.rs`).

macro_rules! index_rows {
    ($cb:ident; $($rows:tt)*) => {
        $crate::ops::nn_rows! { $cb; $($rows)*
            // ---- multi-output views ----
            "split" { spelled: [Method, Torch],
                sig: "input: tensor, split_size_or_sections: any, dim: int = 0",
                ret: "any", family: View,
                doc: "a tuple of views along `dim`: pieces of an int size, the last one shorter \
                      (`SplitBackward0`), or of a list of sizes (`SplitWithSizesBackward0`); \
                      with grad mode on, writing one in place raises",
                lower: |it, a| it.split(a) },
            "chunk" { spelled: [Method, Torch], sig: "input: tensor, chunks: int, dim: int = 0",
                ret: "any", family: View,
                doc: "a tuple of at most `chunks` views along `dim`, a `split` by \
                      `ceil(size / chunks)` (`SplitBackward0`)",
                lower: |it, a| it.chunk(a) },
            "unbind" { spelled: [Method, Torch], sig: "input: tensor, dim: int = 0",
                ret: "any", family: View,
                doc: "a tuple of the views along `dim`, each without it (`UnbindBackward0`)",
                lower: |it, a| it.unbind(a) },
        }
    };
}
pub(crate) use index_rows;
