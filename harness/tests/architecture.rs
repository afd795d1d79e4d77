//! Facts about the source tree that anyone can check with `cargo test -p harness --test
//! architecture`: no file of the workspace reaches 1,000 lines, and the modules of `harness/src`
//! and `engine/src` import each other one way only (no circle).
//!
//! The import graph is read from the text: every `crate::…`, `super::…` and `self::…` path, in
//! `use` trees and in expressions, resolved to the deepest module file it names. A module's own
//! submodules and ancestors are its rooms, not its neighbours, so edges between a file and a
//! module that contains it are not counted (a `mod.rs` and its children may talk both ways).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const LINE_LIMIT: usize = 1000;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            if !matches!(name.as_str(), "target" | ".git" | "corpus" | "artifacts") {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_source_file_reaches_the_line_limit() {
    let root = workspace();
    let mut files = Vec::new();
    for dir in ["engine", "harness", "fuzz"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "found only {} files", files.len());
    let mut over: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = fs::read_to_string(f).unwrap().lines().count();
            (n >= LINE_LIMIT)
                .then(|| format!("{} ({n} lines)", f.strip_prefix(&root).unwrap().display()))
        })
        .collect();
    over.sort();
    assert!(
        over.is_empty(),
        "files at or over {LINE_LIMIT} lines:\n{}",
        over.join("\n")
    );
}

/// A module path (`["backend", "engine"]`) for every file of one crate's `src/`.
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(src).unwrap();
        let mut parts: Vec<String> = rel
            .iter()
            .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        if matches!(
            parts.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            parts.pop();
        }
        if rel.to_string_lossy() == "main.rs" {
            continue; // the binary is its own crate
        }
        out.insert(parts, f);
    }
    out
}

/// Drops comments and string literals, so that paths named in docs do not count.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < b.len() {
        if b[i] == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if b[i] == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Expands a `use` tree's text (`a::{b, c::{d}}`) into its leaf paths.
fn expand_tree(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let mut base = prefix.to_vec();
        base.extend(head);
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_tree(&base, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand_tree(&base, &inner[start..], out);
    } else {
        let mut p = prefix.to_vec();
        let tree = tree.split(" as ").next().unwrap();
        p.extend(
            tree.split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "*")
                .map(String::from),
        );
        out.push(p);
    }
}

