//! From a failing program to a readable regression case.
//!
//! The shrinker is a greedy delta-debugger over the IR: it deletes statements (and unwraps or
//! empties `with` blocks), then shrinks tensors (creation sizes down to 1, literal lists down to
//! one element per dimension), and keeps each step only while the oracle still reports a finding
//! with the same [`Key`] (the same first divergent observable after the same op). It repeats until
//! nothing more can go or its budget of oracle calls is spent.
//!
//! [`write_case`] prints the result as a case under `cases/regressions/<short-hash>.yaml`, with
//! `# raises:` on each statement where the oracle (libtorch, in a campaign) raised, so that the
//! case states the oracle's behaviour and runs with the suite like any other.

use super::oracle::{Finding, Key};
use crate::interp::Options;
use crate::program::ast::{ExpectedError, Expr, ExprKind, Program, Stmt, StmtKind};
use crate::sides::Side;
use std::path::{Path, PathBuf};

/// Shrinks `p` while `check` keeps reporting a finding with key `key`. Returns the smallest
/// program found and its finding (`None` when even `p` no longer reproduces).
pub fn shrink(
    p: &Program,
    key: &Key,
    mut check: impl FnMut(&Program) -> Option<Finding>,
    budget: usize,
) -> Option<(Program, Finding)> {
    let mut calls = 0usize;
    let mut still = |q: &Program, calls: &mut usize| -> Option<Finding> {
        *calls += 1;
        // A candidate must still be a valid case: dropping an assignment can leave a later
        // use of an unknown name, which the interpreter runs (a NameError) but a case refuses.
        if crate::program::check::check(q).is_err() {
            return None;
        }
        check(q).filter(|f| &f.key == key)
    };
    let mut best = p.clone();
    let mut finding = still(&best, &mut calls)?;
    loop {
        let mut progress = false;
        // Statements, last first: later statements depend on earlier ones, so they go first.
        let mut i = best.stmts.len();
        while i > 0 && calls < budget {
            i -= 1;
            for cand in stmt_candidates(&best, i) {
                if calls >= budget {
                    break;
                }
                if let Some(f) = still(&cand, &mut calls) {
                    best = cand;
                    finding = f;
                    progress = true;
                    break;
                }
            }
            i = i.min(best.stmts.len());
        }
        // Tensor sizes.
        let mut site = 0;
        while calls < budget {
            let Some(cand) = shrink_site(&best, site) else {
                break;
            };
            match cand {
                Some(cand) => {
                    if let Some(f) = still(&cand, &mut calls) {
                        best = cand;
                        finding = f;
                        progress = true;
                        // The same site may shrink further.
                        continue;
                    }
                    site += 1;
                }
                None => site += 1,
            }
        }
        if !progress || calls >= budget {
            break;
        }
    }
    Some((best, finding))
}

/// Ways to simplify top-level statement `i`: delete it; for a block, unwrap it or delete one of
/// its statements.
fn stmt_candidates(p: &Program, i: usize) -> Vec<Program> {
    let mut out = Vec::new();
    let mut del = p.clone();
    del.stmts.remove(i);
    out.push(del);
    if let StmtKind::With { body, .. } = &p.stmts[i].kind {
        let mut unwrap = p.clone();
        unwrap.stmts.splice(i..=i, body.iter().cloned());
        out.push(unwrap);
        if body.len() > 1 {
            for j in (0..body.len()).rev() {
                let mut q = p.clone();
                if let StmtKind::With { body, .. } = &mut q.stmts[i].kind {
                    body.remove(j);
                }
                out.push(q);
            }
        }
    }
    out
}

/// The `site`-th size-shrinking edit of the program: `None` when there are fewer sites,
/// `Some(None)` when this site cannot shrink.
fn shrink_site(p: &Program, site: usize) -> Option<Option<Program>> {
    let mut q = p.clone();
    let mut k = site;
    for s in q.stmts.iter_mut() {
        match edit_stmt(s, &mut k) {
            Edit::Done(changed) => return Some(changed.then_some(q)),
            Edit::NotHere => {}
        }
    }
    None
}

enum Edit {
    /// The site was found; whether it could be changed.
    Done(bool),
    NotHere,
}

fn edit_stmt(s: &mut Stmt, k: &mut usize) -> Edit {
    match &mut s.kind {
        StmtKind::Assign { value, .. } | StmtKind::AugAssign { value, .. } => edit_expr(value, k),
        StmtKind::Expr(e) => edit_expr(e, k),
        StmtKind::With { body, .. } | StmtKind::For { body, .. } => {
            for s in body {
                if let Edit::Done(c) = edit_stmt(s, k) {
                    return Edit::Done(c);
                }
            }
            Edit::NotHere
        }
        _ => Edit::NotHere,
    }
}

