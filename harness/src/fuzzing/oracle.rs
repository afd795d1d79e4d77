//! The differential oracle: one program, two sides (a subject under test and an oracle), one
//! verdict.
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
use crate::interp::Options;
use crate::observe::Run;
use crate::program::ast::{Expr, ExprKind, Program, Stmt, StmtKind, Target};
use crate::results::Divergence;
use crate::sides::{Job, Side};
use std::panic::{AssertUnwindSafe, catch_unwind};

// The mutant backends are `fuzzing::mutant`'s; the fuzzer's tests name them through here.
pub use super::mutant::{Mutant, Mutation};

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
    /// The comparator's first divergence between the subject and the oracle.
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
    /// The names of the two sides compared: the subject under test, then the oracle.
    pub sides: [String; 2],
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
                let [subject, oracle] = &self.sides;
                write!(
                    f,
                    ": subject {subject} {} vs oracle {oracle} {}",
                    d.subject, d.oracle
                )
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

/// Runs `p` on `side`, turning a panic (or a side that cannot run programs) into a message.
pub fn run_guarded<S: Side + ?Sized>(
    side: &mut S,
    p: &Program,
    seed: u64,
    opts: &Options,
) -> Result<Run, String> {
    match catch_unwind(AssertUnwindSafe(|| side.run(&Job::program(p, seed), opts))) {
        Ok(Ok(run)) => Ok(run),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(panic_message(&*e)),
    }
}

/// The comparator's first divergence between the run under test and the reference run.
pub fn first_divergence(test: &Run, reference: &Run) -> Option<Divergence> {
    crate::compare::compare(test, reference, None, false)
        .into_iter()
        .next()
}

/// A subject under test (`test`) against an oracle (`reference`): the engine against
/// libtorch, or any two sides of the registry.
pub struct Differential<A: Side, B: Side> {
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

impl<A: Side, B: Side> Differential<A, B> {
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

    /// The names of the subject and the oracle, for findings.
    fn sides(&self) -> [String; 2] {
        [
            self.test.name().to_string(),
            self.reference.name().to_string(),
        ]
    }

    /// The oracles' verdict on one program: `None` when everything agrees.
    pub fn check(&mut self, p: &Program) -> Option<Finding> {
        self.last_numerics = None;
        let sides = self.sides();
        let opts = Options::default();
        let test = match run_guarded(&mut self.test, p, self.data_seed, &opts) {
            Ok(r) => r,
            Err(message) => return Some(panic_finding(&sides[0], message, &sides)),
        };
        let reference = match run_guarded(&mut self.reference, p, self.data_seed, &opts) {
            Ok(r) => r,
            Err(message) => return Some(panic_finding(&sides[1], message, &sides)),
        };
        let mut first = first_divergence(&test, &reference);
        if first
            .as_ref()
            .is_some_and(|d| crate::numerics::may_be_rounding(&d.observable))
        {
            // A value difference: the oracle's float64 shadow tells rounding from semantics.
            let job = Job::program(p, self.data_seed);
            let shadow = catch_unwind(AssertUnwindSafe(|| self.reference.shadow(&job, &opts)));
            let srun = match shadow {
                Ok(Ok(r)) => Some(r),
                // A side without a shadow leaves the tight verdict standing.
                Ok(Err(_)) => None,
                Err(e) => return Some(panic_finding("shadow", panic_message(&*e), &sides)),
            };
            if let Some(srun) = srun {
                let mut judge = crate::numerics::Judge::new(&srun, p);
                let tol = crate::compare::Tol::new(None);
                first =
                    crate::compare::compare_judged(&test, &reference, tol, false, Some(&mut judge))
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
                sides,
            });
        }
        if self.gradcheck && gradcheck::is_differentiable(p) {
            let count = if self.gradcheck_reference { 2 } else { 1 };
            let (seed, n) = (self.data_seed, self.gradcheck_per_input);
            for side in 0..count {
                let verdict = catch_unwind(AssertUnwindSafe(|| {
                    if side == 0 {
                        self.test.gradcheck(p, seed, n)
                    } else {
                        self.reference.gradcheck(p, seed, n)
                    }
                }));
                match verdict {
                    Err(e) => {
                        return Some(panic_finding(&sides[side], panic_message(&*e), &sides));
                    }
                    Ok(Ok(Verdict::Mismatch(m))) => {
                        return Some(Finding {
                            key: Key {
                                observable: "gradcheck".into(),
                                op: m.backend.clone(),
                            },
                            kind: FindingKind::Gradcheck(m),
                            sides,
                        });
                    }
                    // A side without gradients to check (a golden) has nothing to say here.
                    Ok(_) => {}
                }
            }
        }
        None
    }
}

fn panic_finding(backend: &str, message: String, sides: &[String; 2]) -> Finding {
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
        sides: sides.clone(),
    }
}
