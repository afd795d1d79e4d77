//! The view family: views and reshapes (the result shares storage with its input: `view`,
//! `view_as`, `expand`, `expand_as`, `t`, `mT`, ...), the multi-output views (`split`, `chunk`,
//! `unbind`), indexing (basic, and advanced by an int64 tensor or a bool mask, whose result is a
//! copy), `contiguous`/`clone`, and `cat`/`stack`.

use super::build::*;
use super::{Gen, Var};
use crate::program::ast::{CmpOp, Expr, ExprKind, IndexItem, Stmt, StmtKind, Target};
use arbitrary::Result;

impl Gen<'_, '_> {
    /// View ops: the result shares storage with its input.
    pub(super) fn view(&mut self) -> Result<Option<Stmt>> {
        let diff = self.diff();
        let Some(a) = self.pick(|v| !diff || v.is_float())? else {
            return Ok(None);
        };
        let rank = a.shape.len();
        let s = &a.shape;
        // Advanced indexing gives a copy, not a view.
        let mut copy = false;
        let (value, shape, contiguous): (Expr, Option<Vec<usize>>, bool) =
            match self.u.int_in_range(0..=18u8)? {
                0 | 1 => {
                    // view/reshape to a factorisation of numel, sometimes with -1.
                    let n = a.numel();
                    let mut dims: Vec<i64> = if n > 1 && n % 2 == 0 && self.ratio(1, 2)? {
                        vec![2, (n / 2) as i64]
                    } else {
                        vec![n as i64]
                    };
                    if self.ratio(1, 3)? && n > 0 {
                        dims[0] = -1;
                    }
                    if !diff && self.ratio(1, 15)? {
                        dims = vec![n as i64 + 1];
                    }
                    let shape: Option<Vec<usize>> = {
                        let known: i64 = dims.iter().filter(|&&d| d >= 0).product();
                        if dims.contains(&-1) {
                            (known > 0 && n as i64 % known == 0).then(|| {
                                dims.iter()
                                    .map(|&d| {
                                        if d < 0 {
                                            n / known as usize
                                        } else {
                                            d as usize
                                        }
                                    })
                                    .collect()
                            })
                        } else {
                            (known == n as i64).then(|| dims.iter().map(|&d| d as usize).collect())
                        }
                    };
                    let reshape = self.ratio(1, 2)?;
                    let f = if reshape { "reshape" } else { "view" };
                    let ok = reshape || a.contiguous;
                    (
                        method(a.expr(), f, ints(&dims), vec![]),
                        shape.filter(|_| ok),
                        true,
                    )
                }
                2 => {
                    let dim = self.below(rank + 1)? as i64;
                    let mut sh = s.clone();
                    if (dim as usize) <= sh.len() {
                        sh.insert(dim as usize, 1);
                    }
                    (
                        method(a.expr(), "unsqueeze", vec![int(dim)], vec![]),
                        Some(sh),
                        a.contiguous,
                    )
                }
                3 => {
                    if self.ratio(1, 2)? || rank == 0 {
                        let sh: Vec<usize> = s.iter().copied().filter(|&d| d != 1).collect();
                        (
                            method(a.expr(), "squeeze", vec![], vec![]),
                            Some(sh),
                            a.contiguous,
                        )
                    } else {
                        let d = self.below(rank)?;
                        let mut sh = s.clone();
                        if sh[d] == 1 {
                            sh.remove(d);
                        }
                        (
                            method(a.expr(), "squeeze", vec![int(d as i64)], vec![]),
                            Some(sh),
                            a.contiguous,
                        )
                    }
                }
                4 => {
                    let sh = if rank == 0 { vec![1] } else { vec![a.numel()] };
                    (method(a.expr(), "flatten", vec![], vec![]), Some(sh), true)
                }
                5 => {
                    let ok = rank <= 2;
                    let mut sh = s.clone();
                    sh.reverse();
                    (
                        method(a.expr(), "t", vec![], vec![]),
                        ok.then_some(sh),
                        rank < 2,
                    )
                }
                6 => {
                    let d0 = self.below(rank)?;
                    let d1 = self.below(rank)?;
                    let mut sh = s.clone();
                    if rank > 0 {
                        sh.swap(d0, d1);
                    }
                    (
                        method(
                            a.expr(),
                            "transpose",
                            ints(&[d0 as i64, d1 as i64 - rank as i64]),
                            vec![],
                        ),
                        Some(sh),
                        d0 == d1 || rank < 2,
                    )
                }
                7 => {
                    let mut perm: Vec<usize> = (0..rank).collect();
                    for i in (1..rank).rev() {
                        let j = self.below(i + 1)?;
                        perm.swap(i, j);
                    }
                    let sh = perm.iter().map(|&p| s[p]).collect();
                    let ident = perm.iter().enumerate().all(|(i, &p)| i == p);
                    let p: Vec<i64> = perm.iter().map(|&p| p as i64).collect();
                    (
                        method(a.expr(), "permute", ints(&p), vec![]),
                        Some(sh),
                        ident,
                    )
                }
                8 => {
                    // expand size-1 dims, and sometimes a new leading dim.
                    let mut sizes: Vec<i64> =
                        s.iter().map(|&d| if d == 1 { 3 } else { -1 }).collect();
                    if self.ratio(1, 2)? || sizes.is_empty() {
                        sizes.insert(0, 2);
                    }
                    let sh: Vec<usize> = sizes
                        .iter()
                        .enumerate()
                        .map(|(i, &d)| {
                            let off = sizes.len() - rank;
                            if d < 0 { s[i - off] } else { d as usize }
                        })
                        .collect();
                    (
                        method(a.expr(), "expand", ints(&sizes), vec![]),
                        Some(sh),
                        false,
                    )
                }
                9 if rank > 0 => {
                    let d = self.below(rank)?;
                    let len = s[d];
                    let start = self.below(len.max(1))?;
                    let length = self.u.int_in_range(0..=(len - start.min(len)))?;
                    let mut sh = s.clone();
                    sh[d] = length;
                    (
                        method(
                            a.expr(),
                            "narrow",
                            ints(&[d as i64, start as i64, length as i64]),
                            vec![],
                        ),
                        (start + length <= len).then_some(sh),
                        d == 0 || length == len,
                    )
                }
                10 if rank > 0 => {
                    let d = self.below(rank)?;
                    let i = self.below(s[d] + 1)? as i64; // s[d] itself is out of range
                    let mut sh = s.clone();
                    sh.remove(d);
                    (
                        method(a.expr(), "select", ints(&[d as i64, i]), vec![]),
                        ((i as usize) < s[d]).then_some(sh),
                        d == 0,
                    )
                }
                11 | 12 if rank > 0 => {
                    let (items, sh, advanced) = self.index_items(s)?;
                    copy = advanced;
                    (e(ExprKind::Index(Box::new(a.expr()), items)), sh, advanced)
                }
                // `x[x > c]`: a bool mask; how many elements it keeps depends on the values.
                16 if rank > 0 => {
                    copy = true;
                    let mask = cmp(CmpOp::Gt, a.expr(), float(self.value()?));
                    (
                        e(ExprKind::Index(
                            Box::new(a.expr()),
                            vec![IndexItem::Expr(mask)],
                        )),
                        None,
                        true,
                    )
                }
                17 | 18 if rank > 0 => return self.split_views(&a),
                // `x.mT`, now and then on fewer than 2 dims, which raises.
                13 if rank >= 2 || (!diff && self.ratio(1, 8)?) => {
                    let mut sh = s.clone();
                    if rank >= 2 {
                        sh.swap(rank - 2, rank - 1);
                    }
                    (attr(a.expr(), "mT"), (rank >= 2).then_some(sh), rank < 2)
                }
                // `x.expand_as(o)` for an `o` that `x` broadcasts to.
                14 => {
                    let fits = |v: &Var| broadcast(s, &v.shape).as_deref() == Some(&v.shape[..]);
                    let Some(o) = self.pick(|v| fits(v) && (!diff || v.is_float()))? else {
                        return Ok(None);
                    };
                    let same = o.shape == *s;
                    let value = method(a.expr(), "expand_as", vec![o.expr()], vec![]);
                    (value, Some(o.shape.clone()), same && a.contiguous)
                }
                // `x.view_as(o)` for an `o` of as many elements; `x` must be contiguous.
                15 => {
                    let n = a.numel();
                    let Some(o) = self.pick(|v| v.numel() == n && (!diff || v.is_float()))? else {
                        return Ok(None);
                    };
                    let value = method(a.expr(), "view_as", vec![o.expr()], vec![]);
                    (value, a.contiguous.then(|| o.shape.clone()), true)
                }
                _ => {
                    let f = if self.ratio(1, 2)? {
                        "contiguous"
                    } else {
                        "clone"
                    };
                    let n = self.target_name()?;
                    let rg = self.grad_enabled && a.requires_grad;
                    let same = f == "contiguous" && a.contiguous;
                    let v = if same {
                        Var {
                            name: n.clone(),
                            ..a.clone()
                        }
                    } else {
                        Var {
                            name: n.clone(),
                            requires_grad: rg,
                            leaf: !rg,
                            contiguous: true,
                            view_of_grad_leaf: false,
                            has_grad: false,
                            ..a.clone()
                        }
                    };
                    self.bind(v);
                    return Ok(Some(assign(&n, method(a.expr(), f, vec![], vec![]))));
                }
            };
        let n = self.target_name()?;
        match shape {
            Some(shape) => {
                let rg = self.grad_enabled && a.requires_grad;
                self.bind(Var {
                    name: n.clone(),
                    shape,
                    dtype: a.dtype,
                    requires_grad: if self.grad_enabled {
                        a.requires_grad
                    } else {
                        false
                    },
                    leaf: !rg,
                    contiguous,
                    view_of_grad_leaf: !copy
                        && ((a.leaf && a.requires_grad) || a.view_of_grad_leaf),
                    has_grad: false,
                });
            }
            None => self.unbind(&n),
        }
        Ok(Some(assign(&n, value)))
    }

