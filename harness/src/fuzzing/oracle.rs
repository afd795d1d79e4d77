//! The differential oracle: one program, two backends, one verdict.
//!
//! Outcomes are classified the way wasmtime's differential oracle classifies them. The
//! interpreter records each statement's outcome and every observable after it, and the harness
//! comparator judges the two runs: both succeed, so every observable must agree; both fail, so
//! the error kinds must agree; only one fails, which is a divergence. On top of that a backend
//! must not panic (caught with `catch_unwind` and reported as a finding of its own), and, for
//! programs of gradcheck's shape, each backend's gradients must agree with finite differences.
//!
//! A [`Finding`] carries a [`Key`]: the first divergent observable and the op of the statement
//! where it showed. The campaign deduplicates by key and the shrinker keeps a program only while
//! its key stays the same.

use super::gradcheck::{self, Verdict};
use crate::backend::{
    Backend, BinaryOp, Call, DType, Failure, GraphObs, InplaceOp, Operand, Scalar, TensorAttr,
    TensorObs, UnaryOp as BUnary, Value,
};
use crate::interp::{self, Options, Run};
use crate::program::ast::{Expr, ExprKind, Program, Stmt, StmtKind, Target};
use crate::results::Divergence;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What identifies a finding across programs: the first divergent observable and the op.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// `outcome`, `values`, `grad_fn`, `grad.values`, ..., or `panic`, `gradcheck`.
    pub observable: String,
    /// The op of the statement where it showed: `exp`, `backward`, `iadd`, `setitem`, ...
    pub op: String,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} after {}", self.observable, self.op)
    }
}

#[derive(Debug, Clone)]
pub enum FindingKind {
    /// The comparator's first divergence between the backend under test and the reference.
    Divergence(Box<Divergence>),
    /// A backend panicked (a panic is a bug whatever the program).
    Panic { backend: String, message: String },
    /// A backend's gradient disagrees with finite differences.
    Gradcheck(gradcheck::Mismatch),
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub key: Key,
    pub kind: FindingKind,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            FindingKind::Divergence(d) => {
                write!(
                    f,
                    "statement {} `{}`: {}",
                    d.stmt_index, d.statement, d.observable
                )?;
                if let Some(v) = &d.variable {
                    write!(f, " of {v}")?;
                }
                write!(f, ": engine {} vs libtorch {}", d.engine, d.libtorch)
            }
            FindingKind::Panic { backend, message } => write!(f, "{backend} panicked: {message}"),
            FindingKind::Gradcheck(m) => write!(f, "gradcheck: {m}"),
        }
    }
}

/// The op a statement performs, for dedup keys: the outermost call's name, or the kind of
/// assignment (`setitem`, `iadd`, `setattr_grad`).
pub fn stmt_op(s: &Stmt) -> String {
    fn expr_op(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Call { func, .. } => match &func.kind {
                ExprKind::Name(n) => n.clone(),
                ExprKind::Attr(_, m) => m.clone(),
                _ => "call".into(),
            },
            ExprKind::Binary(op, ..) => format!("{op:?}").to_lowercase(),
            ExprKind::Compare(op, ..) => format!("{op:?}").to_lowercase(),
            ExprKind::Unary(op, x) => match &x.kind {
                ExprKind::Int(_) | ExprKind::Float(_) => "literal".into(),
                _ => format!("{op:?}").to_lowercase(),
            },
            ExprKind::Attr(_, a) => a.clone(),
            ExprKind::Index(..) => "getitem".into(),
            ExprKind::Name(_) => "name".into(),
            _ => "literal".into(),
        }
    }
    match &s.kind {
        StmtKind::Assign { target, value } => match target {
            Target::Index(..) => "setitem".into(),
            Target::Attr(_, a) => format!("set_{a}"),
            _ => expr_op(value),
        },
        StmtKind::AugAssign { target, op, .. } => {
            let what = match target {
                Target::Attr(_, a) => format!(".{a}"),
                _ => String::new(),
            };
            format!("i{}{what}", format!("{op:?}").to_lowercase())
        }
        StmtKind::Expr(e) => expr_op(e),
        StmtKind::With { body, .. } => match body.first() {
            Some(s) => format!("no_grad:{}", stmt_op(s)),
            None => "with".into(),
        },
        StmtKind::For { .. } => "for".into(),
        StmtKind::If { .. } => "if".into(),
        StmtKind::Import(_) | StmtKind::Pass => "pass".into(),
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic".into()
    }
}

/// Runs `p` on `b`, turning a panic into a message.
pub fn run_guarded<B: Backend>(
    b: &mut B,
    p: &Program,
    seed: u64,
    opts: &Options,
) -> Result<Run, String> {
    catch_unwind(AssertUnwindSafe(|| interp::run(b, p, seed, opts))).map_err(|e| panic_message(&*e))
}

/// The comparator's first divergence between the run under test and the reference run.
pub fn first_divergence(test: &Run, reference: &Run) -> Option<Divergence> {
    crate::compare::compare(test, reference, None, false)
        .into_iter()
        .next()
}

