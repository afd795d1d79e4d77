//! The results of a suite run: what the runner writes as JSON, what `report merge` reads back,
//! and what the HTML and JUnit reports are rendered from.

use crate::backend::{Failure, GraphObs};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SuiteResult {
    pub meta: RunMeta,
    pub cases: Vec<CaseResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// `engine 0.1.0`
    pub engine_version: String,
    /// `libtorch 2.13.0`, or absent when the run was engine-only (checked against goldens).
    pub libtorch_version: Option<String>,
    /// The backends compared, e.g. `["engine", "libtorch"]`.
    pub backends: Vec<String>,
    /// RFC 3339, UTC.
    pub started: String,
    pub duration_ms: u64,
    /// `k/n` when this is one shard of a larger run.
    pub shard: Option<String>,
    /// Remarks the report shows under the summary (`report merge` notes shards and duplicates).
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Engine and libtorch agree on every observable.
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
    /// Document claims that libtorch contradicts (recorded, never failing).
    pub drift: Vec<DocClaimCheck>,
    /// Every document claim with its three sides.
    pub claims: Vec<DocClaimCheck>,
    /// The differences the numerics oracle explained as float32 rounding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numerics: Vec<crate::numerics::NumericsNote>,
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
    pub engine: String,
    pub libtorch: String,
    pub engine_error: Option<Failure>,
    pub libtorch_error: Option<Failure>,
    /// The graphs reachable from the diverging variable on each side.
    pub engine_graph: Option<GraphObs>,
    pub libtorch_graph: Option<GraphObs>,
}

/// One `doc:` claim checked on all three sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocClaimCheck {
    pub line: u32,
    pub statement: String,
    pub observable: String,
    pub doc: String,
    pub libtorch: String,
    pub engine: String,
    /// libtorch agrees with the document.
    pub libtorch_agrees: bool,
    pub engine_agrees: bool,
}

impl SuiteResult {
    pub fn count(&self, status: CaseStatus) -> usize {
        self.cases.iter().filter(|c| c.status == status).count()
    }
}
