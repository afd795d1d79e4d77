//! The nn family: a module (`nn.Linear`, sometimes in a `Sequential` with an activation), built and
//! called; `torch.einsum` on one or two operands; dropout and `BatchNorm2d` in training mode;
//! the class losses on a drawn target.

use super::build::*;
use super::{Gen, Var};
use crate::backend::DType;
use crate::program::ast::{ExprKind, Stmt};
use arbitrary::Result;

impl Gen<'_, '_> {
    /// One draw of the nn family.
    pub(super) fn nn(&mut self) -> Result<Option<Stmt>> {
        match self.u.int_in_range(0..=5u8)? {
            0 | 1 => self.linear_module(),
            2 => self.einsum(),
            3 => self.dropout(),
            4 => self.batch_norm2d(),
            _ => self.class_loss(),
        }
    }

    /// `nn.BatchNorm2d(C)` in training mode on a 4-D float32 tensor with more than one value per
    /// channel (`momentum=None` sometimes), built and called.
    fn batch_norm2d(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|v| {
            v.dtype == DType::F32
                && v.shape.len() == 4
                && v.shape[0] * v.shape[2] * v.shape[3] > 1
                && v.shape[1] > 0
        })?
        else {
            return Ok(None);
        };
        let kw = if self.ratio(1, 3)? {
            vec![("momentum", e(ExprKind::None))]
        } else {
            vec![]
        };
        let m = self.fresh();
        self.pending.push(assign(
            &m,
            call(
                attr(name("nn"), "BatchNorm2d"),
                ints(&[a.shape[1] as i64]),
                kw,
            ),
        ));
        let y = self.fresh();
        // The affine parameters require grad, so the output does whenever grad mode is on.
        self.bind_module_output(&y, a.shape.clone());
        Ok(Some(assign(&y, call(name(&m), vec![a.expr()], vec![]))))
    }

    /// Dropout in training mode, `F.dropout` or an `nn.Dropout` module, on a non-empty float
    /// tensor with `0 < p < 1`: always a new `MulBackward0` node on the harness's keep-mask.
    /// (Eval mode, `p == 0` and an empty input give the input itself, which the generator's
    /// model of fresh results does not describe.)
    fn dropout(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|v| v.is_float() && v.numel() > 0)? else {
            return Ok(None);
        };
        let p = float(*self.u.choose(&[0.25, 0.5, 0.75])?);
        let value = if self.ratio(1, 2)? {
            let kw = if self.ratio(1, 2)? {
                vec![("training", boolean(true))]
            } else {
                vec![]
            };
            call(attr(name("F"), "dropout"), vec![a.expr(), p], kw)
        } else {
            let m = self.fresh();
            self.pending.push(assign(
                &m,
                call(attr(name("nn"), "Dropout"), vec![p], vec![]),
            ));
            call(name(&m), vec![a.expr()], vec![])
        };
        let shape = a.shape.clone();
        self.result(value, Some(shape), a.dtype, &[&a]).map(Some)
    }

    /// `torch.einsum` with an equation that fits a 1-D or 2-D float tensor.
    fn einsum(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|v| v.is_float() && matches!(v.shape.len(), 1 | 2))? else {
            return Ok(None);
        };
        let s = a.shape.clone();
        let (eq, two, shape) = if s.len() == 1 {
            self.u
                .choose(&[
                    ("i->", false, vec![]),
                    ("i,i->i", true, s.clone()),
                    ("i,j->ij", true, vec![s[0], s[0]]),
                ])?
                .clone()
        } else {
            self.u
                .choose(&[
                    ("ij->ji", false, vec![s[1], s[0]]),
                    ("ij->j", false, vec![s[1]]),
                    ("ij,ij->ij", true, s.clone()),
                    ("ij,kj->ik", true, vec![s[0], s[0]]),
                ])?
                .clone()
        };
        let mut args = vec![e(ExprKind::Str(eq.to_string())), a.expr()];
        if two {
            args.push(a.expr());
        }
        let value = call(torch("einsum"), args, vec![]);
        self.result(value, Some(shape), a.dtype, &[&a]).map(Some)
    }

    /// `F.cross_entropy` or `F.nll_loss` of a 2-D float tensor and an int64 target drawn in range.
    fn class_loss(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|v| v.is_float() && v.shape.len() == 2 && v.numel() > 0)? else {
            return Ok(None);
        };
        let (n, c) = (a.shape[0], a.shape[1]);
        let mut classes = Vec::with_capacity(n);
        for _ in 0..n {
            classes.push(int(self.u.int_in_range(0..=c as i64 - 1)?));
        }
        let t = self.fresh();
        self.pending.push(assign(
            &t,
            call(torch("tensor"), vec![list(classes)], vec![]),
        ));
        let f = *self.u.choose(&["cross_entropy", "nll_loss"])?;
        let red = *self.u.choose(&["mean", "sum", "none"])?;
        let value = call(
            attr(name("F"), f),
            vec![a.expr(), name(&t)],
            vec![("reduction", e(ExprKind::Str(red.to_string())))],
        );
        let shape = if red == "none" { vec![n] } else { vec![] };
        self.result(value, Some(shape), a.dtype, &[&a]).map(Some)
    }

    /// A module, built and called.
    fn linear_module(&mut self) -> Result<Option<Stmt>> {
        let Some(a) = self.pick(|v| v.dtype == DType::F32 && !v.shape.is_empty())? else {
            return Ok(None);
        };
        let inf = *a.shape.last().expect("rank >= 1");
        let out = self.u.int_in_range(1..=self.cfg.max_dim)?;
        let m = self.fresh();
        let mut shape = a.shape.clone();
        *shape.last_mut().expect("rank >= 1") = out;
        let bias = self.ratio(3, 4)?;
        let kw = if bias {
            vec![]
        } else {
            vec![("bias", boolean(false))]
        };
        let module = call(
            attr(name("nn"), "Linear"),
            ints(&[inf as i64, out as i64]),
            kw,
        );
        let module = if self.ratio(1, 3)? {
            let act = *self.u.choose(&["Sigmoid", "Tanh", "ReLU"])?;
            call(
                attr(name("nn"), "Sequential"),
                vec![module, call(attr(name("nn"), act), vec![], vec![])],
                vec![],
            )
        } else {
            module
        };
        let y = self.fresh();
        // Parameters require grad, so the output does whenever grad mode is on.
        self.pending.push(assign(&m, module));
        self.bind_module_output(&y, shape);
        Ok(Some(assign(&y, call(name(&m), vec![a.expr()], vec![]))))
    }

    /// A module's float32 output: its parameters require grad, so it does whenever grad mode
    /// is on.
    fn bind_module_output(&mut self, y: &str, shape: Vec<usize>) {
        let rg = self.grad_enabled;
        self.bind(Var {
            name: y.to_string(),
            shape,
            dtype: DType::F32,
            requires_grad: rg,
            leaf: !rg,
            contiguous: true,
            view_of_grad_leaf: false,
            has_grad: false,
        });
    }
}
