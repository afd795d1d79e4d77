//! Deliberately wrong backends: a correct one wrapped so that it breaks one rule, for checking
//! that the oracles notice (a fuzzer or a suite that finds nothing may just be blind). The
//! registry (`crate::sides`) offers each as a subject, `mutant-sub` and so on.

use crate::backend::{
    Backend, BinaryOp, Call, DType, Failure, GraphObs, InplaceOp, Operand, Scalar, TensorAttr,
    TensorObs, UnaryOp as BUnary, Value,
};

/// A deliberately wrong backend: wraps a correct one and breaks one rule, so that tests can
/// check that the oracles notice (a fuzzer that finds nothing may just be blind).
pub struct Mutant<B: Backend> {
    pub inner: B,
    pub mutation: Mutation,
    /// For `ZeroGradSign`: the tensors that can hold a gradient (made to require grad, asked to
    /// retain it, or given one), one handle each.
    grad_holders: Vec<B::Tensor>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// `a - b` computes `a + b`: wrong values and grad_fn.
    SubIsAdd,
    /// `exp` computes `sigmoid`.
    ExpIsSigmoid,
    /// `backward` always retains the graph: a second backward does not fail.
    AlwaysRetainGraph,
    /// In-place ops on leaves that require grad succeed under grad mode (as `.data` would).
    NoLeafCheck,
    /// An implicit scalar backward seeds the gradient with 2 instead of 1: values and graph are
    /// right, only the gradients are doubled (gradcheck's business).
    DoubleSeed,
    /// The backward of a float32 root seeds (or scales its given gradient) with `1 + 1e-3`: every
    /// gradient it produces is 0.1% off, a wrong constant in a backward rule. Beyond the float32
    /// tolerance wherever a gradient is not tiny, and far beyond any float32 rounding.
    GradScale,
    /// Every zero a backward writes into a gradient has the wrong sign (`+0.0` <-> `-0.0`):
    /// invisible to the value comparison itself, exposed by whatever divides by the gradient.
    ZeroGradSign,
    /// In-place ops (`add_`, `x += ..`, `zero_`, `fill_`, `copy_`, `clamp_`, `x[i] = ..`) bump
    /// the version and rewrite the history as they should, but the write is lost: the tensor
    /// keeps, and shows, its values from before the op.
    StaleInplace,
}

impl Mutation {
    /// Every mutation, in the order the power test and the registry list them.
    pub const ALL: [Mutation; 8] = [
        Mutation::SubIsAdd,
        Mutation::DoubleSeed,
        Mutation::ExpIsSigmoid,
        Mutation::AlwaysRetainGraph,
        Mutation::NoLeafCheck,
        Mutation::GradScale,
        Mutation::ZeroGradSign,
        Mutation::StaleInplace,
    ];

    /// The name a run selects the mutant by (`--subject mutant-sub`), also its backend name.
    pub const fn name(self) -> &'static str {
        match self {
            Mutation::SubIsAdd => "mutant-sub",
            Mutation::DoubleSeed => "mutant-seed",
            Mutation::ExpIsSigmoid => "mutant-exp",
            Mutation::AlwaysRetainGraph => "mutant-retain-graph",
            Mutation::NoLeafCheck => "mutant-no-leaf-check",
            Mutation::GradScale => "mutant-grad-scale",
            Mutation::ZeroGradSign => "mutant-zero-grad-sign",
            Mutation::StaleInplace => "mutant-stale-inplace",
        }
    }

    /// What the mutant gets wrong, in a few words (`--help`).
    pub const fn summary(self) -> &'static str {
        match self {
            Mutation::SubIsAdd => "libtorch with `a - b` computing `a + b`",
            Mutation::DoubleSeed => {
                "libtorch whose implicit backward seeds 2 (only gradcheck tells)"
            }
            Mutation::ExpIsSigmoid => "libtorch with `exp` computing `sigmoid`",
            Mutation::AlwaysRetainGraph => "libtorch whose backward always retains the graph",
            Mutation::NoLeafCheck => "libtorch without the leaf check of in-place ops",
            Mutation::GradScale => "libtorch whose float32 backward is 0.1% off",
            Mutation::ZeroGradSign => "libtorch that flips the sign of zero gradients",
            Mutation::StaleInplace => "libtorch whose in-place writes are lost",
        }
    }
}

/// The factor `GradScale` puts on a float32 root's gradient.
const GRAD_SCALE: f64 = 1.0 + 1e-3;

impl<B: Backend> Mutant<B> {
    pub fn new(inner: B, mutation: Mutation) -> Self {
        Mutant {
            inner,
            mutation,
            grad_holders: Vec::new(),
        }
    }

