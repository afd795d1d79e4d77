//! Runs a program on one [`Backend`] and records what is observable after every statement.
//!
//! The interpreter is the only place that knows Python: it binds arguments, lowers operators the
//! way CPython's torch does (`2 * x` is `x.mul(2)`, `1 - x` is `x.rsub(1)`), builds modules out
//! of backend calls, and makes random data from the case's seed so that both backends get the
//! same bytes. Backends see typed [`crate::backend::Call`]s only.
//!
//! Execution has notebook semantics: a statement that fails is recorded and the next one runs.
//! Observation points (documented in `cases/FORMAT.md`): after every statement outside loops,
//! every live tensor variable and every parameter of every live module is observed; inside a
//! `for` body only the variables the statement can change (see `stmt_names`; modules expand to
//! their parameters), which keeps a 2000-iteration training loop cheap; the loop statement itself is observed in full once
//! it ends.

mod builtins;
mod eval;
mod value;

use crate::backend::{Backend, Failure, Value};
use crate::error_kind::ErrorKind;
use crate::program::{Expr, ExprKind, IndexItem, Program, Stmt, StmtKind, Target};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use value::{PyVal, unsupported};

// The observation types live in `crate::observe`; the interpreter's own files and the gradcheck
// oracle name them through `interp`.
pub use crate::observe::{ObsValue, ProbeObs, Run, Step, VarObs};

/// How a run is observed.
#[derive(Debug, Clone)]
pub struct Options {
    /// Expressions evaluated (without side effects) after statements, for `doc` claims.
    pub probes: Vec<Probe>,
    /// Step numbers (`Step::seq`) after which the graphs of all observed tensors are recorded.
    pub graphs_at: Vec<usize>,
    /// Statement executions after which the run stops (guards against runaway loops).
    pub max_steps: usize,
    /// When false only outcomes, results and warnings are recorded (no tensor observations).
    pub observe: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            probes: Vec::new(),
            graphs_at: Vec::new(),
            max_steps: 200_000,
            observe: true,
        }
    }
}

/// A probe: after each execution of the statement on program line `line`, evaluate `expr`;
/// `expr: None` records the statement's own outcome (a `raises:` claim).
#[derive(Debug, Clone)]
pub struct Probe {
    pub line: u32,
    pub expr: Option<Expr>,
}

/// Runs `program` on `backend`. Never panics on a bad program: every problem is a recorded
/// [`Failure`] on the statement where it happened.
pub fn run<B: Backend>(backend: &mut B, program: &Program, seed: u64, options: &Options) -> Run {
    let mut it = Interp {
        b: backend,
        env: Vec::new(),
        rng: ChaCha8Rng::seed_from_u64(seed),
        opts: options,
        out: Run::default(),
        loop_depth: 0,
        top_index: 0,
        ids: Vec::new(),
    };
    it.out.backend = it.b.name().to_string();
    it.out.version = it.b.version();
    it.out.probes = vec![None; options.probes.len()];
    // Warnings left over from a previous program on a reused backend are not this program's.
    it.b.take_warnings();
    // Grad mode is thread-local in both backends and a worker thread runs many programs: each
    // starts with grad mode on, as a fresh Python process does, and a bare
    // `torch.set_grad_enabled(False)` statement must not leak into the next program.
    let _ = it.set_grad_enabled(true);
    for (i, s) in program.stmts.iter().enumerate() {
        it.top_index = i;
        it.exec(s);
        if it.out.truncated {
            break;
        }
    }
    let _ = it.set_grad_enabled(true);
    it.out
}

/// The interpreter's state for one run.
pub(crate) struct Interp<'a, B: Backend> {
    pub(crate) b: &'a mut B,
    /// Variables in order of first binding, so observations come out in program order.
    pub(crate) env: Vec<(String, PyVal<B::Tensor>)>,
    pub(crate) rng: ChaCha8Rng,
    opts: &'a Options,
    out: Run,
    loop_depth: usize,
    top_index: usize,
    /// Objects `id()` has numbered; Python identity as the backend reports it.
    pub(crate) ids: Vec<B::Tensor>,
}

