//! The `harness` command line: run the suite (a subject against an oracle, both chosen from the
//! registry in `harness::sides`), show one case side by side, bless goldens, observe libtorch,
//! merge shard reports, and run the fuzzer.

use clap::{Parser, Subcommand};
use harness::backend::libtorch::LibtorchBackend;
use harness::case;
use harness::compare;
use harness::fuzzing::campaign::{self, FuzzArgs};
use harness::golden;
use harness::observe::{Run, show_data};
use harness::results::{CaseStatus, SuiteResult};
use harness::runner::{self, Config};
use harness::sides::{self, Entry, Job, SubjectChoice};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "harness",
    about = "Autograd conformance suite: a subject (the engine) against an oracle (libtorch 2.13)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// The two sides of a run, chosen from one registry of backends.
#[derive(clap::Args)]
struct SideArgs {
    /// The backend under test, or `none` to run the oracle alone (then only the cases' own
    /// `# raises:` expectations and document claims are checked).
    #[arg(long, value_enum, default_value = "engine")]
    subject: SubjectChoice,
    /// The reference the subject is judged against. `golden` replays libtorch's recordings in
    /// cases/golden/ and runs no libtorch.
    #[arg(long, value_enum, default_value = "libtorch")]
    oracle: Entry,
}

impl SideArgs {
    /// The sides asked for, subject first.
    fn entries(&self) -> Vec<Entry> {
        self.subject.0.into_iter().chain([self.oracle]).collect()
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Run cases and report every divergence between the subject and the oracle.
    Run {
        /// Case files or folders (default: cases/).
        paths: Vec<PathBuf>,
        #[command(flatten)]
        sides: SideArgs,
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
        /// libtorch's intra-op threads (`torch.set_num_threads`). Other counts may change the
        /// last bits of float32 results; a verdict must not depend on it.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..))]
        libtorch_threads: i32,
    },
    /// Show one case statement by statement: subject | oracle | document.
    Show {
        case: PathBuf,
        #[command(flatten)]
        sides: SideArgs,
    },
    /// Record libtorch's observations of every case as goldens under cases/golden/.
    Bless { paths: Vec<PathBuf> },
    /// Run cases on libtorch alone and write its raw observations as JSON, one
    /// `observe::Run` per case: `{"cases/a.yaml": {...}, ...}`. No judging, no reports.
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
    /// The differential fuzzer: a campaign of generated programs, or `reduce` of one case.
    Fuzz(FuzzArgs),
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
            sides,
            filter,
            shard,
            all,
            json,
            report,
            junit,
            jobs,
            libtorch_threads,
        } => {
            // A side this machine lacks (a CUDA one without a device) fails here, once,
            // instead of once per case.
            if let Err(e) = harness::devices::check(&sides.entries()) {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
            let mut cfg = Config::new(&root);
            cfg.subject = sides.subject.0;
            cfg.oracle = sides.oracle;
            if !paths.is_empty() {
                cfg.paths = paths;
            }
            cfg.filter = filter;
            cfg.shard = shard;
            cfg.all = all;
            cfg.threads = jobs;
            run(&cfg, libtorch_threads, &json, &report, &junit)
        }
        Cmd::Show { case, sides } => show(&root, &case, &sides),
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
        Cmd::Fuzz(args) => campaign::cli(args),
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
    let labels = result.meta.labels();
    for c in &result.cases {
        match c.status {
            CaseStatus::Fail => {
                eprintln!("\nFAIL {} ({})", c.path, c.name);
                if let Some(m) = &c.message {
                    eprintln!("  {m}");
                }
                for d in &c.divergences {
                    eprint!("  {}", compare::describe(d, &labels).replace('\n', "\n  "));
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
    let sides = result.meta.labels();
    println!("\n{} vs {}", sides.subject, sides.oracle);
    println!(
        "{} cases, {} statements, {} observables compared: {} passed, {} numerics, {} failed, {} xfail, {} errors, {} skipped; doc drift: {} claims in {} cases ({:.2} s)",
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

fn show(root: &Path, path: &Path, sides: &SideArgs) -> ExitCode {
    tch::set_num_threads(1);
    let c = match case::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = harness::devices::check(&sides.entries()) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let rel = runner::relative(root, path);
    let opts = sides::options_for(&c);
    let job = Job::case(&rel, &c);
    let mut oracle = sides.oracle.build(root);
    let mut subject = sides.subject.0.map(|e| e.build(root));
    let runs = oracle
        .run(&job, &opts)
        .and_then(|l| match subject.as_mut() {
            Some(s) => s.run(&job, &opts).map(|e| (l, e)),
            // Without a subject its column stays empty.
            None => Ok((l, Run::default())),
        });
    let (lrun, erun) = match runs {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let subject_label = subject.as_ref().map_or("(none)".into(), |s| s.version());
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
        "observable",
        cell(format!("subject {subject_label}")),
        cell(format!("oracle {}", oracle.version()))
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
            row("", &|o| show_data(&o.data));
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
                o.grad.as_ref().map_or("None".into(), show_data)
            });
        }
        for w in &ls.warnings {
            println!("{:<38} | {:<38} | {}", "warning", "", cell(w.clone()));
        }
        for (k, claim) in c.doc.iter().enumerate() {
            if claim.after != ls.line {
                continue;
            }
            let show = |r: &Run| match r.probes.get(k).and_then(|p| p.as_ref()) {
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
        let opts = sides::options_for(&c);
        let g = std::panic::catch_unwind(|| {
            golden::record(&mut LibtorchBackend::default(), &rel, &c, &opts)
        });
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
        if let Some(why) = harness::devices::unmet_requirement(&c.requires, &[sides::LIBTORCH]) {
            eprintln!("skipped: {rel}: {why}");
            continue;
        }
        let opts = sides::options_for(&c);
        let run = std::panic::catch_unwind(|| {
            harness::interp::run(&mut LibtorchBackend::default(), &c.program, c.seed, &opts)
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
