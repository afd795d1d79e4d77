//! The numerics oracle: decides whether a value difference beyond the tight tolerance is float32
//! rounding or a semantic divergence, from the oracle's float64 shadow (`backend::shadow`).
//!
//! The idea follows NablaFuzz (Yang et al., "Fuzzing Automatic Differentiation in Deep-Learning
//! Libraries", ICSE 2023), which re-runs an inconsistent test at higher precision to tell
//! precision-induced inconsistencies from real ones. Re-running only the *oracle* at float64 keeps
//! the subject's float32 code under test (a subject re-run in float64 would hide a float32-only
//! bug), and the distance between the float32 oracle and its shadow measures how far float32
//! rounding alone moves each value in this very program, on this machine.
//!
//! The rules, per element that differs (`s` subject, `o` float32 oracle, `h` float64 shadow):
//! - **Continuous values**: numerics when `|s - o|` is within the tight tolerance plus
//!   `2 (|o - h| + r |h|)`, where `r` is the oracle's normwise relative error over the whole
//!   tensor (`max |o - h| / max |h|`), so that an element the oracle happened to round exactly
//!   still gets its tensor's budget; two budgets, because the subject may sit as far from the
//!   truth as the oracle on the other side. Two allowances join it. Where the statement's inputs
//!   carry float32 rounding of their own (the oracle against its shadow, relative, at the element
//!   that feeds this one, capped at [`ROUND_CAP`]), an ill-conditioned op (`cos` of 1e5,
//!   `x ** 47`, `1 / (a - b)`) may amplify it `K` times; and where the two sides' inputs are
//!   apart (by at most [`ROUND_CAP`], relative), the op may carry that on as far as its
//!   sensitivity, read off the oracle (its input rounding against its output's), takes it. Where the exact value is zero at
//!   float32's resolution of the magnitudes it comes from, `K` unit roundoffs of them are
//!   cancellation noise. Only the carrying-on allowance looks at how far the subject's inputs
//!   are from the oracle's, capped, and times the sensitivity measured on the oracle: a variable
//!   cannot excuse its own difference, and a difference beyond rounding upstream buys nothing
//!   beyond the cap.
//! - **Discontinuities** (integer and bool values, `±inf`/NaN that only one side has, a flipped
//!   `argmin` or truncating cast): numerics when the shadow lands where the subject does (the
//!   float32 oracle was within rounding of the discontinuity), or when the statement consumed a
//!   value whose two sides already differed by rounding (a tie broken the other way, a
//!   comparison flipped by a last bit), at the element that feeds this one where the op is
//!   elementwise. A difference of zero sign alone is no such difference, so `1 / (±0)` from a
//!   GEMM that drops `-0.0` stays a divergence.
//! - **Propagation**: once a discontinuity flipped by rounding, whatever a later statement computes
//!   from that variable may differ by any amount; it is numerics too, and flips in turn.
//! - A variable the statement left alone (both sides bit for bit as when last compared) was
//!   judged then and is not judged again, so no difference can excuse itself.
//!
//! Everything else that differs (another observable, a value beyond its budget with no rounding
//! upstream) is a divergence as before. The shadow only runs when the tight comparison failed.
//!
//! Which cases are `numerics` at all must not depend on the machine either: a case whose
//! float32 values differ beyond the tight tolerance here may agree to the last bit elsewhere.
//! [`sensitivity`] answers it for the program: a float64 run that rounds every computed value by
//! one unit roundoff of float32 shows which observables float32 rounding can move beyond a
//! quarter of the tight tolerance. Goldens record it, and a case that is sensitive is `numerics`
//! wherever it runs, with those observables listed.

use crate::backend::{DType, TensorData};
use crate::observe::{ObsValue, Run, Step};
use crate::program::{Expr, ExprKind, IndexItem, Program, Stmt, StmtKind, Target};
use std::collections::{HashMap, HashSet};

