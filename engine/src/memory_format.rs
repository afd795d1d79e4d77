//! Which strides a new tensor gets. libtorch does not make every result contiguous: an
//! elementwise result follows its inputs' stride order (TensorIterator), a copy keeps its
//! source's (`empty_like` with `preserve_format`), and `.grad` follows its leaf (the gradient
//! layout contract). The strides are observable: they decide whether a later `reshape`,
//! `flatten` or `contiguous` views or copies, and so its `grad_fn` and version sharing.

use crate::layout::{Layout, contiguous_strides};

/// ATen's `is_contiguous(MemoryFormat::ChannelsLast)`: NHWC order, size-1 dims ignored.
pub fn is_channels_last_contiguous(l: &Layout) -> bool {
    if l.ndim() != 4 {
        return false;
    }
    let mut expected = 1isize;
    for d in [1, 3, 2, 0] {
        if l.shape[d] != 1 {
            if l.strides[d] != expected {
                return false;
            }
            expected *= l.shape[d] as isize;
        }
    }
    true
}

/// ATen's `is_channels_last_strides_2d_s4` / `_3d_s5`: whether strides look channels-last
/// (the `is_strides_like_channels_last` flag behind `suggest_memory_format`). Ambiguous
/// layouts (a trivial channel dim, N111 with equal strides) count as contiguous.
pub fn strides_like_channels_last(l: &Layout) -> bool {
    let order: &[usize] = match l.ndim() {
        4 => &[1, 3, 2, 0],
        5 => &[1, 4, 3, 2, 0],
        _ => return false,
    };
    if l.strides[1] == 0 {
        return false;
    }
    let mut min = 0isize;
    for &d in order {
        if l.shape[d] == 0 || l.strides[d] < min {
            return false;
        }
        if d == 0 && min == l.strides[1] {
            return false;
        }
        min = l.strides[d];
        if l.shape[d] > 1 {
            min *= l.shape[d] as isize;
        }
    }
    true
}

/// `get_channels_last_strides_2d` / `_3d`: NHWC (NDHWC) strides for a 4-d (5-d) shape.
pub fn channels_last_strides_nd(shape: &[usize]) -> Vec<isize> {
    if shape.len() == 4 {
        return channels_last_strides(shape);
    }
    let s: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
    let mut st = vec![0isize; 5];
    st[1] = 1;
    st[4] = s[1];
    st[3] = st[4] * s[4];
    st[2] = st[3] * s[3];
    st[0] = st[2] * s[2];
    st
}

/// ATen's `get_channels_last_strides_2d` for a 4-d shape.
pub fn channels_last_strides(shape: &[usize]) -> Vec<isize> {
    let s: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
    let mut st = vec![0isize; 4];
    st[1] = 1;
    st[3] = s[1];
    st[2] = st[3] * s[3];
    st[0] = st[2] * s[2];
    st
}

/// Output strides of a TensorIterator op (every elementwise op) over `inputs` in argument
/// order, broadcast to `shape`. Follows `TensorIteratorBase`: the fast set-up when all inputs
/// share the output's shape (contiguous, channels-last, or one common dense layout), else the
/// stride-ordered permutation of `reorder_dimensions` and `compatible_stride`.
pub fn iterator_strides(shape: &[usize], inputs: &[&Layout]) -> Vec<isize> {
    let n = shape.len();
    if n == 0 {
        return Vec::new();
    }
    if inputs.iter().all(|l| l.shape == shape) {
        if inputs.iter().all(|l| l.is_contiguous()) {
            return contiguous_strides(shape);
        }
        if inputs.iter().all(|l| is_channels_last_contiguous(l)) {
            return channels_last_strides(shape);
        }
        if inputs.iter().all(|l| l.is_non_overlapping_and_dense())
            && inputs.windows(2).all(|w| w[0].strides == w[1].strides)
        {
            return inputs[0].strides.clone();
        }
    }
    let perm = iteration_order(shape, inputs);
    if perm.iter().enumerate().all(|(j, &d)| d == n - 1 - j) {
        return contiguous_strides(shape);
    }
    let mut out = vec![0isize; n];
    let mut next = 1isize;
    for &d in &perm {
        out[d] = next;
        next *= shape[d] as isize;
    }
    out
}

/// TensorIterator's iteration order over `shape` for `operands` (an in-place op's output
/// first): dims from fastest to slowest (`reorder_dimensions`).
pub fn iteration_order(shape: &[usize], operands: &[&Layout]) -> Vec<usize> {
    let n = shape.len();
    if n == 0 {
        return Vec::new();
    }
    // `compute_strides`: a broadcast dim (new, or size 1 stretched) has stride 0 and takes
    // no part in ordering; a size-1 dim that stays size 1 keeps its stride.
    let strides: Vec<Vec<isize>> = operands
        .iter()
        .map(|l| {
            let pad = n - l.ndim();
            (0..n)
                .map(|i| match i.checked_sub(pad) {
                    Some(j) if !(l.shape[j] == 1 && shape[i] != 1) => l.strides[j],
                    _ => 0,
                })
                .collect()
        })
        .collect();
    let should_swap = |d0: usize, d1: usize| -> i32 {
        for s in &strides {
            let (s0, s1) = (s[d0], s[d1]);
            if s0 == 0 || s1 == 0 {
                continue;
            }
            if s0 != s1 {
                return if s0 < s1 { -1 } else { 1 };
            }
            if shape[d0] > shape[d1] {
                return 1;
            }
        }
        0
    };
    sort_dims(n, should_swap)
}