    /// `p, q = x.split(k, dim=d)` (or `chunk`, `unbind`, `split` by a list of sizes), unpacked
    /// into names when there are at most four pieces. The pieces are views of `x`; under grad
    /// mode, writing one in place raises when `x` requires grad, which the model records as
    /// `view_of_grad_leaf` (the same prediction: a write that raises).
    fn split_views(&mut self, a: &Var) -> Result<Option<Stmt>> {
        let s = &a.shape;
        let d = self.below(s.len())?;
        let len = s[d];
        let dim = if self.ratio(1, 4)? {
            d as i64 - s.len() as i64
        } else {
            d as i64
        };
        let (value, sizes): (Expr, Option<Vec<usize>>) = match self.u.int_in_range(0..=3u8)? {
            0 => {
                // `split(0)` of a nonempty dim raises; only general programs try it.
                let k = if !self.diff() && self.ratio(1, 12)? {
                    0
                } else {
                    1 + self.below(len.max(1))?
                };
                let sizes = match (k, len) {
                    (0, 0) => Some(vec![0]),
                    (0, _) => None,
                    (_, 0) => Some(vec![0]),
                    _ => Some((0..len.div_ceil(k)).map(|i| k.min(len - i * k)).collect()),
                };
                (
                    method(
                        a.expr(),
                        "split",
                        vec![int(k as i64)],
                        vec![("dim", int(dim))],
                    ),
                    sizes,
                )
            }
            1 => {
                // Sizes that sometimes do not add up to the dim's length, which raises.
                let first = self.below(len + 1)?;
                let mut rest = len - first;
                if !self.diff() && self.ratio(1, 10)? {
                    rest += 1;
                }
                let sizes = (first + rest == len).then(|| vec![first, rest]);
                let arg = list(ints(&[first as i64, rest as i64]));
                (
                    method(a.expr(), "split", vec![arg], vec![("dim", int(dim))]),
                    sizes,
                )
            }
            2 => {
                let c = 1 + self.below(3)?;
                // An empty dim gives `c` empty chunks; a nonempty one pieces of ceil(len / c).
                let sizes = if len == 0 {
                    vec![0; c]
                } else {
                    let k = len.div_ceil(c);
                    (0..len.div_ceil(k)).map(|i| k.min(len - i * k)).collect()
                };
                (
                    method(
                        a.expr(),
                        "chunk",
                        vec![int(c as i64)],
                        vec![("dim", int(dim))],
                    ),
                    Some(sizes),
                )
            }
            _ => {
                let value = method(a.expr(), "unbind", vec![int(dim)], vec![]);
                (value, Some(vec![usize::MAX; len]))
            }
        };
        let Some(sizes) = sizes.filter(|z| (1..=4).contains(&z.len())) else {
            // Too many pieces to name, or a call that raises: keep the tuple under one name.
            let n = self.target_name()?;
            self.unbind(&n);
            return Ok(Some(assign(&n, value)));
        };
        let rg = self.grad_enabled && a.requires_grad;
        let mut names = Vec::new();
        for &size in &sizes {
            let n = self.target_name()?;
            let mut shape = s.clone();
            if size == usize::MAX {
                shape.remove(d);
            } else {
                shape[d] = size;
            }
            self.bind(Var {
                name: n.clone(),
                contiguous: a.contiguous && (d == 0 || size == len),
                shape,
                dtype: a.dtype,
                requires_grad: rg,
                leaf: !rg,
                view_of_grad_leaf: rg || a.view_of_grad_leaf,
                has_grad: false,
            });
            names.push(Target::Name(n));
        }
        Ok(Some(Stmt::new(StmtKind::Assign {
            target: Target::Tuple(names),
            value,
        })))
    }

