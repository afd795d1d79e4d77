//! Portability: the suite's verdicts do not depend on settings that change the last bits of
//! libtorch's float32 results without changing their meaning (intra-op threads, MKL's
//! conditional-numerical-reproducibility mode, the instruction sets MKL, ATen and oneDNN may
//! use), and those settings really do change bits on the machine running the test.
//!
//! Runs the built `harness` binary as a subprocess, once per setting: `harness run cases/` for
//! the verdicts, `harness observe` on a few float32-heavy cases for libtorch's raw values.
//!
//! The engine picks no kernels by CPU feature itself; its only run-time dispatch is inside the
//! `gemm` crate (FMA or scalar micro-kernels, chosen once through `is_x86_feature_detected!`).
//! `ENGINE_GEMM=portable` routes every product around it, through plain loops that run the same
//! on every CPU, and is one of the settings.

use harness::backend::{DType, TensorData};
use harness::observe::{ObsValue, Run};
use harness::results::CaseStatus;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A way of running libtorch: environment variables read when it loads, and `harness` flags.
struct Setting {
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
}

const SETTINGS: &[Setting] = &[
    Setting {
        name: "default",
        env: &[],
        args: &[],
    },
    Setting {
        name: "libtorch-threads=2",
        env: &[],
        args: &["--libtorch-threads", "2"],
    },
    Setting {
        name: "MKL_CBWR=COMPATIBLE",
        env: &[("MKL_CBWR", "COMPATIBLE")],
        args: &[],
    },
    Setting {
        name: "MKL_ENABLE_INSTRUCTIONS=AVX2 ATEN_CPU_CAPABILITY=default",
        env: &[
            ("MKL_ENABLE_INSTRUCTIONS", "AVX2"),
            ("ATEN_CPU_CAPABILITY", "default"),
        ],
        args: &[],
    },
    Setting {
        name: "ONEDNN_MAX_CPU_ISA=AVX2",
        env: &[("ONEDNN_MAX_CPU_ISA", "AVX2")],
        args: &[],
    },
    Setting {
        name: "ENGINE_GEMM=portable",
        env: &[("ENGINE_GEMM", "portable")],
        args: &[],
    },
];

/// Every variable some setting sets: removed from each child's environment first, so that
/// `default` is libtorch's own default whatever the caller's environment holds.
const KNOBS: &[&str] = &[
    "MKL_CBWR",
    "MKL_ENABLE_INSTRUCTIONS",
    "ATEN_CPU_CAPABILITY",
    "ONEDNN_MAX_CPU_ISA",
    "DNNL_MAX_CPU_ISA",
    "ENGINE_GEMM",
];

/// Small cases whose libtorch float32 values move under one setting or another (matmuls through
/// MKL, convolutions through oneDNN, `exp`/`log_softmax` through MKL's VML and ATen's
/// vectorised kernels, SGD loops that carry a last-bit difference forward).
const OBSERVED: &[&str] = &[
    "cases/nn/conv2d_module.yaml",
    "cases/nn/conv2d_module_groups_no_bias.yaml",
    "cases/nn/linear_no_bias.yaml",
    "cases/optim/sgd_linear_regression.yaml",
    "cases/optim/sgd_momentum.yaml",
    "cases/ops/f_log_softmax.yaml",
    "cases/regressions/aada0741.yaml",
    "cases/regressions/d1c142f8.yaml",
    "cases/regressions/f43b61b4.yaml",
    "cases/seed003/evaluation_no_grad.yaml",
];

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn harness(setting: &Setting, subcommand: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_harness"));
    cmd.current_dir(root()).arg(subcommand);
    for k in KNOBS {
        cmd.env_remove(k);
    }
    cmd.envs(setting.env.iter().copied());
    cmd
}

/// A scratch folder for one test of this process, so that no run touches `reports/`.
fn scratch(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("harness-portability-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a scratch folder");
    dir
}