/// Every path a file names that starts at `crate`, `super` or `self`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    // `use` trees, which may span lines and braces.
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before_ok = at == 0 || !is_ident(rest[..at].chars().last().unwrap());
        let tail = &rest[at + 4..];
        let end = tail.find(';').unwrap_or(tail.len());
        if before_ok {
            expand_tree(&[], &tail[..end], &mut out);
        }
        rest = &tail[end.min(tail.len())..];
    }
    // Paths in expressions and types.
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .any(|k| code_at(&chars, i, k))
            && (i == 0 || !is_ident(chars[i - 1]) && chars[i - 1] != ':');
        if starts {
            let mut j = i;
            while j < chars.len() && (is_ident(chars[j]) || chars[j] == ':') {
                j += 1;
            }
            let s: String = chars[i..j].iter().collect();
            out.push(
                s.split("::")
                    .filter(|p| !p.is_empty())
                    .map(String::from)
                    .collect(),
            );
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn code_at(chars: &[char], i: usize, k: &str) -> bool {
    k.chars()
        .enumerate()
        .all(|(n, c)| chars.get(i + n) == Some(&c))
}

/// The deepest module a path names, from the module `here` it is written in.
fn resolve(
    here: &[String],
    is_dir_module: bool,
    path: &[String],
    mods: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<Vec<String>> {
    let (mut cur, rest): (Vec<String>, &[String]) = match path.first()?.as_str() {
        "crate" => (vec![], &path[1..]),
        "self" => (here.to_vec(), &path[1..]),
        "super" => {
            let mut m = here.to_vec();
            let mut rest = path;
            while rest.first().map(String::as_str) == Some("super") {
                m.pop()?;
                rest = &rest[1..];
            }
            (m, rest)
        }
        _ => return None,
    };
    let _ = is_dir_module;
    for seg in rest {
        let mut next = cur.clone();
        next.push(seg.clone());
        if mods.contains_key(&next) {
            cur = next;
        } else {
            break;
        }
    }
    Some(cur)
}

fn contains(outer: &[String], inner: &[String]) -> bool {
    inner.len() >= outer.len() && inner[..outer.len()] == *outer
}

/// The circles of one crate's import graph, each as its files.
fn circles(src: &Path) -> Vec<Vec<String>> {
    let mods = modules(src);
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (m, file) in &mods {
        let code = code_only(&fs::read_to_string(file).unwrap());
        let dir_module = file.file_name().unwrap() == "mod.rs";
        for p in paths(&code) {
            if let Some(t) = resolve(m, dir_module, &p, &mods)
                && !contains(m, &t)
                && !contains(&t, m)
            {
                edges.entry(m.clone()).or_default().insert(t);
            }
        }
    }
    // Strongly connected components (Tarjan), each of more than one module, is a circle.
    struct St<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<Vec<String>, usize>,
        low: BTreeMap<Vec<String>, usize>,
        stack: Vec<Vec<String>>,
        on: BTreeSet<Vec<String>>,
        out: Vec<Vec<Vec<String>>>,
    }
    fn visit(s: &mut St, v: &Vec<String>) {
        let n = s.index.len();
        s.index.insert(v.clone(), n);
        s.low.insert(v.clone(), n);
        s.stack.push(v.clone());
        s.on.insert(v.clone());
        let next: Vec<Vec<String>> = s.edges.get(v).into_iter().flatten().cloned().collect();
        for w in next {
            if !s.index.contains_key(&w) {
                visit(s, &w);
                let lw = s.low[&w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(&w) {
                let iw = s.index[&w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on.remove(&w);
                let done = w == *v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                s.out.push(comp);
            }
        }
    }
    let mut st = St {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for m in mods.keys() {
        if !st.index.contains_key(m) {
            visit(&mut st, m);
        }
    }
    st.out
        .into_iter()
        .map(|c| {
            let mut files: Vec<String> = c
                .iter()
                .map(|m| mods[m].strip_prefix(src).unwrap().display().to_string())
                .collect();
            files.sort();
            files
        })
        .collect()
}

/// Asserts that `krate/src` has no circle but those in `allowed` (each its files, sorted).
fn assert_no_circles(krate: &str, allowed: &[&[&str]]) {
    let src = workspace().join(krate).join("src");
    assert!(modules(&src).len() > 10, "{krate}/src has too few modules");
    let found: Vec<Vec<String>> = circles(&src)
        .into_iter()
        .filter(|c| {
            !allowed
                .iter()
                .any(|a| c.iter().map(String::as_str).eq(a.iter().copied()))
        })
        .collect();
    let text: Vec<String> = found.iter().map(|c| c.join(" <-> ")).collect();
    assert!(
        found.is_empty(),
        "import circles in {krate}/src:\n{}",
        text.join("\n")
    );
}

#[test]
fn harness_modules_import_one_way() {
    assert_no_circles("harness", &[]);
}

#[test]
fn engine_modules_import_one_way() {
    // A tensor holds its grad_fn node and a node holds its saved tensors: the one pair that
    // is one idea split over two files (as libtorch's `Variable` and `Node` are).
    assert_no_circles("engine", &[&["autograd.rs", "tensor.rs"]]);
}

/// The reader must see a circle when there is one, or the two tests above prove nothing.
#[test]
fn the_circle_reader_sees_a_circle() {
    let dir = std::env::temp_dir().join(format!("arch-circle-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("a")).unwrap();
    fs::write(dir.join("lib.rs"), "pub mod a;\npub mod b;\npub mod c;\n").unwrap();
    fs::write(dir.join("a/mod.rs"), "pub mod inner;\nuse crate::b::X;\n").unwrap();
    fs::write(dir.join("a/inner.rs"), "pub fn f() { super::g(); }\n").unwrap();
    fs::write(
        dir.join("b.rs"),
        "use crate::{c::{Y as Z}, a::{inner, Thing}};\n// crate::d is only named here\n",
    )
    .unwrap();
    fs::write(
        dir.join("c.rs"),
        "pub struct Y;\nfn h() { let _ = crate::b::X; }\n",
    )
    .unwrap();
    let found = circles(&dir);
    fs::remove_dir_all(&dir).unwrap();
    // a -> b, b -> a (`a::Thing`), b -> c and c -> b: one component of three files;
    // a/inner.rs -> a is containment and does not count.
    assert_eq!(
        found,
        vec![vec!["a/mod.rs".to_string(), "b.rs".into(), "c.rs".into()]]
    );
}
