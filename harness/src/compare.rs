//! Diffs two runs of one program, the subject's and the oracle's (a live backend or a golden),
//! into divergences, checks `# raises:` expectations, and checks `doc` claims on all three sides
//! (document, oracle, subject).
//!
//! Order of comparison per step: control flow (same statement executed), outcome (both ok; both
//! failed with agreeing kinds; or one failed), the bare expression's result, then per variable:
//! shape, dtype, values, requires_grad, is_leaf, grad_fn, grad (presence, shape, dtype, values),
//! version, retains_grad, is_view; and last the warnings. Without `all`, the first divergence ends
//! the comparison.

use crate::backend::{DType, Failure, TensorData, TensorObs};
use crate::case::{DocClaim, Tolerance};
use crate::error_kind::ErrorKind;
use crate::numerics::Judge;
use crate::observe::{
    COMPACT_SAMPLES, ObsValue, ProbeObs, Run, Step, compact, is_compact, numel, show_data,
};
use crate::program::ExpectedError;
use crate::results::{Divergence, DocClaimCheck, Labels, NumericsNote};
pub use crate::tolerance::{Tol, close};

/// Whether any tensor the run observed is float32.
fn holds_f32(run: &Run) -> bool {
    fn value(v: &ObsValue) -> bool {
        match v {
            ObsValue::Tensor(t) => t.data.dtype == DType::F32,
            ObsValue::List(xs) | ObsValue::Tuple(xs) => xs.iter().any(value),
            _ => false,
        }
    }
    run.steps.iter().any(|s| {
        s.vars.iter().any(|v| v.obs.data.dtype == DType::F32)
            || s.result.as_ref().is_some_and(value)
    })
}

/// Compares values of equal shape and dtype; returns the first mismatch as (subject, oracle)
/// descriptions.
fn diff_values(e: &TensorData, l: &TensorData, tol: Tol) -> Option<(String, String)> {
    let (rtol, atol) = tol.for_dtype(l.dtype);
    if is_compact(e) || is_compact(l) {
        let (ce, cl) = (compact(e), compact(l));
        if ce.values.len() != cl.values.len() {
            return Some((show_data(e), show_data(l)));
        }
        let k = COMPACT_SAMPLES;
        let n = numel(&l.shape) as f64;
        for i in 0..ce.values.len() {
            let (a, b) = (ce.values[i], cl.values[i]);
            let ok = if i == k || i == k + 1 {
                // Sums of many elements: allow each element its tolerance.
                let scale = ce.values[k + 1].abs().max(cl.values[k + 1].abs());
                close(a, b, 0.0, atol * n + rtol * scale * 4.0)
            } else {
                close(a, b, rtol, atol)
            };
            if !ok {
                let what = match i {
                    i if i < k => format!("sample {i} of {}", numel(&l.shape)),
                    i if i == k => "sum".into(),
                    i if i == k + 1 => "sum of |x|".into(),
                    i if i == k + 2 => "min".into(),
                    _ => "max".into(),
                };
                return Some((format!("{what}: {a:?}"), format!("{what}: {b:?}")));
            }
        }
        return None;
    }
    let bad = e
        .values
        .iter()
        .zip(&l.values)
        .position(|(&a, &b)| !close(a, b, rtol, atol))?;
    let max_diff = e
        .values
        .iter()
        .zip(&l.values)
        .map(|(a, b)| (a - b).abs())
        .filter(|d| !d.is_nan())
        .fold(0.0, f64::max);
    let at = unravel(bad, &l.shape);
    let note = if numel(&l.shape) > 1 {
        format!(
            " (first mismatch at {at:?}: {:?} vs {:?}; max |diff| {max_diff:.3e})",
            e.values[bad], l.values[bad]
        )
    } else {
        String::new()
    };
    Some((format!("{}{note}", show_data(e)), show_data(l)))
}

fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (d, &s) in shape.iter().enumerate().rev() {
        if s > 0 {
            idx[d] = i % s;
            i /= s;
        }
    }
    idx
}

