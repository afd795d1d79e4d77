//! The elementwise family: binary ops with tensors or numbers and unary ops, drawn from the ops
//! table's elementwise rows by their `draw` column and kept in their `domain`; `clamp`, `where`
//! and casts.

use super::build::*;
use super::{Gen, Var};
use crate::backend::DType;
use crate::ops::{
    BINARY, BinaryDtype, BinaryOp, BinaryRow, Domain, Reflected, Spelling, UNARY, UnaryRow,
};
use crate::program::ast::{BinOp, CmpOp, Expr, Stmt};
use arbitrary::Result;
use std::sync::LazyLock;

/// The arithmetic operators drawn, in table order, for general (`[0]`) and differentiable
/// (`[1]`) programs. Comparisons are drawn as conditions (`where`, bool tensors), not here.
static OPERATORS: LazyLock<[Vec<(&'static BinaryRow, BinOp)>; 2]> = LazyLock::new(|| {
    [false, true].map(|diff| {
        BINARY
            .iter()
            .filter(|r| r.draw.drawn(diff) && r.dtype != BinaryDtype::Bool)
            .filter_map(|r| Some((r, operator(r.operator?)?)))
            .collect()
    })
});

/// The unary ops drawn, in table order, for general (`[0]`) and differentiable (`[1]`) programs.
static UNARY_OPS: LazyLock<[Vec<&'static UnaryRow>; 2]> = LazyLock::new(|| {
    [false, true].map(|diff| UNARY.iter().filter(|r| r.draw.drawn(diff)).collect())
});

/// `x.abs() + 1`: positive, and never zero.
fn abs_plus_one(x: Expr) -> Expr {
    bin(BinOp::Add, method(x, "abs", vec![], vec![]), int(1))
}

/// The dtype a binary row gives for operands promoting to `promoted`.
fn binary_dtype(rule: BinaryDtype, promoted: DType) -> DType {
    match rule {
        BinaryDtype::Promote => promoted,
        BinaryDtype::ToFloat => promoted.to_float(),
        BinaryDtype::Bool => DType::Bool,
    }
}

impl Gen<'_, '_> {
    /// Elementwise ops: binary with tensors or scalars, unary, clamp, where, to(dtype).
    pub(super) fn op(&mut self) -> Result<Option<Stmt>> {
        let diff = self.diff();
        let Some(a) = self.pick(|v| !diff || v.is_float())? else {
            return Ok(None);
        };
        match self.u.int_in_range(0..=9u8)? {
            0..=3 => self.binary(a).map(Some),
            4..=7 => self.unary(a).map(Some),
            8 if !diff => {
                let lo = self.value()?;
                let hi = lo + 1.0;
                let (name, args, kw) = match self.u.int_in_range(0..=4u8)? {
                    0 => ("clamp", vec![], vec![("min", float(lo))]),
                    1 => ("clamp", vec![], vec![("max", float(hi))]),
                    2 => ("clamp_min", vec![float(lo)], vec![]),
                    3 => ("clamp_max", vec![float(hi)], vec![]),
                    _ => (
                        "clamp",
                        vec![],
                        vec![("min", float(lo)), ("max", float(hi))],
                    ),
                };
                self.result(
                    method(a.expr(), name, args, kw),
                    Some(a.shape.clone()),
                    a.dtype,
                    &[&a],
                )
                .map(Some)
            }
            8 | 9 if diff => {
                // where with a condition on a constant keeps the program smooth.
                let s = a.shape.clone();
                let Some(b) = self.pick(|v| v.is_float() && broadcast(&s, &v.shape).is_some())?
                else {
                    return Ok(None);
                };
                let Some(c) =
                    self.pick(|v| !v.requires_grad && broadcast(&s, &v.shape).is_some())?
                else {
                    return Ok(None);
                };
                let shape = broadcast(&a.shape, &b.shape).and_then(|s| broadcast(&s, &c.shape));
                let value = call(
                    torch("where"),
                    vec![cmp(CmpOp::Gt, c.expr(), float(0.0)), a.expr(), b.expr()],
                    vec![],
                );
                self.result(value, shape, a.dtype.promote(b.dtype), &[&a, &b])
                    .map(Some)
            }
            _ => self.where_or_cast(a).map(Some),
        }
    }

    /// `a op b` with a tensor, or with a Python number on either side.
    fn binary(&mut self, a: Var) -> Result<Stmt> {
        let diff = self.diff();
        let (row, op) = *self.u.choose(&OPERATORS[usize::from(diff)])?;
        let b = if self.ratio(1, 3)? {
            None
        } else {
            let s = a.shape.clone();
            let compatible = |v: &Var| broadcast(&s, &v.shape).is_some() && (!diff || v.is_float());
            if self.ratio(4, 5)? {
                self.pick(compatible)?
            } else {
                self.pick(|_| true)?
            }
        };
        let Some(b) = b else {
            return self.binary_number(a, row, op);
        };
        // Mostly keep the operands in the op's domain: a divisor that cannot be zero, a
        // positive base.
        let rhs = match row.domain {
            Domain::NonZero if diff || self.ratio(3, 4)? => abs_plus_one(b.expr()),
            Domain::Positive => method(b.expr(), "abs", vec![], vec![]),
            _ => b.expr(),
        };
        let lhs = if row.domain == Domain::Positive {
            abs_plus_one(a.expr())
        } else {
            a.expr()
        };
        let mut dt = binary_dtype(row.dtype, a.dtype.promote(b.dtype));
        // A prediction only: bool arithmetic is counted as int64.
        if dt == DType::Bool {
            dt = DType::I64;
        }
        let shape = broadcast(&a.shape, &b.shape);
        // torch.maximum now and then: a binary op without an operator.
        let value = if !diff && op == BinOp::Sub && self.ratio(1, 4)? {
            call(
                torch(BinaryOp::Maximum.name()),
                vec![a.expr(), b.expr()],
                vec![],
            )
        } else {
            bin(op, lhs, rhs)
        };
        self.result(value, shape, dt, &[&a, &b])
    }

