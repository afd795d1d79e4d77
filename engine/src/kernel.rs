//! The elementwise kernels a storage backend runs, as traits that the rows of the op table
//! (`ops::table`) implement. The CPU storage calls the Rust functions; the CUDA storage compiles
//! the row's CUDA C source (`CUDA`, cached per device under `MODULE`) and launches its entry
//! points `{NAME}_f32`, `{NAME}_f64`, `{NAME}_i64` and `{NAME}_bool`.
//!
//! Nothing here knows about tensors or autograd: a kernel maps elements to elements. Which
//! dtypes an op computes in, and its backward rule, are the row's business.

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
