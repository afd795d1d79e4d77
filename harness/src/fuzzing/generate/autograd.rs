//! The autograd family: backward (implicit and explicit gradients, `retain_graph`), zeroing
//! grads, `detach`/`.data`, `no_grad` blocks, `requires_grad`/`retain_grad` flags, and reads of
//! attributes and values.

use super::build::*;
use super::{Gen, Var};
use crate::backend::DType;
use crate::program::ast::{BinOp, ExprKind, Stmt, StmtKind, Target};
use arbitrary::Result;

impl Gen<'_, '_> {
    // ---- autograd ----

    pub(super) fn backward(&mut self) -> Result<Option<Stmt>> {
        let Some(y) = self.pick(|v| v.requires_grad || v.is_float())? else {
            return Ok(None);
        };
        let mut kw = Vec::new();
        if self.ratio(1, 2)? {
            kw.push(("retain_graph", boolean(true)));
        }
        let root_scalar = y.shape.is_empty();
        let (root, args) = if root_scalar || y.numel() == 1 && self.ratio(1, 2)? {
            (y.expr(), vec![])
        } else {
            match self.u.int_in_range(0..=3u8)? {
                0 => (method(y.expr(), "sum", vec![], vec![]), vec![]),
                1 => (
                    y.expr(),
                    vec![call(torch("ones_like"), vec![y.expr()], vec![])],
                ),
                2 => {
                    let lit = self.literal(&y.shape, true)?;
                    let dt = if y.dtype == DType::F64 {
                        vec![("dtype", dtype_expr(DType::F64))]
                    } else {
                        vec![]
                    };
                    (y.expr(), vec![call(name("tensor"), vec![lit], dt)])
                }
                // No gradient for a non-scalar root: implicit_grad_non_scalar.
                _ => (y.expr(), vec![]),
            }
        };
        let gradient_kw = !args.is_empty() && self.ratio(1, 3)?;
        let (args, kw) = if gradient_kw {
            let mut kw2 = vec![("gradient", args.into_iter().next().expect("one arg"))];
            kw2.extend(kw);
            (vec![], kw2)
        } else {
            (args, kw)
        };
        if y.requires_grad && self.grad_enabled {
            for v in self.vars.iter_mut() {
                if v.leaf && v.requires_grad {
                    v.has_grad = true;
                }
            }
        }
        Ok(Some(expr_stmt(method(root, "backward", args, kw))))
    }

    pub(super) fn grad_zero(&mut self) -> Result<Option<Stmt>> {
        let Some(x) = self.pick(|v| v.has_grad)? else {
            return Ok(None);
        };
        if self.ratio(1, 2)? {
            if let Some(v) = self.vars.iter_mut().find(|v| v.name == x.name) {
                v.has_grad = false;
            }
            Ok(Some(Stmt::new(StmtKind::Assign {
                target: Target::Attr(Box::new(x.expr()), "grad".into()),
                value: e(ExprKind::None),
            })))
        } else {
            Ok(Some(expr_stmt(method(
                attr(x.expr(), "grad"),
                "zero_",
                vec![],
                vec![],
            ))))
        }
    }