fn show_outcome(e: &Option<Failure>) -> String {
    match e {
        None => "ok".into(),
        Some(f) => format!("raised {}: {}", f.kind, first_line(&f.message)),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Accumulates divergences; stops accepting after the first unless `all`.
struct Diffs<'a, 'j, 'n> {
    all: bool,
    out: Vec<Divergence>,
    compared: u64,
    e: &'a Step,
    l: &'a Step,
    /// The numerics oracle, when a shadow run is at hand: it may explain a value difference.
    judge: Option<&'j mut Judge<'n>>,
}

impl Diffs<'_, '_, '_> {
    fn done(&self) -> bool {
        !self.all && !self.out.is_empty()
    }

    fn push(&mut self, var: Option<&str>, observable: &str, subject: String, oracle: String) {
        if self.done() {
            return;
        }
        let graph = |s: &Step| {
            var.and_then(|v| {
                let base = v.strip_suffix(".grad").unwrap_or(v);
                s.graphs
                    .iter()
                    .find(|(n, _)| n == base)
                    .map(|(_, g)| g.clone())
            })
        };
        self.out.push(Divergence {
            stmt_index: self.l.stmt_index,
            line: self.l.line,
            statement: String::new(),
            variable: var.map(str::to_string),
            observable: observable.to_string(),
            subject,
            oracle,
            subject_error: self.e.error.clone(),
            oracle_error: self.l.error.clone(),
            subject_graph: graph(self.e),
            oracle_graph: graph(self.l),
        });
    }

    /// Compares one observable; returns whether it matched.
    fn check<V: PartialEq + std::fmt::Debug>(&mut self, var: &str, what: &str, e: V, l: V) -> bool {
        self.compared += 1;
        if e != l {
            self.push(Some(var), what, format!("{e:?}"), format!("{l:?}"));
            return false;
        }
        true
    }

    fn data(&mut self, var: &str, prefix: &str, e: &TensorData, l: &TensorData, tol: Tol) -> bool {
        let key = |k: &str| {
            if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            }
        };
        if !self.check(var, &key("shape"), &e.shape, &l.shape) {
            return false;
        }
        if !self.check(
            var,
            &key("dtype"),
            e.dtype.torch_name(),
            l.dtype.torch_name(),
        ) {
            return false;
        }
        self.compared += 1;
        if let Some((de, dl)) = diff_values(e, l, tol) {
            let step = self.e;
            let explained = self.judge.as_mut().is_some_and(|j| {
                j.explain_data(step, var, !prefix.is_empty(), e, l, tol.for_dtype(l.dtype))
            });
            if !explained {
                self.push(Some(var), &key("values"), de, dl);
                return false;
            }
        }
        true
    }

    fn tensor(&mut self, var: &str, e: &TensorObs, l: &TensorObs, tol: Tol) {
        self.data(var, "", &e.data, &l.data, tol);
        if self.done() {
            return;
        }
        self.check(var, "requires_grad", e.requires_grad, l.requires_grad);
        self.check(var, "is_leaf", e.is_leaf, l.is_leaf);
        self.check(var, "grad_fn", &e.grad_fn, &l.grad_fn);
        match (&e.grad, &l.grad) {
            (None, None) => self.compared += 1,
            (Some(ge), Some(gl)) => {
                self.compared += 1;
                let gvar = format!("{var}.grad");
                self.data(&gvar, "grad", ge, gl, tol);
            }
            (ge, gl) => {
                self.compared += 1;
                let show =
                    |g: &Option<TensorData>| g.as_ref().map_or("None".to_string(), show_data);
                self.push(Some(&format!("{var}.grad")), "grad", show(ge), show(gl));
            }
        }
        if self.done() {
            return;
        }
        self.check(var, "version", e.version, l.version);
        self.check(var, "retains_grad", e.retains_grad, l.retains_grad);
        self.check(var, "is_view", e.is_view, l.is_view);
        if let Some(j) = self.judge.as_mut() {
            let grads = match (&e.grad, &l.grad) {
                (Some(a), Some(b)) => Some((a, b)),
                _ => None,
            };
            j.observed(self.e, var, &e.data, &l.data, grads);
        }
    }
}

/// The dtype whose tolerance a result value is compared at.
fn result_dtype(v: &ObsValue) -> DType {
    match v {
        ObsValue::Tensor(t) => t.data.dtype,
        ObsValue::Float(_) => DType::F32,
        ObsValue::List(xs) | ObsValue::Tuple(xs) => xs.first().map_or(DType::I64, result_dtype),
        _ => DType::I64,
    }
}

