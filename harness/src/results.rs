//! The results of a suite run: what the runner writes as JSON, what `report merge` reads back,
//! and what the HTML and JUnit reports are rendered from.
//!
//! A run compares a *subject* (the backend under test) with an *oracle* (the reference); every
//! result names its sides by those roles, and [`RunMeta`] says which backends filled them.
//! The JSON carries [`FORMAT_VERSION`]; `report::read_json` also reads files from before the
//! field existed.

use crate::backend::{Failure, GraphObs};
use serde::{Deserialize, Serialize};

/// The results JSON's format: 1 names the sides `subject` and `oracle`. A file without the
/// field is format 0, which named them `engine` and `libtorch`.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteResult {
    pub format_version: u32,
    pub meta: RunMeta,
    pub cases: Vec<CaseResult>,
}

impl Default for SuiteResult {
    fn default() -> Self {
        SuiteResult {
            format_version: FORMAT_VERSION,
            meta: RunMeta::default(),
            cases: Vec::new(),
        }
    }
}

/// One side of a run: which backend, and what it says of itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideInfo {
    /// The name it was chosen by (`engine`, `libtorch-cuda`, `golden`, `mutant-sub`).
    pub name: String,
    /// Its own name, version and device: `engine 0.1.0 (cpu)`, `libtorch 2.13.0 (cuda:0)`.
    pub version: String,
}

impl SideInfo {
    pub fn new(name: &str, version: &str) -> Self {
        SideInfo {
            name: name.to_string(),
            version: version.to_string(),
        }
    }
}

/// How text names the two sides: `subject engine 0.1.0 (cpu)`, `oracle golden ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    pub subject: String,
    pub oracle: String,
}

impl Labels {
    /// Labels for sides known only by their version strings.
    pub fn new(subject: Option<&str>, oracle: &str) -> Self {
        Labels {
            subject: match subject {
                Some(v) if !v.is_empty() => format!("subject {v}"),
                _ => "subject (none)".to_string(),
            },
            oracle: if oracle.is_empty() {
                "oracle".to_string()
            } else {
                format!("oracle {oracle}")
            },
        }
    }
}

