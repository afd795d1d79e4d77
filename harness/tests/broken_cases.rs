//! Every deliberately broken case in `cases/broken/` is rejected with the position and message
//! its first line promises (`# expect: 5:12: unknown function 'onez'`), in the YAML file's own
//! coordinates, and no malformed input makes the loader panic.

use harness::case;
use std::path::{Path, PathBuf};

fn broken_cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases/broken");
    let files = case::discover(&[&dir]).expect("cases/broken is readable");
    assert!(
        files.len() >= 11,
        "expected a broken case per kind of mistake, found {}",
        files.len()
    );
    files
}

/// `(line, col, message)` from `# expect: L:C: message`.
fn expectation(path: &Path, text: &str) -> (u32, u32, String) {
    let first = text.lines().next().unwrap_or("");
    let rest = first.strip_prefix("# expect: ").unwrap_or_else(|| {
        panic!(
            "{}: first line must be '# expect: L:C: message'",
            path.display()
        )
    });
    let mut parts = rest.splitn(3, ':');
    let line = parts.next().and_then(|s| s.trim().parse().ok());
    let col = parts.next().and_then(|s| s.trim().parse().ok());
    let msg = parts.next().map(|s| s.trim().to_owned());
    match (line, col, msg) {
        (Some(l), Some(c), Some(m)) if !m.is_empty() => (l, c, m),
        _ => panic!("{}: malformed expectation '{first}'", path.display()),
    }
}

#[test]
fn broken_cases_report_file_line_column_and_message() {
    let mut failures = Vec::new();
    for path in broken_cases() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let (line, col, msg) = expectation(&path, &text);
        match case::load(&path) {
            Ok(_) => failures.push(format!(
                "{}: loaded, but should fail with {line}:{col}: {msg}",
                path.display()
            )),
            Err(e) => {
                let ok = e.path == path.display().to_string()
                    && (e.line, e.col) == (line, col)
                    && e.message.starts_with(&msg);
                if !ok {
                    failures.push(format!(
                        "{}:\n  want {line}:{col}: {msg}\n  got  {}:{}: {}",
                        path.display(),
                        e.line,
                        e.col,
                        e.message
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn truncated_and_mangled_cases_never_panic() {
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases");
    let mut texts: Vec<String> = broken_cases()
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect();
    if let Some(p) = case::discover(&[&good])
        .expect("cases/ is readable")
        .first()
    {
        texts.push(std::fs::read_to_string(p).expect("readable"));
    }
    for text in &texts {
        let chars: Vec<char> = text.chars().collect();
        for cut in 0..=chars.len() {
            let prefix: String = chars[..cut].iter().collect();
            let _ = case::load_str(Path::new("cut.yaml"), &prefix);
            // Dropping one character anywhere hits every token boundary once.
            if cut < chars.len() {
                let mut dropped = chars.clone();
                dropped.remove(cut);
                let s: String = dropped.into_iter().collect();
                let _ = case::load_str(Path::new("drop.yaml"), &s);
            }
        }
    }
}
