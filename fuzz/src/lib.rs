//! Glue between libFuzzer's bytes and the harness's fuzzing library.
//!
//! The targets in `fuzz_targets/` are one line each; what they do lives here so it is built and
//! linted with the workspace. A fuzz input is either bytes for the structure-aware generator or,
//! when it starts with [`PROGRAM_MAGIC`], a program written out as text: that is how the seed
//! corpus carries the suite's own cases (see `examples/seed_corpus.rs`).

use arbitrary::Unstructured;
use harness::backend::engine::EngineBackend;
use harness::backend::libtorch::LibtorchBackend;
use harness::fuzzing::generate::{self, GenConfig};
use harness::fuzzing::gradcheck::{self, Verdict};
use harness::fuzzing::oracle::{Differential, run_guarded};
use harness::interp::Options;
use harness::program::{Program, parse, print};
use std::cell::RefCell;

/// Marks a corpus file that holds program text rather than generator bytes.
pub const PROGRAM_MAGIC: &[u8] = b"#program\n";

/// The program a fuzz input stands for: parsed text after [`PROGRAM_MAGIC`], or generated from
/// the bytes (the first byte picks general or differentiable mode).
pub fn program_from_input(data: &[u8]) -> Option<Program> {
    if let Some(text) = data.strip_prefix(PROGRAM_MAGIC) {
        return parse(std::str::from_utf8(text).ok()?).ok();
    }
    let (&mode, rest) = data.split_first()?;
    let cfg = if mode % 8 == 7 {
        GenConfig::differentiable()
    } else {
        GenConfig::default()
    };
    generate::program(&mut Unstructured::new(rest), &cfg).ok()
}

thread_local! {
    // Backends are made once per process: libtorch's start-up dominates a single input.
    static DIFF: RefCell<Option<Differential<EngineBackend, LibtorchBackend>>> = const { RefCell::new(None) };
    static ENGINE: RefCell<Option<EngineBackend>> = const { RefCell::new(None) };
}

/// `diff_programs`: engine vs libtorch; any finding is a crash with the finding as message.
pub fn diff_programs(data: &[u8]) {
    let Some(p) = program_from_input(data) else {
        return;
    };
    DIFF.with(|d| {
        let mut d = d.borrow_mut();
        let d = d.get_or_insert_with(|| {
            tch::set_num_threads(1);
            Differential::new(EngineBackend::default(), LibtorchBackend::new())
        });
        if let Some(f) = d.check(&p) {
            panic!("{f}\nprogram:\n{}", print(&p));
        }
    });
}

/// `engine_programs`: the engine alone. It must not panic on any program, and on programs of
/// gradcheck's shape its gradients must agree with finite differences.
pub fn engine_programs(data: &[u8]) {
    let Some(p) = program_from_input(data) else {
        return;
    };
    ENGINE.with(|e| {
        let mut e = e.borrow_mut();
        let e = e.get_or_insert_with(EngineBackend::default);
        if let Err(msg) = run_guarded(e, &p, 0, &Options::default()) {
            panic!("engine panicked: {msg}\nprogram:\n{}", print(&p));
        }
        if let Verdict::Mismatch(m) = gradcheck::check(e, &p, 0, Default::default()) {
            panic!("gradcheck: {m}\nprogram:\n{}", print(&p));
        }
    });
}

/// `parse_cases`: the parser never panics, and print∘parse is a fixed point.
pub fn parse_cases(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = parse(text) else {
        return;
    };
    let printed = print(&p);
    match parse(&printed) {
        Ok(q) => {
            assert_eq!(p, q, "print then parse changed the program:\n{printed}");
            assert_eq!(printed, print(&q), "printing is not stable");
        }
        Err(e) => panic!("printed program does not parse: {e}\n{printed}"),
    }
}
