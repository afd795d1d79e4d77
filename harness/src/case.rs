//! The YAML envelope around a program, as `cases/FORMAT.md` describes it: loading a case file,
//! checking its program and its `doc` claims, and finding case files on disk.
//!
//! Every mistake becomes a [`CaseError`] naming the YAML file's own line and column: program
//! positions are shifted by where the `program: |` block starts and by the block's indentation,
//! which YAML strips.

use crate::error_kind::ErrorKind;
use crate::program::{self, Program, StmtKind};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// The keys of the envelope, in the order FORMAT.md lists them.
pub const KEYS: &[&str] = &[
    "name",
    "source",
    "tags",
    "seed",
    "tolerance",
    "requires",
    "program",
    "doc",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    name: String,
    source: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    tolerance: Option<Tolerance>,
    #[serde(default)]
    requires: Vec<String>,
    program: String,
    #[serde(default)]
    doc: Vec<serde_yaml::Value>,
}

/// Loads and checks one case file.
pub fn load(path: &Path) -> Result<Case, CaseError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CaseError {
        path: shown.clone(),
        line: 1,
        col: 1,
        message: format!("cannot read the case: {e}"),
    })?;
    load_str(path, &text)
}

/// Loads and checks a case from `text`; `path` is used in messages and kept in the [`Case`].
pub fn load_str(path: &Path, text: &str) -> Result<Case, CaseError> {
    let shown = path.display().to_string();
    let err = |line: u32, col: u32, message: String| CaseError {
        path: shown.clone(),
        line,
        col,
        message,
    };

    // A file that is a mapping without `program` gets the precise message; any other
    // deserialisation error is serde_yaml's, at its location.
    let yaml_err = |e: serde_yaml::Error| {
        let (line, col) = e
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((1, 1));
        err(
            line.max(1),
            col.max(1),
            yaml_message(&strip_positions(&e.to_string())),
        )
    };
    // Syntax first, so a malformed file is reported as such and not as the first key whose
    // type the typed pass happened to reach.
    let raw: serde_yaml::Value = serde_yaml::from_str(text).map_err(yaml_err)?;
    if !raw.is_mapping() {
        return Err(err(
            1,
            1,
            format!(
                "expected a mapping with keys {}, found {}",
                KEYS.join(", "),
                match raw {
                    serde_yaml::Value::Sequence(_) => "a list".to_owned(),
                    serde_yaml::Value::Null => "an empty document".to_owned(),
                    other => show_value(&other),
                }
            ),
        ));
    }
    let env: Envelope = serde_yaml::from_str(text).map_err(yaml_err)?;

    let Some(block) = find_block(text) else {
        let (line, col) = key_position(text, "program").unwrap_or((1, 1));
        return Err(err(
            line,
            col,
            "expected 'program' to be a literal block scalar ('program: |' followed by the \
             indented program)"
                .into(),
        ));
    };
    let to_file = |span: program::Span| -> (u32, u32) {
        (
            block.key_line + span.line,
            span.col + if span.line == 0 { 0 } else { block.indent },
        )
    };

    let program = program::parse(&env.program).map_err(|e| {
        let (line, col) = to_file(e.span);
        err(line, col, e.message)
    })?;
    if let Some(e) = program::check_all(&program, Some(&env.program))
        .into_iter()
        .next()
    {
        let (line, col) = to_file(e.span);
        return Err(err(line, col, e.message));
    }

    if let Some(t) = &env.tolerance
        && !(t.rtol >= 0.0 && t.atol >= 0.0 && t.rtol.is_finite() && t.atol.is_finite())
    {
        let (line, col) = key_position(text, "tolerance").unwrap_or((1, 1));
        return Err(err(
            line,
            col,
            "expected 'tolerance' to hold finite, non-negative rtol and atol".into(),
        ));
    }
    if env.name.trim().is_empty() {
        let (line, col) = key_position(text, "name").unwrap_or((1, 1));
        return Err(err(line, col, "expected a non-empty 'name'".into()));
    }

    let stmt_lines = statement_lines(&program);
    let scope = program::check::ClaimScope::new(&program);
    let items = doc_item_lines(text);
    let mut doc = Vec::new();
    for (k, item) in env.doc.iter().enumerate() {
        let (item_line, item_col) = items.get(k).copied().unwrap_or((1, 1));
        let item_end = items.get(k + 1).map(|i| i.0).unwrap_or(u32::MAX);
        let locate = |key: &str| -> (u32, u32) {
            find_key_in(text, key, item_line, item_end).unwrap_or((item_line, item_col))
        };
        let serde_yaml::Value::Mapping(map) = item else {
            return Err(err(
                item_line,
                item_col,
                "expected each 'doc' item to be a mapping with 'after: N' and 'expression: value' pairs"
                    .into(),
            ));
        };
        let Some(after_value) = map.get("after") else {
            return Err(err(
                item_line,
                item_col,
                "expected 'after: N' (the program line the claim follows) in this 'doc' item"
                    .into(),
            ));
        };
        let (after_line, after_col) = locate("after");
        let after = match after_value.as_u64() {
            Some(n) if n >= 1 && n <= u32::MAX as u64 => n as u32,
            _ => {
                return Err(err(
                    after_line,
                    after_col,
                    format!(
                        "expected 'after' to be a program line number (1 or more), found {}",
                        show_value(after_value)
                    ),
                ));
            }
        };
        if !stmt_lines.contains(&after) {
            let mut lines: Vec<u32> = stmt_lines.clone();
            lines.sort_unstable();
            lines.dedup();
            return Err(err(
                after_line,
                after_col,
                format!(
                    "'after: {after}' names program line {after} (file line {}), which holds no \
                     statement (statements start on program lines {})",
                    block.key_line + after,
                    compress(&lines)
                ),
            ));
        }
        let mut claims = 0;
        for (key, value) in map {
            let Some(key) = key.as_str() else {
                return Err(err(
                    item_line,
                    item_col,
                    format!(
                        "expected a claim's key to be an expression, found {}",
                        show_value(key)
                    ),
                ));
            };
            if key == "after" {
                continue;
            }
            claims += 1;
            let (kl, kc) = locate(key);
            if key == "raises" {
                let kind = value.as_str().unwrap_or("");
                if ErrorKind::from_name(kind).is_none() {
                    return Err(err(
                        kl,
                        kc,
                        format!(
                            "unknown error kind {} in 'raises'{}",
                            show_value(value),
                            program::check::suggest(kind, ErrorKind::ALL.iter().map(|k| k.name()))
                        ),
                    ));
                }
            } else {
                let expr = program::parse_expr(key).map_err(|e| {
                    err(
                        kl,
                        kc + e.span.col.saturating_sub(1),
                        format!("in claim: {}", e.message),
                    )
                })?;
                scope.check(after, &expr).map_err(|e| {
                    err(
                        kl,
                        kc + e.span.col.saturating_sub(1),
                        format!("in claim: {}", e.message),
                    )
                })?;
            }
            doc.push(DocClaim {
                after,
                file_line: kl,
                expr: key.to_owned(),
                expected: value.clone(),
            });
        }
        if claims == 0 {
            return Err(err(
                item_line,
                item_col,
                "expected at least one 'expression: value' claim besides 'after'".into(),
            ));
        }
    }

    Ok(Case {
        path: path.to_path_buf(),
        name: env.name,
        source: env.source,
        tags: env.tags,
        seed: env.seed,
        tolerance: env.tolerance,
        requires: env.requires,
        program,
        program_text: env.program,
        program_line: block.key_line + 1,
        doc,
    })
}

