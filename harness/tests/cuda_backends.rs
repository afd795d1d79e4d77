//! The CUDA sides of a run end to end: `requires: [cuda]` cases through the runner, the
//! summary and the reports, and the engine-cuda / libtorch-cuda backends on `cases/devices/`.
//! On a machine without a GPU the CUDA runs must skip with the reason; with one, the device
//! cases must pass engine-CUDA against libtorch on the CPU and on CUDA.

use harness::devices;
use harness::report::{Summary, render_html, render_junit};
use harness::results::CaseStatus;
use harness::runner::{self, Config};
use harness::sides::{self, Entry};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    let r = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    r.canonicalize().unwrap_or(r)
}

fn devices_config(subject: Entry, oracle: Entry) -> Config {
    let root = root();
    let mut cfg = Config::new(&root);
    cfg.paths = vec![root.join("cases/devices")];
    cfg.threads = 1;
    cfg.subject = Some(subject);
    cfg.oracle = oracle;
    cfg
}

#[test]
fn cuda_cases_are_skipped_with_the_reason_on_a_cpu_run() {
    tch::set_num_threads(1);
    let result = runner::run_suite(&devices_config(sides::ENGINE, sides::LIBTORCH), &|_| {});
    assert!(
        result.cases.len() >= 2,
        "cases/devices holds the CUDA cases"
    );
    for c in &result.cases {
        assert_eq!(c.status, CaseStatus::Skipped, "{}", c.path);
        let why = c.message.as_deref().unwrap_or("");
        assert!(
            why.contains("requires cuda: this run has no CUDA backend"),
            "{why}"
        );
        assert_eq!(c.statements, 0, "a skipped case runs nothing");
    }
    let s = Summary::of(&result);
    assert_eq!((s.skipped, s.failed, s.errors), (result.cases.len(), 0, 0));
    // The reports count them as skipped, neither passed nor failed.
    let junit = render_junit(&result);
    assert!(junit.contains(&format!("skipped=\"{}\"", result.cases.len())));
    assert!(junit.contains("<skipped message="));
    let html = render_html(&result);
    assert!(html.contains("skipped for lack of a requirement"));
    let json = serde_json::to_string(&result).unwrap();
    assert!(json.contains("\"skipped\""));
}

/// With a GPU: every device case passes engine-CUDA against libtorch on the CPU and on CUDA.
/// Without one: the cases skip, naming the missing device, and nothing panics.
#[test]
fn device_cases_on_the_cuda_backends() {
    tch::set_num_threads(1);
    for (subject, oracle) in [
        (sides::ENGINE_CUDA, sides::LIBTORCH),
        (sides::ENGINE_CUDA, sides::LIBTORCH_CUDA),
    ] {
        let result = runner::run_suite(&devices_config(subject, oracle), &|_| {});
        let pair = (subject.name, oracle.name);
        match devices::check(&[subject, oracle]) {
            Ok(()) => {
                for c in &result.cases {
                    assert_eq!(
                        c.status,
                        CaseStatus::Pass,
                        "{} ({pair:?}): {:?} {:?}",
                        c.path,
                        c.message,
                        c.divergences.first()
                    );
                }
                let meta = &result.meta;
                let names = (
                    meta.subject.as_ref().map(|s| s.name.as_str()),
                    meta.oracle.name.as_str(),
                );
                assert_eq!(names, (Some(subject.name), oracle.name));
                assert!(
                    meta.labels().subject.ends_with("(cuda:0)"),
                    "{:?}",
                    meta.labels()
                );
            }
            Err(e) => {
                eprintln!("skipped: {e}");
                for c in &result.cases {
                    assert_eq!(c.status, CaseStatus::Skipped, "{}", c.path);
                    let why = c.message.as_deref().unwrap_or("");
                    assert!(why.contains("no CUDA device: "), "{why}");
                }
            }
        }
    }
}
