//! The differential fuzzer inside `cargo test`: a bounded proptest run with a fixed seed, and
//! tests of the generator and the oracles themselves.
//!
//! The oracle must be quiet where nothing is wrong (libtorch against itself) and loud where
//! something is (a libtorch wrapper with one deliberate bug), or a clean campaign means nothing.

use arbitrary::Unstructured;
use harness::backend::engine::EngineBackend;
use harness::backend::libtorch::LibtorchBackend;
use harness::fuzzing::generate::{self, GenConfig, Mode};
use harness::fuzzing::gradcheck::{self, Verdict};
use harness::fuzzing::oracle::{Differential, FindingKind, Mutant, Mutation};
use harness::fuzzing::shrink;
use harness::program::{check, parse, print};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::cell::RefCell;

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]))
}

fn program_from_bytes(bytes: &[u8]) -> harness::program::Program {
    let cfg = if bytes.first().is_some_and(|b| b % 8 == 7) {
        GenConfig::differentiable()
    } else {
        GenConfig::default()
    };
    generate::program(&mut Unstructured::new(bytes), &cfg).unwrap_or_default()
}

/// A few hundred generated programs, libtorch against itself: every observable must agree and
/// gradcheck must pass. Proptest shrinks the generator's bytes on failure.
#[test]
fn proptest_differential_libtorch_is_clean() {
    let diff = RefCell::new(Differential::new(
        LibtorchBackend::new(),
        LibtorchBackend::new(),
    ));
    let strategy = proptest::collection::vec(any::<u8>(), 64..1536);
    runner(300)
        .run(&strategy, |bytes| {
            let p = program_from_bytes(&bytes);
            if let Some(f) = diff.borrow_mut().check(&p) {
                return Err(TestCaseError::fail(format!("{f}\n{}", print(&p))));
            }
            Ok(())
        })
        .unwrap();
}

/// The same run with the engine under test: what every change to the engine is fuzzed with.
/// A failure prints the finding and the program; `harness fuzz reduce` or a campaign turns it
/// into a regression case.
#[test]
fn proptest_differential_engine_vs_libtorch() {
    let diff = RefCell::new(Differential::new(
        EngineBackend::default(),
        LibtorchBackend::new(),
    ));
    let strategy = proptest::collection::vec(any::<u8>(), 64..1536);
    runner(300)
        .run(&strategy, |bytes| {
            let p = program_from_bytes(&bytes);
            if let Some(f) = diff.borrow_mut().check(&p) {
                return Err(TestCaseError::fail(format!("{f}\n{}", print(&p))));
            }
            Ok(())
        })
        .unwrap();
}

/// Each deliberate bug is found within a bounded number of seeded programs, and the shrunk
/// program still shows it.
#[test]
fn mutants_are_caught() {
    for (mutation, want) in [
        (Mutation::SubIsAdd, None),
        (Mutation::ExpIsSigmoid, None),
        (Mutation::AlwaysRetainGraph, Some("outcome")),
        (Mutation::NoLeafCheck, Some("outcome")),
    ] {
        let mut diff = Differential::new(
            Mutant::new(LibtorchBackend::new(), mutation),
            LibtorchBackend::new(),
        );
        let hit = (0..400u64).find_map(|seed| {
            let p = generate::program_from_seed(seed, &GenConfig::default());
            diff.check(&p).map(|f| (p, f))
        });
        let Some((p, f)) = hit else {
            panic!("{mutation:?} was never caught in 400 programs");
        };
        if let Some(obs) = want {
            assert_eq!(f.key.observable, obs, "{mutation:?}: {f}");
        }
        let (small, sf) = shrink::shrink(&p, &f.key, |q| diff.check(q), 500).expect("reproduces");
        assert!(small.stmts.len() <= p.stmts.len());
        assert_eq!(sf.key, f.key);
        // The shrinker deletes statements and never rewrites one, so a finding reached through
        // a chain (a module built, called, and its output joined) keeps the chain's statements.
        assert!(
            small.stmts.len() <= 10,
            "{mutation:?} shrank only to:\n{}",
            print(&small)
        );
    }
}

