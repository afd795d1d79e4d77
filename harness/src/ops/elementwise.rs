//! The elementwise ops, one row each: unary (`x.exp()`) and binary (`x + y`, `x.eq(y)`). The rows
//! generate [`UnaryOp`], [`BinaryOp`] and [`InplaceOp`] and their metadata ([`UNARY`],
//! [`BINARY`]); the backends expand the same rows into their dispatch.

use super::{DType, Domain, Draw, Spelling};
use serde::{Deserialize, Serialize};

/// The unary elementwise ops, handed to the callback macro `$cb`. A row:
///
/// - `Exp`: the [`UnaryOp`] variant;
/// - `engine: exp`: the engine's method, `engine::Tensor::exp(&self) -> engine::Result<Tensor>`;
/// - `tch: f_exp`: tch's fallible method, `tch::Tensor::f_exp(&self)`;
/// - `in_place: [exp_, f_exp_]`: the engine's and tch's in-place methods, which put `x.exp_()`
///   into the language; `[]` where the engine has none;
/// - `name`: the Python name; `spelled`: where it may be written ([`Spelling`]; every unary op
///   is a method);
/// - `dtype`: the result dtype ([`UnaryDtype`]); `domain`: where the op is smooth and finite
///   ([`Domain`]), which generated programs keep its input in;
/// - `draw`: which generated programs draw it ([`Draw`]);
/// - `rounds`: whether float32 rounds its result (`neg`, `abs`, `relu` are exact); the
///   numerics shadow perturbs rounding ops only;
/// - `doc`: what it computes, for its line in `cases/FORMAT.md`.
///
/// The order is the generator's: `draw` picks by position among the rows it may draw.
///
/// Every row has its in-place form: libtorch has one for each of these ops, and so does the
/// engine (its table rows generate both methods).
macro_rules! unary_table {
    ($cb:ident) => {
        $cb! {
            Exp {
                engine: exp, tch: f_exp, in_place: [exp_, f_exp_],
                name: "exp", spelled: [Method, Torch],
                dtype: ToFloat, domain: Moderate, draw: Smooth, rounds: true,
                doc: "`e ** x`",
            },
            Log {
                engine: log, tch: f_log, in_place: [log_, f_log_],
                name: "log", spelled: [Method, Torch],
                dtype: ToFloat, domain: Positive, draw: Smooth, rounds: true,
                doc: "the natural logarithm",
            },
            Sqrt {
                engine: sqrt, tch: f_sqrt, in_place: [sqrt_, f_sqrt_],
                name: "sqrt", spelled: [Method, Torch],
                dtype: ToFloat, domain: Positive, draw: Smooth, rounds: true,
                doc: "the square root",
            },
            Abs {
                engine: abs, tch: f_abs, in_place: [abs_, f_abs_],
                name: "abs", spelled: [Method, Torch],
                dtype: Same, domain: All, draw: General, rounds: false,
                doc: "the absolute value",
            },
            Sin {
                engine: sin, tch: f_sin, in_place: [sin_, f_sin_],
                name: "sin", spelled: [Method, Torch],
                dtype: ToFloat, domain: All, draw: Smooth, rounds: true,
                doc: "the sine",
            },
            Cos {
                engine: cos, tch: f_cos, in_place: [cos_, f_cos_],
                name: "cos", spelled: [Method, Torch],
                dtype: ToFloat, domain: All, draw: Smooth, rounds: true,
                doc: "the cosine",
            },
            Tanh {
                engine: tanh, tch: f_tanh, in_place: [tanh_, f_tanh_],
                name: "tanh", spelled: [Method, Torch, F],
                dtype: ToFloat, domain: All, draw: Smooth, rounds: true,
                doc: "the hyperbolic tangent",
            },
            Sigmoid {
                engine: sigmoid, tch: f_sigmoid, in_place: [sigmoid_, f_sigmoid_],
                name: "sigmoid", spelled: [Method, Torch, F],
                dtype: ToFloat, domain: All, draw: Smooth, rounds: true,
                doc: "`1 / (1 + e ** -x)`",
            },
            Relu {
                engine: relu, tch: f_relu, in_place: [relu_, f_relu_],
                name: "relu", spelled: [Method, Torch, F],
                dtype: Same, domain: All, draw: General, rounds: false,
                doc: "`x` where positive, else 0",
            },
            Neg {
                engine: neg, tch: f_neg, in_place: [neg_, f_neg_],
                name: "neg", spelled: [Method, Torch],
                dtype: SameNotBool, domain: All, draw: Smooth, rounds: false,
                doc: "`-x`",
            },
            Reciprocal {
                engine: reciprocal, tch: f_reciprocal, in_place: [reciprocal_, f_reciprocal_],
                name: "reciprocal", spelled: [Method, Torch],
                dtype: ToFloat, domain: NonZero, draw: Smooth, rounds: true,
                doc: "`1 / x`",
            },
            Log1p {
                engine: log1p, tch: f_log1p, in_place: [log1p_, f_log1p_],
                name: "log1p", spelled: [Method, Torch],
                dtype: ToFloat, domain: Positive, draw: Smooth, rounds: true,
                doc: "`log(1 + x)`, accurate for small `x`",
            },
            Expm1 {
                engine: expm1, tch: f_expm1, in_place: [expm1_, f_expm1_],
                name: "expm1", spelled: [Method, Torch],
                dtype: ToFloat, domain: Moderate, draw: Smooth, rounds: true,
                doc: "`e ** x - 1`, accurate for small `x`",
            },
        }
    };
}
pub(crate) use unary_table;