impl Default for Labels {
    fn default() -> Self {
        Labels {
            subject: "subject".into(),
            oracle: "oracle".into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// The backend under test; absent when the oracle ran alone (`--subject none`), checking
    /// only the cases' own expectations and document claims.
    pub subject: Option<SideInfo>,
    /// The reference the subject is judged against.
    pub oracle: SideInfo,
    /// RFC 3339, UTC.
    pub started: String,
    pub duration_ms: u64,
    /// `k/n` when this is one shard of a larger run.
    pub shard: Option<String>,
    /// Remarks the report shows under the summary (`report merge` notes shards and duplicates).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl RunMeta {
    /// The two sides with their versions, for headings and `-/+` diffs:
    /// `subject engine 0.1.0 (cpu)`.
    pub fn labels(&self) -> Labels {
        Labels::new(
            self.subject.as_ref().map(|s| s.version.as_str()),
            &self.oracle.version,
        )
    }

    /// The two sides by name, for one-line summaries: `subject engine`, `oracle golden`.
    pub fn names(&self) -> Labels {
        Labels::new(
            self.subject.as_ref().map(|s| s.name.as_str()),
            &self.oracle.name,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Subject and oracle agree on every observable.
    Pass,
    /// A divergence that is not listed as known, or a known one that stopped diverging.
    Fail,
    /// A known divergence, listed in `cases/known_divergences.yaml`, that still diverges.
    Xfail,
    /// Every difference is float32 rounding, as the oracle's float64 shadow measures it
    /// (`crate::numerics`); `numerics` holds each with its budget. Never a failure.
    Numerics,
    /// The case file itself is malformed (YAML, syntax, unknown op or name).
    Error,
    /// Not run: the case `requires` something this run lacks (e.g. `[cuda]` without a CUDA
    /// backend or device); `message` says what.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// Path relative to the repository root: `cases/seed001/in07_backward.yaml`.
    pub path: String,
    pub name: String,
    pub source: String,
    pub tags: Vec<String>,
    pub status: CaseStatus,
    /// The program text as written in the case, and the file line of its first line.
    pub program: String,
    pub program_line: u32,
    /// Statements executed (loop bodies count each time they run).
    pub statements: u64,
    /// Observables compared across all statements.
    pub observables: u64,
    /// Empty when passing. Holds the first divergence, or all of them with `--all`.
    pub divergences: Vec<Divergence>,
    /// Document claims that the oracle contradicts (recorded, never failing).
    pub drift: Vec<DocClaimCheck>,
    /// Every document claim with its three sides.
    pub claims: Vec<DocClaimCheck>,
    /// The differences the numerics oracle explained as float32 rounding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numerics: Vec<NumericsNote>,
    /// Why this case is an expected failure, from the known-divergences file.
    pub xfail_reason: Option<String>,
    /// For `Error` cases and for an xfail that passed: what went wrong, `file:line:col: ...`.
    pub message: Option<String>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// 0-based index into the program's top-level statements as executed.
    pub stmt_index: usize,
    /// Line within the case file.
    pub line: u32,
    /// The statement's source text.
    pub statement: String,
    /// The variable observed, when the divergence is about one (`x`, `x.grad`, `net.0.weight`).
    pub variable: Option<String>,
    /// `outcome`, `shape`, `dtype`, `values`, `requires_grad`, `is_leaf`, `grad_fn`, `grad`,
    /// `grad.values`, `version`, `retains_grad`, `is_view`, `warnings`, `result`.
    pub observable: String,
    /// What the subject showed.
    pub subject: String,
    /// What the oracle showed: the expectation.
    pub oracle: String,
    pub subject_error: Option<Failure>,
    pub oracle_error: Option<Failure>,
    /// The graphs reachable from the diverging variable on each side.
    pub subject_graph: Option<GraphObs>,
    pub oracle_graph: Option<GraphObs>,
}

/// One `doc:` claim checked on all three sides: the document, the oracle and the subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocClaimCheck {
    pub line: u32,
    pub statement: String,
    pub observable: String,
    pub doc: String,
    pub oracle: String,
    /// `(not run)` when the oracle ran alone.
    pub subject: String,
    /// The oracle agrees with the document (when not, the claim is document drift).
    pub oracle_agrees: bool,
    pub subject_agrees: bool,
}

impl SuiteResult {
    pub fn count(&self, status: CaseStatus) -> usize {
        self.cases.iter().filter(|c| c.status == status).count()
    }
}

/// One difference the shadow explained as float32 rounding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericsNote {
    /// Program line (the runner turns it into a file line).
    pub line: u32,
    pub variable: Option<String>,
    pub observable: String,
    /// The largest `|subject - oracle|` among the elements explained, and the budget the
    /// shadow gave that element (`inf` for a discontinuity or a propagated flip).
    #[serde(with = "crate::backend::floats::one")]
    pub error: f64,
    #[serde(with = "crate::backend::floats::one")]
    pub budget: f64,
    /// Why: `float32 rounding budget`, `rounding flip: ...`, `shadow agrees with the subject`.
    pub why: String,
}

impl NumericsNote {
    pub fn describe(&self) -> String {
        let var = self.variable.as_deref().unwrap_or("(statement)");
        if self.budget.is_nan() {
            format!(
                "line {}: {var} {}: {}",
                self.line, self.observable, self.why
            )
        } else if self.budget.is_finite() {
            format!(
                "line {}: {var} {}: |subject - oracle| = {:.3e} within the float32 budget {:.3e} ({})",
                self.line, self.observable, self.error, self.budget, self.why
            )
        } else {
            format!(
                "line {}: {var} {}: {} ({})",
                self.line, self.observable, self.why, self.error
            )
        }
    }
}