/// Whether two observed values agree. A tensor value (a statement's result or a claim's) agrees
/// on data, `requires_grad`, `is_leaf` and `grad_fn`; the rest of a tensor's state is compared
/// where it is observed as a variable.
pub fn values_agree(e: &ObsValue, l: &ObsValue, tol: Tol) -> bool {
    match (e, l) {
        (ObsValue::Tensor(a), ObsValue::Tensor(b)) => {
            a.data.shape == b.data.shape
                && a.data.dtype == b.data.dtype
                && diff_values(&a.data, &b.data, tol).is_none()
                && a.requires_grad == b.requires_grad
                && a.is_leaf == b.is_leaf
                && a.grad_fn == b.grad_fn
        }
        (ObsValue::Float(a), ObsValue::Float(b)) => {
            let (r, t) = tol.for_dtype(DType::F64);
            // Python floats from float32 tensors (`item()`) carry float32's error.
            let (r2, t2) = tol.for_dtype(DType::F32);
            close(*a, *b, r.max(r2), t.max(t2))
        }
        (ObsValue::List(a), ObsValue::List(b)) | (ObsValue::Tuple(a), ObsValue::Tuple(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_agree(x, y, tol))
        }
        (a, b) => a == b,
    }
}

/// Subject vs oracle: every divergence (or only the first), and how many observables were
/// compared. A `partial` oracle run (a golden) is matched by step number and only the steps it
/// kept are compared.
pub fn compare_counted(subject: &Run, oracle: &Run, tol: Tol, all: bool) -> (Vec<Divergence>, u64) {
    compare_judged(subject, oracle, tol, all, None)
}

/// [`compare_counted`] with the numerics oracle: a value difference that `judge` explains as
/// float32 rounding is noted there instead of diverging.
pub fn compare_judged(
    subject: &Run,
    oracle: &Run,
    tol: Tol,
    all: bool,
    mut judge: Option<&mut Judge<'_>>,
) -> (Vec<Divergence>, u64) {
    let tol = Tol {
        f32_in_program: tol.f32_in_program || holds_f32(oracle) || holds_f32(subject),
        ..tol
    };
    let mut out = Vec::new();
    let mut compared = 0u64;
    let pairs: Vec<(&Step, &Step)> = if oracle.partial {
        let mut by_seq = std::collections::HashMap::new();
        for s in &subject.steps {
            by_seq.insert(s.seq, s);
        }
        oracle
            .steps
            .iter()
            .filter_map(|l| by_seq.get(&l.seq).map(|e| (*e, l)))
            .collect()
    } else {
        subject.steps.iter().zip(&oracle.steps).collect()
    };
    for (e, l) in pairs {
        let mut d = Diffs {
            all,
            out: Vec::new(),
            compared: 0,
            e,
            l,
            judge: judge.as_deref_mut(),
        };
        compare_step(&mut d, tol);
        compared += d.compared;
        out.extend(d.out);
        if !all && !out.is_empty() {
            return (out, compared);
        }
    }
    let (ne, nl) = (subject.steps.len(), oracle.steps.len());
    let missing = if oracle.partial {
        oracle.steps.last().is_some_and(|l| l.seq >= ne)
    } else {
        ne != nl
    };
    if missing || subject.truncated != oracle.truncated {
        let last = oracle.steps.last().or(subject.steps.last());
        out.push(Divergence {
            stmt_index: last.map_or(0, |s| s.stmt_index),
            line: last.map_or(0, |s| s.line),
            statement: String::new(),
            variable: None,
            observable: "control_flow".into(),
            subject: format!(
                "{ne} statement executions{}",
                if subject.truncated {
                    " (truncated)"
                } else {
                    ""
                }
            ),
            oracle: format!(
                "{} statement executions{}",
                oracle.steps.last().map_or(0, |s| s.seq + 1),
                if oracle.truncated { " (truncated)" } else { "" }
            ),
            subject_error: None,
            oracle_error: None,
            subject_graph: None,
            oracle_graph: None,
        });
    }
    (out, compared)
}

/// Subject vs oracle with the case's tolerance (or the defaults): the first divergence, or
/// every one with `all`.
pub fn compare(
    subject: &Run,
    oracle: &Run,
    tolerance: Option<&Tolerance>,
    all: bool,
) -> Vec<Divergence> {
    compare_counted(subject, oracle, Tol::new(tolerance), all).0
}

