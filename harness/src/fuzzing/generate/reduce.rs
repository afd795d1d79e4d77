//! The reduce family: sums, means, max/min, softmax, `mse_loss`, and matrix products.

use super::build::*;
use super::{Gen, Var};
use crate::backend::DType;
use crate::program::ast::{BinOp, ExprKind, Stmt, StmtKind, Target};
use arbitrary::Result;

impl Gen<'_, '_> {
    pub(super) fn reduction(&mut self) -> Result<Option<Stmt>> {
        let diff = self.diff();
        let Some(a) = self.pick(|v| !diff || v.is_float())? else {
            return Ok(None);
        };
        let rank = a.shape.len();
        let dim = if rank == 0 {
            0
        } else if !diff && self.ratio(1, 20)? {
            rank as i64 // out of range
        } else {
            let d = self.below(rank)? as i64;
            if self.ratio(1, 3)? {
                d - rank as i64
            } else {
                d
            }
        };
        let keepdim = self.ratio(1, 3)?;
        let reduced = |keep: bool| -> Option<Vec<usize>> {
            let d = norm_dim(dim, rank)?;
            if rank == 0 {
                return Some(vec![]);
            }
            let mut s = a.shape.clone();
            if keep {
                s[d] = 1;
            } else {
                s.remove(d);
            }
            Some(s)
        };
        let choices: &[u8] = if diff {
            &[0, 1, 2, 3, 6, 7]
        } else {
            &[0, 1, 2, 3, 4, 5, 6, 7, 8]
        };
        let k = *self.u.choose(choices)?;
        let sum_dt = if a.is_float() { a.dtype } else { DType::I64 };
        match k {
            0 | 1 => {
                let f = if k == 0 { "sum" } else { "mean" };
                let dt = if k == 0 { sum_dt } else { a.dtype };
                let ok = k == 0 || a.is_float();
                self.result(
                    method(a.expr(), f, vec![], vec![]),
                    ok.then(Vec::new),
                    dt,
                    &[&a],
                )
                .map(Some)
            }
            2 | 3 => {
                let f = if k == 2 { "sum" } else { "mean" };
                let dt = if k == 2 { sum_dt } else { a.dtype };
                let ok = k == 2 || a.is_float();
                let kw = if keepdim {
                    vec![("keepdim", boolean(true))]
                } else {
                    vec![]
                };
                let shape = reduced(keepdim).filter(|_| ok);
                self.result(method(a.expr(), f, vec![int(dim)], kw), shape, dt, &[&a])
                    .map(Some)
            }
            4 => {
                let f = if self.ratio(1, 2)? { "max" } else { "min" };
                let ok = a.numel() > 0;
                self.result(
                    method(a.expr(), f, vec![], vec![]),
                    ok.then(Vec::new),
                    a.dtype,
                    &[&a],
                )
                .map(Some)
            }
            5 => {
                // `v, i = x.max(d)`: a tuple target.
                let f = if self.ratio(1, 2)? { "max" } else { "min" };
                let vn = self.fresh();
                let iname = self.fresh();
                let shape = reduced(keepdim).filter(|s| {
                    a.numel() > 0
                        || s.iter().product::<usize>() == 0
                            && rank > 0
                            && a.shape[norm_dim(dim, rank).unwrap_or(0)] > 0
                });
                let mut kw = Vec::new();
                if keepdim {
                    kw.push(("keepdim", boolean(true)));
                }
                let value = method(a.expr(), f, vec![int(dim)], kw);
                if let Some(shape) = shape {
                    let rg = self.grad_enabled && a.requires_grad;
                    let base = Var {
                        name: vn.clone(),
                        shape: shape.clone(),
                        dtype: a.dtype,
                        requires_grad: rg,
                        leaf: !rg,
                        contiguous: true,
                        view_of_grad_leaf: false,
                        has_grad: false,
                    };
                    self.bind(base.clone());
                    self.bind(Var {
                        name: iname.clone(),
                        dtype: DType::I64,
                        requires_grad: false,
                        leaf: true,
                        ..base
                    });
                }
                Ok(Some(Stmt::new(StmtKind::Assign {
                    target: Target::Tuple(vec![Target::Name(vn), Target::Name(iname)]),
                    value,
                })))
            }
            6 | 7 => {
                let f = if k == 6 { "softmax" } else { "log_softmax" };
                let shape = norm_dim(dim, rank)
                    .map(|_| a.shape.clone())
                    .filter(|_| a.is_float());
                let value = if self.ratio(1, 2)? {
                    method(a.expr(), f, vec![int(dim)], vec![])
                } else {
                    call(torch(f), vec![a.expr(), int(dim)], vec![])
                };
                self.result(value, shape, a.dtype, &[&a]).map(Some)
            }
            _ => {
                let Some(b) = self.pick(|v| v.shape == a.shape && v.is_float())? else {
                    return Ok(None);
                };
                let red = *self.u.choose(&["mean", "sum", "none"])?;
                let value = call(
                    attr(name("F"), "mse_loss"),
                    vec![a.expr(), b.expr()],
                    vec![("reduction", e(ExprKind::Str(red.to_string())))],
                );
                let shape = if red == "none" {
                    a.shape.clone()
                } else {
                    vec![]
                };
                let ok = a.is_float();
                self.result(
                    value,
                    ok.then_some(shape),
                    a.dtype.promote(b.dtype),
                    &[&a, &b],
                )
                .map(Some)
            }
        }
    }

