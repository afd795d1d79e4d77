//! Known engine divergences (`cases/known_divergences.yaml`): strict expected failures.
//!
//! Each entry maps a case path (relative to the repository root) to a reason, and optionally the
//! observable its first divergence is about:
//!
//! ```yaml
//! cases/inplace/leaf_view.yaml: "the engine does not yet rebase views of leaves"
//! cases/seed001/in11_view.yaml:
//!   reason: "ViewBackward0 is not recorded"
//!   observable: grad_fn
//! ```
//!
//! A listed case that still diverges is `Xfail`; one that stopped diverging fails the run, so the
//! list never outlives the bugs it names.

use crate::results::{CaseResult, CaseStatus};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Entry {
    Reason(String),
    Full {
        reason: String,
        #[serde(default)]
        observable: Option<String>,
    },
}

#[derive(Debug, Clone, Default)]
pub struct KnownDivergences {
    entries: BTreeMap<String, (String, Option<String>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum KnownError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("malformed: {0}")]
    Yaml(#[from] serde_yaml::Error),
}

impl KnownDivergences {
    /// A missing file is an empty list.
    pub fn load(path: &Path) -> Result<Self, KnownError> {
        if !path.exists() {
            return Ok(Self::default());
        }
        Self::parse(&std::fs::read_to_string(path)?)
    }

    pub fn parse(text: &str) -> Result<Self, KnownError> {
        let raw: Option<BTreeMap<String, Entry>> = serde_yaml::from_str(text)?;
        let entries = raw
            .unwrap_or_default()
            .into_iter()
            .map(|(k, e)| {
                let v = match e {
                    Entry::Reason(r) => (r, None),
                    Entry::Full { reason, observable } => (reason, observable),
                };
                (k, v)
            })
            .collect();
        Ok(KnownDivergences { entries })
    }

    /// Every listed case path, with its reason.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|(p, (r, _))| (p.as_str(), r.as_str()))
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.entries.get(path).map(|(r, _)| r.as_str())
    }

    /// Turns a listed case's verdict into a strict expected failure.
    pub fn apply(&self, r: &mut CaseResult) {
        let Some((reason, observable)) = self.entries.get(&r.path) else {
            return;
        };
        match r.status {
            CaseStatus::Fail if r.message.is_none() => {
                let first = r.divergences.first().map(|d| d.observable.as_str());
                match (observable, first) {
                    (Some(want), Some(got)) if want != got => {
                        r.message = Some(format!(
                            "{}: known divergence on `{want}`, but the first divergence is now on `{got}`",
                            r.path
                        ));
                    }
                    _ => {
                        r.status = CaseStatus::Xfail;
                        r.xfail_reason = Some(reason.clone());
                    }
                }
            }
            CaseStatus::Pass | CaseStatus::Numerics => {
                let now = if r.status == CaseStatus::Pass {
                    "no longer diverges"
                } else {
                    "differs only by float32 rounding now"
                };
                r.status = CaseStatus::Fail;
                r.xfail_reason = Some(reason.clone());
                r.message = Some(format!(
                    "{}: known divergence {now}; remove it from cases/known_divergences.yaml",
                    r.path
                ));
            }
            _ => {}
        }
    }
}
