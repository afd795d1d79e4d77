//! Joins the results of shards (run on several machines, or with `--shard k/n`) into one result
//! that renders like a single run.
//!
//! Cases are concatenated and sorted by path. A path that occurs twice keeps its last occurrence
//! (a re-run shard given later wins), with a note. The shards ran side by side, so the run's
//! duration is the longest shard's, and the sum is noted; case durations are kept as measured.

use crate::results::{CaseResult, FORMAT_VERSION, RunMeta, SideInfo, SuiteResult};
use std::collections::{BTreeSet, HashMap};

/// Duplicate paths listed by name in the notes; beyond this they are counted.
const NAMED_DUPLICATES: usize = 10;

pub fn merge(parts: &[SuiteResult]) -> SuiteResult {
    let mut notes: Vec<String> = Vec::new();
    for p in parts {
        for n in &p.meta.notes {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
    }

    let meta = RunMeta {
        subject: agreed(parts, "subjects", &mut notes, |m| m.subject.clone()),
        oracle: agreed(parts, "oracles", &mut notes, |m| {
            Some(m.oracle.clone()).filter(|o| !o.version.is_empty())
        })
        .unwrap_or_default(),
        // RFC 3339 UTC timestamps of one format sort as text.
        started: parts
            .iter()
            .map(|p| p.meta.started.as_str())
            .filter(|s| !s.is_empty())
            .min()
            .unwrap_or("")
            .to_string(),
        duration_ms: parts.iter().map(|p| p.meta.duration_ms).max().unwrap_or(0),
        shard: None,
        notes: Vec::new(),
    };
    let shard = shards(parts, &mut notes);
    if parts.len() > 1 {
        let total: u64 = parts.iter().map(|p| p.meta.duration_ms).sum();
        notes.push(format!(
            "merged from {} results; {} ms of run time in all, the longest {} ms",
            parts.len(),
            total,
            meta.duration_ms
        ));
    }

    // Keep the last occurrence of each path: remember where it is, overwrite on repeats.
    let mut cases: Vec<CaseResult> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut duplicates: Vec<(String, usize, usize)> = Vec::new();
    let mut from: Vec<usize> = Vec::new();
    for (pi, p) in parts.iter().enumerate() {
        for c in &p.cases {
            match at.get(&c.path) {
                Some(&i) => {
                    duplicates.push((c.path.clone(), from[i] + 1, pi + 1));
                    cases[i] = c.clone();
                    from[i] = pi;
                }
                None => {
                    at.insert(c.path.clone(), cases.len());
                    cases.push(c.clone());
                    from.push(pi);
                }
            }
        }
    }
    for (path, earlier, later) in duplicates.iter().take(NAMED_DUPLICATES) {
        notes.push(format!(
            "{path} is in results {earlier} and {later}; kept the one from {later}"
        ));
    }
    if duplicates.len() > NAMED_DUPLICATES {
        notes.push(format!(
            "{} more duplicate cases, each kept from the last result holding it",
            duplicates.len() - NAMED_DUPLICATES
        ));
    }
    cases.sort_by(|a, b| a.path.cmp(&b.path));

    SuiteResult {
        format_version: FORMAT_VERSION,
        meta: RunMeta {
            shard,
            notes,
            ..meta
        },
        cases,
    }
}

/// The side the parts agree on; when they differ, the first one, and a note naming them all.
fn agreed(
    parts: &[SuiteResult],
    what: &str,
    notes: &mut Vec<String>,
    get: impl Fn(&RunMeta) -> Option<SideInfo>,
) -> Option<SideInfo> {
    let mut seen: Vec<SideInfo> = Vec::new();
    for v in parts.iter().filter_map(|p| get(&p.meta)) {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    if seen.len() > 1 {
        let all: Vec<&str> = seen.iter().map(|s| s.version.as_str()).collect();
        notes.push(format!("shards ran different {what}: {}", all.join(", ")));
    }
    seen.into_iter().next()
}

fn parse_shard(s: &str) -> Option<(u32, u32)> {
    let (k, n) = s.split_once('/')?;
    Some((k.trim().parse().ok()?, n.trim().parse().ok()?))
}

/// The merged result's shard field: `None` when the parts make up a whole run (or never were
/// shards), otherwise the shards present; notes say which were merged and which are missing.
fn shards(parts: &[SuiteResult], notes: &mut Vec<String>) -> Option<String> {
    let given: Vec<&str> = parts
        .iter()
        .filter_map(|p| p.meta.shard.as_deref())
        .collect();
    if given.is_empty() {
        return None;
    }
    let parsed: Option<Vec<(u32, u32)>> = given.iter().map(|s| parse_shard(s)).collect();
    let list = given.join(", ");
    let Some(parsed) = parsed else {
        notes.push(format!("merged shards {list}"));
        return Some(list);
    };
    let totals: BTreeSet<u32> = parsed.iter().map(|&(_, n)| n).collect();
    let have: BTreeSet<u32> = parsed.iter().map(|&(k, _)| k).collect();
    if let (1, Some(&n)) = (totals.len(), totals.iter().next()) {
        let missing: Vec<String> = (1..=n)
            .filter(|k| !have.contains(k))
            .map(|k| format!("{k}/{n}"))
            .collect();
        if missing.is_empty() && parts.iter().all(|p| p.meta.shard.is_some()) {
            notes.push(format!("merged all {n} shards"));
            return None;
        }
        if !missing.is_empty() {
            notes.push(format!(
                "incomplete: shards {} missing, so some cases were not run",
                missing.join(", ")
            ));
        }
    } else {
        notes.push(format!("shards of differently split runs: {list}"));
    }
    notes.push(format!("merged shards {list}"));
    Some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_strings_parse() {
        assert_eq!(parse_shard("2/3"), Some((2, 3)));
        assert_eq!(parse_shard("x/3"), None);
    }
}