type Res<T> = Result<T, Failure>;

impl<B: Backend> Interp<'_, B> {
    pub(crate) fn lookup_var(&self, name: &str) -> Option<&PyVal<B::Tensor>> {
        self.env.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub(crate) fn bind(&mut self, name: &str, v: PyVal<B::Tensor>) {
        if let Some(slot) = self.env.iter_mut().find(|(n, _)| n == name) {
            slot.1 = v;
        } else {
            self.env.push((name.to_string(), v));
        }
    }

    pub(crate) fn call(&mut self, c: crate::backend::Call<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let v = self.b.call(c)?;
        Ok(from_value(v))
    }

    fn exec_block(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            if self.out.truncated {
                return;
            }
            self.exec(s);
        }
    }

    fn exec(&mut self, s: &Stmt) {
        if self.out.steps.len() >= self.opts.max_steps {
            self.out.truncated = true;
            return;
        }
        let mut result = None;
        let outcome: Res<()> = match &s.kind {
            StmtKind::Import(_) | StmtKind::Pass => Ok(()),
            StmtKind::Assign { target, value } => {
                self.eval(value).and_then(|v| self.assign(target, v))
            }
            StmtKind::AugAssign { target, op, value } => self.aug_assign(target, *op, value),
            StmtKind::Expr(e) => self.eval(e).map(|v| {
                result = Some(v);
            }),
            StmtKind::With { context, body } => self.exec_with(context, body),
            StmtKind::For { target, iter, body } => self.exec_for(target, iter, body),
            StmtKind::If { cond, body, orelse } => {
                match self.eval(cond).and_then(|c| self.truthy(&c)) {
                    Ok(true) => {
                        self.exec_block(body);
                        Ok(())
                    }
                    Ok(false) => {
                        self.exec_block(orelse);
                        Ok(())
                    }
                    Err(f) => Err(f),
                }
            }
        };
        self.record(s, outcome.err(), result);
    }

    fn exec_with(&mut self, context: &Expr, body: &[Stmt]) -> Res<()> {
        let ctx = self.eval(context)?;
        let PyVal::GradCtx { enabled, prev } = ctx else {
            return Err(unsupported(format!(
                "`with` on a {} (only no_grad, enable_grad, set_grad_enabled)",
                ctx.type_name()
            )));
        };
        let prev = match prev {
            Some(p) => p,
            None => self.set_grad_enabled(enabled)?,
        };
        self.exec_block(body);
        // Restored even when the body failed, as `__exit__` does.
        self.set_grad_enabled(prev)?;
        Ok(())
    }

    pub(crate) fn set_grad_enabled(&mut self, enabled: bool) -> Res<bool> {
        match self
            .b
            .call(crate::backend::Call::SetGradEnabled { enabled })?
        {
            Value::Bool(prev) => Ok(prev),
            _ => Err(Failure::new(
                ErrorKind::Unclassified,
                "SetGradEnabled did not return the previous mode",
            )),
        }
    }

    fn exec_for(&mut self, target: &Target, iter: &Expr, body: &[Stmt]) -> Res<()> {
        let it = self.eval(iter)?;
        let items: Box<dyn Iterator<Item = PyVal<B::Tensor>>> = match it {
            PyVal::Range(start, stop, step) => {
                let mut i = start;
                Box::new(std::iter::from_fn(move || {
                    let more = if step > 0 { i < stop } else { i > stop };
                    more.then(|| {
                        let v = i;
                        i += step;
                        PyVal::Int(v)
                    })
                }))
            }
            PyVal::List(xs) | PyVal::Tuple(xs) => Box::new(xs.into_iter()),
            other => {
                return Err(value::type_error(format!(
                    "'{}' object is not iterable",
                    other.type_name()
                )));
            }
        };
        self.loop_depth += 1;
        let mut res = Ok(());
        for item in items {
            if let Err(f) = self.assign(target, item) {
                res = Err(f);
                break;
            }
            self.exec_block(body);
            if self.out.truncated {
                break;
            }
        }
        self.loop_depth -= 1;
        res
    }

    /// Records one step: outcome, warnings, observations, probes and graphs.
    fn record(&mut self, s: &Stmt, error: Option<Failure>, result: Option<PyVal<B::Tensor>>) {
        let seq = self.out.steps.len();
        let warnings = self.b.take_warnings();
        let result = result.map(|v| self.observe_value(&v));
        let mut vars = Vec::new();
        let mut graphs = Vec::new();
        if self.opts.observe {
            let tensors = if self.loop_depth > 0 {
                let mut names = Vec::new();
                stmt_names(s, &mut names);
                self.live_tensors(Some(&names))
            } else {
                self.live_tensors(None)
            };
            let want_graphs = self.opts.graphs_at.contains(&seq);
            for (name, t) in tensors {
                if want_graphs {
                    graphs.push((name.clone(), self.b.graph(&t)));
                }
                vars.push(VarObs {
                    name,
                    obs: self.b.observe(&t),
                });
            }
        }
        for (i, p) in self.opts.probes.iter().enumerate() {
            if p.line != s.span.line {
                continue;
            }
            let value = match &p.expr {
                None => match &error {
                    Some(f) => Err(f.clone()),
                    None => Ok(ObsValue::None),
                },
                Some(e) => self.eval(e).map(|v| self.observe_value(&v)),
            };
            self.out.probes[i] = Some(ProbeObs { seq, value });
        }
        // Warnings raised while checking claims belong to no statement.
        self.b.take_warnings();
        self.out.steps.push(Step {
            seq,
            stmt_index: self.top_index,
            line: s.span.line,
            in_loop: self.loop_depth > 0,
            error,
            expect: s.expect.clone(),
            result,
            vars,
            warnings,
            graphs,
        });
    }

    /// Tensor-valued variables (and tensors one level inside tuples and lists, and module
    /// parameters), restricted to `only` when given.
    fn live_tensors(&self, only: Option<&[String]>) -> Vec<(String, B::Tensor)> {
        let mut out = Vec::new();
        for (name, v) in &self.env {
            if let Some(only) = only
                && !only.iter().any(|n| n == name)
            {
                continue;
            }
            match v {
                PyVal::Tensor(t) => out.push((name.clone(), t.clone())),
                PyVal::List(xs) | PyVal::Tuple(xs) => {
                    for (i, x) in xs.iter().enumerate() {
                        if let PyVal::Tensor(t) = x {
                            out.push((format!("{name}[{i}]"), t.clone()));
                        }
                    }
                }
                PyVal::Module(m) => {
                    let mut ps = Vec::new();
                    m.borrow().named_parameters(name, &mut ps);
                    out.extend(ps);
                }
                _ => {}
            }
        }
        out
    }

    pub(crate) fn observe_value(&mut self, v: &PyVal<B::Tensor>) -> ObsValue {
        match v {
            PyVal::None => ObsValue::None,
            PyVal::Bool(b) => ObsValue::Bool(*b),
            PyVal::Int(i) => ObsValue::Int(*i),
            PyVal::Float(f) => ObsValue::Float(*f),
            PyVal::Str(s) => ObsValue::Str(s.clone()),
            PyVal::Tensor(t) => ObsValue::Tensor(Box::new(self.b.observe(t))),
            PyVal::List(xs) => ObsValue::List(xs.iter().map(|x| self.observe_value(x)).collect()),
            PyVal::Tuple(xs) => ObsValue::Tuple(xs.iter().map(|x| self.observe_value(x)).collect()),
            PyVal::Dtype(d) => ObsValue::Dtype(*d),
            PyVal::Module(m) => ObsValue::Other(m.borrow().type_name().to_string()),
            PyVal::Range(a, b, c) => ObsValue::Other(format!("range({a}, {b}, {c})")),
            other => ObsValue::Other(other.type_name().to_string()),
        }
    }
}

