//! Goldens: libtorch's observations of every case, kept in the repository under `cases/golden/`
//! so that the engine can be checked where libtorch is absent, and so that re-blessing with
//! another libtorch shows its drift as a `git diff`.
//!
//! A golden is a thinned [`Run`]: every top-level step, but only the first two and the last
//! execution of each statement inside loops, and tensors above [`observe::COMPACT_MAX`]
//! elements reduced to a summary. Such a run is marked `partial`, and the comparator matches it
//! to the engine's by step number.

use crate::interp::Options;
use crate::observe::{self, ObsValue, Run};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Golden {
    /// The case, relative to the repository root.
    pub case: String,
    /// The libtorch that recorded it.
    pub libtorch: String,
    pub run: Run,
    /// The same program on libtorch in float64 (`backend::shadow`), thinned alike: what the
    /// numerics oracle needs to judge a float32 difference from this golden on any CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<Run>,
    /// Where the program is float32-sensitive (`compare::sensitivity`), measured in float64
    /// when the golden was recorded: such a case is `numerics` on every machine.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<crate::numerics::NumericsNote>,
}

#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a golden: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// A case's float64 shadow run and its perturbed twin on `oracle` (`backend::shadow`), observed
/// with `opts` (`sides::options_for`): what [`record`] measures the case's float32 sensitivity
/// from.
pub fn shadow_runs<B: crate::backend::Backend>(
    oracle: &mut B,
    case: &crate::case::Case,
    opts: &Options,
) -> (Run, Run) {
    use crate::backend::shadow::Shadow;
    let shadow = crate::interp::run(&mut Shadow::new(oracle), &case.program, case.seed, opts);
    let perturbed = crate::interp::run(
        &mut Shadow::perturbed(oracle, case.seed),
        &case.program,
        case.seed,
        opts,
    );
    (shadow, perturbed)
}

/// Records a case's golden on `oracle` (libtorch), observed with `opts`
/// (`sides::options_for`): the run, its float64 shadow and where the program is
/// float32-sensitive, thinned for storage.
pub fn record<B: crate::backend::Backend>(
    oracle: &mut B,
    rel: &str,
    case: &crate::case::Case,
    opts: &Options,
) -> Golden {
    let run = crate::interp::run(oracle, &case.program, case.seed, opts);
    let (shadow, perturbed) = shadow_runs(oracle, case, opts);
    let tolerance = case.tolerance.as_ref().map(|t| (t.rtol, t.atol));
    Golden {
        case: rel.to_string(),
        libtorch: run.version.clone(),
        run: thin(&run),
        shadow: Some(thin(&shadow)),
        sensitive: crate::compare::sensitivity(&shadow, &perturbed, tolerance),
    }
}

/// `cases/seed001/x.yaml` → `<root>/cases/golden/seed001/x.json`.
pub fn path_for(root: &Path, rel_case: &str) -> PathBuf {
    let inner = rel_case.strip_prefix("cases/").unwrap_or(rel_case);
    let mut p = root.join("cases/golden").join(inner);
    p.set_extension("json");
    p
}

/// Thins a run for storage (see the module docs).
pub fn thin(run: &Run) -> Run {
    let mut last: HashMap<u32, usize> = HashMap::new();
    for s in &run.steps {
        if s.in_loop {
            last.insert(s.line, s.seq);
        }
    }
    let mut seen: HashMap<u32, usize> = HashMap::new();
    let mut out = run.clone();
    out.steps.retain(|s| {
        if !s.in_loop {
            return true;
        }
        let n = seen.entry(s.line).or_insert(0);
        *n += 1;
        *n <= 2 || last.get(&s.line) == Some(&s.seq)
    });
    for s in &mut out.steps {
        s.graphs.clear();
        for v in &mut s.vars {
            v.obs.data = observe::compact(&v.obs.data);
            if let Some(g) = &mut v.obs.grad {
                *g = observe::compact(g);
            }
        }
        if let Some(r) = &mut s.result {
            compact_value(r);
        }
    }
    for p in out.probes.iter_mut().flatten() {
        if let Ok(v) = &mut p.value {
            compact_value(v);
        }
    }
    out.partial = true;
    out
}

fn compact_value(v: &mut ObsValue) {
    match v {
        ObsValue::Tensor(t) => {
            t.data = observe::compact(&t.data);
            if let Some(g) = &mut t.grad {
                *g = observe::compact(g);
            }
        }
        ObsValue::List(xs) | ObsValue::Tuple(xs) => xs.iter_mut().for_each(compact_value),
        _ => {}
    }
}

pub fn write(path: &Path, golden: &Golden) -> Result<(), GoldenError> {
    let io = |source| GoldenError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    // One line per step keeps `git diff` after a re-bless readable without pretty-printing
    // every number on its own line.
    let mut text = String::new();
    let head = serde_json::json!({"case": golden.case, "libtorch": golden.libtorch});
    text.push_str(&format!(
        "{{\"case\":{},\"libtorch\":{},\"run\":",
        head["case"], head["libtorch"]
    ));
    write_run(&mut text, &golden.run);
    if let Some(shadow) = &golden.shadow {
        text.push_str(",\n\"shadow\":");
        write_run(&mut text, shadow);
    }
    if !golden.sensitive.is_empty() {
        text.push_str(",\n\"sensitive\":");
        text.push_str(&serde_json::to_string(&golden.sensitive).unwrap_or_else(|_| "[]".into()));
    }
    text.push_str("}\n");
    std::fs::write(path, text).map_err(io)
}

/// A run as JSON with one line per step.
fn write_run(text: &mut String, r: &Run) {
    let js = |v: &dyn erased::Ser| v.json();
    text.push_str(&format!(
        "{{\"backend\":{},\"version\":{},\"truncated\":{},\"partial\":{},\n\"probes\":{},\n\"steps\":[\n",
        js(&r.backend),
        js(&r.version),
        r.truncated,
        r.partial,
        js(&r.probes)
    ));
    for (i, s) in r.steps.iter().enumerate() {
        if i > 0 {
            text.push_str(",\n");
        }
        text.push_str(&js(s));
    }
    text.push_str("\n]}");
}

/// Only a golden's record of where its program is float32-sensitive (the runs are skipped
/// unparsed): what a live run needs from it.
pub fn read_sensitive(path: &Path) -> Result<Vec<crate::numerics::NumericsNote>, GoldenError> {
    #[derive(Deserialize)]
    struct Only {
        #[serde(default)]
        sensitive: Vec<crate::numerics::NumericsNote>,
    }
    let text = std::fs::read_to_string(path).map_err(|source| GoldenError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str::<Only>(&text)
        .map(|o| o.sensitive)
        .map_err(|source| GoldenError::Json {
            path: path.to_path_buf(),
            source,
        })
}

pub fn read(path: &Path) -> Result<Golden, GoldenError> {
    let text = std::fs::read_to_string(path).map_err(|source| GoldenError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| GoldenError::Json {
        path: path.to_path_buf(),
        source,
    })
}

mod erased {
    /// Serialises any value to compact JSON (a failure is written as `null`).
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_else(|_| "null".into())
        }
    }
}
