//! Shape, strides and offset: how a tensor reads its storage. Views are new layouts on the same
//! storage, so every view op is a pure function here.

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub shape: Vec<usize>,
    pub strides: Vec<isize>,
    pub offset: usize,
}

pub fn contiguous_strides(shape: &[usize]) -> Vec<isize> {
    let mut s = vec![0isize; shape.len()];
    let mut acc = 1isize;
    for i in (0..shape.len()).rev() {
        s[i] = acc;
        acc *= shape[i].max(1) as isize;
    }
    s
}

/// Normalises a possibly negative dim against `ndim` (a 0-dim tensor accepts -1 and 0, as in
/// libtorch's `maybe_wrap_dim` with `wrap_scalar`).
pub fn wrap_dim(dim: i64, ndim: usize) -> Result<usize> {
    let n = ndim.max(1) as i64;
    if dim < -n || dim >= n {
        return Err(Error::DimOutOfRange {
            dim,
            min: -n,
            max: n - 1,
        });
    }
    Ok(if dim < 0 {
        (dim + n) as usize
    } else {
        dim as usize
    })
}

impl Layout {
    pub fn contiguous(shape: &[usize]) -> Self {
        Layout {
            shape: shape.to_vec(),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_contiguous(&self) -> bool {
        // libtorch calls every empty tensor contiguous, whatever its strides.
        if self.numel() == 0 {
            return true;
        }
        let mut acc = 1isize;
        for i in (0..self.shape.len()).rev() {
            if self.shape[i] != 1 {
                if self.strides[i] != acc {
                    return false;
                }
                acc *= self.shape[i] as isize;
            }
        }
        true
    }
    /// Storage indices of the elements in row-major order.
    pub fn indices(&self) -> StridedIndex<'_> {
        StridedIndex::new(&self.shape, &self.strides, self.offset)
    }
    /// Whether two logical positions can share one storage element (an expanded tensor).
    pub fn has_internal_overlap(&self) -> bool {
        // ATen answers "no" for any dense layout first, so an empty tensor never overlaps.
        if self.is_non_overlapping_and_dense() {
            return false;
        }
        self.shape
            .iter()
            .zip(&self.strides)
            .any(|(&d, &s)| d > 1 && s == 0)
    }
    /// ATen's `is_non_overlapping_and_dense`: the elements fill a gap-free block of storage,
    /// each exactly once, in some order of the dims.
    pub fn is_non_overlapping_and_dense(&self) -> bool {
        if self.is_contiguous() {
            return true;
        }
        if self.shape.len() == 1 {
            return self.shape[0] < 2 || self.strides[0] == 1;
        }
        // Size-0/1 dims say nothing about density; the rest must nest by stride.
        let mut dims: Vec<usize> = (0..self.shape.len())
            .filter(|&d| self.shape[d] >= 2)
            .collect();
        dims.sort_by_key(|&d| self.strides[d]);
        let mut require = 1isize;
        for d in dims {
            if self.strides[d] != require {
                return false;
            }
            require *= self.shape[d] as isize;
        }
        true
    }
    /// Strides for viewing this tensor with `shape` without copying, following ATen's
    /// `computeStride`; `None` when a view is impossible.
    pub fn view_strides(&self, shape: &[usize]) -> Option<Vec<isize>> {
        let old_shape = &self.shape;
        let old_strides = &self.strides;
        if old_shape.is_empty() {
            return Some(vec![1; shape.len()]);
        }
        let numel: usize = old_shape.iter().product();
        if numel == 0 {
            if old_shape == shape {
                return Some(old_strides.clone());
            }
            return Some(contiguous_strides(shape));
        }
        let mut new_strides = vec![0isize; shape.len()];
        let mut view_d = shape.len() as isize - 1;
        let mut chunk_base_stride = *old_strides.last().unwrap();
        let mut tensor_numel = 1usize;
        let mut view_numel = 1usize;
        for tensor_d in (0..old_shape.len()).rev() {
            tensor_numel *= old_shape[tensor_d];
            if tensor_d == 0
                || (old_shape[tensor_d - 1] != 1
                    && old_strides[tensor_d - 1] != tensor_numel as isize * chunk_base_stride)
            {
                while view_d >= 0 && (view_numel < tensor_numel || shape[view_d as usize] == 1) {
                    new_strides[view_d as usize] = view_numel as isize * chunk_base_stride;
                    view_numel *= shape[view_d as usize];
                    view_d -= 1;
                }
                if view_numel != tensor_numel {
                    return None;
                }
                if tensor_d > 0 {
                    chunk_base_stride = old_strides[tensor_d - 1];
                    tensor_numel = 1;
                    view_numel = 1;
                }
            }
        }
        if view_d != -1 {
            return None;
        }
        Some(new_strides)
    }
    /// Strides that broadcast this layout to `shape` (which must be a valid broadcast target).
    pub fn broadcast_strides(&self, shape: &[usize]) -> Vec<isize> {
        let pad = shape.len() - self.shape.len();
        let mut s = vec![0isize; shape.len()];
        for i in 0..self.shape.len() {
            if self.shape[i] != 1 || shape[i + pad] == 1 {
                s[i + pad] = if self.shape[i] == 1 {
                    0
                } else {
                    self.strides[i]
                };
            }
        }
        s
    }
}

/// The shape two shapes broadcast to, with libtorch's error.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0usize; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(Error::BroadcastShape {
                a: da,
                b: db,
                dim: i,
            });
        };
    }
    Ok(out)
}

