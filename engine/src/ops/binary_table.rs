//! The binary and comparison rows of the op table: kernels only. A row is a name, the CPU
//! closures per dtype family and their CUDA expressions of `a` and `b`; the ops' type
//! promotion, Python-scalar wrapping and backward rules are hand-written in `elementwise.rs`
//! and `inplace.rs`, because those differ from op to op. They stand apart from the unary rows
//! (`table.rs`) because the elementwise ops read these kernels, while the unary rows' in-place
//! forms are built on `inplace.rs`, which reads `elementwise.rs`.

use crate::kernel::{BinaryKernel, CompareKernel};

/// What the tests read of a binary or comparison row.
#[derive(Debug, Clone, Copy)]
pub struct KernelInfo {
    pub name: &'static str,
    /// Whether there is an int64 kernel.
    pub int: bool,
    /// Whether there is a bool kernel.
    pub bool: bool,
    /// The row's CUDA kernel module, without the prelude.
    pub cuda: &'static str,
}

/// A binary row's optional CPU kernel for one dtype family, or a stand-in never called.
macro_rules! binary_fn {
    ($f:ident, $t:ty) => {
        fn $f(a: $t, _: $t) -> $t {
            a
        }
    };
    ($f:ident, $t:ty, |$a:ident, $b:ident| $body:expr) => {
        fn $f($a: $t, $b: $t) -> $t {
            $body
        }
    };
}

macro_rules! binary_ops {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident {
            float: |$a:ident, $b:ident| $f:expr => $fc:literal,
            $(int: |$ia:ident, $ib:ident| $i:expr => $ic:literal,)?
            $(bool: |$ba:ident, $bb:ident| $bo:expr => $bc:literal,)?
        }
    )*) => {
        $(
            $(#[doc = $doc])*
            #[allow(non_camel_case_types)]
            pub struct $name;
            impl BinaryKernel for $name {
                const NAME: &'static str = stringify!($name);
                const MODULE: &'static str = stringify!($name);
                const CUDA: &'static str = concat!(
                    "BINARY_FLOAT(", stringify!($name), ", ", stringify!($a), ", ",
                    stringify!($b), ", ", $fc, ")\n",
                    $("BINARY_INT(", stringify!($name), ", ", stringify!($ia), ", ",
                    stringify!($ib), ", ", $ic, ")\n",)?
                    $("BINARY_BOOL(", stringify!($name), ", ", stringify!($ba), ", ",
                    stringify!($bb), ", ", $bc, ")\n",)?
                );
                const INT: bool = present!($($ic)?);
                const BOOL: bool = present!($($bc)?);
                fn f32($a: f32, $b: f32) -> f32 {
                    $f
                }
                fn f64($a: f64, $b: f64) -> f64 {
                    $f
                }
                binary_fn!(i64, i64 $(, |$ia, $ib| $i)?);
                binary_fn!(bool, bool $(, |$ba, $bb| $bo)?);
            }
        )*

        /// Every binary row.
        pub const BINARY_ROWS: &[KernelInfo] = &[$(
            KernelInfo {
                name: stringify!($name),
                int: <$name as BinaryKernel>::INT,
                bool: <$name as BinaryKernel>::BOOL,
                cuda: <$name as BinaryKernel>::CUDA,
            },
        )*];
    };
}

binary_ops! {
    /// `a + b`; integers wrap, bools are `or`.
    add {
        float: |a, b| a + b => "a + b",
        int: |a, b| a.wrapping_add(b) => "(T)((u64)a + (u64)b)",
        bool: |a, b| a | b => "a | b",
    }
    /// `a - b`; integers wrap (bools are refused before the kernel).
    sub {
        float: |a, b| a - b => "a - b",
        int: |a, b| a.wrapping_sub(b) => "(T)((u64)a - (u64)b)",
    }
    /// `a * b`; integers wrap, bools are `and`.
    mul {
        float: |a, b| a * b => "a * b",
        int: |a, b| a.wrapping_mul(b) => "(T)((u64)a * (u64)b)",
        bool: |a, b| a & b => "a & b",
    }
    /// `a / b` (true division: operands are floats by then).
    div {
        float: |a, b| a / b => "a / b",
    }
    /// `torch.maximum`: a NaN on either side wins (the first one), a tie keeps the first
    /// operand (`0.0` and `-0.0`), as ATen's kernels do; bools are `or`.
    maximum {
        float: |a, b| if a.is_nan() { a } else if b.is_nan() { b } else if a >= b { a } else { b }
            => "a != a ? a : b != b ? b : a >= b ? a : b",
        int: |a, b| a.max(b) => "a >= b ? a : b",
        bool: |a, b| a | b => "a | b",
    }
    /// `torch.minimum`, as [`maximum`].
    minimum {
        float: |a, b| if a.is_nan() { a } else if b.is_nan() { b } else if a <= b { a } else { b }
            => "a != a ? a : b != b ? b : a <= b ? a : b",
        int: |a, b| a.min(b) => "a <= b ? a : b",
        bool: |a, b| a & b => "a & b",
    }
}

macro_rules! compare_ops {
    ($($name:ident: $op:tt,)*) => {
        $(
            #[doc = concat!("`a ", stringify!($op), " b`, for every dtype.")]
            #[allow(non_camel_case_types)]
            pub struct $name;
            impl CompareKernel for $name {
                const NAME: &'static str = stringify!($name);
                const MODULE: &'static str = stringify!($name);
                const CUDA: &'static str =
                    concat!("COMPARE(", stringify!($name), ", a, b, a ", stringify!($op), " b)\n");
                fn cmp<T: PartialOrd>(a: T, b: T) -> bool {
                    a $op b
                }
            }
        )*

        /// Every comparison row.
        pub const COMPARE_ROWS: &[KernelInfo] = &[$(
            KernelInfo {
                name: stringify!($name),
                int: true,
                bool: true,
                cuda: <$name as CompareKernel>::CUDA,
            },
        )*];
    };
}

compare_ops! {
    eq: ==,
    ne: !=,
    lt: <,
    le: <=,
    gt: >,
    ge: >=,
}
