//! `torch.einsum(equation, *operands)`, lowered exactly as ATen's composite `einsum` lowers it
//! (`aten/src/ATen/native/Linear.cpp`): repeated labels take a `diagonal` (moved back with a
//! permute), missing labels are unsqueezed, every operand is permuted to the output order, and
//! operands are contracted left to right by `sumproduct_pair` (a `mul` when nothing is summed,
//! else permute, reshape, `bmm`, view, permute). The result's grad_fn is therefore the last of
//! those ops, as in libtorch (`ViewBackward0` for a contraction, `MulBackward0`, `SumBackward1`
//! or `PermuteBackward0`), and the graph below it is libtorch's.
//!
//! Also here: `diagonal(offset, dim1, dim2)` (`DiagonalBackward0`), the view einsum needs.

use crate::autograd::Recorder;
use crate::error::{Error, Result};
use crate::layout::{Layout, wrap_dim};
use crate::ops::shape::embed;
use crate::tensor::Tensor;
use std::collections::VecDeque;

const LETTERS: usize = 26;
const TOTAL_LABELS: usize = 2 * LETTERS;
/// The code of `...` among the labels.
const ELLIPSIS: usize = TOTAL_LABELS;

fn bad(msg: String) -> Error {
    Error::InvalidArgument(msg)
}

fn to_subscript(c: u8) -> usize {
    if c.is_ascii_uppercase() {
        (c - b'A') as usize
    } else {
        (c - b'a') as usize + LETTERS
    }
}

fn to_label(s: usize) -> char {
    if s < LETTERS {
        (b'A' + s as u8) as char
    } else {
        (b'a' + (s - LETTERS) as u8) as char
    }
}

/// The diagonal of `dim1`, `dim2` at `offset`, appended as the last dim.
fn diagonal_layout(l: &Layout, offset: i64, d1: usize, d2: usize) -> Layout {
    let (s1, s2) = (l.shape[d1] as i64, l.shape[d2] as i64);
    let len = if offset >= 0 {
        (s2 - offset).min(s1).max(0)
    } else {
        (s1 + offset).min(s2).max(0)
    } as usize;
    let mut start = l.offset as isize;
    if len > 0 {
        start += if offset >= 0 {
            offset as isize * l.strides[d2]
        } else {
            -offset as isize * l.strides[d1]
        };
    }
    let stride = l.strides[d1] + l.strides[d2];
    let mut shape = Vec::new();
    let mut strides = Vec::new();
    for d in 0..l.ndim() {
        if d != d1 && d != d2 {
            shape.push(l.shape[d]);
            strides.push(l.strides[d]);
        }
    }
    shape.push(len);
    strides.push(stride);
    Layout {
        shape,
        strides,
        offset: start.max(0) as usize,
    }
}