fn compare_step(d: &mut Diffs<'_, '_, '_>, tol: Tol) {
    let (e, l) = (d.e, d.l);
    if e.line != l.line {
        d.push(
            None,
            "control_flow",
            format!("ran line {}", e.line),
            format!("ran line {}", l.line),
        );
        return;
    }
    d.compared += 1;
    match (&e.error, &l.error) {
        (None, None) => {}
        (Some(fe), Some(fl)) if fe.kind.agrees_with(fl.kind) => {}
        _ => {
            if !d.judge.as_mut().is_some_and(|j| j.explain_outcome(e)) {
                d.push(
                    None,
                    "outcome",
                    show_outcome(&e.error),
                    show_outcome(&l.error),
                );
            }
        }
    }
    if d.done() {
        return;
    }
    match (&e.result, &l.result) {
        (None, None) => {}
        (Some(re), Some(rl)) => {
            d.compared += 1;
            if !values_agree(re, rl, tol)
                && !d
                    .judge
                    .as_mut()
                    .is_some_and(|j| j.explain_result(e, re, rl, tol.for_dtype(result_dtype(rl))))
            {
                d.push(None, "result", re.to_string(), rl.to_string());
            }
        }
        // One side failed before producing a value: already an outcome divergence.
        _ => {}
    }
    for vl in &l.vars {
        if d.done() {
            return;
        }
        match e.vars.iter().find(|v| v.name == vl.name) {
            Some(ve) => d.tensor(&vl.name, &ve.obs, &vl.obs, tol),
            None => {
                d.compared += 1;
                d.push(
                    Some(&vl.name),
                    "presence",
                    "not bound to a tensor".into(),
                    "a tensor".into(),
                );
            }
        }
    }
    for ve in &e.vars {
        if d.done() {
            return;
        }
        if !l.vars.iter().any(|v| v.name == ve.name) {
            d.compared += 1;
            d.push(
                Some(&ve.name),
                "presence",
                "a tensor".into(),
                "not bound to a tensor".into(),
            );
        }
    }
    d.compared += 1;
    if e.warnings != l.warnings {
        d.push(
            None,
            "warnings",
            format!("{:?}", e.warnings),
            format!("{:?}", l.warnings),
        );
    }
}

/// Whether an outcome meets a statement's `# raises:` expectation (no expectation: no error).
pub fn meets_expectation(error: &Option<Failure>, expect: &Option<ExpectedError>) -> bool {
    match (error, expect) {
        (None, None) => true,
        (Some(f), Some(x)) => {
            ErrorKind::from_name(&x.kind).is_some_and(|k| k.agrees_with(f.kind))
                && x.message
                    .as_ref()
                    .is_none_or(|m| f.message.contains(m.as_str()))
        }
        _ => false,
    }
}

fn show_expect(x: &Option<ExpectedError>) -> String {
    match x {
        None => "no error".into(),
        Some(x) => match &x.message {
            Some(m) => format!("{} \"{m}\"", x.kind),
            None => x.kind.clone(),
        },
    }
}

/// Statements whose outcome does not meet their `# raises:` expectation on either side.
/// Checked on the oracle's steps, and on the subject's where it ran.
pub fn check_expectations(subject: Option<&Run>, oracle: &Run, all: bool) -> Vec<Divergence> {
    let mut out = Vec::new();
    let empty = Vec::new();
    let esteps = subject.map_or(&empty, |r| &r.steps);
    for l in &oracle.steps {
        let e = esteps
            .binary_search_by_key(&l.seq, |s| s.seq)
            .ok()
            .map(|i| &esteps[i]);
        let l_ok = meets_expectation(&l.error, &l.expect);
        let e_ok = e.is_none_or(|e| meets_expectation(&e.error, &e.expect));
        if l_ok && e_ok {
            continue;
        }
        let verdict = |ok: bool| {
            if ok {
                ""
            } else {
                " (does not meet the expectation)"
            }
        };
        out.push(Divergence {
            stmt_index: l.stmt_index,
            line: l.line,
            statement: String::new(),
            variable: None,
            observable: format!("raises (expected: {})", show_expect(&l.expect)),
            subject: e.map_or("not run".into(), |e| {
                format!("{}{}", show_outcome(&e.error), verdict(e_ok))
            }),
            oracle: format!("{}{}", show_outcome(&l.error), verdict(l_ok)),
            subject_error: e.and_then(|e| e.error.clone()),
            oracle_error: l.error.clone(),
            subject_graph: None,
            oracle_graph: None,
        });
        if !all {
            break;
        }
    }
    out
}

/// Whether an observed value matches what the document printed.
pub fn doc_agrees(
    obs: &Result<ObsValue, Failure>,
    expected: &serde_yaml::Value,
    raises: bool,
) -> bool {
    use serde_yaml::Value as Y;
    if raises {
        return match (obs, expected) {
            (Err(f), Y::String(k)) => {
                ErrorKind::from_name(k).is_some_and(|k| k.agrees_with(f.kind))
            }
            (Ok(ObsValue::None), Y::Null) => true,
            _ => false,
        };
    }
    let Ok(v) = obs else {
        return false;
    };
    value_matches_yaml(v, expected)
}

