//! The nn family: a module (`nn.Linear`, sometimes in a `Sequential` with `Sigmoid`), built and
//! called.

use super::build::*;
use super::{Gen, Var};
use crate::backend::DType;
use crate::program::ast::Stmt;
use arbitrary::Result;

impl Gen<'_, '_> {
    /// A module, built and called.
    pub(super) fn nn(&mut self) -> Result<Option<Stmt>> {
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
            call(
                attr(name("nn"), "Sequential"),
                vec![module, call(attr(name("nn"), "Sigmoid"), vec![], vec![])],
                vec![],
            )
        } else {
            module
        };
        let y = self.fresh();
        // Parameters require grad, so the output does whenever grad mode is on.
        let rg = self.grad_enabled;
        self.pending.push(assign(&m, module));
        self.bind(Var {
            name: y.clone(),
            shape,
            dtype: DType::F32,
            requires_grad: rg,
            leaf: !rg,
            contiguous: true,
            view_of_grad_leaf: false,
            has_grad: false,
        });
        Ok(Some(assign(&y, call(name(&m), vec![a.expr()], vec![]))))
    }
}