/// Whether a divergence's observable is one the float64 shadow may explain: a variable's
/// values or gradient values, a bare expression's result, or an outcome (downstream of a
/// rounding flip). The runner and the fuzzer run the shadow only for these.
pub fn may_be_rounding(observable: &str) -> bool {
    observable.ends_with("values") || observable == "result" || observable == "outcome"
}

pub use crate::results::NumericsNote;

/// How a variable's two sides stood the last time they were compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Noise {
    /// Some element differs, within the tight tolerance or the rounding budget.
    Rounding,
    /// A discontinuity took a different branch on the two sides because of rounding.
    Flipped,
}

/// float32's unit roundoff, 2^-24.
const U32: f64 = 5.960_464_477_539_063e-8;

/// The condition allowance: how many times its inputs' rounding a statement may amplify (an
/// ill-conditioned `pow` or `cos`), and how many unit roundoffs of its inputs' magnitude a
/// cancelling sum may leave where the exact value is zero.
const K: f64 = 32.0;

/// What the comparison last saw of one variable.
#[derive(Debug, Clone, Default)]
struct VarStat {
    noise: Option<Noise>,
    /// `max |s - o| / max |o|` over its values and gradient.
    rel: f64,
    /// `max |o|` over its values and gradient.
    scale: f64,
    /// Its shape, and how far apart the sides are at each value (relative, at most 1; 0 where
    /// they agree exactly).
    shape: Vec<usize>,
    apart: Vec<f64>,
    /// How far float32 rounding alone moved each value: the oracle against its shadow
    /// (relative), and the same normwise.
    round: Vec<f64>,
    round_norm: f64,
    /// A digest of both sides' values and gradient when last compared: a variable the
    /// statement left alone was judged then, and may not excuse itself now.
    digest: (u64, u64),
}

/// The most relative float32 rounding an input may bring to an ill-conditioned op's budget:
/// about 170 units of float32's roundoff, so that `K` times it stays below the smallest
/// semantic difference the suite must see (a gradient 0.1% off).
const ROUND_CAP: f64 = 1e-5;

/// What a statement's inputs carried.
#[derive(Debug, Clone, Default)]
struct Inputs {
    noise: Option<(Noise, String)>,
    scale: f64,
    /// The inputs whose sides differ: shape, per-value relative distance, normwise distance.
    apart: Vec<(Vec<usize>, Vec<f64>, f64)>,
    /// Every input: shape, per-value float32 rounding (oracle against shadow), normwise.
    round: Vec<(Vec<usize>, Vec<f64>, f64)>,
    /// For each entry of `apart`, its rounding (uncapped), per value and normwise.
    apart_round: Vec<(Vec<f64>, f64)>,
}

impl Inputs {
    /// How far apart the inputs that reach element `i` of a result of `shape` are: an input
    /// that broadcasts to `shape` (an elementwise op) at the value it sends to `i`, any other
    /// (a reduction, a matmul) normwise. Zero when rounding cannot reach `i`.
    fn apart_at(&self, i: usize, shape: &[usize]) -> f64 {
        self.apart
            .iter()
            .map(|(s, per, norm)| match broadcast_index(i, shape, s) {
                Some(j) => per.get(j).copied().unwrap_or(0.0),
                None if per.iter().any(|&d| d > 0.0) => norm.max(f64::MIN_POSITIVE),
                None => 0.0,
            })
            .fold(0.0, f64::max)
    }

    /// The float32 rounding the inputs bring to element `i` of a result of `shape`, the same
    /// way: what an ill-conditioned op may amplify.
    fn round_at(&self, i: usize, shape: &[usize]) -> f64 {
        self.round
            .iter()
            .map(|(s, per, norm)| match broadcast_index(i, shape, s) {
                Some(j) => per.get(j).copied().unwrap_or(0.0),
                None => *norm,
            })
            .fold(0.0, f64::max)
            .min(ROUND_CAP)
    }