/// Documents print four decimals; their numbers are compared to that precision.
fn doc_close(a: f64, b: f64) -> bool {
    close(a, b, 1e-4, 1e-4)
}

fn value_matches_yaml(v: &ObsValue, y: &serde_yaml::Value) -> bool {
    use serde_yaml::Value as Y;
    match (v, y) {
        (ObsValue::None, Y::Null) => true,
        (ObsValue::Bool(a), Y::Bool(b)) => a == b,
        (ObsValue::Int(a), Y::Number(n)) => n.as_f64().is_some_and(|b| *a as f64 == b),
        (ObsValue::Float(a), Y::Number(n)) => n.as_f64().is_some_and(|b| doc_close(*a, b)),
        (ObsValue::Float(a), Y::String(s)) => {
            parse_special(s).is_some_and(|b| close(*a, b, 1e-4, 1e-4))
        }
        (ObsValue::Str(a), Y::String(b)) => a == b || grad_fn_name(b) == a,
        (ObsValue::Dtype(d), Y::String(b)) => d.torch_name() == b,
        (ObsValue::Tensor(t), y) => {
            let mut flat = Vec::new();
            let mut shape = Vec::new();
            if !yaml_flatten(y, 0, &mut shape, &mut flat) {
                return false;
            }
            t.data.shape == shape
                && t.data.values.len() == flat.len()
                && t.data.values.iter().zip(&flat).all(|(&a, &b)| {
                    if t.data.dtype.is_float() {
                        doc_close(a, b)
                    } else {
                        a == b
                    }
                })
        }
        (ObsValue::List(xs) | ObsValue::Tuple(xs), Y::Sequence(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| value_matches_yaml(x, y))
        }
        _ => false,
    }
}

/// `<AddBackward0 object at 0x...>` as printed by Python is the name `AddBackward0`.
fn grad_fn_name(s: &str) -> &str {
    let s = s.trim().trim_start_matches('<');
    s.split(|c: char| c.is_whitespace() || c == '>')
        .next()
        .unwrap_or(s)
}