/// The binary elementwise ops, handed to the callback macro `$cb`. A row:
///
/// - `Add`: the [`BinaryOp`] variant (and the [`InplaceOp`] one, where there is an in-place
///   form);
/// - `engine: [add]`: the engine's method, taking the other operand as `&Tensor` or, for a
///   Python number, as an engine scalar; `[]` where the engine has none (the call then fails
///   as not implemented);
/// - `tch: f_add`: tch's fallible method on two tensors;
/// - `number`: how Python passes a number as the other operand ([`Number`]); `Scalar(f)` names
///   the libtorch backend's function for the Scalar overload;
/// - `in_place: [add_, f_add_]`: the engine's and tch's in-place methods (and a third where
///   `number` is `Scalar`: the libtorch backend's function for the in-place Scalar overload, not
///   tch's, which panics when libtorch raises); `[]` where the engine has none;
/// - `name`, `spelled`, `sig`: the Python name, where it may be written, and its function
///   signature (the method's is the same without `input`);
/// - `operator`: the Python operator that lowers to it (`["+"]`), if any; `reflected`: what a
///   Python number on the operator's left lowers to ([`Reflected`]);
/// - `dtype`: the result dtype ([`BinaryDtype`]); `domain`: where it is smooth and finite
///   ([`Domain`]); `draw`: which generated programs draw it ([`Draw`]);
/// - `rounds`: whether float32 rounds its result (`maximum` picks an operand, comparisons give
///   bools);
/// - `doc`: what it computes, for its line in `cases/FORMAT.md`.
///
/// The order is the generator's: operators are drawn by position among the rows drawn.
macro_rules! binary_table {
    ($cb:ident) => {
        $cb! {
            Add {
                engine: [add], tch: f_add, number: Wrapped, in_place: [add_, f_add_],
                name: "add", spelled: [Method, Torch],
                sig: "input: tensor_or_number, other: tensor_or_number",
                operator: ["+"], reflected: Swap,
                dtype: Promote, domain: All, draw: Smooth, rounds: true,
                doc: "`input + other`",
            },
            Sub {
                engine: [sub], tch: f_sub, number: Wrapped, in_place: [sub_, f_sub_],
                name: "sub", spelled: [Method, Torch],
                sig: "input: tensor_or_number, other: tensor_or_number",
                operator: ["-"], reflected: Rsub,
                dtype: Promote, domain: All, draw: Smooth, rounds: true,
                doc: "`input - other`",
            },
            Mul {
                engine: [mul], tch: f_mul, number: Wrapped, in_place: [mul_, f_mul_],
                name: "mul", spelled: [Method, Torch],
                sig: "input: tensor_or_number, other: tensor_or_number",
                operator: ["*"], reflected: Swap,
                dtype: Promote, domain: All, draw: Smooth, rounds: true,
                doc: "`input * other`",
            },
            Div {
                engine: [div], tch: f_div, number: Wrapped, in_place: [div_, f_div_],
                name: "div", spelled: [Method, Torch],
                sig: "input: tensor_or_number, other: tensor_or_number",
                operator: ["/"], reflected: Reciprocal,
                dtype: ToFloat, domain: NonZero, draw: Smooth, rounds: true,
                doc: "true division `input / other`",
            },
            Pow {
                engine: [pow], tch: f_pow, number: Scalar(ffi::pow_tensor_scalar),
                in_place: [pow_, f_pow_tensor_, ffi::pow_inplace_scalar],
                name: "pow", spelled: [Method, Torch],
                sig: "input: tensor_or_number, exponent: tensor_or_number",
                operator: ["**"], reflected: ScalarBase,
                dtype: Promote, domain: Positive, draw: General, rounds: true,
                doc: "`input ** exponent`; a number `input` is `torch.pow(2, x)`",
            },
            Maximum {
                engine: [maximum], tch: f_maximum, number: Refused, in_place: [],
                name: "maximum", spelled: [Method, Torch],
                sig: "input: tensor, other: tensor",
                operator: [], reflected: No,
                dtype: Promote, domain: All, draw: General, rounds: false,
                doc: "the elementwise larger of two tensors",
            },
            // Not drawn: `maximum` stands for the pair.
            Minimum {
                engine: [minimum], tch: f_minimum, number: Refused, in_place: [],
                name: "minimum", spelled: [Method, Torch],
                sig: "input: tensor, other: tensor",
                operator: [], reflected: No,
                dtype: Promote, domain: All, draw: No, rounds: false,
                doc: "the elementwise smaller of two tensors",
            },
            FloorDivide {
                engine: [floor_divide], tch: f_floor_divide, number: Wrapped, in_place: [],
                name: "floor_divide", spelled: [Method, Torch],
                sig: "input: tensor, other: tensor_or_number",
                operator: ["//"], reflected: No,
                dtype: Promote, domain: NonZero, draw: General, rounds: true,
                doc: "`input // other`, rounded toward minus infinity",
            },
            Remainder {
                engine: [remainder], tch: f_remainder_tensor,
                number: Scalar(ffi::remainder_scalar), in_place: [],
                name: "remainder", spelled: [Method, Torch],
                sig: "input: tensor, other: tensor_or_number",
                operator: ["%"], reflected: No,
                dtype: Promote, domain: NonZero, draw: General, rounds: true,
                doc: "`input % other`, with the sign of `other` (Python's `%`)",
            },
            Eq {
                engine: [eq_], tch: f_eq_tensor, number: Wrapped, in_place: [],
                name: "eq", spelled: [Method, Torch],
                sig: "input: tensor, other: tensor_or_number",
                operator: ["=="], reflected: Flip(Eq),
                dtype: Bool, domain: All, draw: No, rounds: false,
                doc: "`input == other`",
            },
            Ne {
                engine: [ne], tch: f_ne_tensor, number: Wrapped, in_place: [],
                name: "ne", spelled: [Method, Torch],
                sig: "input: tensor, other: tensor_or_number",
                operator: ["!="], reflected: Flip(Ne),
                dtype: Bool, domain: All, draw: No, rounds: false,
                doc: "`input != other`",
            },
            Lt {
                engine: [lt], tch: f_lt_tensor, number: Wrapped, in_place: [],
                name: "lt", spelled: [Method, Torch],
                sig: "input: tensor, other: tensor_or_number",
                operator: ["<"], reflected: Flip(Gt),
                dtype: Bool, domain: All, draw: General, rounds: false,
                doc: "`input < other`",
            },
            Le {
                engine: [le], tch: f_le_tensor, number: Wrapped, in_place: [],
                name: "le", spelled: [Method, Torch],
                sig: "input: tensor, other: tensor_or_number",
                operator: ["<="], reflected: Flip(Ge),
                dtype: Bool, domain: All, draw: No, rounds: false,
                doc: "`input <= other`",
            },
            Gt {
                engine: [gt], tch: f_gt_tensor, number: Wrapped, in_place: [],
                name: "gt", spelled: [Method, Torch],
                sig: "input: tensor, other: tensor_or_number",
                operator: [">"], reflected: Flip(Lt),
                dtype: Bool, domain: All, draw: General, rounds: false,
                doc: "`input > other`",
            },
            Ge {
                engine: [ge], tch: f_ge_tensor, number: Wrapped, in_place: [],
                name: "ge", spelled: [Method, Torch],
                sig: "input: tensor, other: tensor_or_number",
                operator: [">="], reflected: Flip(Le),
                dtype: Bool, domain: All, draw: No, rounds: false,
                doc: "`input >= other`",
            },
        }
    };
}
pub(crate) use binary_table;

