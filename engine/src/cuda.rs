//! The CUDA backend (feature `cuda`). The real device storage is future work: for now this
//! build only reports that no device is usable, through the same typed error as the dummy.

pub use crate::dummy_cuda::*;