impl Tensor {
    /// `diagonal(offset, dim1, dim2)` (`DiagonalBackward0`): a view with the diagonal last.
    pub fn diagonal(&self, offset: i64, dim1: i64, dim2: i64) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        let n = self.ndim();
        let (d1, d2) = (wrap_dim(dim1, n)?, wrap_dim(dim2, n)?);
        if d1 == d2 {
            return Err(bad(format!(
                "diagonal dimensions cannot be identical {dim1}, {dim2}"
            )));
        }
        let l = self.layout();
        let out = self.make_view(diagonal_layout(&l, offset, d1, d2));
        if let Some(rec) = Recorder::new("DiagonalBackward0", &[self])? {
            let in_shape = l.shape.clone();
            rec.finish(&out, move |_, g| {
                Ok(vec![Some(embed(&g, &in_shape, |c| {
                    diagonal_layout(c, offset, d1, d2)
                })?)])
            })?;
        }
        Ok(out)
    }

    /// `movedim(src, dst)` for one dim, as ATen's composite writes it: a permute.
    fn move_dim(&self, src: usize, dst: usize) -> Result<Tensor> {
        let n = self.ndim();
        let mut rest: Vec<i64> = (0..n as i64).filter(|&d| d != src as i64).collect();
        rest.insert(dst, src as i64);
        self.permute(&rest)
    }

    /// `torch.einsum(equation, operands)` for equations of letters, `,`, `->`, spaces and one
    /// `...` per operand; errors carry libtorch's messages.
    pub fn einsum(equation: &str, operands: &[Tensor]) -> Result<Tensor> {
        if operands.is_empty() {
            return Err(bad("einsum(): must provide at least one operand".into()));
        }
        let num_ops = operands.len();
        let eq = equation.as_bytes();
        let arrow = equation.find("->");
        let lhs = &eq[..arrow.unwrap_or(eq.len())];

        let mut op_labels: Vec<Vec<usize>> = vec![Vec::new(); num_ops];
        let mut ell_in_input = false;
        let mut cur = 0usize;
        let mut i = 0usize;
        while i < lhs.len() {
            match lhs[i] {
                b' ' => {}
                b'.' => {
                    if ell_in_input {
                        return Err(bad(format!(
                            "einsum(): found '.' for operand {cur} for which an ellipsis was already found"
                        )));
                    }
                    if !(i + 2 < lhs.len() && lhs[i + 1] == b'.' && lhs[i + 2] == b'.') {
                        return Err(bad(format!(
                            "einsum(): found '.' for operand {cur} that is not part of any ellipsis"
                        )));
                    }
                    i += 2;
                    op_labels[cur].push(ELLIPSIS);
                    ell_in_input = true;
                }
                b',' => {
                    cur += 1;
                    if cur >= num_ops {
                        return Err(bad(
                            "einsum(): fewer operands were provided than specified in the equation"
                                .into(),
                        ));
                    }
                    ell_in_input = false;
                }
                c if c.is_ascii_alphabetic() => op_labels[cur].push(to_subscript(c)),
                _ => {
                    return Err(bad(format!(
                        "einsum(): invalid subscript given at index {i} in the equation string, subscripts must be in [a-zA-Z]"
                    )));
                }
            }
            i += 1;
        }
        if cur != num_ops - 1 {
            return Err(bad(
                "einsum(): more operands were provided than specified in the equation".into(),
            ));
        }

        let mut label_count = vec![0usize; TOTAL_LABELS];
        let mut ell_num_dim = 0usize;
        for (k, labels) in op_labels.iter().enumerate() {
            let ndims = operands[k].ndim() as i64;
            let mut nlabels = labels.len() as i64;
            let mut has_ell = false;
            for &l in labels {
                if l == ELLIPSIS {
                    nlabels -= 1;
                    has_ell = true;
                    ell_num_dim = ell_num_dim.max((ndims - nlabels).max(0) as usize);
                } else {
                    label_count[l] += 1;
                }
            }
            let ok = if has_ell {
                nlabels <= ndims
            } else {
                nlabels == ndims
            };
            if !ok {
                return Err(bad(if has_ell {
                    format!(
                        "einsum(): the number of subscripts in the equation ({nlabels}) is more than the number of dimensions ({ndims}) for operand {k}"
                    )
                } else {
                    format!(
                        "einsum(): the number of subscripts in the equation ({nlabels}) does not match the number of dimensions ({ndims}) for operand {k} and no ellipsis was given"
                    )
                }));
            }
        }

        // Every label's position in the aligned shape: the output's dims, then the summed ones.
        let mut perm_of: Vec<Option<usize>> = vec![None; TOTAL_LABELS];
        let mut perm_index = 0usize;
        let mut ell_index = 0usize;
        let mut ell_in_output = false;
        match arrow {
            None => {
                perm_index = ell_num_dim;
                ell_in_output = true;
                for (l, &c) in label_count.iter().enumerate() {
                    if c == 1 {
                        perm_of[l] = Some(perm_index);
                        perm_index += 1;
                    }
                }
            }
            Some(a) => {
                let rhs = &eq[a + 2..];
                let mut i = 0usize;
                while i < rhs.len() {
                    match rhs[i] {
                        b' ' => {}
                        b'.' => {
                            if ell_in_output {
                                return Err(bad("einsum(): found '.' for output but an ellipsis (...) was already found".into()));
                            }
                            if !(i + 2 < rhs.len() && rhs[i + 1] == b'.' && rhs[i + 2] == b'.') {
                                return Err(bad("einsum(): found '.' for output that is not part of any ellipsis (...)".into()));
                            }
                            i += 2;
                            ell_index = perm_index;
                            perm_index += ell_num_dim;
                            ell_in_output = true;
                        }
                        c if c.is_ascii_alphabetic() => {
                            let s = to_subscript(c);
                            if label_count[s] == 0 || perm_of[s].is_some() {
                                return Err(bad(format!(
                                    "einsum(): output subscript {} {}",
                                    c as char,
                                    if perm_of[s].is_some() {
                                        "appears more than once in the output"
                                    } else {
                                        "does not appear in the equation for any input operand"
                                    }
                                )));
                            }
                            perm_of[s] = Some(perm_index);
                            perm_index += 1;
                        }
                        _ => {
                            return Err(bad(format!(
                                "einsum(): invalid subscript given at index {} in the equation string, subscripts must be in [a-zA-Z]",
                                lhs.len() + 2 + i
                            )));
                        }
                    }
                    i += 1;
                }
            }
        }
        let out_num_dim = perm_index;
        if !ell_in_output {
            ell_index = perm_index;
            perm_index += ell_num_dim;
        }
        for (l, &c) in label_count.iter().enumerate() {
            if c > 0 && perm_of[l].is_none() {
                perm_of[l] = Some(perm_index);
                perm_index += 1;
            }
        }

        // Align every operand: diagonals for repeated labels, unsqueeze missing ones, permute.
        let mut label_size = vec![1usize; TOTAL_LABELS];
        let mut ell_sizes = vec![1usize; ell_num_dim];
        let mut dim_counts = vec![0usize; perm_index];
        let mut ops: VecDeque<Tensor> = VecDeque::new();
        for (k, labels) in op_labels.iter().enumerate() {
            let mut op = operands[k].clone();
            let mut permutation: Vec<Option<usize>> = vec![None; perm_index];
            let mut dim = 0usize;
            for &s in labels {
                if s == ELLIPSIS {
                    let ndim = operands[k].ndim() - (labels.len() - 1);
                    for j in ell_num_dim - ndim..ell_num_dim {
                        let size = op.shape()[dim];
                        if size != 1 {
                            if ell_sizes[j] != 1 && ell_sizes[j] != size {
                                return Err(bad(format!(
                                    "einsum(): dimension {dim} covered by ellipsis in operand {k}has size {size} which does not broadcast with previously seen ellipsis with size {} for the respective dimension",
                                    ell_sizes[j]
                                )));
                            }
                            ell_sizes[j] = size;
                            dim_counts[ell_index + j] += 1;
                        }
                        permutation[ell_index + j] = Some(dim);
                        dim += 1;
                    }
                } else if let (Some(p), None) =
                    (perm_of[s], perm_of[s].and_then(|p| permutation[p]))
                {
                    let size = op.shape()[dim];
                    if size != 1 {
                        if label_size[s] != 1 && label_size[s] != size {
                            return Err(bad(format!(
                                "einsum(): subscript {} has size {size} for operand {k} which does not broadcast with previously seen size {}",
                                to_label(s),
                                label_size[s]
                            )));
                        }
                        label_size[s] = size;
                        dim_counts[p] += 1;
                    }
                    permutation[p] = Some(dim);
                    dim += 1;
                } else {
                    let prev = perm_of[s].and_then(|p| permutation[p]).unwrap_or(0);
                    let sh = op.shape();
                    if sh[dim] != sh[prev] {
                        return Err(bad(format!(
                            "einsum(): subscript {} is repeated for operand {k} but the sizes don't match, {} != {}",
                            to_label(s),
                            sh[dim],
                            sh[prev]
                        )));
                    }
                    op = op.diagonal(0, prev as i64, dim as i64)?;
                    op = op.move_dim(op.ndim() - 1, prev)?;
                }
            }
            let mut perm = Vec::with_capacity(perm_index);
            for p in permutation.iter_mut() {
                if p.is_none() {
                    op = op.unsqueeze(dim as i64)?;
                    *p = Some(dim);
                    dim += 1;
                }
                perm.push(p.unwrap_or(0) as i64);
            }
            ops.push_back(op.permute(&perm)?);
        }

        // Contract left to right, summing each contraction dim as soon as it is last seen.
        while ops.len() > 1 {
            let mut a = ops.pop_front().unwrap_or_else(|| unreachable!());
            let mut b = ops.pop_front().unwrap_or_else(|| unreachable!());
            let mut sum_dims = Vec::new();
            let (mut a_sum, mut b_sum) = (Vec::new(), Vec::new());
            let (sa, sb) = (a.shape(), b.shape());
            for d in out_num_dim..perm_index {
                if sa[d] != 1 && sb[d] != 1 {
                    dim_counts[d] -= 1;
                    if dim_counts[d] == 1 {
                        sum_dims.push(d);
                        dim_counts[d] = 0;
                    }
                } else if dim_counts[d] == 1 {
                    if sa[d] != 1 {
                        a_sum.push(d as i64);
                        dim_counts[d] = 0;
                    } else if sb[d] != 1 {
                        b_sum.push(d as i64);
                        dim_counts[d] = 0;
                    }
                }
            }
            if !a_sum.is_empty() {
                a = a.sum(Some(&a_sum), true)?;
            }
            if !b_sum.is_empty() {
                b = b.sum(Some(&b_sum), true)?;
            }
            ops.push_front(sumproduct_pair(&a, &b, &sum_dims)?);
        }
        let op = ops.pop_front().unwrap_or_else(|| unreachable!());
        if perm_index > out_num_dim {
            if num_ops > 1 {
                let sizes: Vec<i64> = op.shape()[..out_num_dim]
                    .iter()
                    .map(|&d| d as i64)
                    .collect();
                return op.view(&sizes);
            }
            let dims: Vec<i64> = (out_num_dim..perm_index).map(|d| d as i64).collect();
            return op.sum(Some(&dims), false);
        }
        Ok(op)
    }
}