/// A unary op's result dtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryDtype {
    /// The input's dtype (`abs`, `relu`).
    Same,
    /// The input's dtype; a bool input raises (`neg`).
    SameNotBool,
    /// Integers and bools compute in float32, floats keep their dtype (`exp`).
    ToFloat,
}

impl UnaryDtype {
    /// The result's dtype for an input of dtype `d`, or `None` where the op raises.
    pub fn result(self, d: DType) -> Option<DType> {
        match self {
            UnaryDtype::Same => Some(d),
            UnaryDtype::SameNotBool => (d != DType::Bool).then_some(d),
            UnaryDtype::ToFloat => Some(d.to_float()),
        }
    }

    /// The sentence `cases/FORMAT.md` says about it.
    pub fn describe(self) -> &'static str {
        match self {
            UnaryDtype::Same => "keeps the input's dtype",
            UnaryDtype::SameNotBool => "keeps the input's dtype; a bool input raises",
            UnaryDtype::ToFloat => "integer and bool inputs give float32",
        }
    }
}

/// A binary op's result dtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryDtype {
    /// The operands' promoted dtype (a Python number counts as a scalar: it lifts integers to
    /// float32 when it is a float, and never widens a float tensor).
    Promote,
    /// The promoted dtype, with integers and bools computing in float32 (true division).
    ToFloat,
    /// bool (comparisons).
    Bool,
}