    /// How far the output at element `i` may move because the sides' inputs are apart by up
    /// to [`ROUND_CAP`] (relative): the op's own sensitivity, measured on the oracle. Its input
    /// rounding `r` moved its output by `e` beyond the op's own rounding, so an input apart by
    /// `d` moves it by about `e d / r`; twice that is allowed. Where the oracle's input was
    /// exact (`r = 0`) and its sensitivity cannot be read, `K d |o|`.
    fn propagated(&self, i: usize, shape: &[usize], o: f64, h: f64) -> f64 {
        let e = ((o - h).abs() - 2.0 * U32 * o.abs()).max(0.0);
        self.apart
            .iter()
            .zip(self.apart_round.iter())
            .map(|((s, per, norm), (rper, rnorm))| {
                let (d, r) = match broadcast_index(i, shape, s) {
                    Some(j) => (
                        per.get(j).copied().unwrap_or(0.0),
                        rper.get(j).copied().unwrap_or(0.0),
                    ),
                    None if per.iter().any(|&d| d > 0.0) => (*norm, *rnorm),
                    None => (0.0, 0.0),
                };
                let d = d.min(ROUND_CAP);
                if d == 0.0 {
                    0.0
                } else if r > 0.0 {
                    2.0 * e * d / r
                } else {
                    K * d * o.abs()
                }
            })
            .fold(0.0, f64::max)
    }
}

/// The element of an input of shape `from` that broadcasting sends to element `i` of a result
/// of shape `to`, or `None` when `from` does not broadcast to `to` (a reduction, a matmul).
fn broadcast_index(i: usize, to: &[usize], from: &[usize]) -> Option<usize> {
    if from.len() > to.len() {
        return None;
    }
    let lead = to.len() - from.len();
    let (mut rest, mut j, mut stride) = (i, 0usize, 1usize);
    for d in (0..to.len()).rev() {
        let size = to[d].max(1);
        let k = rest % size;
        rest /= size;
        if d >= lead {
            let f = from[d - lead];
            if f != to[d] && f != 1 {
                return None;
            }
            if f != 1 {
                j += k * stride;
            }
            stride *= f;
        }
    }
    Some(j)
}

/// The shadow, the statements' inputs, and what the comparison has seen so far.
pub struct Judge<'a> {
    shadow: HashMap<usize, &'a Step>,
    reads: HashMap<u32, Vec<String>>,
    vars: HashMap<String, VarStat>,
    pub notes: Vec<NumericsNote>,
}

/// Why an element's difference is rounding.
enum Why {
    Budget { error: f64, budget: f64 },
    ShadowAgrees,
    Flip(String),
    Propagated(String),
}

impl<'a> Judge<'a> {
    pub fn new(shadow: &'a Run, program: &Program) -> Self {
        let mut reads = HashMap::new();
        collect_reads(&program.stmts, &mut reads);
        Judge {
            shadow: shadow.steps.iter().map(|s| (s.seq, s)).collect(),
            reads,
            vars: HashMap::new(),
            notes: Vec::new(),
        }
    }

