//! The sides of a run as values: the registry `--subject` and `--oracle` choose from, runs
//! whose sides are not the engine and libtorch (libtorch against itself, a mutant, the goldens)
//! and how their results, diffs and reports name each side, and the command line around them.

use harness::backend::libtorch::LibtorchBackend;
use harness::compare;
use harness::fuzzing::mutant::Mutation;
use harness::golden;
use harness::report;
use harness::results::{CaseStatus, FORMAT_VERSION, SideInfo};
use harness::runner::{self, Config};
use harness::sides::{self, Entry, REGISTRY, SubjectChoice};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    let r = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    r.canonicalize().unwrap_or(r)
}

/// A scratch folder for one test of this process.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("harness-sides-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch folder");
    dir
}

fn harness(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("start the harness binary")
}

#[test]
fn every_registry_name_resolves_to_its_entry() {
    let names = sides::names();
    for want in [
        "engine",
        "engine-cuda",
        "libtorch",
        "libtorch-cuda",
        "golden",
        "mutant-sub",
        "mutant-seed",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let mut seen = std::collections::BTreeSet::new();
    for e in &REGISTRY {
        assert!(seen.insert(e.name), "{} listed twice", e.name);
        assert_eq!(sides::resolve(e.name), Ok(*e));
        assert!(!e.help.is_empty(), "{} has no help", e.name);
        // clap parses each name to the same entry.
        assert_eq!(<Entry as clap::ValueEnum>::from_str(e.name, false), Ok(*e));
    }
    // Every mutant of the fuzzer is a registry backend under its own name.
    for m in Mutation::ALL {
        assert_eq!(sides::resolve(m.name()), Ok(sides::mutant_entry(m)));
    }
    assert_eq!(REGISTRY.len(), 5 + Mutation::ALL.len());
}

#[test]
fn an_unknown_name_is_an_error_listing_the_choices() {
    let e = sides::resolve("tpu").unwrap_err().to_string();
    assert!(
        e.starts_with("unknown backend `tpu`; the choices are: engine, "),
        "{e}"
    );
    for name in sides::names() {
        assert!(e.contains(name), "{e} lacks {name}");
    }
    // The command line refuses it before running anything, listing the choices too.
    let out = harness(&["run", "--oracle", "tpu"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("'tpu'") && err.contains("golden") && err.contains("mutant-sub"),
        "{err}"
    );
}

#[test]
fn golden_is_an_oracle_only_and_none_a_subject_only() {
    let subjects: Vec<Option<&str>> = <SubjectChoice as clap::ValueEnum>::value_variants()
        .iter()
        .map(|c| c.0.map(|e| e.name))
        .collect();
    assert_eq!(subjects[0], None, "`none` comes first");
    assert!(!subjects.contains(&Some("golden")));
    assert_eq!(
        subjects.len(),
        REGISTRY.len(),
        "every other entry, and none"
    );
    assert!(!sides::GOLDEN.can_be_subject() && !sides::GOLDEN.runs_programs());
    let out = harness(&["run", "--subject", "golden"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Both sides libtorch: the results, the summary line and the report name libtorch on each
/// side, by role, and never the engine.
#[test]
fn a_libtorch_against_libtorch_run_labels_both_sides() {
    tch::set_num_threads(1);
    let dir = scratch("lt-lt");
    let (json, html, xml) = (dir.join("r.json"), dir.join("r.html"), dir.join("r.xml"));
    let out = harness(&[
        "run",
        "cases/seed002",
        "--subject",
        "libtorch",
        "--oracle",
        "libtorch",
        "--json",
        json.to_str().unwrap(),
        "--report",
        html.to_str().unwrap(),
        "--junit",
        xml.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("subject libtorch 2.13.0 (cpu) vs oracle libtorch 2.13.0 (cpu)"),
        "{stdout}"
    );
    let r = report::read_json(&json).unwrap();
    assert_eq!(r.format_version, FORMAT_VERSION);
    let lt = SideInfo::new("libtorch", "libtorch 2.13.0 (cpu)");
    assert_eq!(r.meta.subject.as_ref(), Some(&lt));
    assert_eq!(r.meta.oracle, lt);
    assert!(r.cases.iter().all(|c| c.status != CaseStatus::Fail));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("run on the subject, <b>libtorch 2.13.0 (cpu)</b>, and on the oracle"));
    assert!(!page.contains("engine 0.1.0"), "the engine never ran");
    let junit = std::fs::read_to_string(&xml).unwrap();
    assert!(junit.contains(r#"<property name="subject" value="libtorch 2.13.0 (cpu)"/>"#));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A subject that diverges: its `-/+` diff names each side by role and backend.
#[test]
fn a_mutant_subject_is_named_in_its_divergences() {
    let out = harness(&[
        "run",
        "cases/ops/binary_sub_method.yaml",
        "--subject",
        "mutant-sub",
        "--json",
        "/dev/null",
        "--report",
        "/dev/null",
        "--junit",
        "/dev/null",
    ]);
    assert_eq!(out.status.code(), Some(1), "the mutant must fail cases");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("- oracle libtorch 2.13.0 (cpu):"), "{err}");
    assert!(
        err.contains("+ subject mutant SubIsAdd of libtorch 2.13.0 (cpu):"),
        "{err}"
    );
    let diff: Vec<&str> = err
        .lines()
        .filter(|l| l.trim_start().starts_with("- ") || l.trim_start().starts_with("+ "))
        .collect();
    assert!(diff.iter().all(|l| !l.contains("engine")), "{err}");
}

/// libtorch judged against a golden it disagrees with: the diff says the subject is libtorch
/// and the oracle the golden, since those are the sides that ran.
#[test]
fn a_golden_mismatch_is_labelled_by_the_sides_that_ran() {
    tch::set_num_threads(1);
    let dir = scratch("golden");
    let rel = "cases/sum_2x_grad.yaml";
    std::fs::create_dir_all(dir.join("cases")).unwrap();
    std::fs::copy(root().join("cases/seed002/sum_2x_grad.yaml"), dir.join(rel)).unwrap();
    let case = harness::case::load(&dir.join(rel)).unwrap();
    let opts = sides::options_for(&case);
    let mut g = golden::record(&mut LibtorchBackend::new(), rel, &case, &opts);
    // The recording says the first float value was one more than libtorch computes, in its
    // float64 shadow too (or the numerics oracle would see an imprecise oracle, not a subject
    // that differs).
    let (seq, name) = g
        .run
        .steps
        .iter()
        .flat_map(|s| s.vars.iter().map(move |v| (s.seq, v)))
        .find(|(_, v)| v.obs.data.dtype.is_float() && !v.obs.data.values.is_empty())
        .map(|(seq, v)| (seq, v.name.clone()))
        .expect("the case observes a float tensor");
    let shadow = g.shadow.as_mut().expect("a golden records its shadow");
    for run in [&mut g.run, shadow] {
        let step = run.steps.iter_mut().find(|s| s.seq == seq).unwrap();
        let v = step.vars.iter_mut().find(|v| v.name == name).unwrap();
        v.obs.data.values[0] += 1.0;
    }
    golden::write(&golden::path_for(&dir, rel), &g).unwrap();

    let mut cfg = Config::new(&dir);
    cfg.subject = Some(sides::LIBTORCH);
    cfg.oracle = sides::GOLDEN;
    let r = runner::run_suite(&cfg, &|_| {});
    assert_eq!(r.cases.len(), 1);
    let c = &r.cases[0];
    assert_eq!(c.status, CaseStatus::Fail, "{:?}", c.message);
    assert_eq!(r.meta.oracle.name, "golden");
    assert_eq!(r.meta.oracle.version, "golden of libtorch 2.13.0 (cpu)");
    let d = &c.divergences[0];
    assert_eq!(d.variable.as_deref(), Some(name.as_str()));
    let text = compare::describe(d, &r.meta.labels());
    assert!(
        text.contains("- oracle golden of libtorch 2.13.0 (cpu):"),
        "{text}"
    );
    assert!(text.contains("+ subject libtorch 2.13.0 (cpu):"), "{text}");
    assert!(!text.contains("engine"), "{text}");

    // No golden for a case: that case is an error naming the file, the run goes on.
    std::fs::remove_file(golden::path_for(&dir, rel)).unwrap();
    let r = runner::run_suite(&cfg, &|_| {});
    assert_eq!(r.cases[0].status, CaseStatus::Error);
    assert!(
        r.cases[0]
            .message
            .as_deref()
            .unwrap_or("")
            .contains("no usable golden"),
        "{:?}",
        r.cases[0].message
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The engine against the goldens (what `--backend engine` was): a run without libtorch.
#[test]
fn the_engine_against_the_goldens_passes_like_against_libtorch() {
    let dir = scratch("engine-golden");
    let json = dir.join("r.json");
    let out = harness(&[
        "run",
        "cases/seed001",
        "--oracle",
        "golden",
        "--json",
        json.to_str().unwrap(),
        "--report",
        dir.join("r.html").to_str().unwrap(),
        "--junit",
        dir.join("r.xml").to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("subject engine 0.1.0 (cpu) vs oracle golden of libtorch"),
        "{stdout}"
    );
    let r = report::read_json(&json).unwrap();
    assert_eq!(r.meta.oracle.name, "golden");
    assert!(r.cases.len() > 5);
    assert!(
        r.cases.iter().all(|c| c.status != CaseStatus::Error),
        "{:?}",
        r.cases
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fuzz_help_lists_the_campaign_options() {
    let out = harness(&["fuzz", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "--seed",
        "--time",
        "--programs",
        "--workers",
        "--out",
        "--subject",
        "--oracle",
        "--shrink-budget",
        "reduce",
        "mutant-sub",
        "libtorch-cuda",
    ] {
        assert!(
            help.contains(opt),
            "`harness fuzz --help` lacks {opt}:\n{help}"
        );
    }
    assert!(!help.contains("[ARGS]"), "{help}");
    // The golden oracle cannot run generated programs: refused before any work.
    let out = harness(&["fuzz", "--oracle", "golden", "--time", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot run generated programs"));
}

#[test]
fn run_help_lists_the_sides_and_no_backend_flag() {
    let out = harness(&["run", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for want in [
        "--subject",
        "--oracle",
        "none",
        "golden",
        "engine-cuda",
        "mutant-stale-inplace",
    ] {
        assert!(
            help.contains(want),
            "`harness run --help` lacks {want}:\n{help}"
        );
    }
    assert!(!help.contains("--backend"), "{help}");
}

#[test]
fn report_merge_reads_an_unversioned_results_file() {
    let dir = scratch("merge");
    let old = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/results_unversioned_engine_vs_libtorch.json");
    let json = dir.join("merged.json");
    let out = harness(&[
        "report",
        "merge",
        old.to_str().unwrap(),
        "--report",
        dir.join("merged.html").to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(merged["format_version"], FORMAT_VERSION);
    assert_eq!(merged["meta"]["subject"]["name"], "engine");
    assert_eq!(merged["meta"]["oracle"]["version"], "libtorch 2.13.0");
    assert!(merged["cases"].as_array().is_some_and(|c| c.len() == 8));
    let _ = std::fs::remove_dir_all(&dir);
}