/// Rewords serde's messages in the case format's terms: keys, not fields; quotes, not backticks;
/// and for a top-level key, which keys there are.
fn yaml_message(message: &str) -> String {
    // serde_yaml puts the path of a nested value in front: `tolerance: missing field ...`.
    let (path, body) = match message.split_once(": ") {
        Some((p, b)) if !p.contains(' ') && !p.is_empty() => (Some(p), b),
        _ => (None, message),
    };
    let body = body
        .replace("missing field", "missing required key")
        .replace("unknown field", "unknown key")
        .replace('`', "'");
    let body = match path {
        None if body.starts_with("missing required key") => {
            format!("{body} (a case needs name, source and program)")
        }
        None if body.starts_with("unknown key") => match body.split_once(", expected") {
            Some((head, _)) => format!("{head} (expected one of {})", KEYS.join(", ")),
            None => body,
        },
        _ => body,
    };
    match path {
        Some(p) => format!("in '{p}': {body}"),
        None => body,
    }
}

/// serde_yaml writes " at line L column C" into its messages; ours carry the position in front.
fn strip_positions(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + " at line ".len()..];
        let digits = |s: &str| s.chars().take_while(char::is_ascii_digit).count();
        let n = digits(tail);
        let after_line = &tail[n..];
        match after_line.strip_prefix(" column ") {
            Some(c) if n > 0 && digits(c) > 0 => rest = &c[digits(c)..],
            _ => {
                out.push_str(" at line ");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

fn show_value(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::Null => "null".into(),
        serde_yaml::Value::String(s) => format!("'{s}'"),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "a value".into()),
    }
}