/// `(left * right).sum(sum_dims, keepdim=True)` by permute, reshape and `bmm` (ATen's
/// `sumproduct_pair`); both operands have the same number of dims.
fn sumproduct_pair(left: &Tensor, right: &Tensor, sum_dims: &[usize]) -> Result<Tensor> {
    if sum_dims.is_empty() {
        return left.mul(right);
    }
    let dim = left.ndim();
    let mut is_sum = vec![false; dim];
    for &d in sum_dims {
        is_sum[d] = true;
    }
    let (mut left, mut right) = (left.clone(), right.clone());
    let (mut lro, mut lo, mut ro) = (Vec::new(), Vec::new(), Vec::new());
    let (mut lro_size, mut lo_size, mut ro_size, mut sum_size) = (1usize, 1usize, 1usize, 1usize);
    let mismatch = || bad("non-broadcast dimensions must match".into());
    for (i, &summed) in is_sum.iter().enumerate() {
        let (ls, rs) = (left.shape()[i], right.shape()[i]);
        let (sl, sr) = (ls != 1, rs != 1);
        if summed {
            if sl && sr {
                if ls != rs {
                    return Err(mismatch());
                }
                sum_size *= ls;
            } else if sl {
                left = left.sum(Some(&[i as i64]), true)?;
            } else if sr {
                right = right.sum(Some(&[i as i64]), true)?;
            }
        } else if sl && sr {
            if ls != rs {
                return Err(mismatch());
            }
            lro.push(i);
            lro_size *= ls;
        } else if sl {
            lo.push(i);
            lo_size *= ls;
        } else {
            ro.push(i);
            ro_size *= rs;
        }
    }
    let (lsh, rsh) = (left.shape(), right.shape());
    let mut out_size: Vec<i64> = Vec::new();
    out_size.extend(lro.iter().map(|&d| lsh[d] as i64));
    out_size.extend(lo.iter().map(|&d| lsh[d] as i64));
    out_size.extend(sum_dims.iter().map(|_| 1));
    out_size.extend(ro.iter().map(|&d| rsh[d] as i64));
    let cat = |parts: [&[usize]; 4]| -> Vec<i64> {
        parts
            .iter()
            .flat_map(|p| p.iter().map(|&d| d as i64))
            .collect()
    };
    let lperm = cat([&lro, &lo, sum_dims, &ro]);
    let rperm = cat([&lro, sum_dims, &ro, &lo]);
    let mut operm = vec![0i64; dim];
    for (i, &d) in lperm.iter().enumerate() {
        operm[d as usize] = i as i64;
    }
    let left =
        left.permute(&lperm)?
            .reshape(&[lro_size as i64, lo_size as i64, sum_size as i64])?;
    let right =
        right
            .permute(&rperm)?
            .reshape(&[lro_size as i64, sum_size as i64, ro_size as i64])?;
    left.bmm(&right)?.view(&out_size)?.permute(&operm)
}
