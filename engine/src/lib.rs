//! A standalone autograd engine with libtorch 2.13's autograd semantics, on the CPU (and on
//! CUDA behind the `cuda` feature, unverified on a GPU).
//!
//! Layout after candle-core: [`storage`] holds buffers and dispatches each op's kernel to its
//! backend ([`cpu`], `cuda`), [`tensor`] is the handle with its layout, version counter and
//! autograd metadata, [`autograd`] the graph nodes, [`backprop`] the backward pass, and [`ops`]
//! every op with its backward rule beside its forward; the elementwise ops are rows of
//! [`ops::table`]. See `ARCHITECTURE.md` for how to add an op.

pub mod autograd;
pub mod backprop;
pub mod cpu;
pub mod creation;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod device;
pub mod dtype;
#[cfg(not(feature = "cuda"))]
pub mod dummy_cuda;
pub mod error;
pub mod grad_mode;
pub mod kernel;
pub mod layout;
pub mod memory_format;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod storage;
pub mod tensor;
pub mod warnings;

#[cfg(feature = "cuda")]
pub(crate) use cuda as cuda_backend;
#[cfg(not(feature = "cuda"))]
pub(crate) use dummy_cuda as cuda_backend;

pub use autograd::{BackwardCtx, Edge, Node, Recorder, SavedId};
pub use creation::Generator;
pub use device::Device;
pub use dtype::{DType, Scalar};
pub use error::{Error, Result};
pub use grad_mode::{
    GradModeGuard, enable_grad, is_grad_enabled, no_grad, set_grad_enabled, with_grad_mode,
    with_no_grad,
};
pub use layout::Layout;
pub use ops::advanced_index::TensorIndex;
pub use ops::index::IndexItem;
pub use ops::loss::Reduction;
pub use storage::{CpuStorage, Storage};
pub use tensor::{CreationMeta, NestedList, Tensor};
pub use warnings::take_warnings;