    /// Indexing items for a tensor of shape `s`, the result's shape (None: out of range), and
    /// whether an item is advanced (an int64 tensor: at most one, so its dim stays in place and
    /// the shape prediction stays simple).
    pub(super) fn index_items(
        &mut self,
        s: &[usize],
    ) -> Result<(Vec<IndexItem>, Option<Vec<usize>>, bool)> {
        let mut items = Vec::new();
        let mut sh = Vec::new();
        let mut ok = true;
        let mut advanced = false;
        let k = 1 + self.below(s.len())?;
        for &d in &s[..k] {
            match self.u.int_in_range(0..=5u8)? {
                5 if !advanced => {
                    advanced = true;
                    let n = 1 + self.below(3)?;
                    let mut idx = Vec::with_capacity(n);
                    for _ in 0..n {
                        let i = self.below(d + 1)?; // d itself is out of range
                        ok &= i < d;
                        let neg = i < d && self.ratio(1, 4)?;
                        idx.push(if neg { i as i64 - d as i64 } else { i as i64 });
                    }
                    let t = call(torch("tensor"), vec![list(ints(&idx))], vec![]);
                    items.push(IndexItem::Expr(t));
                    sh.push(n);
                }
                0 | 1 => {
                    let i = self.below(d + 1)? as i64;
                    ok &= (i as usize) < d;
                    let i = if self.ratio(1, 4)? && ok {
                        i - d as i64
                    } else {
                        i
                    };
                    items.push(IndexItem::Expr(int(i)));
                }
                2 => {
                    let start = self.below(d.max(1))?;
                    items.push(IndexItem::Slice(Some(int(start as i64)), None, None));
                    sh.push(d.saturating_sub(start));
                }
                3 => {
                    items.push(IndexItem::Slice(None, None, None));
                    sh.push(d);
                }
                _ => {
                    items.push(IndexItem::NewAxis);
                    sh.push(1);
                    items.push(IndexItem::Slice(None, None, None));
                    sh.push(d);
                }
            }
        }
        sh.extend_from_slice(&s[k..]);
        if self.ratio(1, 8)? {
            items.insert(0, IndexItem::Ellipsis);
        }
        // An ellipsis in front of fewer items than dims indexes the trailing dims instead; the
        // shape prediction then is only a guess, so give up on predicting it.
        let predicted = if matches!(items.first(), Some(IndexItem::Ellipsis)) && k < s.len() {
            None
        } else {
            ok.then_some(sh)
        };
        Ok((items, predicted, advanced))
    }

    /// cat and stack.
    pub(super) fn join(&mut self) -> Result<Option<Stmt>> {
        let diff = self.diff();
        let Some(a) = self.pick(|v| !diff || v.is_float())? else {
            return Ok(None);
        };
        let s = a.shape.clone();
        let b = self
            .pick(|v| v.shape == s && (!diff || v.is_float()))?
            .unwrap_or_else(|| a.clone());
        let stack = self.ratio(1, 2)?;
        let rank = s.len();
        let dim = self.below(rank + usize::from(stack))? as i64;
        let mut sh = s.clone();
        let shape = if stack {
            sh.insert(dim as usize, 2);
            Some(sh)
        } else if rank == 0 {
            None // zero-dimensional tensors cannot be concatenated
        } else {
            sh[dim as usize] *= 2;
            Some(sh)
        };
        let f = if stack { "stack" } else { "cat" };
        let value = call(
            torch(f),
            vec![list(vec![a.expr(), b.expr()])],
            vec![("dim", int(dim))],
        );
        self.result(value, shape, a.dtype.promote(b.dtype), &[&a, &b])
            .map(Some)
    }
}
