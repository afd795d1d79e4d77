//! The elementwise kernels a storage backend runs, as traits that the rows of the op table
//! (`ops::table`) implement. The CPU storage calls the Rust functions; the CUDA storage compiles
//! the row's CUDA C source (`CUDA`, cached per device under `MODULE`) and launches its entry
//! points `{NAME}_f32`, `{NAME}_f64`, `{NAME}_i64` and `{NAME}_bool`.
//!
//! Nothing here knows about tensors or autograd: a kernel maps elements to elements. Which
//! dtypes an op computes in, and its backward rule, are the row's business.

use crate::DType;

/// An elementwise op of one operand, result in the operand's dtype.
pub trait UnaryKernel {
    /// The kernel's name: it names the CUDA entry points and the op in dtype errors.
    const NAME: &'static str;
    /// The kernel module the entry points live in (one per table row).
    const MODULE: &'static str;
    /// The module's CUDA C source, without the shared prelude (`kernels/prelude.cuh`).
    const CUDA: &'static str;
    /// Whether `i64` is a kernel; otherwise the kernel takes floats only.
    const INT: bool;
    fn f32(x: f32) -> f32;
    fn f64(x: f64) -> f64;
    /// The int64 kernel; never called when `INT` is false.
    fn i64(x: i64) -> i64;
}

/// An elementwise op of two same-dtype operands, result in their dtype.
pub trait BinaryKernel {
    /// See [`UnaryKernel::NAME`].
    const NAME: &'static str;
    /// See [`UnaryKernel::MODULE`].
    const MODULE: &'static str;
    /// See [`UnaryKernel::CUDA`].
    const CUDA: &'static str;
    /// Whether `i64` is a kernel.
    const INT: bool;
    /// Whether `bool` is a kernel.
    const BOOL: bool;
    fn f32(a: f32, b: f32) -> f32;
    fn f64(a: f64, b: f64) -> f64;
    /// Never called when `INT` is false.
    fn i64(a: i64, b: i64) -> i64;
    /// Never called when `BOOL` is false.
    fn bool(a: bool, b: bool) -> bool;
}

/// An elementwise comparison of two same-dtype operands (every dtype), result bool.
pub trait CompareKernel {
    /// See [`UnaryKernel::NAME`].
    const NAME: &'static str;
    /// See [`UnaryKernel::MODULE`].
    const MODULE: &'static str;
    /// See [`UnaryKernel::CUDA`].
    const CUDA: &'static str;
    fn cmp<T: PartialOrd>(a: T, b: T) -> bool;
}

/// The suffix of a dtype's entry point: `f32`, `f64`, `i64`, `bool`.
pub fn dtype_suffix(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "f32",
        DType::F64 => "f64",
        DType::I64 => "i64",
        DType::I32 => "i32",
        DType::I16 => "i16",
        DType::I8 => "i8",
        DType::Bool => "bool",
    }
}

/// The CUDA entry point of kernel `name` for `dtype` (`exp_f32`).
pub fn entry(name: &str, dtype: DType) -> String {
    format!("{name}_{}", dtype_suffix(dtype))
}

/// Whether the backends run `U` on `dtype`; otherwise both refuse it with the dtype error
/// naming the kernel.
pub fn unary_runs<U: UnaryKernel>(dtype: DType) -> bool {
    dtype.is_float() || dtype.is_int() && U::INT
}

/// Whether the backends run `B` on `dtype`, as [`unary_runs`].
pub fn binary_runs<B: BinaryKernel>(dtype: DType) -> bool {
    dtype.is_float() || dtype.is_int() && B::INT || dtype == DType::Bool && B::BOOL
}
