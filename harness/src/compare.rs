//! Diffs two runs of one program (engine vs libtorch, or engine vs a golden) into divergences,
//! checks `# raises:` expectations, and checks `doc` claims on all three sides.
//!
//! Order of comparison per step: control flow (same statement executed), outcome (both ok; both
//! failed with agreeing kinds; or one failed), the bare expression's result, then per variable:
//! shape, dtype, values, requires_grad, is_leaf, grad_fn, grad (presence, shape, dtype, values),
//! version, retains_grad, is_view; and last the warnings. Without `all`, the first divergence ends
//! the comparison.

use crate::backend::{DType, Failure, TensorData, TensorObs};
use crate::case::{DocClaim, Tolerance};
use crate::error_kind::ErrorKind;
use crate::interp::{ObsValue, ProbeObs, Run, Step};
use crate::numerics::Judge;
use crate::program::ExpectedError;
use crate::results::{Divergence, DocClaimCheck};

/// Tensors with more elements than this are kept in goldens as a summary ([`compact`]).
pub const COMPACT_MAX: usize = 64;
const COMPACT_SAMPLES: usize = 16;

/// Comparison tolerances: the case's, or `torch.testing.assert_close`'s defaults by dtype.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tol {
    pub case: Option<(f64, f64)>,
    /// The program holds a float32 tensor somewhere, so a float64 value may carry float32
    /// rounding (`x.double()`, `f32 + f64`): float64 is then compared at float32's tolerance.
    pub f32_in_program: bool,
}

impl Tol {
    pub fn new(t: Option<&Tolerance>) -> Self {
        Tol {
            case: t.map(|t| (t.rtol, t.atol)),
            f32_in_program: false,
        }
    }

    pub fn for_dtype(self, d: DType) -> (f64, f64) {
        match (d, self.case) {
            (DType::Bool | DType::I64, _) => (0.0, 0.0),
            (_, Some(c)) => c,
            (DType::F32, None) => (1.3e-6, 1e-5),
            (DType::F64, None) if self.f32_in_program => (1.3e-6, 1e-5),
            (DType::F64, None) => (1e-7, 1e-7),
        }
    }
}

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

/// NaN equals NaN, infinities must match exactly, otherwise `|a - b| <= atol + rtol * |b|`.
pub fn close(a: f64, b: f64, rtol: f64, atol: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= atol + rtol * b.abs()
}

fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Whether `d` holds a golden summary instead of every value.
pub fn is_compact(d: &TensorData) -> bool {
    d.values.len() != numel(&d.shape)
}

/// A summary of a big tensor: evenly spaced samples, then sum, sum of |x|, min and max.
pub fn compact(d: &TensorData) -> TensorData {
    let n = d.values.len();
    if n <= COMPACT_MAX || is_compact(d) {
        return d.clone();
    }
    let mut values: Vec<f64> = (0..COMPACT_SAMPLES)
        .map(|i| d.values[i * n / COMPACT_SAMPLES])
        .collect();
    let sum: f64 = d.values.iter().sum();
    let sum_abs: f64 = d.values.iter().map(|v| v.abs()).sum();
    let min = d.values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = d.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values.extend([sum, sum_abs, min, max]);
    TensorData {
        shape: d.shape.clone(),
        dtype: d.dtype,
        values,
    }
}

/// Compares values of equal shape and dtype; returns the first mismatch as (engine, libtorch)
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

fn fmt_num(v: f64, dtype: DType) -> String {
    match dtype {
        DType::Bool => if v != 0.0 { "True" } else { "False" }.into(),
        DType::I64 => format!("{}", v as i64),
        _ => {
            if v.is_nan() {
                "nan".into()
            } else if v.is_infinite() {
                if v > 0.0 { "inf".into() } else { "-inf".into() }
            } else {
                format!("{v:?}")
            }
        }
    }
}