/// Sites are the size arguments of creation calls and the dimensions of literal lists.
fn edit_expr(e: &mut Expr, k: &mut usize) -> Edit {
    if let ExprKind::Call { func, args, kwargs } = &mut e.kind {
        let fname = match &func.kind {
            ExprKind::Name(n) => n.as_str(),
            ExprKind::Attr(_, n) => n.as_str(),
            _ => "",
        };
        match fname {
            "randn" | "rand" | "ones" | "zeros" | "full" | "arange" => {
                let sizes: Vec<&mut Expr> = match args.first_mut().map(|a| &mut a.kind) {
                    Some(ExprKind::Tuple(xs)) | Some(ExprKind::List(xs)) => xs.iter_mut().collect(),
                    _ if fname == "full" => vec![],
                    _ => args.iter_mut().collect(),
                };
                for s in sizes {
                    if let ExprKind::Int(n) = &mut s.kind {
                        if *k == 0 {
                            let changed = *n > 1;
                            *n = 1;
                            return Edit::Done(changed);
                        }
                        *k -= 1;
                    }
                }
                return Edit::NotHere;
            }
            "tensor" => {
                if let Some(lit) = args.first_mut()
                    && matches!(lit.kind, ExprKind::List(_))
                {
                    let depth = list_depth(lit);
                    for d in 0..depth {
                        if *k == 0 {
                            return Edit::Done(truncate_at(lit, d));
                        }
                        *k -= 1;
                    }
                }
                return Edit::NotHere;
            }
            _ => {}
        }
        if let Edit::Done(c) = edit_expr(func, k) {
            return Edit::Done(c);
        }
        for a in args.iter_mut().chain(kwargs.iter_mut().map(|(_, v)| v)) {
            if let Edit::Done(c) = edit_expr(a, k) {
                return Edit::Done(c);
            }
        }
        return Edit::NotHere;
    }
    match &mut e.kind {
        ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => match edit_expr(a, k) {
            Edit::Done(c) => Edit::Done(c),
            Edit::NotHere => edit_expr(b, k),
        },
        ExprKind::Unary(_, x) | ExprKind::Attr(x, _) | ExprKind::Index(x, _) => edit_expr(x, k),
        ExprKind::List(xs) | ExprKind::Tuple(xs) => {
            for x in xs {
                if let Edit::Done(c) = edit_expr(x, k) {
                    return Edit::Done(c);
                }
            }
            Edit::NotHere
        }
        _ => Edit::NotHere,
    }
}

fn list_depth(e: &Expr) -> usize {
    match &e.kind {
        ExprKind::List(xs) => 1 + xs.first().map_or(0, list_depth),
        _ => 0,
    }
}

/// Keeps only the first element of every list at depth `d`, so the literal stays rectangular.
fn truncate_at(e: &mut Expr, d: usize) -> bool {
    match &mut e.kind {
        ExprKind::List(xs) if d == 0 => {
            let changed = xs.len() > 1;
            xs.truncate(1);
            changed
        }
        ExprKind::List(xs) => {
            let mut changed = false;
            for x in xs {
                changed |= truncate_at(x, d - 1);
            }
            changed
        }
        _ => false,
    }
}

/// A short, stable name for a program: FNV-1a of its printed text.
pub fn short_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

/// Marks each statement where `reference` (the oracle) raises with `# raises: <kind>`, so the
/// case states the oracle's behaviour. Works on a parsed copy, whose spans tell nested
/// statements apart.
pub fn annotate_raises<S: Side + ?Sized>(reference: &mut S, p: &Program, seed: u64) -> Program {
    let text = crate::program::print(p);
    let Ok(mut parsed) = crate::program::parse(&text) else {
        return p.clone();
    };
    for s in parsed.stmts.iter_mut() {
        clear_expect(s);
    }
    let run = match super::oracle::run_guarded(reference, &parsed, seed, &Options::default()) {
        Ok(r) => r,
        Err(_) => return parsed,
    };
    for step in &run.steps {
        if let Some(err) = &step.error {
            for s in parsed.stmts.iter_mut() {
                mark(s, step.line, err.kind.name());
            }
        }
    }
    parsed
}

fn clear_expect(s: &mut Stmt) {
    s.expect = None;
    if let StmtKind::With { body, .. } | StmtKind::For { body, .. } = &mut s.kind {
        body.iter_mut().for_each(clear_expect);
    }
}

fn mark(s: &mut Stmt, line: u32, kind: &str) {
    match &mut s.kind {
        StmtKind::With { body, .. } | StmtKind::For { body, .. } if s.span.line != line => {
            for b in body {
                mark(b, line, kind);
            }
        }
        _ if s.span.line == line && s.expect.is_none() => {
            s.expect = Some(ExpectedError {
                kind: kind.to_string(),
                message: None,
            });
        }
        _ => {}
    }
}

