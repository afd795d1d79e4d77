//! The suite's outputs for people and machines: one self-contained HTML page ([`render_html`]),
//! JUnit XML for CI systems ([`write_junit`]), the JSON results ([`write_json`], [`read_json`]),
//! and [`merge`], which joins the JSON of shards run on several machines into one result.
//!
//! Every renderer works from a [`SuiteResult`] alone, so a merged result renders exactly like a
//! single run.

mod html;
mod junit;
mod merge;
pub mod sample;
pub mod svg;
mod unversioned;

use crate::results::{CaseResult, CaseStatus, Divergence, FORMAT_VERSION, Labels, SuiteResult};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub use html::render_html;
pub use junit::render_junit;
pub use merge::merge;

/// Reading or writing a report file failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a suite result: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path}: results of format {found}, written by a newer harness (this one reads up to \
         format {FORMAT_VERSION})"
    )]
    Newer { path: PathBuf, found: u64 },
}

/// Writes the self-contained HTML report, creating the parent folder if needed.
pub fn write_html(result: &SuiteResult, path: &Path) -> std::io::Result<()> {
    write_creating_parent(path, render_html(result).as_bytes())
}

/// Writes JUnit XML (one `testsuite` per case folder), creating the parent folder if needed.
pub fn write_junit(result: &SuiteResult, path: &Path) -> std::io::Result<()> {
    write_creating_parent(path, render_junit(result).as_bytes())
}

/// Writes the results as pretty JSON, the input of `harness report merge`.
pub fn write_json(result: &SuiteResult, path: &Path) -> Result<(), ReportError> {
    let text = serde_json::to_string_pretty(result).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    write_creating_parent(path, text.as_bytes()).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads results that [`write_json`] wrote (on this machine or another), of this format or,
/// without a `format_version`, of the format before it.
pub fn read_json(path: &Path) -> Result<SuiteResult, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let json = |source| ReportError::Json {
        path: path.to_path_buf(),
        source,
    };
    let mut doc: serde_json::Value = serde_json::from_str(&text).map_err(json)?;
    match doc.get("format_version").map(serde_json::Value::as_u64) {
        None => unversioned::upgrade(&mut doc),
        Some(Some(found)) if found > u64::from(FORMAT_VERSION) => {
            return Err(ReportError::Newer {
                path: path.to_path_buf(),
                found,
            });
        }
        Some(_) => {}
    }
    serde_json::from_value(doc).map_err(json)
}

fn write_creating_parent(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes)
}

/// The headline figures of a run, as the HTML summary and the JUnit totals show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub cases: usize,
    pub statements: u64,
    pub observables: u64,
    pub passed: usize,
    pub failed: usize,
    pub xfail: usize,
    /// Cases whose every difference is float32 rounding (`crate::numerics`): never failing.
    pub numerics: usize,
    pub errors: usize,
    /// Cases not run because they require something the run lacks (`requires: [cuda]`).
    pub skipped: usize,
    /// Cases with at least one document claim that the oracle contradicts.
    pub drift_cases: usize,
    /// Document claims that the oracle contradicts, over all cases.
    pub drift_claims: usize,
    pub divergences: usize,
}

impl Summary {
    pub fn of(result: &SuiteResult) -> Summary {
        let mut s = Summary {
            cases: result.cases.len(),
            ..Summary::default()
        };
        for c in &result.cases {
            s.statements += c.statements;
            s.observables += c.observables;
            match c.status {
                CaseStatus::Pass => s.passed += 1,
                CaseStatus::Fail => s.failed += 1,
                CaseStatus::Xfail => s.xfail += 1,
                CaseStatus::Numerics => s.numerics += 1,
                CaseStatus::Error => s.errors += 1,
                CaseStatus::Skipped => s.skipped += 1,
            }
            if !c.drift.is_empty() {
                s.drift_cases += 1;
            }
            s.drift_claims += c.drift.len();
            s.divergences += c.divergences.len();
        }
        s
    }
}

/// The order cases are listed in: what needs attention first, then by path.
pub(crate) fn status_rank(c: &CaseResult) -> u8 {
    match c.status {
        CaseStatus::Fail => 0,
        CaseStatus::Error => 1,
        CaseStatus::Xfail => 2,
        CaseStatus::Numerics => 3,
        CaseStatus::Pass if !c.drift.is_empty() => 4,
        CaseStatus::Pass => 5,
        CaseStatus::Skipped => 6,
    }
}

pub(crate) fn status_name(s: CaseStatus) -> &'static str {
    match s {
        CaseStatus::Pass => "pass",
        CaseStatus::Fail => "fail",
        CaseStatus::Xfail => "xfail",
        CaseStatus::Numerics => "numerics",
        CaseStatus::Error => "error",
        CaseStatus::Skipped => "skipped",
    }
}

