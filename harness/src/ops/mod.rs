//! The ops table: every tensor function, method and attribute a case program can call, one row
//! each. A row holds everything about its op that the harness needs; everything else derives
//! from the rows:
//!
//! - [`UnaryOp`], [`BinaryOp`] and [`InplaceOp`] (the ops of [`crate::backend::Call`]) are
//!   generated from the elementwise rows, with their names and rules ([`UNARY`], [`BINARY`]);
//! - the engine and libtorch backends expand [`unary_table`] and [`binary_table`] into their
//!   dispatch, so a row's `engine` and `tch` columns are the calls each backend makes;
//! - `program::names` builds the functions and methods the checker and the interpreter know from
//!   [`UNARY`], [`BINARY`] and [`ROWS`] (spellings, signatures, return kinds);
//! - the interpreter lowers a call by its row: elementwise rows generically, every other row by
//!   its `lower` closure (`interp/builtins/lower.rs` expands [`op_rows`]);
//! - the fuzzer draws elementwise ops from the rows by their `draw` column, and a test holds every
//!   row whose `draw`/`family` column names a generator to appearing in generated programs;
//! - `cases/FORMAT.md`'s op list is rendered from the rows, and a test holds the two equal.
//!
//! Each table is a `macro_rules!` macro that hands its rows to a callback macro, so every consumer
//! expands the same rows in its own module, with its own types in scope. This module imports
//! nothing from the rest of the crate.
//!
//! # Adding an op
//!
//! A unary elementwise op (`log1p`) is one row in [`unary_table`] (its documentation lists the
//! columns), one row in the engine's `engine/src/ops/table.rs`, and its line in
//! `cases/FORMAT.md` (the FORMAT.md test prints the line to paste):
//!
//! ```text
//! Log1p {
//!     engine: log1p, tch: f_log1p, in_place: [],
//!     name: "log1p", spelled: [Method, Torch],
//!     dtype: ToFloat, domain: Positive, draw: Smooth, rounds: true,
//!     doc: "`log(1 + x)`",
//! },
//! ```
//!
//! A binary elementwise op is one row in [`binary_table`]; any other op is one row in
//! [`op_rows`], whose `lower` closure builds the op's [`crate::backend::Call`]s (a new kind of
//! call also needs its `Call` variant and both backends' arm for it).

pub mod dtype;
mod elementwise;
mod rows;
mod rows_index;
mod rows_math;
mod rows_nn;

pub use dtype::DType;
pub use elementwise::{
    BINARY, BinaryDtype, BinaryOp, BinaryRow, InplaceOp, Number, Reflected, UNARY, UnaryDtype,
    UnaryOp, UnaryRow,
};
pub(crate) use elementwise::{binary_table, unary_table};
pub(crate) use rows::op_rows;
pub use rows::{OpRow, ROWS};
pub(crate) use rows_index::index_rows;
pub(crate) use rows_math::math_rows;
pub(crate) use rows_nn::nn_rows;

/// Where an op may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Spelling {
    /// `x.exp()`
    Method,
    /// `torch.exp(x)`, or bare `exp(x)`
    Torch,
    /// `F.relu(x)` (`torch.nn.functional`)
    F,
    /// `x.T`: an attribute read
    Attr,
}

/// Where an elementwise op is smooth and finite; generated programs keep its input there (mostly,
/// in general programs; always, in differentiable ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Domain {
    /// Every finite input.
    All,
    /// Positive inputs (`log`, `sqrt`); a unary op is fed `x * x + 1`, a binary op's base
    /// `x.abs() + 1` and its other operand `y.abs()`.
    Positive,
    /// Nonzero inputs (`reciprocal`); a unary op is fed `x * x + 1`, a binary op's divisor
    /// `y.abs() + 1`.
    NonZero,
    /// Grows too fast for finite differences on large inputs (`exp`): differentiable programs
    /// feed it `x.tanh()`.
    Moderate,
}

impl Domain {
    /// Whether the generator moves an input into the domain by `x * x + 1` (or `x.abs() + 1`).
    pub fn guarded(self) -> bool {
        matches!(self, Domain::Positive | Domain::NonZero)
    }
}

/// Which generated programs draw an elementwise op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Draw {
    /// Differentiable and general programs.
    Smooth,
    /// General programs only: the op has a kink (`abs`, `relu`) or a domain edge (`pow`) that
    /// makes finite differences meaningless.
    General,
    /// Not drawn; the row's comment says why.
    No,
}

impl Draw {
    /// Whether differentiable (`true`) or general (`false`) programs draw the op.
    pub fn drawn(self, differentiable: bool) -> bool {
        match self {
            Draw::Smooth => true,
            Draw::General => !differentiable,
            Draw::No => false,
        }
    }
}

/// The generator family ([`crate::fuzzing::generate`]'s modules) that draws an op, or `No`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Create,
    Elementwise,
    Reduce,
    View,
    Inplace,
    Autograd,
    No,
}