/// `empty_like(x)` with `preserve_format` (what `clone()`, `.to(dtype)` and `zeros_like` use):
/// a dense layout keeps its strides exactly; any other keeps its dims' order
/// (`infer_dense_strides`).
pub fn preserve_strides(l: &Layout) -> Vec<isize> {
    if l.is_non_overlapping_and_dense() {
        return l.strides.clone();
    }
    let n = l.ndim();
    if n == 1 {
        return vec![1];
    }
    let perm = sort_dims(n, |d0, d1| {
        let (s0, s1) = (l.strides[d0], l.strides[d1]);
        if s0 == 0 || s1 == 0 {
            0
        } else if s0 != s1 {
            if s0 < s1 { -1 } else { 1 }
        } else if l.shape[d0] > l.shape[d1] {
            1
        } else {
            0
        }
    });
    let mut out = vec![0isize; n];
    let mut next = 1isize;
    for &d in &perm {
        out[d] = next;
        if l.shape[d] > 1 {
            next *= l.shape[d] as isize;
        }
    }
    out
}

/// The insertion sort TensorIterator and `infer_dense_strides` share: dims from fastest to
/// slowest, starting from the reversed order, where `should_swap` may leave a pair undecided.
fn sort_dims(n: usize, should_swap: impl Fn(usize, usize) -> i32) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..n).rev().collect();
    if n == 1 {
        return vec![0];
    }
    for i in 1..n {
        let mut d1 = i;
        for d0 in (0..i).rev() {
            match should_swap(perm[d0], perm[d1]) {
                c if c > 0 => {
                    perm.swap(d0, d1);
                    d1 = d0;
                }
                c if c < 0 => break,
                _ => {}
            }
        }
    }
    perm
}

/// The gradient layout contract (`obeys_layout_contract`): a dense leaf's `.grad` has the
/// leaf's strides (size-1 dims aside); any other leaf's is contiguous.
pub fn obeys_layout_contract(grad: &Layout, leaf: &Layout) -> bool {
    if leaf.is_non_overlapping_and_dense() {
        grad.is_non_overlapping_and_dense()
            && grad
                .shape
                .iter()
                .zip(grad.strides.iter().zip(&leaf.strides))
                .all(|(&d, (g, v))| d == 1 || g == v)
    } else {
        grad.is_contiguous()
    }
}

/// The strides `clone_obey_contract` gives a new `.grad` for `leaf`.
pub fn grad_strides(leaf: &Layout) -> Vec<isize> {
    if leaf.is_non_overlapping_and_dense() {
        leaf.strides.clone()
    } else {
        contiguous_strides(&leaf.shape)
    }
}

#[cfg(test)]
mod tests {
    //! Expected strides are torch 2.13.0's, printed from Python.
    use super::*;

    fn l(shape: &[usize], strides: &[isize]) -> Layout {
        Layout {
            shape: shape.to_vec(),
            strides: strides.to_vec(),
            offset: 0,
        }
    }

    #[test]
    fn elementwise_results_follow_the_inputs_order() {
        let p = l(&[4, 2, 3], &[1, 12, 4]); // randn(2,3,4).permute(2,0,1)
        let c = l(&[4, 2, 3], &[6, 3, 1]);
        assert_eq!(iterator_strides(&[4, 2, 3], &[&p]), vec![1, 12, 4]);
        assert_eq!(iterator_strides(&[4, 2, 3], &[&p, &c]), vec![1, 12, 4]);
        assert_eq!(iterator_strides(&[4, 2, 3], &[&c, &p]), vec![6, 3, 1]);
        let row = l(&[3], &[1]);
        assert_eq!(iterator_strides(&[4, 2, 3], &[&p, &row]), vec![1, 12, 4]);
        let scalar = l(&[], &[]);
        assert_eq!(iterator_strides(&[4, 2, 3], &[&p, &scalar]), vec![1, 12, 4]);
        // randn(4,2,6)[:, :, ::2]: not dense, row-major order kept.
        let s = l(&[4, 2, 3], &[12, 6, 2]);
        assert_eq!(iterator_strides(&[4, 2, 3], &[&s]), vec![6, 3, 1]);
        // randn(4,2,6).permute(2,0,1)[::2]: not dense, permuted order kept.
        let q = l(&[3, 4, 2], &[2, 12, 6]);
        assert_eq!(iterator_strides(&[3, 4, 2], &[&q]), vec![1, 6, 3]);
        // randn(3,1,2).transpose(0,1): contiguous alone, reordered beside a scalar.
        let v = l(&[1, 3, 2], &[2, 2, 1]);
        assert_eq!(iterator_strides(&[1, 3, 2], &[&v]), vec![6, 2, 1]);
        assert_eq!(iterator_strides(&[1, 3, 2], &[&v, &scalar]), vec![2, 2, 1]);
        // A channels-last input gives a channels-last result.
        let cl = l(&[2, 5, 3, 4], &[60, 1, 20, 5]);
        assert_eq!(iterator_strides(&[2, 5, 3, 4], &[&cl]), vec![60, 1, 20, 5]);
        assert_eq!(channels_last_strides(&[2, 3, 1, 4]), vec![12, 1, 12, 3]);
    }

    #[test]
    fn copies_preserve_the_source_layout() {
        assert_eq!(preserve_strides(&l(&[1, 3, 2], &[2, 2, 1])), vec![2, 2, 1]);
        assert_eq!(preserve_strides(&l(&[3, 4, 2], &[2, 12, 6])), vec![1, 6, 3]);
        assert_eq!(preserve_strides(&l(&[4, 2, 3], &[12, 6, 2])), vec![6, 3, 1]);
        assert_eq!(
            preserve_strides(&l(&[2, 1, 4, 3], &[12, 4, 1, 4])),
            vec![12, 4, 1, 4]
        );
    }
}
