//! The in-place family: in-place arithmetic and writes (`add_`, `+=`, `zero_`, `fill_`, `copy_`,
//! `clamp_`, `x[i] = v`), mostly on tensors the leaf rule lets through, sometimes not.

use super::build::*;
use super::{Gen, Var};
use crate::ops::{BINARY, BinaryDtype, BinaryRow, Domain, InplaceOp, UNARY, UnaryRow};
use crate::program::ast::{BinOp, CmpOp, IndexItem, Stmt, StmtKind, Target};
use arbitrary::Result;
use std::sync::LazyLock;

/// The in-place binary ops drawn, with their operators (`x += y`), in table order.
static IN_PLACE: LazyLock<Vec<(&'static BinaryRow, InplaceOp, BinOp)>> = LazyLock::new(|| {
    BINARY
        .iter()
        .filter(|r| r.draw.drawn(false))
        .filter_map(|r| Some((r, r.in_place?, operator(r.operator?)?)))
        .collect()
});

/// The unary ops whose in-place form (`x.exp_()`) the ops table switches on.
static UNARY_IN_PLACE: LazyLock<Vec<&'static UnaryRow>> = LazyLock::new(|| {
    UNARY
        .iter()
        .filter(|r| r.in_place.is_some() && r.draw.drawn(false))
        .collect()
});

impl Gen<'_, '_> {
    /// An in-place write: arithmetic, `zero_`, `fill_`, `copy_`, `clamp_`, a unary op in place.
    pub(super) fn inplace(&mut self) -> Result<Option<Stmt>> {
        let ge = self.grad_enabled;
        // Mostly pick tensors that may be written; one in six breaks the rule on purpose.
        let bad = self.ratio(1, 6)?;
        let Some(a) = self.pick(|v| bad || v.writable(ge))? else {
            return Ok(None);
        };
        let ok_write = a.writable(ge);
        // The in-place unary ops join the draw once the ops table switches any on.
        let kinds = if UNARY_IN_PLACE.is_empty() { 7 } else { 8 };
        let (stmt, other) = match self.u.int_in_range(0..=kinds)? {
            0..=3 => {
                let (row, iop, op) = *self.u.choose(&IN_PLACE)?;
                let s = a.shape.clone();
                let b = if self.ratio(1, 2)? {
                    self.pick(|v| {
                        broadcast(&s, &v.shape).as_deref() == Some(&s[..]) && v.name != a.name
                    })?
                } else {
                    None
                };
                let rhs = match &b {
                    Some(b) if row.domain == Domain::NonZero => {
                        bin(BinOp::Add, method(b.expr(), "abs", vec![], vec![]), int(1))
                    }
                    Some(b) => b.expr(),
                    None => float(self.value()?.abs() + 0.5),
                };
                let stmt = if self.ratio(1, 2)? {
                    Stmt::new(StmtKind::AugAssign {
                        target: Target::Name(a.name.clone()),
                        op,
                        value: rhs,
                    })
                } else {
                    expr_stmt(method(a.expr(), iop.name(), vec![rhs], vec![]))
                };
                // Writing a float into an integer tensor fails (and so does `/=` on integers).
                let dtype_ok = a.is_float()
                    || (b.as_ref().is_some_and(|b| !b.is_float())
                        && row.dtype != BinaryDtype::ToFloat);
                (stmt.clone(), if dtype_ok { b.map(Some) } else { None })
            }
            4 => (
                expr_stmt(method(a.expr(), "zero_", vec![], vec![])),
                Some(None),
            ),
            5 => {
                let v = self.value()?;
                (
                    expr_stmt(method(a.expr(), "fill_", vec![float(v)], vec![])),
                    Some(None),
                )
            }
            6 => {
                let s = a.shape.clone();
                let Some(b) = self.pick(|v| broadcast(&s, &v.shape).as_deref() == Some(&s[..]))?
                else {
                    return Ok(None);
                };
                (
                    expr_stmt(method(a.expr(), "copy_", vec![b.expr()], vec![])),
                    Some(Some(b)),
                )
            }
            8 => {
                let row = *self.u.choose(&UNARY_IN_PLACE)?;
                let name = row.in_place.unwrap_or(row.name);
                // The result must fit the tensor's own dtype (`exp_` of an int64 tensor fails).
                let fits = row.dtype.result(a.dtype) == Some(a.dtype);
                (
                    expr_stmt(method(a.expr(), name, vec![], vec![])),
                    fits.then_some(None),
                )
            }
            _ => {
                let v = float(self.value()?);
                let call = match self.u.int_in_range(0..=2u8)? {
                    0 => method(a.expr(), "clamp_", vec![], vec![("min", v)]),
                    1 => method(a.expr(), "clamp_min_", vec![v], vec![]),
                    _ => method(a.expr(), "clamp_max_", vec![v], vec![]),
                };
                (expr_stmt(call), Some(None))
            }
        };
        if let Some(other) = other.filter(|_| ok_write) {
            self.after_write(&a.name, other.as_ref());
        }
        Ok(Some(stmt))
    }

    /// After a successful in-place write: the tensor joins the graph when the source requires grad.
    pub(super) fn after_write(&mut self, target: &str, src: Option<&Var>) {
        let ge = self.grad_enabled;
        let src_rg = src.is_some_and(|s| s.requires_grad);
        if let Some(v) = self.vars.iter_mut().find(|v| v.name == target)
            && ge
            && (v.requires_grad || src_rg)
            && v.is_float()
        {
            v.requires_grad = true;
            v.leaf = false;
        }
    }

    pub(super) fn index_assign(&mut self) -> Result<Option<Stmt>> {
        let ge = self.grad_enabled;
        let bad = self.ratio(1, 6)?;
        let Some(a) = self.pick(|v| !v.shape.is_empty() && (bad || v.writable(ge)))? else {
            return Ok(None);
        };
        // Now and then a bool mask (`x[x > c] = v`), whose result shape depends on the values.
        let (items, shape) = if self.ratio(1, 5)? {
            let mask = cmp(CmpOp::Gt, a.expr(), float(self.value()?));
            (vec![IndexItem::Expr(mask)], None)
        } else {
            let (items, shape, _) = self.index_items(&a.shape)?;
            (items, shape)
        };
        let (value, src) = match &shape {
            Some(sh) if self.ratio(1, 2)? => {
                match self.pick(|v| broadcast(sh, &v.shape).as_deref() == Some(&sh[..]))? {
                    Some(b) => (b.expr(), Some(b)),
                    None => (float(self.value()?), None),
                }
            }
            _ => (float(self.value()?), None),
        };
        if shape.is_some() && a.writable(ge) {
            self.after_write(&a.name, src.as_ref());
        }
        Ok(Some(Stmt::new(StmtKind::Assign {
            target: Target::Index(Box::new(a.expr()), items),
            value,
        })))
    }
}
