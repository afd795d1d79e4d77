//! The numerical-gradient oracle: a backend's analytic gradients against central finite
//! differences, in float64, by re-running the program forward with perturbed leaf values.
//!
//! It applies to programs of the shape [`super::generate::Mode::Differentiable`] makes (and to
//! any hand-written program of that shape): gradcheck inputs are written as literals,
//! `x = tensor([...], dtype=torch.float64, requires_grad=True)`, the program is free of in-place
//! writes, `.data` and `detach`, and it ends in `root.backward()` on a scalar `root`. The analytic
//! gradient is each input's `.grad` after that backward; the numerical one perturbs each input
//! element by ±eps in the literal itself and reads `root`'s value with the backward left out.
//! Finite differences are taken on the backend under test, so a wrong forward shows up as a
//! comparator divergence and a wrong backward shows up here.

use crate::backend::Backend;
use crate::interp::{self, ObsValue, Options, Probe, ProbeObs};
use crate::program::ast::{Expr, ExprKind, Program, StmtKind, Target, UnaryOp};

/// `torch.autograd.gradcheck`'s defaults.
#[derive(Debug, Clone, Copy)]
pub struct Tolerances {
    pub eps: f64,
    pub atol: f64,
    pub rtol: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Every input element's gradient agrees with finite differences.
    Pass {
        elements: usize,
    },
    /// The program is not of the shape gradcheck needs, or it fails before its backward (that
    /// is the comparator's business, not gradcheck's).
    NotApplicable(String),
    Mismatch(Mismatch),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub backend: String,
    /// The input variable and the flat index of the element.
    pub input: String,
    pub index: usize,
    pub analytic: f64,
    pub numeric: f64,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: d(loss)/d{}[{}]: analytic {:e}, finite differences {:e}",
            self.backend, self.input, self.index, self.analytic, self.numeric
        )
    }
}

/// A gradcheck input found in the program.
struct Input {
    name: String,
    stmt: usize,
    values: Vec<f64>,
}

/// The program's gradcheck shape: its literal inputs and its root, or why it has none.
struct Shape {
    inputs: Vec<Input>,
    root: String,
}

/// Whether a program is free of what makes finite differences meaningless or gradients
/// unobservable: in-place writes, `.data`, `detach`, attribute writes, blocks.
pub fn is_differentiable(p: &Program) -> bool {
    analyse(p).is_ok()
}

fn analyse(p: &Program) -> Result<Shape, String> {
    let Some((last, body)) = p.stmts.split_last() else {
        return Err("empty program".into());
    };
    let root = match &last.kind {
        StmtKind::Expr(Expr {
            kind: ExprKind::Call { func, args, kwargs },
            ..
        }) if args.is_empty() && kwargs.is_empty() => match &func.kind {
            ExprKind::Attr(obj, m) if m == "backward" => match &obj.kind {
                ExprKind::Name(n) => n.clone(),
                _ => return Err("backward on an expression".into()),
            },
            _ => return Err("does not end in backward()".into()),
        },
        _ => return Err("does not end in backward()".into()),
    };
    let mut inputs = Vec::new();
    let mut bound: Vec<&str> = Vec::new();
    for (i, s) in body.iter().enumerate() {
        let StmtKind::Assign {
            target: Target::Name(n),
            value,
        } = &s.kind
        else {
            return Err(format!("statement {i} is not a plain assignment"));
        };
        if bound.contains(&n.as_str()) {
            return Err(format!("`{n}` is bound twice"));
        }
        bound.push(n);
        if let Some(bad) = impure(value) {
            return Err(format!("statement {i} uses `{bad}`"));
        }
        if let Some(values) = literal_input(value) {
            inputs.push(Input {
                name: n.clone(),
                stmt: i,
                values,
            });
        }
    }
    if inputs.is_empty() {
        return Err("no literal inputs that require grad".into());
    }
    Ok(Shape { inputs, root })
}

/// The first method or attribute in `e` that breaks gradcheck's assumptions.
fn impure(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Attr(x, a) => {
            if a == "data" || a == "grad" || a.ends_with('_') || a == "detach" || a == "item" {
                Some(a.clone())
            } else {
                impure(x)
            }
        }
        ExprKind::Call { func, args, kwargs } => impure(func)
            .or_else(|| args.iter().find_map(impure))
            .or_else(|| kwargs.iter().find_map(|(_, v)| impure(v))),
        ExprKind::Unary(_, x) => impure(x),
        ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => impure(a).or_else(|| impure(b)),
        ExprKind::List(xs) | ExprKind::Tuple(xs) => xs.iter().find_map(impure),
        ExprKind::Index(x, _) => impure(x),
        _ => None,
    }
}