    /// The shadow's step for `step`, when it ran the same statement with the same outcome.
    fn shadow_step(&self, step: &Step) -> Option<&'a Step> {
        self.shadow
            .get(&step.seq)
            .copied()
            .filter(|h| h.line == step.line && h.error.is_some() == step.error.is_some())
    }

    /// What the statement at `line` read: its noisiest input (with the name), how far apart
    /// the sides of each input are, and the inputs' largest magnitude.
    fn inputs(&self, line: u32) -> Inputs {
        let mut out = Inputs::default();
        let Some(names) = self.reads.get(&line) else {
            return out;
        };
        for (var, st) in &self.vars {
            if !names.iter().any(|n| reads_var(n, var)) {
                continue;
            }
            out.scale = out.scale.max(st.scale);
            out.round
                .push((st.shape.clone(), st.round.clone(), st.round_norm));
            if let Some(n) = st.noise {
                if out.noise.as_ref().is_none_or(|(m, _)| n > *m) {
                    out.noise = Some((n, var.clone()));
                }
                out.apart.push((st.shape.clone(), st.apart.clone(), st.rel));
                out.apart_round.push((st.round.clone(), st.round_norm));
            }
        }
        out
    }

    /// Records what `var`'s two sides showed at `step` (values, then the gradient when both
    /// have one).
    pub fn observed(
        &mut self,
        step: &Step,
        var: &str,
        s: &TensorData,
        o: &TensorData,
        grads: Option<(&TensorData, &TensorData)>,
    ) {
        let h = self
            .shadow_step(step)
            .and_then(|h| h.vars.iter().find(|v| v.name == var))
            .map(|v| v.obs.data.clone())
            .filter(|h| h.values.len() == o.values.len());
        let (mut round, mut err, mut top) = (vec![0.0f64; o.values.len()], 0.0f64, 0.0f64);
        if let Some(h) = &h {
            for (i, (&a, &b)) in o.values.iter().zip(&h.values).enumerate() {
                if a.is_finite() && b.is_finite() {
                    err = err.max((a - b).abs());
                    top = top.max(b.abs());
                    if b != 0.0 {
                        round[i] = ((a - b) / b).abs();
                    }
                }
            }
        }
        let round_norm = if top > 0.0 { err / top } else { 0.0 };
        let (mut diff, mut scale, mut differs) = (0.0f64, 0.0f64, false);
        let mut apart = vec![0.0f64; o.values.len()];
        for (k, (a, b)) in std::iter::once((s, o)).chain(grads).enumerate() {
            for (i, (&x, &y)) in a.values.iter().zip(&b.values).enumerate() {
                if x.is_finite() && y.is_finite() {
                    diff = diff.max((x - y).abs());
                    scale = scale.max(y.abs());
                }
                let d = x != y && !(x.is_nan() && y.is_nan());
                differs |= d;
                if k == 0 && d {
                    apart[i] = if x.is_finite() && y.is_finite() && y != 0.0 {
                        ((x - y) / y).abs().min(1.0)
                    } else {
                        1.0
                    };
                }
            }
            differs |= a.values.len() != b.values.len();
        }
        let st = self.vars.entry(var.to_string()).or_default();
        st.rel = if scale > 0.0 { diff / scale } else { 0.0 };
        st.scale = scale;
        st.shape = o.shape.clone();
        st.apart = apart;
        st.round = round;
        st.round_norm = round_norm;
        st.digest = (digest(s, o), grads.map_or(0, |(a, b)| digest(a, b)));
        st.noise = match st.noise {
            Some(Noise::Flipped) if differs => Some(Noise::Flipped),
            _ if differs => Some(Noise::Rounding),
            _ => None,
        };
    }

    fn flip(&mut self, var: Option<&str>) {
        if let Some(v) = var {
            self.vars.entry(v.to_string()).or_default().noise = Some(Noise::Flipped);
        }
    }

    /// An outcome that differs (one side raised): rounding only downstream of a flip.
    pub fn explain_outcome(&mut self, step: &Step) -> bool {
        match self.inputs(step.line).noise {
            Some((Noise::Flipped, from)) => {
                self.notes.push(NumericsNote {
                    line: step.line,
                    variable: None,
                    observable: "outcome".into(),
                    error: f64::INFINITY,
                    budget: f64::INFINITY,
                    why: format!("downstream of the rounding flip in `{from}`"),
                });
                true
            }
            _ => false,
        }
    }

    /// Tensor contents of `var` (`grad`: its gradient) that differ beyond the tight tolerance.
    pub fn explain_data(
        &mut self,
        step: &Step,
        var: &str,
        grad: bool,
        s: &TensorData,
        o: &TensorData,
        tight: (f64, f64),
    ) -> bool {
        let observable = if grad { "grad.values" } else { "values" };
        let base = var.strip_suffix(".grad").unwrap_or(var);
        if let Some(st) = self.vars.get(base) {
            let last = if grad { st.digest.1 } else { st.digest.0 };
            if last != 0 && last == digest(s, o) {
                // Unchanged since it was last compared, and judged then.
                return true;
            }
        }
        let h = self.shadow_step(step).and_then(|h| {
            let obs = &h.vars.iter().find(|v| v.name == base)?.obs;
            if grad {
                obs.grad.clone()
            } else {
                Some(obs.data.clone())
            }
        });
        self.explain(step, Some(base), observable, s, o, h.as_ref(), tight)
    }

    /// A bare expression's value that differs.
    pub fn explain_result(
        &mut self,
        step: &Step,
        s: &ObsValue,
        o: &ObsValue,
        tight: (f64, f64),
    ) -> bool {
        let h = self.shadow_step(step).and_then(|h| h.result.clone());
        let (Some(sd), Some(od)) = (flatten(s), flatten(o)) else {
            return false;
        };
        let hd = h.as_ref().and_then(flatten);
        if sd.values.len() != od.values.len() {
            return false;
        }
        self.explain(step, None, "result", &sd, &od, hd.as_ref(), tight)
    }

    #[allow(clippy::too_many_arguments)]
    fn explain(
        &mut self,
        step: &Step,
        var: Option<&str>,
        observable: &str,
        s: &TensorData,
        o: &TensorData,
        h: Option<&TensorData>,
        (rtol, atol): (f64, f64),
    ) -> bool {
        let (sv, ov) = summaries(s, o);
        let hv = h
            .filter(|h| h.shape == o.shape)
            .map(|h| summary_like(h, o))
            .filter(|hv| hv.len() == ov.len());
        if sv.len() != ov.len() {
            return false;
        }
        let inputs = self.inputs(step.line);
        let upstream = inputs.noise.clone();
        let r = hv.as_ref().map_or(0.0, |hv| normwise(&ov, hv));
        // The magnitudes a cancelling element is computed from: the inputs', and its own
        // tensor's (a gradient whose backward was not observed as a statement of its own).
        let scale = ov
            .iter()
            .filter(|v| v.is_finite())
            .fold(inputs.scale, |m, v| m.max(v.abs()));
        let discrete = !o.dtype.is_float() || !s.dtype.is_float();
        let mut worst: Option<Why> = None;
        let mut ratio = 0.0f64;
        for i in 0..ov.len() {
            let (a, b) = (sv[i], ov[i]);
            if crate::tolerance::close(a, b, rtol, atol) {
                continue;
            }
            let hi = hv.as_ref().map(|hv| hv[i]);
            let why = if let Some((Noise::Flipped, from)) = &upstream {
                Why::Propagated(from.clone())
            } else if discrete || !a.is_finite() || !b.is_finite() {
                if hi.is_some_and(|h| same_side(a, h, o.dtype)) {
                    Why::ShadowAgrees
                } else if let Some((_, from)) = upstream
                    .as_ref()
                    .filter(|_| inputs.apart_at(i, &o.shape) > 0.0)
                {
                    Why::Flip(from.clone())
                } else {
                    return false;
                }
            } else {
                let Some(h) = hi.filter(|h| h.is_finite()) else {
                    return false;
                };
                let error = (a - b).abs();
                let mut budget = atol + rtol * b.abs() + 2.0 * ((b - h).abs() + r * h.abs());
                // The inputs carry float32 rounding of their own, which an ill-conditioned op
                // may amplify (measured on the oracle against its shadow: how far the subject's
                // inputs are off is what is being judged, not a licence).
                budget += K * inputs.round_at(i, &o.shape) * b.abs();
                // The inputs are apart by rounding already: the op carries that on.
                budget += inputs.propagated(i, &o.shape, b, h);
                if h.abs() <= K * U32 * scale {
                    // The exact value is zero at float32's resolution of the magnitudes it is
                    // computed from: what is left is cancellation noise of their size.
                    budget += K * U32 * scale;
                }
                if error > budget {
                    return false;
                }
                let q = error / budget;
                if q >= ratio {
                    ratio = q;
                    if !matches!(worst, Some(Why::Flip(_) | Why::ShadowAgrees)) {
                        worst = Some(Why::Budget { error, budget });
                    }
                }
                continue;
            };
            worst = Some(why);
        }
        let Some(why) = worst else {
            // Every element within the tight tolerance after all (a summary's sum, say).
            return true;
        };
        let (error, budget, why) = match why {
            Why::Budget { error, budget } => (error, budget, "float32 rounding budget".to_string()),
            Why::ShadowAgrees => {
                self.flip(var);
                (
                    f64::INFINITY,
                    f64::INFINITY,
                    "the float64 shadow lands where the subject does: the float32 oracle was within rounding of a discontinuity".to_string(),
                )
            }
            Why::Flip(from) => {
                self.flip(var);
                (
                    f64::INFINITY,
                    f64::INFINITY,
                    format!(
                        "rounding flip: the statement consumed `{from}`, whose sides differ by rounding"
                    ),
                )
            }
            Why::Propagated(from) => {
                self.flip(var);
                (
                    f64::INFINITY,
                    f64::INFINITY,
                    format!("downstream of the rounding flip in `{from}`"),
                )
            }
        };
        self.notes.push(NumericsNote {
            line: step.line,
            variable: var.map(|v| {
                if observable.starts_with("grad") {
                    format!("{v}.grad")
                } else {
                    v.to_string()
                }
            }),
            observable: observable.to_string(),
            error,
            budget,
            why,
        });
        true
    }
}