pub(crate) fn from_value<T>(v: Value<T>) -> PyVal<T> {
    match v {
        Value::None => PyVal::None,
        Value::Bool(b) => PyVal::Bool(b),
        Value::Int(i) => PyVal::Int(i),
        Value::Float(f) => PyVal::Float(f),
        Value::Str(s) => PyVal::Str(s),
        Value::Tensor(t) => PyVal::Tensor(t),
        Value::List(xs) => PyVal::List(xs.into_iter().map(from_value).collect()),
        Value::Tuple(xs) => PyVal::Tuple(xs.into_iter().map(from_value).collect()),
        Value::Dtype(d) => PyVal::Dtype(d),
        Value::Optimizer(i) => PyVal::Optimizer(i),
    }
}

/// The variables a statement inside a loop can change: assignment targets, receivers of
/// attribute reads and method calls (`x.add_`, `loss.backward()`, `x.grad`), called modules, and
/// arguments of functions ending in `_`. A tensor that is only an operand or argument (`model(xx)`,
/// `x * 2`) cannot change and is not re-read on every iteration. For compound statements, only
/// the header counts.
fn stmt_names(s: &Stmt, out: &mut Vec<String>) {
    match &s.kind {
        StmtKind::Import(_) | StmtKind::Pass => {}
        StmtKind::Assign { target, value } | StmtKind::AugAssign { target, value, .. } => {
            target_names(target, out);
            expr_names(value, false, out);
        }
        StmtKind::Expr(e) => expr_names(e, false, out),
        StmtKind::With { context, .. } => expr_names(context, false, out),
        StmtKind::For { target, iter, .. } => {
            target_names(target, out);
            expr_names(iter, false, out);
        }
        StmtKind::If { cond, .. } => expr_names(cond, false, out),
    }
}