    pub(super) fn detach(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|_| true)? else {
            return Ok(None);
        };
        match self.u.int_in_range(0..=3u8)? {
            0 | 1 => {
                let n = self.target_name()?;
                let dot_data = self.ratio(1, 2)?;
                let value = if dot_data {
                    attr(a.expr(), "data")
                } else {
                    method(a.expr(), "detach", vec![], vec![])
                };
                self.bind(Var {
                    name: n.clone(),
                    requires_grad: false,
                    leaf: true,
                    view_of_grad_leaf: false,
                    has_grad: false,
                    ..a
                });
                Ok(Some(assign(&n, value)))
            }
            2 => {
                // `x.data *= 2`: an untracked write through .data.
                let op = *self.u.choose(&[BinOp::Add, BinOp::Mul])?;
                let v = float(self.value()?.abs() + 1.0);
                if !a.is_float() {
                    return Ok(None);
                }
                Ok(Some(Stmt::new(StmtKind::AugAssign {
                    target: Target::Attr(Box::new(a.expr()), "data".into()),
                    op,
                    value: v,
                })))
            }
            _ => {
                if let Some(v) = self.vars.iter_mut().find(|v| v.name == a.name)
                    && !v.view_of_grad_leaf
                {
                    v.requires_grad = false;
                    v.leaf = true;
                }
                Ok(Some(expr_stmt(method(a.expr(), "detach_", vec![], vec![]))))
            }
        }
    }

    pub(super) fn no_grad_block(&mut self) -> Result<Option<Stmt>> {
        if !self.grad_enabled {
            return Ok(None);
        }
        self.grad_enabled = false;
        let mut body = Vec::new();
        let n = 1 + self.below(3)?;
        for _ in 0..n {
            let s = match self.u.int_in_range(0..=4u8)? {
                // The SGD step by hand: `w -= lr * w.grad`.
                0 | 1 => match self.pick(|v| v.has_grad && v.is_float())? {
                    Some(w) => Some(Stmt::new(StmtKind::AugAssign {
                        target: Target::Name(w.name.clone()),
                        op: BinOp::Sub,
                        value: bin(BinOp::Mul, float(0.1), attr(w.expr(), "grad")),
                    })),
                    None => self.inplace()?,
                },
                2 => self.op()?,
                3 => self.view()?,
                _ => self.inplace()?,
            };
            body.append(&mut self.pending);
            body.extend(s);
        }
        self.grad_enabled = true;
        if body.is_empty() {
            return Ok(None);
        }
        let context = if self.ratio(1, 5)? {
            call(torch("set_grad_enabled"), vec![boolean(false)], vec![])
        } else {
            call(torch("no_grad"), vec![], vec![])
        };
        Ok(Some(Stmt::new(StmtKind::With { context, body })))
    }

    pub(super) fn flags(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|_| true)? else {
            return Ok(None);
        };
        match self.u.int_in_range(0..=3u8)? {
            0 => {
                let ok = a.requires_grad || a.is_float();
                if ok
                    && a.is_float()
                    && let Some(v) = self.vars.iter_mut().find(|v| v.name == a.name)
                {
                    v.requires_grad = true;
                }
                Ok(Some(expr_stmt(method(
                    a.expr(),
                    "retain_grad",
                    vec![],
                    vec![],
                ))))
            }
            1 => {
                let flag = self.ratio(2, 3)?;
                if a.leaf
                    && a.is_float()
                    && let Some(v) = self.vars.iter_mut().find(|v| v.name == a.name)
                {
                    v.requires_grad = flag;
                }
                let args = if flag && self.ratio(1, 2)? {
                    vec![]
                } else {
                    vec![boolean(flag)]
                };
                Ok(Some(expr_stmt(method(
                    a.expr(),
                    "requires_grad_",
                    args,
                    vec![],
                ))))
            }
            _ => {
                let flag = self.ratio(1, 2)?;
                if a.leaf
                    && a.is_float()
                    && let Some(v) = self.vars.iter_mut().find(|v| v.name == a.name)
                {
                    v.requires_grad = flag;
                }
                Ok(Some(Stmt::new(StmtKind::Assign {
                    target: Target::Attr(Box::new(a.expr()), "requires_grad".into()),
                    value: boolean(flag),
                })))
            }
        }
    }

    /// Reads of attributes and conversions, as bare expressions or via print.
    pub(super) fn read(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|_| true)? else {
            return Ok(None);
        };
        let x = match self.u.int_in_range(0..=9u8)? {
            0 | 1 => attr(a.expr(), "grad"),
            2 => attr(a.expr(), "grad_fn"),
            3 => attr(a.expr(), "is_leaf"),
            4 => attr(a.expr(), "_version"),
            5 => attr(a.expr(), "requires_grad"),
            6 => method(a.expr(), "item", vec![], vec![]),
            7 => method(a.expr(), "tolist", vec![], vec![]),
            8 => method(a.expr(), "is_contiguous", vec![], vec![]),
            _ => attr(a.expr(), "shape"),
        };
        let x = if self.ratio(1, 4)? {
            call(name("print"), vec![x], vec![])
        } else {
            x
        };
        Ok(Some(expr_stmt(x)))
    }

    /// Things that rarely come up: deleting by rebinding to None-like values, item arithmetic.
    pub(super) fn misc(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|v| v.numel() == 1)? else {
            return self.read();
        };
        // A Python float from item() used as a scalar operand.
        let n = self.fresh();
        Ok(Some(assign(
            &n,
            bin(
                BinOp::Mul,
                method(a.expr(), "item", vec![], vec![]),
                float(2.0),
            ),
        )))
    }
}