impl BinaryDtype {
    /// The sentence `cases/FORMAT.md` says about it.
    pub fn describe(self) -> &'static str {
        match self {
            BinaryDtype::Promote => "the operands' promoted dtype",
            BinaryDtype::ToFloat => "the promoted dtype, float32 for integers and bools",
            BinaryDtype::Bool => "bool",
        }
    }
}

/// How Python passes a number given as a binary op's other operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Number {
    /// As a wrapped-number tensor, to the two-tensor overload (`add`, `mul`, `floor_divide`:
    /// the ops Python's argument parser lets take numbers as tensors): `x * 2` is
    /// `MulBackward0`, which saves both operands.
    Wrapped,
    /// To the op's Scalar overload (`x ** 2` is `pow(Tensor, Scalar)`, `PowBackward0`).
    Scalar,
    /// Not at all: the parser raises a TypeError (`torch.maximum(x, 2)`).
    Refused,
}

/// What `number op tensor` lowers to (CPython calls the tensor's reflected method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reflected {
    /// `2 + x` is `x.add(2)`.
    Swap,
    /// `2 - x` is `x.rsub(2)` (`RsubBackward1`).
    Rsub,
    /// `2 / x` is `x.reciprocal() * 2`.
    Reciprocal,
    /// `2 ** x` is `torch.pow(2, x)` (`PowBackward2`).
    ScalarBase,
    /// `2 < x` is `x > 2`: the comparison with the sides swapped.
    Flip(BinaryOp),
    /// Not part of the language (`2 // x`).
    No,
}

/// A unary op's row.
#[derive(Debug)]
pub struct UnaryRow {
    pub op: UnaryOp,
    pub name: &'static str,
    pub spelled: &'static [Spelling],
    /// `exp_`, where the in-place form is switched on.
    pub in_place: Option<&'static str>,
    pub dtype: UnaryDtype,
    pub domain: Domain,
    pub draw: Draw,
    pub rounds: bool,
    pub doc: &'static str,
}