fn target_names(t: &Target, out: &mut Vec<String>) {
    match t {
        Target::Name(n) => out.push(n.clone()),
        Target::Tuple(ts) => ts.iter().for_each(|t| target_names(t, out)),
        Target::Attr(e, _) => expr_names(e, true, out),
        Target::Index(e, items) => {
            expr_names(e, true, out);
            items.iter().for_each(|i| item_names(i, out));
        }
    }
}

fn item_names(i: &IndexItem, out: &mut Vec<String>) {
    match i {
        IndexItem::Expr(e) => expr_names(e, false, out),
        IndexItem::Slice(a, b, c) => {
            for e in [a, b, c].into_iter().flatten() {
                expr_names(e, false, out);
            }
        }
        IndexItem::Ellipsis | IndexItem::NewAxis => {}
    }
}

/// `mutable`: whether a bare name at this position can be changed by the expression.
fn expr_names(e: &Expr, mutable: bool, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Name(n) => {
            if mutable {
                out.push(n.clone())
            }
        }
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::None
        | ExprKind::Str(_) => {}
        ExprKind::List(xs) | ExprKind::Tuple(xs) => {
            xs.iter().for_each(|x| expr_names(x, false, out))
        }
        ExprKind::Unary(_, x) => expr_names(x, false, out),
        ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => {
            expr_names(a, false, out);
            expr_names(b, false, out);
        }
        ExprKind::Call { func, args, kwargs } => {
            expr_names(func, true, out);
            let inplace = match &func.kind {
                ExprKind::Name(n) | ExprKind::Attr(_, n) => n.ends_with('_'),
                _ => false,
            };
            args.iter().for_each(|x| expr_names(x, inplace, out));
            kwargs.iter().for_each(|(_, x)| expr_names(x, inplace, out));
        }
        // `x[0]` can hand out a view that a later statement writes through, and `x.grad` is a
        // read that warns: the base counts as touched.
        ExprKind::Attr(x, _) => expr_names(x, true, out),
        ExprKind::Index(x, items) => {
            expr_names(x, true, out);
            items.iter().for_each(|i| item_names(i, out));
        }
    }
}

#[cfg(test)]
mod tests;