/// Engine (or any backend under test) against a reference backend (libtorch).
pub struct Differential<A: Backend, B: Backend> {
    pub test: A,
    pub reference: B,
    /// Also run gradcheck for programs of gradcheck's shape, on the backend under test.
    /// When the comparator passed, the two backends' gradients already agree, so checking the
    /// reference as well adds nothing but time; `gradcheck_reference` turns it on.
    pub gradcheck: bool,
    pub gradcheck_reference: bool,
    /// Elements checked per gradcheck input (each costs two forward runs).
    pub gradcheck_per_input: usize,
    /// The seed for `randn`/`rand` inside programs.
    pub data_seed: u64,
    /// Set by [`Differential::check`] when the last program's only differences were float32
    /// rounding (`crate::numerics`): the first such difference's observable and op. Not a
    /// finding: campaigns count these apart and never write them as cases.
    pub last_numerics: Option<Key>,
}

impl<A: Backend, B: Backend> Differential<A, B> {
    pub fn new(test: A, reference: B) -> Self {
        Differential {
            test,
            reference,
            gradcheck: true,
            gradcheck_reference: false,
            gradcheck_per_input: 3,
            data_seed: 0,
            last_numerics: None,
        }
    }

    /// The oracles' verdict on one program: `None` when everything agrees.
    pub fn check(&mut self, p: &Program) -> Option<Finding> {
        self.last_numerics = None;
        let opts = Options::default();
        let test = match run_guarded(&mut self.test, p, self.data_seed, &opts) {
            Ok(r) => r,
            Err(message) => return Some(panic_finding(self.test.name(), message)),
        };
        let reference = match run_guarded(&mut self.reference, p, self.data_seed, &opts) {
            Ok(r) => r,
            Err(message) => return Some(panic_finding(self.reference.name(), message)),
        };
        let mut first = first_divergence(&test, &reference);
        if first
            .as_ref()
            .is_some_and(|d| crate::numerics::may_be_rounding(&d.observable))
        {
            // A value difference: the reference's float64 shadow tells rounding from semantics.
            let mut shadow = crate::backend::shadow::Shadow::new(&mut self.reference);
            let srun = match run_guarded(&mut shadow, p, self.data_seed, &opts) {
                Ok(r) => r,
                Err(message) => return Some(panic_finding("shadow", message)),
            };
            let mut judge = crate::numerics::Judge::new(&srun, p);
            let tol = crate::compare::Tol::new(None);
            first = crate::compare::compare_judged(&test, &reference, tol, false, Some(&mut judge))
                .0
                .into_iter()
                .next();
            if first.is_none()
                && let Some(n) = judge.notes.first()
            {
                let op = p
                    .stmts
                    .iter()
                    .find(|s| s.span.line == n.line)
                    .map(stmt_op)
                    .unwrap_or_default();
                self.last_numerics = Some(Key {
                    observable: n.observable.clone(),
                    op,
                });
            }
        }
        if let Some(mut d) = first {
            // Generated programs have no source text; show the statement as the printer writes it.
            if d.statement.is_empty()
                && let Some(s) = p.stmts.get(d.stmt_index)
            {
                d.statement = crate::program::print_stmt(s).trim_end().to_string();
            }
            let op = p.stmts.get(d.stmt_index).map(stmt_op).unwrap_or_default();
            return Some(Finding {
                key: Key {
                    observable: d.observable.clone(),
                    op,
                },
                kind: FindingKind::Divergence(Box::new(d)),
            });
        }
        if self.gradcheck && gradcheck::is_differentiable(p) {
            let sides = if self.gradcheck_reference { 2 } else { 1 };
            let (seed, n) = (self.data_seed, self.gradcheck_per_input);
            for side in 0..sides {
                let verdict = catch_unwind(AssertUnwindSafe(|| {
                    if side == 0 {
                        gradcheck::check_sampled(&mut self.test, p, seed, Default::default(), n)
                    } else {
                        gradcheck::check_sampled(
                            &mut self.reference,
                            p,
                            seed,
                            Default::default(),
                            n,
                        )
                    }
                }));
                match verdict {
                    Err(e) => {
                        let name = if side == 0 {
                            self.test.name()
                        } else {
                            self.reference.name()
                        };
                        return Some(panic_finding(name, panic_message(&*e)));
                    }
                    Ok(Verdict::Mismatch(m)) => {
                        return Some(Finding {
                            key: Key {
                                observable: "gradcheck".into(),
                                op: m.backend.clone(),
                            },
                            kind: FindingKind::Gradcheck(m),
                        });
                    }
                    Ok(_) => {}
                }
            }
        }
        None
    }
}

fn panic_finding(backend: &str, message: String) -> Finding {
    // Panic messages go on to carry values, addresses and backtraces; the start of the first
    // line names the site well enough to tell panics apart.
    let first = message.lines().next().unwrap_or("");
    let site: String = first.chars().take(100).collect();
    Finding {
        key: Key {
            observable: "panic".into(),
            op: format!("{backend}: {site}"),
        },
        kind: FindingKind::Panic {
            backend: backend.to_string(),
            message: first.chars().take(400).collect(),
        },
    }
}

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
        "engine"
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
                | Call::SetIndex { .. }),
            ) => {
                let x = match &call {
                    Call::Inplace { x, .. }
                    | Call::Zero_ { x }
                    | Call::Fill_ { x, .. }
                    | Call::Copy_ { x, .. }
                    | Call::Clamp_ { x, .. }
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