/// Tensor contents as nested lists (Python's `tolist()` look), shortened for big tensors.
pub fn show_data(d: &TensorData) -> String {
    if is_compact(d) {
        let k = COMPACT_SAMPLES.min(d.values.len());
        let samples: Vec<String> = d.values[..k].iter().map(|&v| fmt_num(v, d.dtype)).collect();
        return format!(
            "{} {:?} (summary) samples [{}, ...]",
            d.dtype.torch_name(),
            d.shape,
            samples.join(", ")
        );
    }
    let n = d.values.len();
    if n > 24 {
        let head: Vec<String> = d.values[..8].iter().map(|&v| fmt_num(v, d.dtype)).collect();
        return format!(
            "{} {:?} [{}, ...]",
            d.dtype.torch_name(),
            d.shape,
            head.join(", ")
        );
    }
    fn nest(d: &TensorData, dim: usize, off: usize, out: &mut String) {
        if dim == d.shape.len() {
            out.push_str(&fmt_num(d.values[off], d.dtype));
            return;
        }
        let stride: usize = d.shape[dim + 1..].iter().product();
        out.push('[');
        for i in 0..d.shape[dim] {
            if i > 0 {
                out.push_str(", ");
            }
            nest(d, dim + 1, off + i * stride, out);
        }
        out.push(']');
    }
    let mut out = String::new();
    if n == numel(&d.shape) {
        nest(d, 0, 0, &mut out);
    }
    out
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

    fn push(&mut self, var: Option<&str>, observable: &str, engine: String, libtorch: String) {
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
            engine,
            libtorch,
            engine_error: self.e.error.clone(),
            libtorch_error: self.l.error.clone(),
            engine_graph: graph(self.e),
            libtorch_graph: graph(self.l),
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

/// Engine vs libtorch: every divergence (or only the first), and how many observables were
/// compared. A `partial` libtorch run (a golden) is matched by step number and only the steps it
/// kept are compared.
pub fn compare_counted(
    engine: &Run,
    libtorch: &Run,
    tol: Tol,
    all: bool,
) -> (Vec<Divergence>, u64) {
    compare_judged(engine, libtorch, tol, all, None)
}

/// [`compare_counted`] with the numerics oracle: a value difference that `judge` explains as
/// float32 rounding is noted there instead of diverging.
pub fn compare_judged(
    engine: &Run,
    libtorch: &Run,
    tol: Tol,
    all: bool,
    mut judge: Option<&mut Judge<'_>>,
) -> (Vec<Divergence>, u64) {
    let tol = Tol {
        f32_in_program: tol.f32_in_program || holds_f32(libtorch) || holds_f32(engine),
        ..tol
    };
    let mut out = Vec::new();
    let mut compared = 0u64;
    let pairs: Vec<(&Step, &Step)> = if libtorch.partial {
        let mut by_seq = std::collections::HashMap::new();
        for s in &engine.steps {
            by_seq.insert(s.seq, s);
        }
        libtorch
            .steps
            .iter()
            .filter_map(|l| by_seq.get(&l.seq).map(|e| (*e, l)))
            .collect()
    } else {
        engine.steps.iter().zip(&libtorch.steps).collect()
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
    let (ne, nl) = (engine.steps.len(), libtorch.steps.len());
    let missing = if libtorch.partial {
        libtorch.steps.last().is_some_and(|l| l.seq >= ne)
    } else {
        ne != nl
    };
    if missing || engine.truncated != libtorch.truncated {
        let last = libtorch.steps.last().or(engine.steps.last());
        out.push(Divergence {
            stmt_index: last.map_or(0, |s| s.stmt_index),
            line: last.map_or(0, |s| s.line),
            statement: String::new(),
            variable: None,
            observable: "control_flow".into(),
            engine: format!(
                "{ne} statement executions{}",
                if engine.truncated { " (truncated)" } else { "" }
            ),
            libtorch: format!(
                "{} statement executions{}",
                libtorch.steps.last().map_or(0, |s| s.seq + 1),
                if libtorch.truncated {
                    " (truncated)"
                } else {
                    ""
                }
            ),
            engine_error: None,
            libtorch_error: None,
            engine_graph: None,
            libtorch_graph: None,
        });
    }
    (out, compared)
}

/// Engine vs libtorch with the case's tolerance (or the defaults): the first divergence, or
/// every one with `all`.
pub fn compare(
    engine: &Run,
    libtorch: &Run,
    tolerance: Option<&Tolerance>,
    all: bool,
) -> Vec<Divergence> {
    compare_counted(engine, libtorch, Tol::new(tolerance), all).0
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
/// Checked on the libtorch (or golden) steps, and on the engine's where it ran.
pub fn check_expectations(engine: Option<&Run>, libtorch: &Run, all: bool) -> Vec<Divergence> {
    let mut out = Vec::new();
    let empty = Vec::new();
    let esteps = engine.map_or(&empty, |r| &r.steps);
    for l in &libtorch.steps {
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
            engine: e.map_or("not run".into(), |e| {
                format!("{}{}", show_outcome(&e.error), verdict(e_ok))
            }),
            libtorch: format!("{}{}", show_outcome(&l.error), verdict(l_ok)),
            engine_error: e.and_then(|e| e.error.clone()),
            libtorch_error: l.error.clone(),
            engine_graph: None,
            libtorch_graph: None,
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

/// Checks each `doc` claim (probe `i` belongs to claim `i`) on libtorch and, when it ran, the
/// engine. Returns every claim's three sides, and the divergences where engine and libtorch
/// disagree on a claim's expression.
pub fn check_claims(
    claims: &[DocClaim],
    engine: Option<&Run>,
    libtorch: &Run,
    tol: Tol,
) -> (Vec<DocClaimCheck>, Vec<Divergence>) {
    let mut checks = Vec::new();
    let mut divs = Vec::new();
    for (i, c) in claims.iter().enumerate() {
        let raises = c.expr == "raises";
        let lp = libtorch.probes.get(i).and_then(|p| p.as_ref());
        let ep = engine
            .and_then(|r| r.probes.get(i))
            .and_then(|p| p.as_ref());
        let agrees =
            |p: Option<&ProbeObs>| p.is_some_and(|p| doc_agrees(&p.value, &c.expected, raises));
        checks.push(DocClaimCheck {
            line: c.file_line,
            statement: String::new(),
            observable: c.expr.clone(),
            doc: show_yaml(&c.expected),
            libtorch: show_probe(lp),
            engine: if engine.is_some() {
                show_probe(ep)
            } else {
                "(not run)".into()
            },
            libtorch_agrees: agrees(lp),
            engine_agrees: agrees(ep),
        });
        if engine.is_none() {
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
                engine: show_probe(ep),
                libtorch: show_probe(lp),
                engine_error: None,
                libtorch_error: None,
                engine_graph: None,
                libtorch_graph: None,
            });
        }
    }
    (checks, divs)
}

/// `-expected/+actual` text for one divergence: libtorch is the expectation.
pub fn describe(d: &Divergence) -> String {
    let mut s = format!("line {}", d.line);
    if !d.statement.is_empty() {
        s.push_str(&format!(": `{}`", d.statement.trim()));
    }
    s.push('\n');
    match &d.variable {
        Some(v) => s.push_str(&format!("  {v}: {}\n", d.observable)),
        None => s.push_str(&format!("  {}\n", d.observable)),
    }
    s.push_str(&format!(
        "  - libtorch: {}\n  + engine:   {}\n",
        d.libtorch, d.engine
    ));
    s
}

#[cfg(test)]
mod tests;
