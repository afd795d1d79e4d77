//! Results files from before `format_version` (format 0), read as the current format. Format 0
//! named the two sides of a run after the backends it then always used: each divergence had
//! `engine`/`libtorch` values, errors and graphs, each document claim `engine`/`libtorch` and
//! their `_agrees` flags, and the run's metadata `engine_version`, `libtorch_version` and the
//! list `backends` (`["engine", "libtorch"]`, `["engine", "golden"]`, or `["libtorch"]` for
//! libtorch alone). The subject is what format 0 called the engine, the oracle its libtorch.

use crate::results::FORMAT_VERSION;
use serde_json::{Map, Value, json};

/// Rewrites a format 0 results document in place into the current format.
pub fn upgrade(doc: &mut Value) {
    let Some(top) = doc.as_object_mut() else {
        return;
    };
    if let Some(meta) = top.get_mut("meta").and_then(Value::as_object_mut) {
        upgrade_meta(meta);
    }
    for case in top
        .get_mut("cases")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
    {
        for d in list(case, "divergences") {
            for (old, new) in [
                ("engine", "subject"),
                ("libtorch", "oracle"),
                ("engine_error", "subject_error"),
                ("libtorch_error", "oracle_error"),
                ("engine_graph", "subject_graph"),
                ("libtorch_graph", "oracle_graph"),
            ] {
                rename(d, old, new);
            }
        }
        for key in ["claims", "drift"] {
            for c in list(case, key) {
                for (old, new) in [
                    ("engine", "subject"),
                    ("libtorch", "oracle"),
                    ("engine_agrees", "subject_agrees"),
                    ("libtorch_agrees", "oracle_agrees"),
                ] {
                    rename(c, old, new);
                }
            }
        }
    }
    top.insert("format_version".into(), json!(FORMAT_VERSION));
}

/// The objects in `case[key]`, a list.
fn list<'a>(
    case: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    case.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

fn rename(obj: &mut Map<String, Value>, old: &str, new: &str) {
    if let Some(v) = obj.remove(old) {
        obj.insert(new.to_string(), v);
    }
}

/// `engine_version`, `libtorch_version` and `backends` become `subject` and `oracle`.
fn upgrade_meta(meta: &mut Map<String, Value>) {
    let text = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_string));
    let engine = text(meta.remove("engine_version")).unwrap_or_default();
    let libtorch = text(meta.remove("libtorch_version"));
    let backends: Vec<String> = meta
        .remove("backends")
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let side = |name: &str, version: &str| json!({"name": name, "version": version});
    let (subject, oracle) = match backends.as_slice() {
        // libtorch alone: it checked the cases' expectations and claims.
        [one] => (
            Value::Null,
            side(one, libtorch.as_deref().unwrap_or(one.as_str())),
        ),
        [s, o, ..] => {
            let version = match (o.as_str(), &libtorch) {
                (_, Some(v)) => v.clone(),
                ("golden", None) => "golden of libtorch".to_string(),
                (o, None) => o.to_string(),
            };
            (side(s, &engine), side(o, &version))
        }
        [] => (
            side("engine", &engine),
            side("libtorch", libtorch.as_deref().unwrap_or("libtorch")),
        ),
    };
    meta.insert("subject".into(), subject);
    meta.insert("oracle".into(), oracle);
}
