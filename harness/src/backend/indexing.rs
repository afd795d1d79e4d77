//! The backend calls of the indexing area: Python's `x[items]` and `x[items] = v` with tensors
//! among the items (advanced indexing: bool masks and int64 positions, mixed with basic items),
//! and the functions that return several views (`split`, `chunk`, `unbind`). One variant of
//! [`super::Call`], `Call::Indexing`, carries them, so that the area's calls stand apart from
//! the shared enum; each backend's `indexing` module carries them out.

use super::{Index, Operand};

/// One item of an index expression that may hold a tensor.
#[derive(Debug, Clone)]
pub enum AdvIndex<T> {
    Basic(Index),
    /// A bool mask, or integer positions (Python lowers a list of ints to one).
    Tensor(T),
}

/// The indexing area's calls.
#[derive(Debug, Clone)]
pub enum IndexCall<T> {
    /// `x[items]` where an item is a tensor (`IndexBackward0`, a copy).
    Get { x: T, items: Vec<AdvIndex<T>> },
    /// `x[items] = value` where an item is a tensor: `index_put_` (`IndexPutBackward0`).
    Set {
        x: T,
        items: Vec<AdvIndex<T>>,
        value: Operand<T>,
    },
    /// `x.split(size, dim)`: a tuple of views (`SplitBackward0`).
    Split { x: T, size: i64, dim: i64 },
    /// `x.split([sizes], dim)`: a tuple of views (`SplitWithSizesBackward0`).
    SplitWithSizes { x: T, sizes: Vec<i64>, dim: i64 },
    /// `x.chunk(chunks, dim)`: a `split` in ATen (`SplitBackward0`).
    Chunk { x: T, chunks: i64, dim: i64 },
    /// `x.unbind(dim)`: a tuple of the slices along `dim`, each dropping it (`UnbindBackward0`).
    Unbind { x: T, dim: i64 },
}