/// `1-4, 6, 9-10`
fn compress(lines: &[u32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut j = i;
        while j + 1 < lines.len() && lines[j + 1] == lines[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            lines[i].to_string()
        } else {
            format!("{}-{}", lines[i], lines[j])
        });
        i = j + 1;
    }
    parts.join(", ")
}

/// Program lines on which a statement starts, at any depth.
fn statement_lines(p: &Program) -> Vec<u32> {
    fn walk(stmts: &[program::Stmt], out: &mut Vec<u32>) {
        for s in stmts {
            out.push(s.span.line);
            match &s.kind {
                StmtKind::With { body, .. } | StmtKind::For { body, .. } => walk(body, out),
                StmtKind::If { body, orelse, .. } => {
                    walk(body, out);
                    walk(orelse, out);
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&p.stmts, &mut out);
    out
}

struct Block {
    /// File line of `program: |` (the program's line 1 is the next one).
    key_line: u32,
    /// Columns YAML stripped from every program line.
    indent: u32,
}

/// Finds the top-level `program: |` block and its indentation.
fn find_block(text: &str) -> Option<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let (idx, header) = lines.iter().enumerate().find_map(|(i, l)| {
        l.strip_prefix("program:")
            .map(|rest| (i, rest.split('#').next().unwrap_or("").trim()))
    })?;
    // `|`, `|-`, `|+`, optionally with an explicit indentation digit.
    let mut chars = header.chars();
    if chars.next() != Some('|') {
        return None;
    }
    let explicit = header.chars().find_map(|c| c.to_digit(10));
    let indent = match explicit {
        Some(d) => d,
        None => lines[idx + 1..]
            .iter()
            .find(|l| !l.trim().is_empty())
            .map(|l| (l.len() - l.trim_start_matches(' ').len()) as u32)
            .unwrap_or(0),
    };
    Some(Block {
        key_line: idx as u32 + 1,
        indent,
    })
}

/// Position of a top-level key.
fn key_position(text: &str, key: &str) -> Option<(u32, u32)> {
    text.lines().enumerate().find_map(|(i, l)| {
        l.strip_prefix(key)
            .filter(|r| r.starts_with(':'))
            .map(|_| (i as u32 + 1, 1))
    })
}

/// File line and column of the `-` of each item of the top-level `doc:` list.
fn doc_item_lines(text: &str) -> Vec<(u32, u32)> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| l.starts_with("doc:")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut item_indent: Option<usize> = None;
    for (i, l) in lines.iter().enumerate().skip(start + 1) {
        let trimmed = l.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = l.len() - trimmed.len();
        // Back at top level: the list ended.
        if indent == 0 && !trimmed.starts_with('-') {
            break;
        }
        if trimmed.starts_with("- ") || trimmed == "-" {
            match item_indent {
                None => {
                    item_indent = Some(indent);
                    out.push((i as u32 + 1, indent as u32 + 1));
                }
                Some(ind) if ind == indent => out.push((i as u32 + 1, indent as u32 + 1)),
                _ => {}
            }
        }
    }
    out
}

/// The line and column of `key:` within file lines `[from, to)`.
fn find_key_in(text: &str, key: &str, from: u32, to: u32) -> Option<(u32, u32)> {
    for (i, l) in text.lines().enumerate() {
        let line = i as u32 + 1;
        if line < from {
            continue;
        }
        if line >= to {
            break;
        }
        let mut rest = l.trim_start_matches(' ');
        let mut col = l.len() - rest.len();
        if let Some(r) = rest.strip_prefix("- ") {
            let r2 = r.trim_start_matches(' ');
            col += 2 + (r.len() - r2.len());
            rest = r2;
        }
        for candidate in [key.to_owned(), format!("'{key}'"), format!("\"{key}\"")] {
            if let Some(after) = rest.strip_prefix(candidate.as_str())
                && after.trim_start().starts_with(':')
            {
                let quote = usize::from(candidate.len() != key.len());
                return Some((line, (l[..col].chars().count() + quote + 1) as u32));
            }
        }
    }
    None
}

/// Case files under `paths`, sorted. Directories are searched recursively for `*.yaml`, skipping
/// `broken/` (deliberately malformed cases) and `golden/` (recorded observations) and files that
/// are not cases (`known_divergences.yaml`); a path named explicitly is always included, so
/// `discover(["cases/broken"])` lists the broken cases.
pub fn discover<P: AsRef<Path>>(paths: &[P]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.to_path_buf());
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: no such file or directory", p.display()),
            ));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Directories below a searched root that never hold runnable cases.