    fn tensor(v: Value<B::Tensor>) -> Option<B::Tensor> {
        match v {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// Remembers `x` as a tensor that may come to hold a gradient.
    fn hold(&mut self, x: &B::Tensor) {
        if !self.grad_holders.iter().any(|h| self.inner.same(h, x)) {
            self.grad_holders.push(x.clone());
        }
    }

    /// The gradient of every holder whose `.grad` can be read without a warning, as bits.
    fn grad_bits(&mut self) -> Vec<Option<Vec<u64>>> {
        let holders = self.grad_holders.clone();
        holders
            .iter()
            .map(|h| {
                let o = self.inner.observe(h);
                let g = o.grad.filter(|_| o.is_leaf || o.retains_grad)?;
                Some(g.values.iter().map(|v| v.to_bits()).collect())
            })
            .collect()
    }

    /// Flips the sign of every zero in the gradients a backward just wrote (new, or changed
    /// since `before`), through a `.data` alias so that no version counter moves.
    fn flip_zero_grads(&mut self, before: &[Option<Vec<u64>>]) {
        let after = self.grad_bits();
        let holders = self.grad_holders.clone();
        for (i, h) in holders.iter().enumerate() {
            let Some(now) = &after[i] else { continue };
            if before.get(i).is_some_and(|b| b.as_ref() == Some(now)) {
                continue;
            }
            if !now.iter().any(|&b| f64::from_bits(b) == 0.0) {
                continue;
            }
            let _ = (|| -> Option<()> {
                let g = Self::tensor(
                    self.inner
                        .call(Call::GetAttr {
                            x: h.clone(),
                            attr: TensorAttr::Grad,
                        })
                        .ok()?,
                )?;
                let d = Self::tensor(
                    self.inner
                        .call(Call::GetAttr {
                            x: g,
                            attr: TensorAttr::Data,
                        })
                        .ok()?,
                )?;
                let zero = Self::tensor(
                    self.inner
                        .call(Call::Binary {
                            op: BinaryOp::Eq,
                            a: d.clone(),
                            b: Operand::Scalar(Scalar::Float(0.0)),
                        })
                        .ok()?,
                )?;
                let sign = Self::tensor(
                    self.inner
                        .call(Call::Where {
                            cond: zero,
                            a: Operand::Scalar(Scalar::Float(-1.0)),
                            b: Operand::Scalar(Scalar::Float(1.0)),
                        })
                        .ok()?,
                )?;
                self.inner
                    .call(Call::Inplace {
                        op: InplaceOp::Mul,
                        x: d,
                        other: Operand::Tensor(sign),
                    })
                    .ok()?;
                Some(())
            })();
        }
    }

    /// Runs an in-place `call` on `x`, then writes `x`'s old values back through a `.data`
    /// alias: the version bump and the new history stay, the values do not.
    fn stale_inplace(
        &mut self,
        x: B::Tensor,
        call: Call<B::Tensor>,
    ) -> Result<Value<B::Tensor>, Failure> {
        let old = self
            .inner
            .call(Call::Detach { x: x.clone() })
            .ok()
            .and_then(Self::tensor)
            .and_then(|d| self.inner.call(Call::Clone { x: d }).ok())
            .and_then(Self::tensor);
        let out = self.inner.call(call)?;
        if let Some(old) = old
            && let Ok(Value::Tensor(d)) = self.inner.call(Call::GetAttr {
                x,
                attr: TensorAttr::Data,
            })
        {
            let _ = self.inner.call(Call::Copy_ { x: d, src: old });
        }
        Ok(out)
    }
}

impl<B: Backend> Backend for Mutant<B> {
    type Tensor = B::Tensor;

    fn name(&self) -> &'static str {
        self.mutation.name()
    }
    fn version(&self) -> String {
        format!("mutant {:?} of {}", self.mutation, self.inner.version())
    }
    fn call(&mut self, call: Call<B::Tensor>) -> Result<Value<B::Tensor>, Failure> {
        let call = match (self.mutation, call) {
            (
                Mutation::SubIsAdd,
                Call::Binary {
                    op: BinaryOp::Sub,
                    a,
                    b,
                },
            ) => Call::Binary {
                op: BinaryOp::Add,
                a,
                b,
            },
            (Mutation::ExpIsSigmoid, Call::Unary { op: BUnary::Exp, x }) => Call::Unary {
                op: BUnary::Sigmoid,
                x,
            },
            (
                Mutation::AlwaysRetainGraph,
                Call::Backward {
                    root,
                    gradient,
                    create_graph,
                    ..
                },
            ) => Call::Backward {
                root,
                gradient,
                retain_graph: Some(true),
                create_graph,
            },
            (Mutation::NoLeafCheck, Call::Inplace { op, x, other }) => {
                let obs = self.inner.observe(&x);
                if obs.is_leaf && obs.requires_grad {
                    // Write through a detached alias: same storage, no leaf check.
                    let d = match self.inner.call(Call::Detach { x: x.clone() })? {
                        Value::Tensor(d) => d,
                        other => return Ok(other),
                    };
                    self.inner.call(Call::Inplace { op, x: d, other })?;
                    return Ok(Value::Tensor(x));
                }
                Call::Inplace { op, x, other }
            }
            (
                Mutation::DoubleSeed,
                Call::Backward {
                    root,
                    gradient: None,
                    retain_graph,
                    create_graph,
                },
            ) => {
                let obs: TensorObs = self.inner.observe(&root);
                if obs.data.shape.is_empty() && obs.data.dtype.is_float() {
                    let g = match self.inner.call(Call::Full {
                        shape: vec![],
                        value: Scalar::Float(2.0),
                        dtype: obs.data.dtype,
                    })? {
                        Value::Tensor(g) => g,
                        other => return Ok(other),
                    };
                    Call::Backward {
                        root,
                        gradient: Some(g),
                        retain_graph,
                        create_graph,
                    }
                } else {
                    Call::Backward {
                        root,
                        gradient: None,
                        retain_graph,
                        create_graph,
                    }
                }
            }
            (
                Mutation::GradScale,
                Call::Backward {
                    root,
                    gradient,
                    retain_graph,
                    create_graph,
                },
            ) => {
                let obs: TensorObs = self.inner.observe(&root);
                let gradient = match gradient {
                    _ if obs.data.dtype != DType::F32 => gradient,
                    None if obs.data.shape.is_empty() => {
                        Self::tensor(self.inner.call(Call::Full {
                            shape: vec![],
                            value: Scalar::Float(GRAD_SCALE),
                            dtype: DType::F32,
                        })?)
                    }
                    None => None,
                    Some(g) => match self.inner.call(Call::Binary {
                        op: BinaryOp::Mul,
                        a: g.clone(),
                        b: Operand::Scalar(Scalar::Float(GRAD_SCALE)),
                    }) {
                        Ok(Value::Tensor(s)) => Some(s),
                        // A gradient the multiplication rejects is the backward's to reject.
                        _ => Some(g),
                    },
                };
                Call::Backward {
                    root,
                    gradient,
                    retain_graph,
                    create_graph,
                }
            }
            (Mutation::ZeroGradSign, call) => {
                match &call {
                    // `requires_grad=True` at creation and module parameters come through
                    // `requires_grad_` too.
                    Call::RequiresGrad_ { x, flag: true }
                    | Call::SetRequiresGrad { x, flag: true }
                    | Call::RetainGrad { x }
                    | Call::SetGrad { x, grad: Some(_) } => self.hold(x),
                    Call::Backward { .. } => {
                        let before = self.grad_bits();
                        let out = self.inner.call(call)?;
                        self.flip_zero_grads(&before);
                        return Ok(out);
                    }
                    _ => {}
                }
                call
            }
            (
                Mutation::StaleInplace,
                call @ (Call::Inplace { .. }
                | Call::Zero_ { .. }
                | Call::Fill_ { .. }
                | Call::Copy_ { .. }
                | Call::Clamp_ { .. }
                | Call::ClampSide_ { .. }
                | Call::SetIndex { .. }),
            ) => {
                let x = match &call {
                    Call::Inplace { x, .. }
                    | Call::Zero_ { x }
                    | Call::Fill_ { x, .. }
                    | Call::Copy_ { x, .. }
                    | Call::Clamp_ { x, .. }
                    | Call::ClampSide_ { x, .. }
                    | Call::SetIndex { x, .. } => x.clone(),
                    _ => unreachable!(),
                };
                return self.stale_inplace(x, call);
            }
            (_, c) => c,
        };
        self.inner.call(call)
    }
    fn observe(&mut self, x: &B::Tensor) -> TensorObs {
        self.inner.observe(x)
    }
    fn same(&self, a: &B::Tensor, b: &B::Tensor) -> bool {
        self.inner.same(a, b)
    }
    fn graph(&mut self, x: &B::Tensor) -> GraphObs {
        self.inner.graph(x)
    }
    fn take_warnings(&mut self) -> Vec<String> {
        self.inner.take_warnings()
    }
}
