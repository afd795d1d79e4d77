//! The YAML envelope around a program, as `cases/FORMAT.md` describes it. (stub: owned by the parser work)

use crate::program::Program;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol: f64,
}

/// One claim of the document: after program line `after`, `expr` evaluates to `expected`.
#[derive(Debug, Clone, PartialEq)]
pub struct DocClaim {
    /// 1-based line within the program.
    pub after: u32,
    /// Line within the YAML file, for messages.
    pub file_line: u32,
    /// `x.grad`, `y.grad_fn`, `raises`, ...
    pub expr: String,
    pub expected: serde_yaml::Value,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub path: PathBuf,
    pub name: String,
    pub source: String,
    pub tags: Vec<String>,
    pub seed: u64,
    pub tolerance: Option<Tolerance>,
    pub requires: Vec<String>,
    pub program: Program,
    pub program_text: String,
    /// File line of the program's first line.
    pub program_line: u32,
    pub doc: Vec<DocClaim>,
}

/// A malformed case: names the file, line and column, and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}:{line}:{col}: {message}")]
pub struct CaseError {
    pub path: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

pub fn load(path: &Path) -> Result<Case, CaseError> {
    Err(CaseError {
        path: path.display().to_string(),
        line: 1,
        col: 1,
        message: "case loader not written yet".into(),
    })
}