/// A digest of two sides' values, bit for bit (never 0).
fn digest(s: &TensorData, o: &TensorData) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for d in [s, o] {
        d.shape.hash(&mut h);
        for v in &d.values {
            v.to_bits().hash(&mut h);
        }
    }
    h.finish() | 1
}

/// The vectors that are compared: every value, or a golden's summary of each side.
fn summaries(s: &TensorData, o: &TensorData) -> (Vec<f64>, Vec<f64>) {
    if crate::observe::is_compact(s) || crate::observe::is_compact(o) {
        (
            crate::observe::compact(s).values,
            crate::observe::compact(o).values,
        )
    } else {
        (s.values.clone(), o.values.clone())
    }
}

fn summary_like(h: &TensorData, o: &TensorData) -> Vec<f64> {
    if crate::observe::is_compact(o) || crate::observe::is_compact(h) {
        crate::observe::compact(h).values
    } else {
        h.values.clone()
    }
}

/// `max |o - h| / max |h|` over the finite elements.
fn normwise(o: &[f64], h: &[f64]) -> f64 {
    let (mut err, mut scale) = (0.0f64, 0.0f64);
    for (&a, &b) in o.iter().zip(h) {
        if a.is_finite() && b.is_finite() {
            err = err.max((a - b).abs());
            scale = scale.max(b.abs());
        }
    }
    if scale > 0.0 { err / scale } else { 0.0 }
}