/// Row-major iteration over the storage indices of a strided layout.
pub struct StridedIndex<'a> {
    shape: &'a [usize],
    strides: &'a [isize],
    idx: Vec<usize>,
    next: Option<isize>,
}

impl<'a> StridedIndex<'a> {
    pub fn new(shape: &'a [usize], strides: &'a [isize], offset: usize) -> Self {
        let empty = shape.contains(&0);
        StridedIndex {
            shape,
            strides,
            idx: vec![0; shape.len()],
            next: if empty { None } else { Some(offset as isize) },
        }
    }
}

impl Iterator for StridedIndex<'_> {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        let cur = self.next?;
        let mut pos = cur;
        let mut d = self.shape.len();
        loop {
            if d == 0 {
                self.next = None;
                break;
            }
            d -= 1;
            self.idx[d] += 1;
            pos += self.strides[d];
            if self.idx[d] < self.shape[d] {
                self.next = Some(pos);
                break;
            }
            pos -= self.strides[d] * self.shape[d] as isize;
            self.idx[d] = 0;
        }
        Some(cur as usize)
    }
}

/// Calls `f(ia, ib)` for the storage indices of two layouts over the same logical `shape`, in
/// row-major order.
#[inline]
pub fn for_each2(
    shape: &[usize],
    sa: &[isize],
    oa: usize,
    sb: &[isize],
    ob: usize,
    mut f: impl FnMut(usize, usize),
) {
    if shape.contains(&0) {
        return;
    }
    let n = shape.len();
    if n == 0 {
        f(oa, ob);
        return;
    }
    let mut idx = vec![0usize; n];
    let (mut pa, mut pb) = (oa as isize, ob as isize);
    let inner = shape[n - 1];
    let (ia, ib) = (sa[n - 1], sb[n - 1]);
    loop {
        let (mut qa, mut qb) = (pa, pb);
        for _ in 0..inner {
            f(qa as usize, qb as usize);
            qa += ia;
            qb += ib;
        }
        // Advance the outer dims.
        let mut d = n - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            pa += sa[d];
            pb += sb[d];
            if idx[d] < shape[d] {
                break;
            }
            pa -= sa[d] * shape[d] as isize;
            pb -= sb[d] * shape[d] as isize;
            idx[d] = 0;
        }
    }
}

/// Strided layout of `l` with `dim` moved last: `(outer layout, inner length, inner stride)`.
pub fn split_rows(l: &Layout, dim: usize) -> (Layout, usize, isize) {
    let mut shape = l.shape.clone();
    let mut strides = l.strides.clone();
    let len = shape.remove(dim);
    let stride = strides.remove(dim);
    (
        Layout {
            shape,
            strides,
            offset: l.offset,
        },
        len,
        stride,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_index_of_transpose() {
        let l = Layout {
            shape: vec![3, 2],
            strides: vec![1, 3],
            offset: 0,
        };
        assert_eq!(l.indices().collect::<Vec<_>>(), vec![0, 3, 1, 4, 2, 5]);
    }

    #[test]
    fn view_of_transposed_is_impossible() {
        let l = Layout {
            shape: vec![3, 2],
            strides: vec![1, 3],
            offset: 0,
        };
        assert_eq!(l.view_strides(&[6]), None);
        assert_eq!(
            Layout::contiguous(&[2, 3]).view_strides(&[3, 2]),
            Some(vec![2, 1])
        );
    }

    #[test]
    fn broadcast_error_names_dim() {
        assert_eq!(
            broadcast_shapes(&[2], &[3]),
            Err(Error::BroadcastShape { a: 2, b: 3, dim: 0 })
        );
        assert_eq!(broadcast_shapes(&[2, 1], &[3]).unwrap(), vec![2, 3]);
    }
}