/// The document a case was transcribed from: `source` up to its first comma.
pub(crate) fn document_of(source: &str) -> &str {
    source.split(',').next().unwrap_or("").trim()
}

/// What was observed, as Python would spell it: `x.grad.values`, `y.grad_fn`, or the bare
/// observable (`outcome`, `warnings`) for statement-level ones.
pub(crate) fn observed(d: &Divergence) -> String {
    match &d.variable {
        Some(v) if !v.is_empty() => format!("{v}.{}", d.observable),
        _ => d.observable.clone(),
    }
}

/// One line per divergence, used in the case table, the no-script list and JUnit messages;
/// `sides` names the sides (`subject engine`, `oracle libtorch`).
pub(crate) fn divergence_line(d: &Divergence, sides: &Labels) -> String {
    // Divergences found by checking a document claim carry the claim's line and no statement.
    let at = match d.statement.trim() {
        "" => format!("line {} (document claim)", d.line),
        st => format!("line {}: `{st}`", d.line),
    };
    let mut s = format!(
        "{at}: {} differs: {} {}, {} {}",
        observed(d),
        sides.subject,
        side_text(&d.subject, d.subject_error.as_ref()),
        sides.oracle,
        side_text(&d.oracle, d.oracle_error.as_ref()),
    );
    if s.chars().count() > 400 {
        s = s.chars().take(399).collect::<String>() + "…";
    }
    s
}

/// One side's value for one-line summaries, cut short: the details show it whole.
fn side_text(value: &str, error: Option<&crate::backend::Failure>) -> String {
    const MAX: usize = 100;
    match error {
        Some(f) if value.is_empty() => format!("raised {}", f.kind.name()),
        _ if value.chars().count() > MAX => value.chars().take(MAX - 1).collect::<String>() + "…",
        _ => value.to_string(),
    }
}

/// The full text of a divergence, messages included, for JUnit failure bodies; `sides` names
/// the sides with their versions (`subject engine 0.1.0 (cpu)`).
pub(crate) fn divergence_text(d: &Divergence, sides: &Labels) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "line {}: {}", d.line, d.statement.trim());
    let _ = writeln!(s, "  observable: {}", observed(d));
    let width = sides
        .subject
        .chars()
        .count()
        .max(sides.oracle.chars().count())
        + 1;
    let rows = [
        (&sides.subject, &d.subject, &d.subject_error),
        (&sides.oracle, &d.oracle, &d.oracle_error),
    ];
    for (label, value, _) in rows {
        let _ = writeln!(s, "  {:<width$} {value}", format!("{label}:"));
    }
    for (label, _, err) in rows {
        if let Some(f) = err {
            let _ = writeln!(s, "  {label} raised {}: {}", f.kind.name(), f.message);
        }
    }
    s
}

/// A one-line account of a case's outcome for the table: why it failed, or why it is notable.
/// `sides` names the sides as [`divergence_line`] does.
pub(crate) fn case_summary(c: &CaseResult, sides: &Labels) -> String {
    match c.status {
        CaseStatus::Fail => match (c.divergences.first(), &c.message) {
            (Some(d), _) => divergence_line(d, sides),
            (None, Some(m)) => m.clone(),
            (None, None) => "failed".to_string(),
        },
        CaseStatus::Error => c.message.clone().unwrap_or_else(|| "case error".into()),
        CaseStatus::Skipped => c.message.clone().unwrap_or_else(|| "skipped".into()),
        CaseStatus::Xfail => {
            let why = c.xfail_reason.as_deref().unwrap_or("known divergence");
            match c.divergences.first() {
                Some(d) => format!("known: {why} ({})", divergence_line(d, sides)),
                None => format!("known: {why}"),
            }
        }
        CaseStatus::Numerics => match c.numerics.first() {
            Some(n) => format!(
                "float32 numerics ({} explained): {}",
                c.numerics.len(),
                n.describe()
            ),
            None => "float32 numerics".to_string(),
        },
        CaseStatus::Pass => match c.drift.first() {
            Some(d) => format!(
                "document drift at line {}: {} — document says {}, {} {}",
                d.line, d.observable, d.doc, sides.oracle, d.oracle
            ),
            None => format!(
                "agree on {} observables over {} statements",
                c.observables, c.statements
            ),
        },
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_html_covers_markup_and_quotes() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn document_is_the_source_up_to_the_comma() {
        assert_eq!(
            document_of("001_df7c34f02737e594.txt, In [7]-[9]"),
            "001_df7c34f02737e594.txt"
        );
        assert_eq!(document_of("original"), "original");
    }
}
