//! Functions that return several views of one tensor: `split` (`SplitBackward0`),
//! `split_with_sizes` (`SplitWithSizesBackward0`), `chunk` (a `split`, as in ATen) and `unbind`
//! (`UnbindBackward0`), with libtorch's rule for their outputs: made with grad mode on they are
//! `CreationMeta::MultiOutputNode` views, which may not be modified in place (the check lives
//! in `check_inplace` and in a view's `grad_fn` regeneration; the message is
//! `Error::MultiOutputViewInplace`).
//!
//! libtorch gives all outputs one node with several outputs (`output_nr` 0, 1, ...). The
//! engine's nodes have one output each, so every output gets its own node of that name whose
//! rule places its gradient into zeros of the input's shape; `output_nr` is still the output's
//! position, as the messages need. The input's gradient is the same sum; what differs is that it
//! arrives as several contributions (the engine adds them in one buffer, bumping that buffer's
//! version) and that a `-0.0` gradient entry becomes `+0.0` when added to zeros.

use crate::autograd::{InputMeta, Recorder};
use crate::error::{Error, Result, ShapeI};
use crate::layout::{Layout, wrap_dim};
use crate::ops::shape::{embed, select_layout, slice_layout};
use crate::tensor::{CreationMeta, Tensor};

/// How an output sits in the input: `len` entries of `dim` from `start`, or entry `start` with
/// `dim` removed.
#[derive(Clone, Copy)]
enum Part {
    Slice { start: usize, len: usize },
    Select(usize),
}

impl Part {
    fn layout(self, l: &Layout, dim: usize) -> Layout {
        match self {
            Part::Slice { start, len } => slice_layout(l, dim, start, len, 1),
            Part::Select(i) => select_layout(l, dim, i),
        }
    }
}

impl Tensor {
    /// The views of `parts` along `dim`, each with its own `name` node and `output_nr`.
    fn multi_view(&self, dim: usize, parts: &[Part], name: &'static str) -> Result<Vec<Tensor>> {
        crate::autograd::precheck(&[self])?;
        let l = self.layout();
        let in_shape = l.shape.clone();
        let grad_on = crate::is_grad_enabled();
        let mut outs = Vec::with_capacity(parts.len());
        for (nr, &part) in parts.iter().enumerate() {
            let v = self.make_view(part.layout(&l, dim));
            if grad_on && let Some(info) = v.0.meta.lock().unwrap().view.as_mut() {
                info.creation_meta = CreationMeta::MultiOutputNode;
            }
            if let Some(rec) = Recorder::new(name, &[self])? {
                if !v.dtype().is_float() {
                    return Err(Error::AutogradDtype(v.dtype().scalar_type_name()));
                }
                let meta = InputMeta {
                    shape: v.shape(),
                    dtype: v.dtype(),
                };
                let in_shape = in_shape.clone();
                let node = rec.into_node(meta, move |_, g| {
                    Ok(vec![Some(embed(&g, &in_shape, |c| part.layout(c, dim))?)])
                });
                v.set_grad_fn(Some(node), nr);
            }
            outs.push(v);
        }
        Ok(outs)
    }

    /// `split(split_size, dim)`: pieces of `split_size` along `dim`, the last one shorter.
    pub fn split(&self, split_size: i64, dim: i64) -> Result<Vec<Tensor>> {
        // The autograd wrapper reads `self`'s grad_fn (a stale no_grad view fails) before the
        // kernel checks its arguments; `chunk` has no wrapper and checks its own first.
        crate::autograd::precheck(&[self])?;
        if self.ndim() == 0 {
            return Err(Error::InvalidArgument(
                "split expects at least a 1-dimensional tensor".into(),
            ));
        }
        if split_size < 0 {
            return Err(Error::InvalidArgument(format!(
                "split expects split_size be non-negative, but got split_size={split_size}"
            )));
        }
        let d = wrap_dim(dim, self.ndim())?;
        let size = self.shape()[d];
        if split_size == 0 && size != 0 {
            return Err(Error::InvalidArgument(format!(
                "split_size can only be 0 if dimension size is 0, but got dimension size of {size}"
            )));
        }
        let s = split_size as usize;
        let n = if s == 0 { 1 } else { size.div_ceil(s).max(1) };
        let parts: Vec<Part> = (0..n)
            .map(|i| Part::Slice {
                start: (i * s).min(size),
                len: s.min(size.saturating_sub(i * s)),
            })
            .collect();
        self.multi_view(d, &parts, "SplitBackward0")
    }

    /// `split(sizes, dim)` with a list: pieces of the given sizes, which must sum to the size.
    pub fn split_with_sizes(&self, sizes: &[i64], dim: i64) -> Result<Vec<Tensor>> {
        // The autograd wrapper reads `self`'s grad_fn (a stale no_grad view fails) before the
        // kernel checks its arguments; `chunk` has no wrapper and checks its own first.
        crate::autograd::precheck(&[self])?;
        if self.ndim() == 0 {
            return Err(Error::InvalidArgument(
                "split expects at least a 1-dimensional tensor".into(),
            ));
        }
        let d = wrap_dim(dim, self.ndim())?;
        let size = self.shape()[d];
        let mut parts = Vec::with_capacity(sizes.len());
        let mut start = 0usize;
        for &len in sizes {
            if len < 0 {
                return Err(Error::InvalidArgument(format!(
                    "split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes={}",
                    ShapeI(sizes.to_vec())
                )));
            }
            parts.push(Part::Slice {
                start: start.min(size),
                len: (len as usize).min(size.saturating_sub(start)),
            });
            start += len as usize;
        }
        if start != size {
            return Err(Error::InvalidArgument(format!(
                "split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at dimension {dim}), but got split_sizes={}",
                ShapeI(sizes.to_vec())
            )));
        }
        self.multi_view(d, &parts, "SplitWithSizesBackward0")
    }

    /// `chunk(chunks, dim)`: `split` by `ceil(size / chunks)`, so possibly fewer chunks.
    pub fn chunk(&self, chunks: i64, dim: i64) -> Result<Vec<Tensor>> {
        if self.ndim() == 0 {
            return Err(Error::InvalidArgument(
                "chunk expects at least a 1-dimensional tensor".into(),
            ));
        }
        if chunks <= 0 {
            return Err(Error::InvalidArgument(format!(
                "chunk expects `chunks` to be greater than 0, got: {chunks}"
            )));
        }
        let d = wrap_dim(dim, self.ndim())?;
        let size = self.shape()[d] as i64;
        let split_size = (size + chunks - 1) / chunks;
        if split_size == 0 && size == 0 {
            // ATen keeps the number of (empty) chunks through split_with_sizes.
            return self.split_with_sizes(&vec![0; chunks as usize], dim);
        }
        self.split(split_size, dim)
    }

    /// `unbind(dim)`: the entries along `dim`, each without that dim.
    pub fn unbind(&self, dim: i64) -> Result<Vec<Tensor>> {
        // The autograd wrapper reads `self`'s grad_fn (a stale no_grad view fails) before the
        // kernel checks its arguments; `chunk` has no wrapper and checks its own first.
        crate::autograd::precheck(&[self])?;
        if self.ndim() == 0 {
            return Err(Error::InvalidArgument(format!(
                "Dimension specified as {dim} but tensor has no dimensions"
            )));
        }
        let d = wrap_dim(dim, self.ndim())?;
        let parts: Vec<Part> = (0..self.shape()[d]).map(Part::Select).collect();
        self.multi_view(d, &parts, "UnbindBackward0")
    }
}