/// Writes `p` as `dir/<short-hash>.yaml` and returns the path. `origin` is the case's `source`
/// (`fuzz <seed>`), and the finding goes in a comment, since the format has no key for it.
pub fn write_case<S: Side + ?Sized>(
    dir: &Path,
    reference: &mut S,
    p: &Program,
    finding: &Finding,
    origin: &str,
    data_seed: u64,
) -> std::io::Result<PathBuf> {
    let annotated = annotate_raises(reference, p, data_seed);
    let text = crate::program::print(&annotated);
    let hash = short_hash(&text);
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{hash}.yaml"));
    let mut yaml = String::new();
    for line in finding.to_string().lines() {
        yaml.push_str("# ");
        yaml.push_str(line);
        yaml.push('\n');
    }
    let name = format!("fuzz finding: {}", finding.key);
    yaml.push_str(&format!("name: {}\n", serde_yaml_str(&name)));
    yaml.push_str(&format!("source: {}\n", serde_yaml_str(origin)));
    yaml.push_str("tags: [fuzz]\n");
    if data_seed != 0 {
        yaml.push_str(&format!("seed: {data_seed}\n"));
    }
    yaml.push_str("program: |\n");
    for line in text.lines() {
        yaml.push_str("  ");
        yaml.push_str(line);
        yaml.push('\n');
    }
    std::fs::write(&path, yaml)?;
    Ok(path)
}

/// A YAML scalar on one line: quoted when plain style would misread it.
fn serde_yaml_str(s: &str) -> String {
    serde_yaml::to_string(s)
        .map(|t| t.trim_end().to_string())
        .unwrap_or_else(|_| format!("{s:?}"))
}

/// Runs `p` on `b` and says whether every statement ran without error (for tests and `reduce`).
pub fn runs_clean<S: Side + ?Sized>(side: &mut S, p: &Program) -> bool {
    super::oracle::run_guarded(side, p, 0, &Options::default())
        .is_ok_and(|run| run.steps.iter().all(|s| s.error.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzzing::generate::{GenConfig, program_from_seed};
    use crate::fuzzing::oracle::FindingKind;

    fn finding(op: &str) -> Finding {
        Finding {
            key: Key {
                observable: "values".into(),
                op: op.into(),
            },
            kind: FindingKind::Panic {
                backend: "test".into(),
                message: String::new(),
            },
            sides: ["test".into(), "reference".into()],
        }
    }

    fn mentions(p: &Program, needle: &str) -> bool {
        format!("{p:?}").contains(needle)
    }

    #[test]
    fn shrinks_to_the_statements_that_matter() {
        let p = program_from_seed(7, &GenConfig::default());
        assert!(p.stmts.len() > 3);
        // The "bug" needs the first statement's target to exist anywhere in the program.
        let StmtKind::Assign { target, .. } = &p.stmts[0].kind else {
            panic!("first statement creates a tensor")
        };
        let needle = format!("{target:?}");
        let key = finding("x").key;
        let (small, _) = shrink(
            &p,
            &key,
            |q| mentions(q, &needle).then(|| finding("x")),
            1000,
        )
        .expect("reproduces");
        assert_eq!(small.stmts.len(), 1, "{small:?}");
    }

    #[test]
    fn shrinks_tensor_sizes() {
        let p = Program {
            stmts: vec![Stmt::new(StmtKind::Expr(Expr::new(ExprKind::Call {
                func: Box::new(Expr::new(ExprKind::Name("randn".into()))),
                args: vec![Expr::new(ExprKind::Int(3)), Expr::new(ExprKind::Int(2))],
                kwargs: vec![],
            })))],
        };
        let key = finding("x").key;
        let (small, _) = shrink(&p, &key, |_| Some(finding("x")), 100).unwrap();
        assert!(
            !mentions(&small, "Int(3)") && !mentions(&small, "Int(2)"),
            "{small:?}"
        );
    }

    #[test]
    fn literal_lists_stay_rectangular() {
        let row = |a: f64, b: f64| {
            Expr::new(ExprKind::List(vec![
                Expr::new(ExprKind::Float(a)),
                Expr::new(ExprKind::Float(b)),
            ]))
        };
        let mut lit = Expr::new(ExprKind::List(vec![row(1.0, 2.0), row(3.0, 4.0)]));
        assert!(truncate_at(&mut lit, 1));
        assert_eq!(
            lit,
            Expr::new(ExprKind::List(vec![
                Expr::new(ExprKind::List(vec![Expr::new(ExprKind::Float(1.0))])),
                Expr::new(ExprKind::List(vec![Expr::new(ExprKind::Float(3.0))])),
            ]))
        );
    }

    #[test]
    fn a_different_key_is_not_kept() {
        let p = program_from_seed(3, &GenConfig::default());
        let key = finding("x").key;
        let n = p.stmts.len();
        // Only the full program gives key `x`; every smaller one gives another key.
        let (small, _) = shrink(
            &p,
            &key,
            |q| Some(finding(if q.stmts.len() == n { "x" } else { "y" })),
            1000,
        )
        .unwrap();
        assert_eq!(small.stmts.len(), n);
    }

    #[test]
    fn hashes_are_short_and_stable() {
        assert_eq!(short_hash("x = 1\n"), short_hash("x = 1\n"));
        assert_ne!(short_hash("x = 1\n"), short_hash("x = 2\n"));
        assert_eq!(short_hash("").len(), 8);
    }
}