/// `tensor(<numbers>, dtype=torch.float64, requires_grad=True)`: the flattened numbers.
fn literal_input(e: &Expr) -> Option<Vec<f64>> {
    let ExprKind::Call { func, args, kwargs } = &e.kind else {
        return None;
    };
    let is_tensor = match &func.kind {
        ExprKind::Name(n) => n == "tensor",
        ExprKind::Attr(m, n) => {
            n == "tensor" && matches!(&m.kind, ExprKind::Name(t) if t == "torch")
        }
        _ => false,
    };
    let rg = kwargs
        .iter()
        .any(|(k, v)| k == "requires_grad" && matches!(v.kind, ExprKind::Bool(true)));
    let f64_dtype = kwargs.iter().any(|(k, v)| {
        k == "dtype" && matches!(&v.kind, ExprKind::Attr(_, d) if d == "float64" || d == "double")
    });
    if !(is_tensor && rg && f64_dtype && args.len() == 1) {
        return None;
    }
    let mut out = Vec::new();
    flatten(&args[0], &mut out).then_some(out)
}

fn flatten(e: &Expr, out: &mut Vec<f64>) -> bool {
    match &e.kind {
        ExprKind::Float(f) => out.push(*f),
        ExprKind::Int(i) => out.push(*i as f64),
        ExprKind::Unary(UnaryOp::Neg, x) => {
            let n = out.len();
            if !flatten(x, out) || out.len() != n + 1 {
                return false;
            }
            out[n] = -out[n];
        }
        ExprKind::List(xs) => return xs.iter().all(|x| flatten(x, out)),
        _ => return false,
    }
    true
}

/// Replaces the `k`-th number in a literal (in flattening order) by `v`.
fn set_nth(e: &mut Expr, k: &mut usize, v: f64) -> bool {
    match &mut e.kind {
        ExprKind::Float(_) | ExprKind::Int(_) | ExprKind::Unary(UnaryOp::Neg, _) => {
            if *k == 0 {
                *e = super::generate::float(v);
                return true;
            }
            *k -= 1;
            false
        }
        ExprKind::List(xs) => xs.iter_mut().any(|x| set_nth(x, k, v)),
        _ => false,
    }
}

fn with_value(p: &Program, stmt: usize, index: usize, v: f64) -> Program {
    let mut q = p.clone();
    if let StmtKind::Assign { value, .. } = &mut q.stmts[stmt].kind
        && let ExprKind::Call { args, .. } = &mut value.kind
    {
        let mut k = index;
        set_nth(&mut args[0], &mut k, v);
    }
    q
}

/// Numbers the top-level statements 1, 2, ... so probes can name the last one.
fn numbered(p: &Program) -> Program {
    let mut q = p.clone();
    for (i, s) in q.stmts.iter_mut().enumerate() {
        s.span.line = i as u32 + 1;
    }
    q
}

fn probe(line: u32, e: Expr) -> Probe {
    Probe {
        line,
        expr: Some(e),
    }
}

fn name(n: &str) -> Expr {
    Expr::new(ExprKind::Name(n.to_string()))
}

/// The flat values of a probed tensor; `None` (Python's) reads as "no gradient".
fn probed(p: &Option<ProbeObs>) -> Option<Option<Vec<f64>>> {
    match &p.as_ref()?.value {
        Ok(ObsValue::Tensor(t)) => Some(Some(t.data.values.clone())),
        Ok(ObsValue::None) => Some(None),
        _ => None,
    }
}

/// Which elements of an input of `n` elements to check: all of small inputs, and the first,
/// middle and last of larger ones (each element costs two forward runs).
fn sample(n: usize, per_input: usize) -> Vec<usize> {
    if n <= per_input {
        return (0..n).collect();
    }
    let mut v: Vec<usize> = (0..per_input)
        .map(|k| k * (n - 1) / (per_input - 1).max(1))
        .collect();
    v.dedup();
    v
}

/// Checks `backend`'s gradients on `program` against central finite differences, on up to
/// `per_input` elements of each input.
pub fn check<B: Backend>(
    backend: &mut B,
    program: &Program,
    seed: u64,
    tol: Tolerances,
) -> Verdict {
    check_sampled(backend, program, seed, tol, usize::MAX)
}

