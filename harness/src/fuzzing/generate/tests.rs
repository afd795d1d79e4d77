//! The generator against its contract: determinism, printability, coverage of the ops table.

use super::*;
use crate::ops::{BINARY, Draw, Family, ROWS, Spelling, UNARY};
use crate::program::ast::{ExprKind, StmtKind};
use arbitrary::Unstructured;

#[test]
fn broadcast_rules() {
    assert_eq!(broadcast(&[2, 3], &[3]), Some(vec![2, 3]));
    assert_eq!(broadcast(&[2, 1], &[1, 4]), Some(vec![2, 4]));
    assert_eq!(broadcast(&[], &[4]), Some(vec![4]));
    assert_eq!(broadcast(&[2], &[3]), None);
}

#[test]
fn seeded_programs_are_deterministic_and_nonempty() {
    let cfg = GenConfig::default();
    for seed in 0..50 {
        let a = program_from_seed(seed, &cfg);
        let b = program_from_seed(seed, &cfg);
        assert_eq!(a, b);
        assert!(a.stmts.len() >= 2, "seed {seed}");
    }
}

#[test]
fn empty_input_still_gives_a_program() {
    let mut u = Unstructured::new(&[]);
    let p = program(&mut u, &GenConfig::default()).unwrap();
    assert!(!p.stmts.is_empty());
}

#[test]
fn differentiable_programs_end_in_backward() {
    for seed in 0..50 {
        let p = program_from_seed(seed, &GenConfig::differentiable());
        let last = p.stmts.last().expect("nonempty");
        match &last.kind {
            StmtKind::Expr(x) => match &x.kind {
                ExprKind::Call { func, .. } => {
                    assert!(matches!(&func.kind, ExprKind::Attr(_, m) if m == "backward"))
                }
                other => panic!("seed {seed}: {other:?}"),
            },
            other => panic!("seed {seed}: {other:?}"),
        }
    }
}

#[test]
fn programs_print_and_reparse_to_the_same_program() {
    for (seed, cfg) in (0..300).map(|s| {
        let c = if s % 5 == 0 {
            GenConfig::differentiable()
        } else {
            GenConfig::default()
        };
        (s, c)
    }) {
        let p = program_from_seed(seed, &cfg);
        let text = crate::program::print(&p);
        let q = crate::program::parse(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        assert_eq!(p, q, "seed {seed}:\n{text}");
    }
}

/// A few hundred general programs, printed.
fn sample_text() -> String {
    let mut text = String::new();
    for seed in 0..400 {
        text.push_str(&crate::program::print(&program_from_seed(
            seed,
            &GenConfig::default(),
        )));
    }
    text
}

/// What a program holding a call of the op shows (`.exp()`, `torch.cat(`, `x // y`, `.mT`).
fn probes(name: &str, spelled: &[Spelling]) -> Vec<String> {
    let mut out = Vec::new();
    for s in spelled {
        out.push(match s {
            Spelling::Method => format!(".{name}("),
            // A torch function may be written bare.
            Spelling::Torch => format!("{name}("),
            Spelling::F => format!("F.{name}("),
            Spelling::Attr => format!(".{name}"),
        });
    }
    out
}

/// Every row of the ops table that names a generator shows up in a few hundred programs, in
/// one of its spellings.
#[test]
fn covers_the_ops_table() {
    let text = sample_text();
    let mut missing = Vec::new();
    let mut check = |name: &str, alternatives: Vec<String>| {
        if !alternatives.iter().any(|p| text.contains(p.as_str())) {
            missing.push(format!("{name} ({})", alternatives.join(" or ")));
        }
    };
    for r in UNARY.iter().filter(|r| r.draw != Draw::No) {
        check(r.name, probes(r.name, r.spelled));
    }
    for r in BINARY.iter().filter(|r| r.draw != Draw::No) {
        let mut p = probes(r.name, r.spelled);
        p.extend(r.operator.map(|sym| format!(" {sym} ")));
        check(r.name, p);
        if let Some(op) = r.in_place {
            let mut p = probes(op.name(), &[Spelling::Method]);
            p.extend(r.operator.map(|sym| format!(" {sym}= ")));
            check(op.name(), p);
        }
    }
    for r in UNARY.iter().filter(|r| r.draw != Draw::No) {
        if let Some(name) = r.in_place {
            check(name, probes(name, &[Spelling::Method]));
        }
    }
    for r in ROWS.iter().filter(|r| r.family != Family::No) {
        check(r.name, probes(r.name, r.spelled));
    }
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

/// Every statement kind and Python construct beyond the ops table (`@`, indexing, augmented
/// and attribute assignment, `with`, keyword arguments, modules) shows up in a few hundred
/// programs.
#[test]
fn covers_the_statement_kinds() {
    let text = sample_text();
    let wanted = [
        " @ ",
        "[",
        "[torch.tensor([",
        " > 0.",
        ".split(",
        "] = ",
        "+=",
        "-=",
        ".data",
        ".data *=",
        "with torch.no_grad():",
        ".requires_grad = ",
        "retain_graph=True",
        ".backward(torch.ones_like(",
        "gradient=",
        ".grad = None",
        ".grad.zero_()",
        ".grad_fn",
        ".is_leaf",
        "._version",
        "print(",
        "nn.Linear(",
        "nn.Sequential(",
        "nn.Dropout(",
        "nn.Tanh()",
        "nn.BatchNorm2d(",
        "requires_grad=True",
        "dtype=torch.float64",
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !text.contains(w))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}
