//! The `harness` command line: run the suite, show one case side by side, bless goldens, merge
//! shard reports, and forward to the fuzzer.

use clap::{Parser, Subcommand, ValueEnum};
use harness::backend::engine::EngineBackend;
use harness::backend::libtorch::LibtorchBackend;
use harness::case;
use harness::compare;
use harness::golden;
use harness::interp;
use harness::results::{CaseStatus, SuiteResult};
use harness::runner::{self, Backends, Config};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "harness",
    about = "Autograd conformance suite: the engine against libtorch 2.13"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Engine,
    Libtorch,
    Both,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run cases and report every divergence between the engine and libtorch.
    Run {
        /// Case files or folders (default: cases/).
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "both")]
        backend: BackendArg,
        /// Only cases whose path contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// Run slice K of N (1-based), e.g. `--shard 2/4`.
        #[arg(long, value_parser = parse_shard)]
        shard: Option<(usize, usize)>,
        /// Name every divergence, not only the first of each case.
        #[arg(long)]
        all: bool,
        #[arg(long, default_value = "reports/results.json")]
        json: PathBuf,
        #[arg(long, default_value = "reports/index.html")]
        report: PathBuf,
        #[arg(long, default_value = "reports/junit.xml")]
        junit: PathBuf,
        /// Worker threads (default 2).
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// The backend under test: the engine on the CPU, or with every tensor on cuda:0.
        #[arg(long, value_enum, default_value = "engine")]
        subject: harness::devices::Subject,
        /// The reference: libtorch on the CPU, or with every tensor on cuda:0.
        #[arg(long, value_enum, default_value = "libtorch")]
        oracle: harness::devices::Oracle,
        /// libtorch's intra-op threads (`torch.set_num_threads`). Other counts may change the
        /// last bits of float32 results; a verdict must not depend on it.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..))]
        libtorch_threads: i32,
    },
    /// Show one case statement by statement: engine | libtorch | document.
    Show { case: PathBuf },
    /// Record libtorch's observations of every case as goldens under cases/golden/.
    Bless { paths: Vec<PathBuf> },
    /// Run cases on libtorch alone and write its raw observations as JSON, one
    /// `interp::Run` per case: `{"cases/a.yaml": {...}, ...}`. No judging, no reports.
    Observe {
        /// Case files or folders (default: cases/).
        paths: Vec<PathBuf>,
        /// libtorch's intra-op threads, as for `run`.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..))]
        libtorch_threads: i32,
        /// Write the JSON to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Reports: `report merge A.json B.json ... --report FILE`.
    Report {
        #[command(subcommand)]
        cmd: ReportCmd,
    },
    /// The differential fuzzer (arguments are forwarded to harness::fuzzing::campaign).
    Fuzz {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ReportCmd {
    Merge {
        inputs: Vec<PathBuf>,
        #[arg(long, default_value = "reports/index.html")]
        report: PathBuf,
        #[arg(long)]
        json: Option<PathBuf>,
        #[arg(long)]
        junit: Option<PathBuf>,
    },
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 1/4")?;
    let k: usize = k.trim().parse().map_err(|_| "K is not a number")?;
    let n: usize = n.trim().parse().map_err(|_| "N is not a number")?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard {k}/{n}: need 1 <= K <= N"));
    }
    Ok((k, n))
}

/// The repository root: the nearest ancestor of the working directory holding `cases/`.
fn repo_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    for a in cwd.ancestors() {
        if a.join("cases").is_dir() && a.join("Cargo.toml").is_file() {
            return a.to_path_buf();
        }
    }
    cwd
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = repo_root();
    match cli.cmd {
        Cmd::Run {
            paths,
            backend,
            filter,
            shard,
            all,
            json,
            report,
            junit,
            jobs,
            subject,
            oracle,
            libtorch_threads,
        } => {
            let sides = harness::devices::Sides { subject, oracle };
            // A CUDA side without a device fails here, once, instead of once per case.
            if let Err(e) = sides.check() {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
            let mut cfg = Config::new(&root);
            cfg.sides = sides;
            if !paths.is_empty() {
                cfg.paths = paths;
            }
            cfg.backends = match backend {
                BackendArg::Engine => Backends::Engine,
                BackendArg::Libtorch => Backends::Libtorch,
                BackendArg::Both => Backends::Both,
            };
            cfg.filter = filter;
            cfg.shard = shard;
            cfg.all = all;
            cfg.threads = jobs;
            run(&cfg, libtorch_threads, &json, &report, &junit)
        }
        Cmd::Show { case } => show(&root, &case),
        Cmd::Bless { paths } => bless(&root, paths),
        Cmd::Observe {
            paths,
            libtorch_threads,
            out,
        } => observe(&root, paths, libtorch_threads, out.as_deref()),
        Cmd::Report {
            cmd:
                ReportCmd::Merge {
                    inputs,
                    report,
                    json,
                    junit,
                },
        } => merge(&inputs, &report, json.as_deref(), junit.as_deref()),
        Cmd::Fuzz { args } => fuzz(args),
    }
}

fn run(cfg: &Config, libtorch_threads: i32, json: &Path, report: &Path, junit: &Path) -> ExitCode {
    tch::set_num_threads(libtorch_threads);
    // A panic inside a case is caught and reported as that case's failure; the default hook
    // would also dump a backtrace over the progress bar.
    std::panic::set_hook(Box::new(|_| {}));
    let n = runner::select(cfg).len() as u64;
    let bar = ProgressBar::new(n);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = runner::run_suite(cfg, &|r| {
        if r.status == CaseStatus::Fail || r.status == CaseStatus::Error {
            bar.println(format!("{:?}: {}", r.status, r.path));
        }
        bar.inc(1);
    });
    bar.finish_and_clear();
    let mut ok = write_outputs(&result, Some(json), Some(report), Some(junit));
    print_failures(&result);
    print_summary(&result);
    ok &= result.count(CaseStatus::Fail) == 0 && result.count(CaseStatus::Error) == 0;
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn write_outputs(
    result: &SuiteResult,
    json: Option<&Path>,
    report: Option<&Path>,
    junit: Option<&Path>,
) -> bool {
    let mut ok = true;
    if let Some(p) = json
        && let Err(e) = harness::report::write_json(result, p)
    {
        eprintln!("error: {e}");
        ok = false;
    }
    if let Some(p) = report
        && let Err(e) = harness::report::write_html(result, p)
    {
        eprintln!("error: cannot write {}: {e}", p.display());
        ok = false;
    }
    if let Some(p) = junit
        && let Err(e) = harness::report::write_junit(result, p)
    {
        eprintln!("error: cannot write {}: {e}", p.display());
        ok = false;
    }
    ok
}

fn print_failures(result: &SuiteResult) {
    for c in &result.cases {
        match c.status {
            CaseStatus::Fail => {
                eprintln!("\nFAIL {} ({})", c.path, c.name);
                if let Some(m) = &c.message {
                    eprintln!("  {m}");
                }
                for d in &c.divergences {
                    eprint!("  {}", compare::describe(d).replace('\n', "\n  "));
                    eprintln!();
                }
            }
            CaseStatus::Error => {
                eprintln!("\nERROR {}", c.message.as_deref().unwrap_or(&c.path));
            }
            CaseStatus::Skipped => {
                eprintln!("\nSKIP {}", c.message.as_deref().unwrap_or(&c.path));
            }
            _ => {}
        }
    }
}

fn print_summary(result: &SuiteResult) {
    let s = harness::report::Summary::of(result);
    println!(
        "\n{} cases, {} statements, {} observables compared: {} passed, {} numerics, {} failed, {} xfail, {} errors, {} skipped; doc drift: {} claims in {} cases ({:.2} s)",
        s.cases,
        s.statements,
        s.observables,
        s.passed,
        s.numerics,
        s.failed,
        s.xfail,
        s.errors,
        s.skipped,
        s.drift_claims,
        s.drift_cases,
        result.meta.duration_ms as f64 / 1000.0
    );
}

fn show(root: &Path, path: &Path) -> ExitCode {
    tch::set_num_threads(1);
    let c = match case::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opts = runner::options_for(&c);
    let mut l = LibtorchBackend::default();
    let mut e = EngineBackend::new();
    let lrun = interp::run(&mut l, &c.program, c.seed, &opts);
    let erun = interp::run(&mut e, &c.program, c.seed, &opts);
    let rel = runner::relative(root, path);
    println!("{rel}: {}", c.name);
    let lines: Vec<&str> = c.program_text.lines().collect();
    let cell = |s: String| {
        let s = s.replace('\n', " ");
        if s.chars().count() > 38 {
            format!("{}…", s.chars().take(37).collect::<String>())
        } else {
            s
        }
    };
    println!(
        "{:<38} | {:<38} | {:<38}",
        "observable", "engine", "libtorch"
    );
    for (i, ls) in lrun.steps.iter().enumerate() {
        if ls.in_loop && i + 1 < lrun.steps.len() && lrun.steps[i + 1].in_loop {
            continue;
        }
        let text = lines.get(ls.line as usize - 1).map_or("", |s| s.trim());
        println!(
            "\n{:>4}: {text}",
            ls.line + c.program_line.saturating_sub(1)
        );
        let es = erun.steps.iter().find(|s| s.seq == ls.seq);
        let outcome = |e: &Option<harness::backend::Failure>| match e {
            None => "ok".to_string(),
            Some(f) => format!("{}: {}", f.kind, f.message),
        };
        println!(
            "{:<38} | {:<38} | {:<38}",
            "outcome",
            cell(es.map_or("-".into(), |s| outcome(&s.error))),
            cell(outcome(&ls.error))
        );
        if let Some(r) = &ls.result {
            println!(
                "{:<38} | {:<38} | {:<38}",
                "result",
                cell(
                    es.and_then(|s| s.result.as_ref())
                        .map_or("-".into(), |v| v.to_string())
                ),
                cell(r.to_string())
            );
        }
        for v in &ls.vars {
            let ev = es.and_then(|s| s.vars.iter().find(|x| x.name == v.name));
            let row = |name: &str, f: &dyn Fn(&harness::backend::TensorObs) -> String| {
                println!(
                    "{:<38} | {:<38} | {:<38}",
                    cell(format!("{}{name}", v.name)),
                    cell(ev.map_or("-".into(), |e| f(&e.obs))),
                    cell(f(&v.obs))
                );
            };
            row("", &|o| compare::show_data(&o.data));
            row(" flags", &|o| {
                format!(
                    "rg={} leaf={} fn={} v{}",
                    o.requires_grad,
                    o.is_leaf,
                    o.grad_fn.as_deref().unwrap_or("None"),
                    o.version
                )
            });
            row(".grad", &|o| {
                o.grad.as_ref().map_or("None".into(), compare::show_data)
            });
        }
        for w in &ls.warnings {
            println!("{:<38} | {:<38} | {}", "warning", "", cell(w.clone()));
        }
        for (k, claim) in c.doc.iter().enumerate() {
            if claim.after != ls.line {
                continue;
            }
            let show = |r: &interp::Run| match r.probes.get(k).and_then(|p| p.as_ref()) {
                Some(p) => match &p.value {
                    Ok(v) => v.to_string(),
                    Err(f) => f.kind.to_string(),
                },
                None => "-".into(),
            };
            println!(
                "{:<38} | {:<38} | {:<38} | doc: {}",
                cell(format!("doc {}", claim.expr)),
                cell(show(&erun)),
                cell(show(&lrun)),
                cell(format!("{:?}", claim.expected))
            );
        }
    }
    ExitCode::SUCCESS
}

fn bless(root: &Path, paths: Vec<PathBuf>) -> ExitCode {
    tch::set_num_threads(1);
    let mut cfg = Config::new(root);
    if !paths.is_empty() {
        cfg.paths = paths;
    }
    let mut ok = true;
    let mut written = 0;
    for p in runner::select(&cfg) {
        let rel = runner::relative(root, &p);
        let c = match case::load(&p) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("skipped: {e}");
                ok = false;
                continue;
            }
        };
        if !c.requires.is_empty() {
            // A case that needs a device is recorded on that device's oracle, not here.
            continue;
        }
        let g =
            std::panic::catch_unwind(|| golden::record(&mut LibtorchBackend::default(), &rel, &c));
        let Ok(g) = g else {
            eprintln!("skipped: {rel}: libtorch backend panicked");
            ok = false;
            continue;
        };
        if let Err(e) = golden::write(&golden::path_for(root, &rel), &g) {
            eprintln!("error: {e}");
            ok = false;
        } else {
            written += 1;
        }
    }
    println!("{written} goldens written under cases/golden/");
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn observe(
    root: &Path,
    paths: Vec<PathBuf>,
    libtorch_threads: i32,
    out: Option<&Path>,
) -> ExitCode {
    tch::set_num_threads(libtorch_threads);
    let mut cfg = Config::new(root);
    if !paths.is_empty() {
        cfg.paths = paths;
    }
    let mut ok = true;
    for p in cfg.paths.iter().filter(|p| !p.exists()) {
        eprintln!("error: {}: no such file or directory", p.display());
        ok = false;
    }
    let mut runs = serde_json::Map::new();
    for p in runner::select(&cfg) {
        let rel = runner::relative(root, &p);
        let c = match case::load(&p) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                ok = false;
                continue;
            }
        };
        // As `run` does: a case for a device this command lacks is not observed on the CPU.
        if let Some(why) = harness::devices::unmet_requirement(&c.requires, Default::default()) {
            eprintln!("skipped: {rel}: {why}");
            continue;
        }
        let opts = runner::options_for(&c);
        let run = std::panic::catch_unwind(|| {
            interp::run(&mut LibtorchBackend::default(), &c.program, c.seed, &opts)
        });
        match run.map(|r| serde_json::to_value(&r)) {
            Ok(Ok(v)) => {
                runs.insert(rel, v);
            }
            Ok(Err(e)) => {
                eprintln!("error: {rel}: {e}");
                ok = false;
            }
            Err(_) => {
                eprintln!("error: {rel}: libtorch backend panicked");
                ok = false;
            }
        }
    }
    let text = serde_json::Value::Object(runs).to_string();
    let written = match out {
        Some(f) => std::fs::write(f, text + "\n")
            .map_err(|e| eprintln!("error: cannot write {}: {e}", f.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    };
    if ok && written.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn merge(inputs: &[PathBuf], report: &Path, json: Option<&Path>, junit: Option<&Path>) -> ExitCode {
    let mut parts = Vec::new();
    for p in inputs {
        match harness::report::read_json(p) {
            Ok(r) => parts.push(r),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let merged = harness::report::merge(&parts);
    let ok = write_outputs(&merged, json, Some(report), junit);
    print_summary(&merged);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn fuzz(args: Vec<String>) -> ExitCode {
    // FUZZER ENTRY: forwards to the fuzzer helper's campaign driver, or runs its campaign
    // with the CUDA backends for `--subject engine-cuda` / `--oracle libtorch-cuda`.
    harness::devices::fuzz(args)
}