/// `harness run cases/` under `setting`: case path -> status, and the summary line.
fn run_suite(setting: &Setting, dir: &Path, i: usize) -> (BTreeMap<String, CaseStatus>, String) {
    let file = |ext: &str| dir.join(format!("run{i}.{ext}"));
    let out = harness(setting, "run")
        .arg("cases/")
        .args(setting.args)
        .arg("--json")
        .arg(file("json"))
        .arg("--report")
        .arg(file("html"))
        .arg("--junit")
        .arg(file("xml"))
        .output()
        .expect("start the harness binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .lines()
        .find(|l| l.contains(" passed, "))
        .unwrap_or("(no summary line)")
        .to_string();
    assert!(
        out.status.success(),
        "[{}] harness run exited with {}: {summary}\n{}",
        setting.name,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let result = harness::report::read_json(&file("json")).expect("read the results JSON");
    let statuses: BTreeMap<String, CaseStatus> = result
        .cases
        .iter()
        .map(|c| (c.path.clone(), c.status))
        .collect();
    for bad in [CaseStatus::Fail, CaseStatus::Error] {
        let cases: Vec<&String> = statuses
            .iter()
            .filter(|(_, s)| **s == bad)
            .map(|(p, _)| p)
            .collect();
        assert!(cases.is_empty(), "[{}] {bad:?}: {cases:?}", setting.name);
    }
    (statuses, summary)
}

/// What a setting must not change. `pass` and `numerics` are one verdict: both say the engine
/// agrees with libtorch, and which of the two a case gets depends on whether a rounding
/// difference crossed the tight tolerance, which is exactly what these settings move.
fn verdict(s: CaseStatus) -> &'static str {
    match s {
        CaseStatus::Pass => "pass",
        CaseStatus::Numerics => "numerics",
        CaseStatus::Fail => "fail",
        CaseStatus::Xfail => "xfail",
        CaseStatus::Error => "error",
        CaseStatus::Skipped => "skipped",
    }
}

#[test]
fn verdicts_do_not_depend_on_libtorch_float_settings() {
    let started = Instant::now();
    let dir = scratch("verdicts");
    let runs: Vec<_> = SETTINGS
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (statuses, summary) = run_suite(s, &dir, i);
            eprintln!("[{}] {summary}", s.name);
            (s.name, statuses)
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    let (base_name, base) = &runs[0];
    let mut differing = Vec::new();
    let mut flips = Vec::new();
    for (name, statuses) in &runs[1..] {
        let paths: std::collections::BTreeSet<&String> =
            base.keys().chain(statuses.keys()).collect();
        for p in paths {
            let (a, b) = (base.get(p).copied(), statuses.get(p).copied());
            match (a, b) {
                (Some(a), Some(b)) if a == b => {}
                (Some(a), Some(b)) if verdict(a) == verdict(b) => {
                    flips.push(format!("{p}: {a:?} under {base_name}, {b:?} under {name}"));
                }
                // A case file added or removed while the test ran: no verdict to compare.
                (None, _) | (_, None) => {
                    eprintln!("not in every run (the case set changed meanwhile): {p}");
                }
                _ => differing.push(format!("{p}: {a:?} under {base_name}, {b:?} under {name}")),
            }
        }
    }
    for f in &flips {
        eprintln!("pass/numerics flip (same verdict): {f}");
    }
    eprintln!(
        "{} suite runs in {:.1} s",
        runs.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        differing.is_empty(),
        "verdicts that depend on a libtorch setting:\n  {}",
        differing.join("\n  ")
    );
}

fn push_f32(d: &TensorData, out: &mut Vec<u32>) {
    if d.dtype == DType::F32 {
        out.extend(d.values.iter().map(|&v| (v as f32).to_bits()));
    }
}

fn push_value(v: &ObsValue, out: &mut Vec<u32>) {
    match v {
        ObsValue::Tensor(t) => {
            push_f32(&t.data, out);
            if let Some(g) = &t.grad {
                push_f32(g, out);
            }
        }
        ObsValue::List(xs) | ObsValue::Tuple(xs) => xs.iter().for_each(|x| push_value(x, out)),
        _ => {}
    }
}

/// Every float32 value libtorch showed in a run, as bits, in observation order.
fn f32_bits(run: &Run) -> Vec<u32> {
    let mut out = Vec::new();
    for s in &run.steps {
        if let Some(r) = &s.result {
            push_value(r, &mut out);
        }
        for v in &s.vars {
            push_f32(&v.obs.data, &mut out);
            if let Some(g) = &v.obs.grad {
                push_f32(g, &mut out);
            }
        }
    }
    for p in run.probes.iter().flatten() {
        if let Ok(v) = &p.value {
            push_value(v, &mut out);
        }
    }
    out
}

/// `harness observe` on [`OBSERVED`] under `setting`: case path -> float32 bits.
fn observe(setting: &Setting, dir: &Path, i: usize) -> BTreeMap<String, Vec<u32>> {
    let file = dir.join(format!("observe{i}.json"));
    let out = harness(setting, "observe")
        .args(OBSERVED)
        .args(setting.args)
        .arg("--out")
        .arg(&file)
        .output()
        .expect("start the harness binary");
    assert!(
        out.status.success(),
        "[{}] harness observe exited with {}\n{}",
        setting.name,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).expect("read the observations");
    let runs: BTreeMap<String, Run> = serde_json::from_str(&text).expect("parse the observations");
    assert_eq!(
        runs.len(),
        OBSERVED.len(),
        "[{}] cases observed",
        setting.name
    );
    runs.iter().map(|(k, r)| (k.clone(), f32_bits(r))).collect()
}

#[test]
fn the_settings_change_libtorch_float32_bits() {
    let dir = scratch("bits");
    let obs: Vec<_> = SETTINGS
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name, observe(s, &dir, i)))
        .collect();
    // Observing twice under one setting gives the same bits, or a difference below would prove
    // nothing about the settings.
    let again = observe(&SETTINGS[0], &dir, SETTINGS.len());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        obs[0].1, again,
        "libtorch is not deterministic under one setting"
    );
    let total: usize = obs[0].1.values().map(Vec::len).sum();
    assert!(total > 0, "the observed cases show no float32 values");
    let mut pairs_differing = 0;
    for (i, (a_name, a)) in obs.iter().enumerate() {
        for (b_name, b) in &obs[i + 1..] {
            let mut values = 0;
            let mut cases = Vec::new();
            for (case, xa) in a {
                let xb = &b[case];
                let n = if xa.len() == xb.len() {
                    xa.iter().zip(xb).filter(|(p, q)| p != q).count()
                } else {
                    xa.len().max(xb.len())
                };
                if n > 0 {
                    values += n;
                    cases.push(format!("{case} ({n})"));
                }
            }
            eprintln!(
                "{a_name} vs {b_name}: {values} of {total} float32 values differ bitwise{}{}",
                if cases.is_empty() { "" } else { ": " },
                cases.join(", ")
            );
            pairs_differing += usize::from(values > 0);
        }
    }
    assert!(
        pairs_differing > 0,
        "no setting changed a single float32 bit of libtorch's results: the portability check \
         above proves nothing on this machine"
    );
}