fn parse_special(s: &str) -> Option<f64> {
    match s.trim() {
        "nan" | ".nan" => Some(f64::NAN),
        "inf" | ".inf" => Some(f64::INFINITY),
        "-inf" | "-.inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

fn yaml_flatten(
    y: &serde_yaml::Value,
    depth: usize,
    shape: &mut Vec<usize>,
    out: &mut Vec<f64>,
) -> bool {
    use serde_yaml::Value as Y;
    match y {
        Y::Sequence(xs) => {
            if shape.len() == depth {
                shape.push(xs.len());
            } else if shape.get(depth) != Some(&xs.len()) {
                return false;
            }
            xs.iter().all(|x| yaml_flatten(x, depth + 1, shape, out))
        }
        Y::Number(n) => {
            out.push(n.as_f64().unwrap_or(f64::NAN));
            shape.len() == depth
        }
        Y::Bool(b) => {
            out.push(*b as i64 as f64);
            shape.len() == depth
        }
        Y::String(s) => match parse_special(s) {
            Some(v) => {
                out.push(v);
                shape.len() == depth
            }
            None => false,
        },
        _ => false,
    }
}

fn show_probe(p: Option<&ProbeObs>) -> String {
    match p {
        None => "(line not executed)".into(),
        Some(ProbeObs { value: Ok(v), .. }) => v.to_string(),
        Some(ProbeObs { value: Err(f), .. }) => {
            format!("raised {}: {}", f.kind, first_line(&f.message))
        }
    }
}

fn show_yaml(y: &serde_yaml::Value) -> String {
    match y {
        serde_yaml::Value::Null => "None".into(),
        serde_yaml::Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Sequence(xs) => {
            format!(
                "[{}]",
                xs.iter().map(show_yaml).collect::<Vec<_>>().join(", ")
            )
        }
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// Checks each `doc` claim (probe `i` belongs to claim `i`) on the oracle and, when it ran, the
/// subject. Returns every claim's three sides, and the divergences where subject and oracle
/// disagree on a claim's expression.
pub fn check_claims(
    claims: &[DocClaim],
    subject: Option<&Run>,
    oracle: &Run,
    tol: Tol,
) -> (Vec<DocClaimCheck>, Vec<Divergence>) {
    let mut checks = Vec::new();
    let mut divs = Vec::new();
    for (i, c) in claims.iter().enumerate() {
        let raises = c.expr == "raises";
        let lp = oracle.probes.get(i).and_then(|p| p.as_ref());
        let ep = subject
            .and_then(|r| r.probes.get(i))
            .and_then(|p| p.as_ref());
        let agrees =
            |p: Option<&ProbeObs>| p.is_some_and(|p| doc_agrees(&p.value, &c.expected, raises));
        checks.push(DocClaimCheck {
            line: c.file_line,
            statement: String::new(),
            observable: c.expr.clone(),
            doc: show_yaml(&c.expected),
            oracle: show_probe(lp),
            subject: if subject.is_some() {
                show_probe(ep)
            } else {
                "(not run)".into()
            },
            oracle_agrees: agrees(lp),
            subject_agrees: agrees(ep),
        });
        if subject.is_none() {
            continue;
        }
        let same = match (ep, lp) {
            (None, None) => true,
            (Some(a), Some(b)) => match (&a.value, &b.value) {
                (Ok(x), Ok(y)) => values_agree(x, y, tol),
                (Err(x), Err(y)) => x.kind.agrees_with(y.kind),
                _ => false,
            },
            _ => false,
        };
        if !same {
            divs.push(Divergence {
                stmt_index: 0,
                line: c.file_line,
                statement: String::new(),
                variable: Some(c.expr.clone()),
                observable: "doc claim".into(),
                subject: show_probe(ep),
                oracle: show_probe(lp),
                subject_error: None,
                oracle_error: None,
                subject_graph: None,
                oracle_graph: None,
            });
        }
    }
    (checks, divs)
}

/// `-expected/+actual` text for one divergence: the oracle is the expectation, and each side is
/// named by its role and backend (`- oracle libtorch 2.13.0 (cpu): ...`).
pub fn describe(d: &Divergence, sides: &Labels) -> String {
    let mut s = format!("line {}", d.line);
    if !d.statement.is_empty() {
        s.push_str(&format!(": `{}`", d.statement.trim()));
    }
    s.push('\n');
    match &d.variable {
        Some(v) => s.push_str(&format!("  {v}: {}\n", d.observable)),
        None => s.push_str(&format!("  {}\n", d.observable)),
    }
    let width = sides
        .oracle
        .chars()
        .count()
        .max(sides.subject.chars().count())
        + 1;
    let (o, e) = (format!("{}:", sides.oracle), format!("{}:", sides.subject));
    s.push_str(&format!(
        "  - {o:<width$} {}\n  + {e:<width$} {}\n",
        d.oracle, d.subject
    ));
    s
}

#[cfg(test)]
mod tests;

/// Where the program is float32-sensitive: every observable that rounding each computed value
/// by float32's unit roundoff (`perturbed`, a shadow run) moves beyond a quarter of the
/// tight tolerance away from the unperturbed `shadow`, or across a discontinuity. Both runs are
/// float64, so the answer is the program's, not the machine's: a case that is sensitive is
/// `numerics` wherever it runs, whether or not its float32 values happen to differ there.
pub fn sensitivity(
    shadow: &Run,
    perturbed: &Run,
    tolerance: Option<(f64, f64)>,
) -> Vec<NumericsNote> {
    let (rtol, atol) = tolerance.unwrap_or((1.3e-6, 1e-5));
    let tol = Tol {
        case: Some((rtol / 4.0, atol / 4.0)),
        f32_in_program: true,
    };
    let (divs, _) = compare_counted(perturbed, shadow, tol, true);
    let mut out: Vec<NumericsNote> = Vec::new();
    for d in divs {
        if out
            .iter()
            .any(|n| n.line == d.line && n.variable == d.variable && n.observable == d.observable)
        {
            continue;
        }
        out.push(NumericsNote {
            line: d.line,
            variable: d.variable.clone(),
            observable: d.observable.clone(),
            error: f64::NAN,
            budget: f64::NAN,
            why: format!(
                "float32-sensitive: rounding each computed value by float32's unit roundoff moves it from {} to {}",
                cut(&d.oracle),
                cut(&d.subject)
            ),
        });
    }
    out
}

/// A value's description cut to 80 characters, for notes.
fn cut(s: &str) -> String {
    if s.chars().count() > 80 {
        s.chars().take(79).collect::<String>() + "…"
    } else {
        s.to_string()
    }
}