    /// `a op 2` or `2 op a`.
    fn binary_number(&mut self, a: Var, row: &BinaryRow, op: BinOp) -> Result<Stmt> {
        let diff = self.diff();
        let s = if diff {
            self.smooth_value()?
        } else {
            self.value()?
        };
        let as_int = !diff && self.ratio(1, 3)?;
        let sc = if as_int { int(s as i64) } else { float(s) };
        // `2 // x` and `2 % x` are not in the language (their rows' `reflected` is `No`).
        let reflected = row.reflected != Reflected::No && self.ratio(1, 3)?;
        let value = match (row.domain, reflected) {
            (Domain::Positive, false) => bin(op, a.expr(), int(2)),
            (Domain::Positive, true) => bin(op, float(1.5), a.expr()),
            (Domain::NonZero, true) => bin(op, sc, abs_plus_one(a.expr())),
            (_, true) => bin(op, sc, a.expr()),
            // Dividing by an exact zero now and then is worth one in two.
            (Domain::NonZero, false) if s == 0.0 && !diff && self.ratio(1, 2)? => {
                bin(op, a.expr(), float(0.5))
            }
            (_, false) => bin(op, a.expr(), sc),
        };
        let float_number = !as_int || row.domain == Domain::Positive && reflected;
        let dt = binary_dtype(row.dtype, a.dtype.promote_number(float_number));
        self.result(value, Some(a.shape.clone()), dt, &[&a])
    }

    /// `a.f()` or `torch.f(a)`, mostly with its input moved into the op's domain.
    fn unary(&mut self, a: Var) -> Result<Stmt> {
        let diff = self.diff();
        let row = *self.u.choose(&UNARY_OPS[usize::from(diff)])?;
        // Mostly keep log, sqrt and reciprocal in their domain; sometimes not.
        let guarded = row.domain.guarded() && (diff || self.ratio(4, 5)?);
        let x = if guarded {
            bin(BinOp::Add, bin(BinOp::Mul, a.expr(), a.expr()), int(1))
        } else if diff && row.domain == Domain::Moderate {
            method(a.expr(), crate::ops::UnaryOp::Tanh.name(), vec![], vec![])
        } else {
            a.expr()
        };
        let input = if guarded {
            a.dtype.promote_number(false)
        } else {
            a.dtype
        };
        let dt = row.dtype.result(input);
        // Function spelling (torch.exp(x)) and method spelling (x.exp()) both occur.
        let value = if self.ratio(1, 4)? && row.spelled.contains(&Spelling::Torch) {
            call(torch(row.name), vec![x], vec![])
        } else {
            method(x, row.name, vec![], vec![])
        };
        let shape = dt.map(|_| a.shape.clone());
        self.result(value, shape, dt.unwrap_or(a.dtype), &[&a])
    }

    /// `torch.where(a < 0, b, a)`, or a cast.
    fn where_or_cast(&mut self, a: Var) -> Result<Stmt> {
        if self.ratio(1, 2)? {
            let s = a.shape.clone();
            let b = self.pick(|v| broadcast(&s, &v.shape).is_some())?;
            let cond = cmp(CmpOp::Lt, a.expr(), float(0.0));
            let (other, shape, dt) = match b {
                Some(b) => (
                    b.expr(),
                    broadcast(&a.shape, &b.shape),
                    a.dtype.promote(b.dtype),
                ),
                None => (
                    float(0.0),
                    Some(a.shape.clone()),
                    a.dtype.promote_number(true),
                ),
            };
            let value = call(torch("where"), vec![cond, other, a.expr()], vec![]);
            return self.result(value, shape, dt, &[&a]);
        }
        let (dt, value) = match self.u.int_in_range(0..=4u8)? {
            0 => (DType::F64, method(a.expr(), "double", vec![], vec![])),
            1 => (DType::F32, method(a.expr(), "float", vec![], vec![])),
            2 => (
                DType::F64,
                method(a.expr(), "to", vec![dtype_expr(DType::F64)], vec![]),
            ),
            // A truncating cast to a narrow integer: wrapping and the int32 route of floats.
            3 => {
                let d = [DType::I8, DType::I16, DType::I32][self.u.int_in_range(0..=2usize)?];
                (d, method(a.expr(), "to", vec![dtype_expr(d)], vec![]))
            }
            _ => (
                DType::I64,
                method(a.expr(), "to", vec![dtype_expr(DType::I64)], vec![]),
            ),
        };
        self.result(value, Some(a.shape.clone()), dt, &[&a])
    }
}