/// [`check`] on a sample of each input's elements: what campaigns use to keep their pace.
pub fn check_sampled<B: Backend>(
    backend: &mut B,
    program: &Program,
    seed: u64,
    tol: Tolerances,
    per_input: usize,
) -> Verdict {
    let shape = match analyse(program) {
        Ok(s) => s,
        Err(why) => return Verdict::NotApplicable(why),
    };
    let full = numbered(program);
    let last = full.stmts.len() as u32;
    // Only probes are read: no per-statement observations, which dominate a run's cost.
    let opts = Options {
        probes: shape
            .inputs
            .iter()
            .map(|i| {
                probe(
                    last,
                    Expr::new(ExprKind::Attr(Box::new(name(&i.name)), "grad".into())),
                )
            })
            .collect(),
        observe: false,
        ..Options::default()
    };
    let run = interp::run(backend, &full, seed, &opts);
    if run.truncated || run.steps.iter().any(|s| s.error.is_some()) {
        return Verdict::NotApplicable("the program fails on this backend".into());
    }
    let mut forward = full;
    forward.stmts.pop();
    let fopts = Options {
        probes: vec![probe(last - 1, name(&shape.root))],
        observe: false,
        ..Options::default()
    };
    let mut elements = 0;
    for (k, input) in shape.inputs.iter().enumerate() {
        // An input the loss does not reach has no .grad: its gradient is zero.
        let analytic = match probed(&run.probes[k]) {
            Some(Some(g)) => g,
            Some(None) => vec![0.0; input.values.len()],
            None => {
                return Verdict::NotApplicable(format!("`{}.grad` could not be read", input.name));
            }
        };
        if analytic.len() != input.values.len() {
            return Verdict::Mismatch(Mismatch {
                backend: backend.name().into(),
                input: input.name.clone(),
                index: analytic.len().min(input.values.len()),
                analytic: f64::NAN,
                numeric: f64::NAN,
            });
        }
        for i in sample(input.values.len(), per_input) {
            let x0 = input.values[i];
            let mut at = |v: f64| -> Option<f64> {
                let p = with_value(&forward, input.stmt, i, v);
                let run = interp::run(backend, &p, seed, &fopts);
                match probed(&run.probes[0])? {
                    Some(v) if v.len() == 1 => Some(v[0]),
                    _ => None,
                }
            };
            let (Some(hi), Some(lo)) = (at(x0 + tol.eps), at(x0 - tol.eps)) else {
                return Verdict::NotApplicable("a perturbed run failed".into());
            };
            let numeric = (hi - lo) / (2.0 * tol.eps);
            let a = analytic[i];
            let ok = (a - numeric).abs() <= tol.atol + tol.rtol * numeric.abs()
                || (a.is_nan() && numeric.is_nan());
            if !ok {
                return Verdict::Mismatch(Mismatch {
                    backend: backend.name().into(),
                    input: input.name.clone(),
                    index: i,
                    analytic: a,
                    numeric,
                });
            }
            elements += 1;
        }
    }
    Verdict::Pass { elements }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzzing::generate::{GenConfig, program_from_seed};
    use crate::program::ast::Stmt;

    #[test]
    fn generated_differentiable_programs_have_the_shape() {
        let mut ok = 0;
        for seed in 0..100 {
            let p = program_from_seed(seed, &GenConfig::differentiable());
            match analyse(&p) {
                Ok(_) => ok += 1,
                Err(why) => eprintln!("seed {seed}: {why}"),
            }
        }
        assert!(
            ok >= 90,
            "only {ok} of 100 differentiable programs have gradcheck's shape"
        );
    }

    #[test]
    fn literal_perturbation_hits_the_right_element() {
        let lit = Expr::new(ExprKind::List(vec![
            Expr::new(ExprKind::List(vec![
                super::super::generate::float(1.0),
                super::super::generate::float(-2.0),
            ])),
            Expr::new(ExprKind::List(vec![
                super::super::generate::float(3.0),
                super::super::generate::float(4.0),
            ])),
        ]));
        let mut e = lit.clone();
        let mut k = 1;
        assert!(set_nth(&mut e, &mut k, 7.5));
        let mut out = Vec::new();
        assert!(flatten(&e, &mut out));
        assert_eq!(out, vec![1.0, 7.5, 3.0, 4.0]);
    }

    #[test]
    fn samples_spread_over_the_input() {
        assert_eq!(sample(2, 3), vec![0, 1]);
        assert_eq!(sample(27, 3), vec![0, 13, 26]);
    }

    #[test]
    fn impure_programs_are_rejected() {
        let p = Program {
            stmts: vec![Stmt::new(StmtKind::Pass)],
        };
        assert!(!is_differentiable(&p));
    }
}