/// A binary op's row.
#[derive(Debug)]
pub struct BinaryRow {
    pub op: BinaryOp,
    pub name: &'static str,
    pub spelled: &'static [Spelling],
    pub sig: &'static str,
    /// Whether the engine has the op.
    pub in_engine: bool,
    pub number: Number,
    pub in_place: Option<InplaceOp>,
    pub operator: Option<&'static str>,
    pub reflected: Reflected,
    pub dtype: BinaryDtype,
    pub domain: Domain,
    pub draw: Draw,
    pub rounds: bool,
    pub doc: &'static str,
}

/// `Some("exp_")` from `[exp_, f_exp_]` (or `Some("+")` from `["+"]`), `None` from `[]`.
macro_rules! some_name {
    () => {
        None
    };
    ($ie:ident) => {
        Some(stringify!($ie))
    };
    ($l:literal) => {
        Some($l)
    };
}

/// Whether an optional column holds something (`[add]` against `[]`).
macro_rules! present {
    () => {
        false
    };
    ($e:ident) => {
        true
    };
}

macro_rules! unary_rows {
    ($( $V:ident { engine: $e:ident, tch: $t:ident, in_place: [$($ie:ident, $it:ident)?],
        name: $name:literal, spelled: [$($sp:ident),*], dtype: $dt:ident, domain: $dom:ident,
        draw: $draw:ident, rounds: $rounds:literal, doc: $doc:literal $(,)? } ),* $(,)?) => {
        /// A unary elementwise op ([`unary_table`] has the rows).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum UnaryOp {
            $( $V ),*
        }

        /// Every unary op's row, in [`UnaryOp`] order.
        pub static UNARY: &[UnaryRow] = &[$(
            UnaryRow {
                op: UnaryOp::$V,
                name: $name,
                spelled: &[$(Spelling::$sp),*],
                in_place: some_name!($($ie)?),
                dtype: UnaryDtype::$dt,
                domain: Domain::$dom,
                draw: Draw::$draw,
                rounds: $rounds,
                doc: $doc,
            }
        ),*];
    };
}
unary_table!(unary_rows);

/// `Some(InplaceOp::Add)` from `[add_, f_add_]`, `None` from `[]`.
macro_rules! some_inplace {
    ($V:ident) => {
        None
    };
    ($V:ident $ie:ident) => {
        Some(InplaceOp::$V)
    };
}

macro_rules! binary_rows {
    ($( $V:ident { engine: [$($e:ident)?], tch: $t:ident, number: $num:ident $(($nf:path))?,
        in_place: [$($ie:ident, $it:ident $(, $itn:path)?)?],
        name: $name:literal, spelled: [$($sp:ident),*], sig: $sig:literal,
        operator: [$($opsym:literal)?], reflected: $refl:ident $(($fl:ident))?,
        dtype: $dt:ident, domain: $dom:ident, draw: $draw:ident, rounds: $rounds:literal,
        doc: $doc:literal $(,)? } ),* $(,)?) => {
        /// A binary elementwise op ([`binary_table`] has the rows).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum BinaryOp {
            $( $V ),*
        }

        /// An in-place binary op: `x.add_(y)`, `x += y` ([`binary_table`]'s rows with an
        /// `in_place` column).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum InplaceOp {
            $( $( #[doc = concat!("`", stringify!($ie), "`")] $V, )? )*
        }

        impl InplaceOp {
            /// The out-of-place op it writes in place.
            pub fn binary(self) -> BinaryOp {
                match self {
                    $( $( InplaceOp::$V => {
                        let _ = stringify!($ie);
                        BinaryOp::$V
                    } )? )*
                }
            }

            /// `add_`
            pub fn name(self) -> &'static str {
                match self {
                    $( $( InplaceOp::$V => stringify!($ie), )? )*
                }
            }

            pub fn from_name(name: &str) -> Option<InplaceOp> {
                match name {
                    $( $( stringify!($ie) => Some(InplaceOp::$V), )? )*
                    _ => None,
                }
            }
        }

        /// Every binary op's row, in [`BinaryOp`] order.
        pub static BINARY: &[BinaryRow] = &[$(
            BinaryRow {
                op: BinaryOp::$V,
                name: $name,
                spelled: &[$(Spelling::$sp),*],
                sig: $sig,
                in_engine: present!($($e)?),
                number: Number::$num,
                in_place: some_inplace!($V $($ie)?),
                operator: some_name!($($opsym)?),
                reflected: Reflected::$refl $((BinaryOp::$fl))?,
                dtype: BinaryDtype::$dt,
                domain: Domain::$dom,
                draw: Draw::$draw,
                rounds: $rounds,
                doc: $doc,
            }
        ),*];
    };
}
binary_table!(binary_rows);

