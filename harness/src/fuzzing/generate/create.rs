//! The create family: new input tensors (literals, `ones`/`zeros`/`full`/`empty`, `arange`,
//! `randn`/`rand`, `*_like`, `new_ones`/`new_zeros`, comparisons that make bool tensors).

use super::build::*;
use super::{Gen, Var};
use crate::backend::DType;
use crate::program::ast::{CmpOp, ExprKind, Stmt};
use arbitrary::Result;

impl Gen<'_, '_> {
    /// A new input tensor.
    pub(super) fn create(&mut self) -> Result<Stmt> {
        // Most new tensors broadcast with one already there, so binary ops have partners.
        let shape = match self.pick(|_| true)? {
            Some(v) if self.ratio(2, 3)? => self.compatible_shape(&v.shape)?,
            _ => self.shape()?,
        };
        let n = self.fresh();
        if self.diff() {
            let rg = self.vars.iter().all(|v| !v.requires_grad) || self.ratio(3, 4)?;
            let lit = self.literal(&shape, true)?;
            let mut kw = vec![("dtype", dtype_expr(DType::F64))];
            if rg {
                kw.push(("requires_grad", boolean(true)));
            }
            self.bind(Var {
                name: n.clone(),
                shape,
                dtype: DType::F64,
                requires_grad: rg,
                leaf: true,
                contiguous: true,
                view_of_grad_leaf: false,
                has_grad: false,
            });
            return Ok(assign(&n, call(name("tensor"), vec![lit], kw)));
        }
        let dtype = match self.u.int_in_range(0..=10u8)? {
            0..=5 => DType::F32,
            6 | 7 => DType::F64,
            8 => DType::I64,
            // The narrow integers, one draw in eleven between them: promotion with the
            // other dtypes and wrapping arithmetic.
            9 => [DType::I8, DType::I16, DType::I32][self.u.int_in_range(0..=2usize)?],
            _ => DType::Bool,
        };
        let rg = dtype.is_float() && self.ratio(2, 3)?;
        // Now and then ask an integer tensor to require grad: a requires_grad_dtype error.
        let bad_rg = !dtype.is_float() && self.ratio(1, 12)?;
        let rg_kw = |rg: bool| {
            if rg {
                vec![("requires_grad", boolean(true))]
            } else {
                vec![]
            }
        };
        let mut kw = Vec::new();
        let value = match (dtype, self.u.int_in_range(0..=6u8)?) {
            (DType::Bool, _) => {
                let src = self.pick(|v| v.is_float())?;
                match src {
                    Some(v) => {
                        let stmt = assign(&n, cmp(CmpOp::Gt, v.expr(), float(0.0)));
                        self.bind(Var {
                            name: n,
                            shape: v.shape.clone(),
                            dtype: DType::Bool,
                            requires_grad: false,
                            leaf: true,
                            contiguous: true,
                            view_of_grad_leaf: false,
                            has_grad: false,
                        });
                        return Ok(stmt);
                    }
                    None => {
                        let lit = self.literal(&shape, false)?;
                        cmp(CmpOp::Gt, call(name("tensor"), vec![lit], vec![]), int(0))
                    }
                }
            }
            (DType::I64, 0) if shape.len() == 1 => {
                call(name("arange"), vec![int(shape[0] as i64)], vec![])
            }
            (DType::I64, _) => {
                let lit = self.literal(&shape, false)?;
                kw = rg_kw(bad_rg);
                call(name("tensor"), vec![lit], std::mem::take(&mut kw))
            }
            (d, _) if d.is_int() => {
                let lit = self.literal(&shape, false)?;
                kw.push(("dtype", dtype_expr(d)));
                kw.extend(rg_kw(bad_rg));
                call(name("tensor"), vec![lit], std::mem::take(&mut kw))
            }
            (_, 0 | 1) => {
                let lit = self.literal(&shape, true)?;
                kw.extend(rg_kw(rg));
                if dtype == DType::F64 {
                    kw.insert(0, ("dtype", dtype_expr(dtype)));
                }
                call(name("tensor"), vec![lit], std::mem::take(&mut kw))
            }
            (_, 2) if !shape.is_empty() => {
                let f = if self.ratio(1, 2)? { "ones" } else { "zeros" };
                if dtype == DType::F64 {
                    kw.push(("dtype", dtype_expr(dtype)));
                }
                kw.extend(rg_kw(rg));
                call(name(f), shape_args(&shape), std::mem::take(&mut kw))
            }
            (_, 3) if !shape.is_empty() => {
                let v = self.value()?;
                if dtype == DType::F64 {
                    kw.push(("dtype", dtype_expr(dtype)));
                }
                kw.extend(rg_kw(rg));
                let dims = e(ExprKind::Tuple(shape_args(&shape)));
                call(name("full"), vec![dims, float(v)], std::mem::take(&mut kw))
            }
            (_, 4) if !self.vars.is_empty() => {
                // `ones_like` copies the dtype and shape of another tensor.
                let v = self.pick(|_| true)?.expect("vars is not empty");
                let f = if self.ratio(1, 2)? {
                    "ones_like"
                } else {
                    "zeros_like"
                };
                let rg = v.is_float() && rg;
                let stmt = assign(&n, call(torch(f), vec![v.expr()], rg_kw(rg)));
                self.bind(Var {
                    name: n,
                    shape: v.shape.clone(),
                    dtype: v.dtype,
                    requires_grad: rg,
                    leaf: true,
                    contiguous: true,
                    view_of_grad_leaf: false,
                    has_grad: false,
                });
                return Ok(stmt);
            }
            (_, 6) if !shape.is_empty() && !self.vars.is_empty() => {
                // `v.new_ones(*shape)` takes another tensor's dtype; `torch.empty` is zeros.
                let v = self.pick(|_| true)?.expect("vars is not empty");
                let (value, dtype) = match self.below(3)? {
                    0 => (
                        method(v.expr(), "new_ones", shape_args(&shape), vec![]),
                        v.dtype,
                    ),
                    1 => (
                        method(v.expr(), "new_zeros", shape_args(&shape), vec![]),
                        v.dtype,
                    ),
                    _ => {
                        if dtype == DType::F64 {
                            kw.push(("dtype", dtype_expr(dtype)));
                        }
                        (call(torch("empty"), shape_args(&shape), kw), dtype)
                    }
                };
                self.bind(Var {
                    name: n.clone(),
                    shape,
                    dtype,
                    requires_grad: false,
                    leaf: true,
                    contiguous: true,
                    view_of_grad_leaf: false,
                    has_grad: false,
                });
                return Ok(assign(&n, value));
            }
            _ if !shape.is_empty() => {
                let f = if self.ratio(1, 2)? { "randn" } else { "rand" };
                if dtype == DType::F64 {
                    kw.push(("dtype", dtype_expr(dtype)));
                }
                kw.extend(rg_kw(rg));
                call(name(f), shape_args(&shape), std::mem::take(&mut kw))
            }
            _ => {
                let v = self.value()?;
                kw.extend(rg_kw(rg));
                if dtype == DType::F64 {
                    kw.insert(0, ("dtype", dtype_expr(dtype)));
                }
                call(name("tensor"), vec![float(v)], kw)
            }
        };
        if bad_rg {
            return Ok(assign(&n, value));
        }
        self.bind(Var {
            name: n.clone(),
            shape,
            dtype,
            requires_grad: rg,
            leaf: true,
            contiguous: true,
            view_of_grad_leaf: false,
            has_grad: false,
        });
        Ok(assign(&n, value))
    }
}
