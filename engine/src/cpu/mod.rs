//! CPU compute kernels: dense matrix products (through the `gemm` crate) and 2-D convolution
//! (im2col + GEMM), written as plain functions over slices with explicit layouts, and the CPU
//! storage's op methods over them (`elementwise.rs`, `reduce.rs`, `products.rs`), which the
//! [`crate::storage::Storage`] dispatch calls.
//!
//! These know nothing about tensors or autograd; the ops validate user-facing shapes and ask
//! the storage. The layouts a caller passes are still checked (bounds, overlapping
//! outputs), so a caller bug surfaces as a [`KernelError`] instead of memory unsafety.

mod conv;
mod elementwise;
mod gemm;
mod products;
mod reduce;
mod storage;

pub use conv::{
    Conv2dGeometry, conv2d_backward_bias, conv2d_backward_input, conv2d_backward_weight,
    conv2d_forward,
};
pub(crate) use elementwise::f64_to_i64_x86;
pub use gemm::{Accumulate, MatLayout, batched_matmul, matmul, matmul_signed_zeros};
pub(crate) use products::{contiguous, mat_of};
pub use storage::{CpuStorage, StorageElem};

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul, Sub};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A floating-point element the kernels accept. Sealed: the `gemm` crate only has fast paths
/// for these two types and panics on anything else.
pub trait Float:
    Copy
    + Send
    + Sync
    + Default
    + PartialEq
    + Debug
    + Add<Output = Self>
    + Mul<Output = Self>
    + Sub<Output = Self>
    + AddAssign
    + sealed::Sealed
    + 'static
{
    const ZERO: Self;
    const NEG_ZERO: Self;
    const ONE: Self;
    fn is_sign_negative(self) -> bool;
}

impl Float for f32 {
    const ZERO: Self = 0.0;
    const NEG_ZERO: Self = -0.0;
    const ONE: Self = 1.0;
    fn is_sign_negative(self) -> bool {
        f32::is_sign_negative(self)
    }
}

impl Float for f64 {
    const ZERO: Self = 0.0;
    const NEG_ZERO: Self = -0.0;
    const ONE: Self = 1.0;
    fn is_sign_negative(self) -> bool {
        f64::is_sign_negative(self)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A kernel was handed arguments that do not describe valid memory. These are bugs in the
/// caller (shape checks belong in the ops layer), reported rather than risked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KernelError {
    #[error("{what}: layout reaches element {index} but the buffer holds {len}")]
    OutOfBounds {
        what: &'static str,
        index: isize,
        len: usize,
    },
    #[error("{what}: output layout maps several elements to the same memory")]
    OverlappingOutput { what: &'static str },
    #[error("{what}: shape mismatch: {detail}")]
    ShapeMismatch { what: &'static str, detail: String },
    #[error("conv2d: invalid geometry: {0}")]
    InvalidGeometry(String),
}

/// 0 means "not set": use the machine's available parallelism.
static NUM_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many threads kernels may use (like `torch.set_num_threads`). Values above the
/// size of rayon's global pool gain nothing; 1 makes every kernel single-threaded.
pub fn set_num_threads(n: usize) {
    NUM_THREADS.store(n.max(1), Ordering::Relaxed);
}

/// The number of threads kernels use.
pub fn num_threads() -> usize {
    match NUM_THREADS.load(Ordering::Relaxed) {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(rayon::current_num_threads()),
        n => n.min(rayon::current_num_threads().max(1)),
    }
}