impl UnaryOp {
    pub fn row(self) -> &'static UnaryRow {
        &UNARY[self as usize]
    }
    pub fn name(self) -> &'static str {
        self.row().name
    }
    /// Whether float32 rounds the result (the numerics shadow perturbs only ops that do).
    pub fn rounds(self) -> bool {
        self.row().rounds
    }
    pub fn from_name(name: &str) -> Option<UnaryOp> {
        UNARY.iter().find(|r| r.name == name).map(|r| r.op)
    }
    /// The op whose in-place method is `name` (`exp_`), where that form is switched on.
    pub fn from_in_place(name: &str) -> Option<UnaryOp> {
        UNARY
            .iter()
            .find(|r| r.in_place == Some(name))
            .map(|r| r.op)
    }
}

impl BinaryOp {
    pub fn row(self) -> &'static BinaryRow {
        &BINARY[self as usize]
    }
    pub fn name(self) -> &'static str {
        self.row().name
    }
    pub fn from_name(name: &str) -> Option<BinaryOp> {
        BINARY.iter().find(|r| r.name == name).map(|r| r.op)
    }
    /// The op a Python operator (`"+"`, `"//"`, `"<"`) on a tensor lowers to.
    pub fn from_operator(symbol: &str) -> Option<BinaryOp> {
        BINARY
            .iter()
            .find(|r| r.operator == Some(symbol))
            .map(|r| r.op)
    }
    /// The name of the parameter the other operand binds to (`other`, `exponent`).
    pub fn other_param(self) -> &'static str {
        let sig = self.row().sig;
        let second = sig.split(',').nth(1).unwrap_or(sig);
        second.split(':').next().unwrap_or(second).trim()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_enum_order_and_names_are_unique() {
        for (i, r) in UNARY.iter().enumerate() {
            assert_eq!(r.op as usize, i);
            assert!(r.spelled.contains(&Spelling::Method), "{}", r.name);
        }
        for (i, r) in BINARY.iter().enumerate() {
            assert_eq!(r.op as usize, i);
        }
        let mut names: Vec<&str> = UNARY.iter().map(|r| r.name).collect();
        names.extend(BINARY.iter().map(|r| r.name));
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a name is in two rows");
    }

    #[test]
    fn lookups_find_their_rows() {
        assert_eq!(UnaryOp::from_name("sigmoid"), Some(UnaryOp::Sigmoid));
        assert_eq!(UnaryOp::from_name("sigmoid_"), None);
        assert_eq!(BinaryOp::from_operator("//"), Some(BinaryOp::FloorDivide));
        assert_eq!(BinaryOp::from_operator("<="), Some(BinaryOp::Le));
        assert_eq!(BinaryOp::Pow.other_param(), "exponent");
        assert_eq!(BinaryOp::Add.other_param(), "other");
        assert_eq!(InplaceOp::from_name("div_"), Some(InplaceOp::Div));
        assert_eq!(InplaceOp::Mul.binary(), BinaryOp::Mul);
        assert_eq!(BinaryOp::Sub.row().in_place, Some(InplaceOp::Sub));
        assert!(BinaryOp::Remainder.row().in_engine);
        assert!(BinaryOp::Maximum.row().in_engine);
        assert_eq!(BinaryOp::Lt.row().reflected, Reflected::Flip(BinaryOp::Gt));
    }
}