/// A backend with right values and graphs but doubled gradients passes the comparator's
/// forward checks only until the gradients are read, and gradcheck alone flags it.
#[test]
fn gradcheck_catches_wrong_gradients() {
    let mut mutant = Mutant::new(LibtorchBackend::new(), Mutation::DoubleSeed);
    let mut good = LibtorchBackend::new();
    let (mut caught, mut passed) = (0, 0);
    for seed in 0..40 {
        let p = generate::program_from_seed(seed, &GenConfig::differentiable());
        match gradcheck::check(&mut good, &p, 0, Default::default()) {
            Verdict::Pass { .. } => passed += 1,
            Verdict::Mismatch(m) => panic!(
                "libtorch fails gradcheck on seed {seed}: {m}\n{}",
                print(&p)
            ),
            Verdict::NotApplicable(_) => {}
        }
        if let Verdict::Mismatch(_) = gradcheck::check(&mut mutant, &p, 0, Default::default()) {
            caught += 1;
        }
    }
    assert!(
        passed >= 30,
        "only {passed} of 40 differentiable programs were checkable"
    );
    assert!(
        caught >= passed * 9 / 10,
        "doubled gradients caught in only {caught} of {passed}"
    );
}

/// Seeded programs print, re-parse to the same program, and pass the static checker.
#[test]
fn generated_programs_are_valid_cases() {
    for seed in 0..300 {
        let cfg = if seed % 4 == 0 {
            GenConfig::differentiable()
        } else {
            GenConfig::default()
        };
        let p = generate::program_from_seed(seed, &cfg);
        let text = print(&p);
        let q = parse(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        assert_eq!(p, q, "seed {seed}");
        if let Err(e) = check(&q) {
            panic!("seed {seed}: {e}\n{text}");
        }
    }
}

/// Most generated statements succeed on libtorch: the typed environment works.
#[test]
fn most_generated_statements_are_meaningful() {
    let mut b = LibtorchBackend::new();
    let (mut ok, mut total) = (0usize, 0usize);
    let mut kinds = std::collections::BTreeMap::new();
    for seed in 0..200 {
        let p = generate::program_from_seed(seed, &GenConfig::default());
        let run = harness::interp::run(&mut b, &p, 0, &Default::default());
        for s in &run.steps {
            total += 1;
            match &s.error {
                None => ok += 1,
                Some(f) => *kinds.entry(f.kind.name()).or_insert(0) += 1,
            }
        }
    }
    let share = ok as f64 / total as f64;
    assert!(
        share > 0.75,
        "only {:.0}% of statements succeed; errors: {kinds:?}",
        share * 100.0
    );
    // Error paths are fuzzed too.
    assert!(kinds.len() >= 5, "too few error kinds: {kinds:?}");
    // The environment's predictions are mostly right: few statements use a name that a
    // failed statement never bound. (Unclassified messages are the proptest's business.)
    let names = kinds.get("name_error").copied().unwrap_or(0);
    assert!(
        names * 50 < total,
        "{names} name errors in {total} statements: {kinds:?}"
    );
}

#[test]
fn differentiable_mode_is_all_float64_and_smooth() {
    for seed in 0..100 {
        let p = generate::program_from_seed(seed, &GenConfig::differentiable());
        assert_eq!(GenConfig::differentiable().mode, Mode::Differentiable);
        let text = print(&p);
        for bad in [
            ".relu",
            ".abs()",
            ".clamp",
            "_(",
            ".data",
            "detach",
            "torch.float32",
        ] {
            if bad == ".abs()" {
                continue; // guards division: `b.abs() + 1` is smooth away from b == 0
            }
            assert!(!text.contains(bad), "seed {seed} uses {bad}:\n{text}");
        }
    }
}

#[test]
fn a_finding_becomes_a_readable_case() {
    let mut diff = Differential::new(
        Mutant::new(LibtorchBackend::new(), Mutation::SubIsAdd),
        LibtorchBackend::new(),
    );
    let (p, f) = (0..400u64)
        .find_map(|seed| {
            let p = generate::program_from_seed(seed, &GenConfig::default());
            diff.check(&p).map(|f| (p, f))
        })
        .expect("SubIsAdd is found");
    let (small, sf) = shrink::shrink(&p, &f.key, |q| diff.check(q), 500).unwrap();
    let dir = std::env::temp_dir().join(format!("fuzz-case-{}", std::process::id()));
    let path = shrink::write_case(&dir, &mut diff.reference, &small, &sf, "fuzz 0", 0).unwrap();
    let case = harness::case::load(&path)
        .unwrap_or_else(|e| panic!("{e}\n{}", std::fs::read_to_string(&path).unwrap()));
    assert_eq!(case.source, "fuzz 0");
    assert_eq!(case.program.stmts.len(), small.stmts.len());
    assert!(matches!(sf.kind, FindingKind::Divergence(_)));
    let _ = std::fs::remove_dir_all(&dir);
}