const SKIPPED_DIRS: &[&str] = &["broken", "golden"];
/// YAML files under `cases/` that are not cases.
const NON_CASES: &[&str] = &["known_divergences.yaml"];

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                walk(&path, out)?;
            }
        } else if (name.ends_with(".yaml") || name.ends_with(".yml"))
            && !NON_CASES.contains(&name.as_str())
        {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_err(text: &str) -> String {
        match load_str(Path::new("t.yaml"), text) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    const GOOD: &str = "name: accumulation\nsource: original\ntags: [leaf]\nprogram: |\n  x = ones(2, 2, requires_grad=True)\n  y = x + 2\n\n  out = (y * y * 3).mean()\n  out.backward()\ndoc:\n  - after: 5\n    x.grad: [[4.5, 4.5], [4.5, 4.5]]\n    y.grad_fn: AddBackward0\n  - after: 1\n    raises: leaf_inplace\n";

    #[test]
    fn loads_a_good_case() {
        let c = load_str(Path::new("t.yaml"), GOOD).unwrap();
        assert_eq!(c.program.stmts.len(), 4);
        assert_eq!(c.program_line, 5);
        assert_eq!(c.doc.len(), 3);
        assert_eq!(
            (c.doc[0].after, c.doc[0].file_line, c.doc[0].expr.as_str()),
            (5, 12, "x.grad")
        );
        assert_eq!(c.doc[1].file_line, 13);
        assert_eq!((c.doc[2].expr.as_str(), c.doc[2].file_line), ("raises", 15));
    }

    #[test]
    fn errors_are_in_file_coordinates() {
        let cases = [
            (
                GOOD.replace("y = x + 2", "y = onez(2)"),
                "t.yaml:6:7: unknown function 'onez'",
            ),
            (
                GOOD.replace("y = x + 2", "y = x +"),
                "t.yaml:6:10: expected an expression",
            ),
            (
                GOOD.replace("after: 5", "after: 3"),
                "t.yaml:11:5: 'after: 3' names program line 3 (file line 7), which holds no statement",
            ),
            (
                GOOD.replace("x.grad:", "x.gard:"),
                "t.yaml:12:7: in claim: unknown tensor attribute 'gard'",
            ),
            (
                GOOD.replace("x.grad:", "x.grad(:"),
                "t.yaml:12:11: in claim: '(' was never closed",
            ),
            (
                GOOD.replace("raises: leaf_inplace", "raises: leaf_inplce"),
                "t.yaml:15:5: unknown error kind 'leaf_inplce' in 'raises' (did you mean 'leaf_inplace'?)",
            ),
            (
                GOOD.replace("tags:", "tagz:"),
                "t.yaml:3:1: unknown key 'tagz'",
            ),
            (
                GOOD.replace("source: original\n", ""),
                "t.yaml:1:1: missing required key 'source'",
            ),
            (
                GOOD.replace("program: |", "program: >"),
                "t.yaml:4:1: expected 'program' to be a literal block scalar",
            ),
            (
                "name: x\nsource: 'abc\n".to_owned(),
                "t.yaml:3:1: found unexpected end of stream, while scanning a quoted scalar",
            ),
            (
                "name: x\nsource: [a, b\nprogram: |\n  x = 1\n".to_owned(),
                "t.yaml:3:8: did not find expected ',' or ']', while parsing a flow sequence",
            ),
            (
                "name: [a]\n".to_owned(),
                "t.yaml:1:7: in 'name': invalid type: sequence, expected a string",
            ),
            (
                GOOD.replace("tags: [leaf]", "tolerance: {rtol: 1e-5}"),
                "t.yaml:3:12: in 'tolerance': missing required key 'atol'",
            ),
            (
                GOOD.replace("tags: [leaf]", "tolerance: {rtol: 1, atol: 1, z: 2}"),
                "t.yaml:3:31: in 'tolerance': unknown key 'z', expected 'rtol' or 'atol'",
            ),
            (
                GOOD.replace("tags: [leaf]", "seed: -1"),
                "t.yaml:3:7: in 'seed': invalid type: integer '-1', expected u64",
            ),
        ];
        for (text, want) in cases {
            let got = load_err(&text);
            assert!(got.starts_with(want), "got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn discovery_skips_broken_golden_and_non_cases() {
        let dir = std::env::temp_dir().join(format!("case-discover-{}", std::process::id()));
        for d in ["a", "broken", "golden"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        for f in [
            "a/x.yaml",
            "a/notes.txt",
            "broken/b.yaml",
            "golden/g.yaml",
            "known_divergences.yaml",
            "z.yaml",
        ] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let found = discover(&[&dir]).unwrap();
        assert_eq!(found, vec![dir.join("a/x.yaml"), dir.join("z.yaml")]);
        let broken = discover(&[dir.join("broken")]).unwrap();
        assert_eq!(broken, vec![dir.join("broken/b.yaml")]);
        assert!(discover(&[dir.join("nope")]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