/// Whether the shadow's `h` lands where the subject's `s` does: the same integer or bool, the
/// same infinity, NaN with NaN, or finite with finite (an overflow only float32 had).
fn same_side(s: f64, h: f64, dtype: DType) -> bool {
    if !dtype.is_float() {
        return s == h;
    }
    if s.is_nan() || h.is_nan() {
        return s.is_nan() && h.is_nan();
    }
    if s.is_infinite() || h.is_infinite() {
        return s == h || (s.is_finite() && h.abs() > f32::MAX as f64);
    }
    true
}

/// A result value as flat data: a tensor, a number, or a list of numbers.
fn flatten(v: &ObsValue) -> Option<TensorData> {
    fn push(v: &ObsValue, out: &mut Vec<f64>, float: &mut bool) -> bool {
        match v {
            ObsValue::Float(x) => {
                *float = true;
                out.push(*x);
                true
            }
            ObsValue::Int(i) => {
                out.push(*i as f64);
                true
            }
            ObsValue::Bool(b) => {
                out.push(*b as i64 as f64);
                true
            }
            ObsValue::List(xs) | ObsValue::Tuple(xs) => xs.iter().all(|x| push(x, out, float)),
            _ => false,
        }
    }
    if let ObsValue::Tensor(t) = v {
        return Some(t.data.clone());
    }
    let mut values = Vec::new();
    let mut float = false;
    push(v, &mut values, &mut float).then(|| TensorData {
        shape: vec![values.len()],
        dtype: if float { DType::F64 } else { DType::I64 },
        values,
    })
}

