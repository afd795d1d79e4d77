//! Python basic indexing (`x[0, 1:3, None, ...]`) as chains of views, and `x[...] = v` as a
//! view followed by `copy_`/`fill_`, following `THPVariable_getitem`/`setitem`.

use crate::error::{Error, Result};
use crate::ops::elementwise::Operand;
use crate::tensor::Tensor;

/// One item of a basic-indexing expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexItem {
    Int(i64),
    Slice {
        start: Option<i64>,
        stop: Option<i64>,
        step: i64,
    },
    NewAxis,
    Ellipsis,
}

/// Python's slice bounds for a positive step, clamped to `[0, size]`.
fn slice_bounds(start: Option<i64>, stop: Option<i64>, size: usize) -> (usize, usize) {
    let n = size as i64;
    let norm = |v: i64| (if v < 0 { v + n } else { v }).clamp(0, n) as usize;
    let s = start.map_or(0, norm);
    let e = stop.map_or(size, norm);
    (s, e.max(s))
}

fn apply(x: &Tensor, items: &[IndexItem], skip_full_slices: bool) -> Result<Tensor> {
    let ndim = x.ndim();
    let specified = items
        .iter()
        .filter(|i| matches!(i, IndexItem::Int(_) | IndexItem::Slice { .. }))
        .count();
    if items.iter().filter(|i| **i == IndexItem::Ellipsis).count() > 1 {
        return Err(Error::InvalidArgument(
            "an index can only have a single ellipsis ('...')".into(),
        ));
    }
    // A lone item takes ATen's single-index path (`applySelect`, `slice`), which words the
    // 0-dim error per item; a tuple of items is counted against the dims first.
    if ndim == 0 && items.len() == 1 {
        match items[0] {
            IndexItem::Int(0) => return Err(Error::InvalidArgument(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number".into(),
            )),
            IndexItem::Int(index) => {
                return Err(Error::IndexOutOfRange {
                    index,
                    dim: 0,
                    size: 0,
                });
            }
            IndexItem::Slice { .. } => {
                // `slice`'s autograd wrapper collects the input's edge (which can fail on a
                // stale no_grad view) before the kernel refuses the 0-dim tensor.
                crate::autograd::precheck(&[x])?;
                return Err(Error::InvalidArgument(
                    "slice() cannot be applied to a 0-dim tensor.".into(),
                ));
            }
            IndexItem::NewAxis | IndexItem::Ellipsis => {}
        }
    }
    if specified > ndim {
        return Err(Error::InvalidArgument(format!(
            "too many indices for tensor of dimension {ndim}"
        )));
    }
    let mut r = x.clone();
    let mut dim = 0usize;
    for item in items {
        match *item {
            IndexItem::Int(i) => {
                let size = r.shape()[dim];
                if i < -(size as i64) || i >= size as i64 {
                    return Err(Error::IndexOutOfRange {
                        index: i,
                        dim,
                        size,
                    });
                }
                r = r.select(dim as i64, i)?;
            }
            IndexItem::Slice { start, stop, step } => {
                if step <= 0 {
                    return Err(Error::InvalidArgument(
                        "step must be greater than zero".into(),
                    ));
                }
                let size = r.shape()[dim];
                let (s, e) = slice_bounds(start, stop, size);
                // ATen skips a slice whose start as written is 0 (not a negative start that
                // wraps to 0) and whose clamped stop is the size.
                let from_zero = start.is_none_or(|v| v == 0);
                if !(skip_full_slices && from_zero && e == size && step == 1) {
                    r = r.slice(dim, s, e, step as usize)?;
                }
                dim += 1;
            }
            IndexItem::NewAxis => {
                r = r.unsqueeze(dim as i64)?;
                dim += 1;
            }
            IndexItem::Ellipsis => dim += ndim - specified,
        }
    }
    Ok(r)
}

impl Tensor {
    /// `x[items]`: a view. A lone slice is always a `SliceBackward0` view; an index that
    /// selects everything returns an alias (`AliasBackward0`), as Python does.
    pub fn index(&self, items: &[IndexItem]) -> Result<Tensor> {
        if let [IndexItem::Slice { .. }] = items {
            return apply(self, items, false);
        }
        let r = apply(self, items, true)?;
        if r.same(self) {
            return self.alias();
        }
        Ok(r)
    }

    /// `x[items] = value`: the indexed view (or `x` itself when everything is selected), then
    /// `copy_` of a tensor or `fill_` of a number wrapped as a tensor (`FillBackward3`).
    pub fn index_set(&self, items: &[IndexItem], value: impl Into<Operand>) -> Result<()> {
        let dst = apply(self, items, true)?;
        match value.into() {
            Operand::Scalar(s) => {
                let v = Tensor::scalar(s, dst.dtype());
                dst.fill_tensor_(&v)?;
            }
            // Python's `copy_to`: a 0-dim CPU value into a differently shaped target is a
            // `fill_` (`FillBackward3`), not a `copy_`.
            Operand::Tensor(v)
                if v.ndim() == 0
                    && v.device() == crate::Device::Cpu
                    && dst.shape() != v.shape() =>
            {
                dst.fill_tensor_(&v)?;
            }
            Operand::Tensor(v) if v.shape() == dst.shape() => {
                dst.copy_(&v)?;
            }
            // ATen's `copy_to`: drop every leading size-1 dim of the value, expand it to the
            // target (the expand's strides matter: `copy_` compares them for overlap), copy.
            Operand::Tensor(v) => {
                let shape = v.shape();
                let lead = shape.iter().take_while(|&&d| d == 1).count();
                let s: Vec<i64> = shape[lead..].iter().map(|&d| d as i64).collect();
                let target: Vec<i64> = dst.shape().iter().map(|&d| d as i64).collect();
                dst.copy_(&v.view(&s)?.expand(&target)?)?;
            }
        }
        Ok(())
    }
}