    pub(super) fn matmul(&mut self) -> Result<Option<Stmt>> {
        let diff = self.diff();
        let Some(a) = self.pick(|v| v.is_float() && (1..=3).contains(&v.shape.len()))? else {
            return Ok(None);
        };
        let k = *a.shape.last().expect("rank >= 1");
        // A partner of the right shape, made here when the environment has none.
        let m = self.u.int_in_range(1..=self.cfg.max_dim)?;
        let want: Vec<usize> = match a.shape.len() {
            3 if self.ratio(1, 2)? => vec![a.shape[0], k, m],
            1 => vec![k],
            _ => vec![k, m],
        };
        let partner = self.pick(|v| v.shape == want && v.is_float())?;
        let mut pre = Vec::new();
        let b = match partner {
            Some(b) => b,
            None => {
                let n = self.fresh();
                let lit = self.literal(&want, true)?;
                let dt = a.dtype;
                let mut kw = Vec::new();
                if dt == DType::F64 {
                    kw.push(("dtype", dtype_expr(dt)));
                }
                let rg = diff || self.ratio(1, 2)?;
                if rg {
                    kw.push(("requires_grad", boolean(true)));
                }
                pre.push(assign(&n, call(name("tensor"), vec![lit], kw)));
                let v = Var {
                    name: n,
                    shape: want.clone(),
                    dtype: dt,
                    requires_grad: rg,
                    leaf: true,
                    contiguous: true,
                    view_of_grad_leaf: false,
                    has_grad: false,
                };
                self.bind(v.clone());
                v
            }
        };
        let mut shape: Vec<usize> = a.shape[..a.shape.len() - 1].to_vec();
        if b.shape.len() >= 2 {
            shape.push(*b.shape.last().expect("rank >= 2"));
        }
        let (value, shape) = match (a.shape.len(), b.shape.len(), self.u.int_in_range(0..=3u8)?) {
            (2, 2, 0) => (method(a.expr(), "mm", vec![b.expr()], vec![]), Some(shape)),
            (3, 3, 0) => (
                call(torch("bmm"), vec![a.expr(), b.expr()], vec![]),
                Some(shape),
            ),
            (_, 2, 1) if !diff => {
                // F.linear takes the weight as [out, in]: pass its transpose.
                let value = call(
                    attr(name("F"), "linear"),
                    vec![a.expr(), method(b.expr(), "t", vec![], vec![])],
                    vec![],
                );
                (value, Some(shape))
            }
            (_, _, 2) => (
                call(torch("matmul"), vec![a.expr(), b.expr()], vec![]),
                Some(shape),
            ),
            _ => (bin(BinOp::MatMul, a.expr(), b.expr()), Some(shape)),
        };
        let dt = a.dtype.promote(b.dtype);
        self.pending.extend(pre);
        self.result(value, shape, dt, &[&a, &b]).map(Some)
    }
}