/// Whether reading the name `n` reads the observed variable `var` (`net` reads `net.0.weight`,
/// `xs` reads `xs[1]`).
fn reads_var(n: &str, var: &str) -> bool {
    var == n
        || var
            .strip_prefix(n)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// Program line → every name its statement mentions. A compound statement (`with`, `for`, `if`)
/// is observed again once its body ran, so it reads what its body reads.
fn collect_reads(stmts: &[Stmt], out: &mut HashMap<u32, Vec<String>>) -> HashSet<String> {
    let mut all = HashSet::new();
    for s in stmts {
        let mut names = HashSet::new();
        match &s.kind {
            StmtKind::Import(_) | StmtKind::Pass => {}
            StmtKind::Assign { target, value } => {
                target_reads(target, &mut names, false);
                expr_reads(value, &mut names);
            }
            StmtKind::AugAssign { target, value, .. } => {
                target_reads(target, &mut names, true);
                expr_reads(value, &mut names);
            }
            StmtKind::Expr(e) => expr_reads(e, &mut names),
            StmtKind::With { context, body } => {
                expr_reads(context, &mut names);
                names.extend(collect_reads(body, out));
            }
            StmtKind::For { iter, body, .. } => {
                expr_reads(iter, &mut names);
                names.extend(collect_reads(body, out));
            }
            StmtKind::If { cond, body, orelse } => {
                expr_reads(cond, &mut names);
                names.extend(collect_reads(body, out));
                names.extend(collect_reads(orelse, out));
            }
        }
        all.extend(names.iter().cloned());
        out.insert(s.span.line, names.into_iter().collect());
    }
    all
}

/// `x[i] = v` and `x.data = v` read `x` (they write into it); `x = v` reads nothing of `x`.
fn target_reads(t: &Target, out: &mut HashSet<String>, whole: bool) {
    match t {
        Target::Name(n) => {
            if whole {
                out.insert(n.clone());
            }
        }
        Target::Tuple(ts) => ts.iter().for_each(|t| target_reads(t, out, whole)),
        Target::Attr(e, _) => expr_reads(e, out),
        Target::Index(e, items) => {
            expr_reads(e, out);
            items.iter().for_each(|i| item_reads(i, out));
        }
    }
}

fn item_reads(i: &IndexItem, out: &mut HashSet<String>) {
    match i {
        IndexItem::Expr(e) => expr_reads(e, out),
        IndexItem::Slice(a, b, c) => [a, b, c]
            .into_iter()
            .flatten()
            .for_each(|e| expr_reads(e, out)),
        IndexItem::Ellipsis | IndexItem::NewAxis => {}
    }
}

fn expr_reads(e: &Expr, out: &mut HashSet<String>) {
    match &e.kind {
        ExprKind::Name(n) => {
            out.insert(n.clone());
        }
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::None
        | ExprKind::Str(_) => {}
        ExprKind::List(xs) | ExprKind::Tuple(xs) => xs.iter().for_each(|x| expr_reads(x, out)),
        ExprKind::Unary(_, x) => expr_reads(x, out),
        ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => {
            expr_reads(a, out);
            expr_reads(b, out);
        }
        ExprKind::Call { func, args, kwargs } => {
            expr_reads(func, out);
            args.iter().for_each(|x| expr_reads(x, out));
            kwargs.iter().for_each(|(_, x)| expr_reads(x, out));
        }
        ExprKind::Attr(x, _) => expr_reads(x, out),
        ExprKind::Index(x, items) => {
            expr_reads(x, out);
            items.iter().for_each(|i| item_reads(i, out));
        }
    }
}

#[cfg(test)]
mod tests;
