//! Runs many cases: discovery, sharding, the run's two sides (a subject and an oracle, each a
//! [`Side`] from the registry), known divergences as strict expected failures, and a
//! [`SuiteResult`] for the reports.
//!
//! Cases run in parallel on a rayon pool; each case builds its own sides. A panic inside a case
//! is caught and becomes that case's failure, and a malformed case becomes an `Error` result
//! with its `file:line:col` message; the other cases still run.

use crate::case::{self, Case};
use crate::compare::{self, Tol};
use crate::golden;
use crate::known::KnownDivergences;
use crate::numerics::Judge;
use crate::observe::Run;
use crate::results::{
    CaseResult, CaseStatus, Divergence, FORMAT_VERSION, Labels, RunMeta, SuiteResult,
};
use crate::sides::{self, Entry, Job, Side};
use rayon::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Config {
    /// Files or folders holding cases.
    pub paths: Vec<PathBuf>,
    /// The backend under test; `None` runs the oracle alone, which checks only the cases'
    /// `# raises:` expectations and document claims.
    pub subject: Option<Entry>,
    /// The reference.
    pub oracle: Entry,
    pub filter: Option<String>,
    /// `(k, n)`: run the k-th (1-based) of n slices.
    pub shard: Option<(usize, usize)>,
    /// Report every divergence instead of the first.
    pub all: bool,
    /// The repository root: case paths are reported relative to it, and `cases/` under it holds
    /// the known-divergence file and the goldens.
    pub root: PathBuf,
    pub threads: usize,
}

impl Config {
    /// The engine against libtorch, on the CPU, over `root/cases`.
    pub fn new(root: &Path) -> Self {
        Config {
            paths: vec![root.join("cases")],
            subject: Some(sides::ENGINE),
            oracle: sides::LIBTORCH,
            filter: None,
            shard: None,
            all: false,
            root: root.to_path_buf(),
            threads: 2,
        }
    }

    /// The sides this run uses, subject first.
    pub fn entries(&self) -> Vec<Entry> {
        self.subject.into_iter().chain([self.oracle]).collect()
    }

    /// The run's [`RunMeta`] sides, as the backends name themselves.
    pub fn labels(&self) -> Labels {
        self.meta_sides().labels()
    }

    fn meta_sides(&self) -> RunMeta {
        RunMeta {
            subject: self.subject.map(|e| e.info(&self.root)),
            oracle: self.oracle.info(&self.root),
            ..RunMeta::default()
        }
    }
}

/// Every case file under `paths`, sorted (see [`case::discover`]); paths that do not exist are
/// left out here and reported by [`run_suite`].
pub fn discover(paths: &[PathBuf]) -> Vec<PathBuf> {
    let existing: Vec<&PathBuf> = paths.iter().filter(|p| p.exists()).collect();
    case::discover(&existing).unwrap_or_default()
}

/// The cases this configuration selects: discovery, then `--filter`, then `--shard`.
pub fn select(cfg: &Config) -> Vec<PathBuf> {
    let mut files = discover(&cfg.paths);
    if let Some(f) = &cfg.filter {
        files.retain(|p| p.to_string_lossy().contains(f.as_str()));
    }
    if let Some((k, n)) = cfg.shard {
        let n = n.max(1);
        files = files
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % n == (k.max(1) - 1) % n)
            .map(|(_, p)| p)
            .collect();
    }
    files
}

pub fn relative(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Runs the selected cases and builds the suite result. `progress` is called once per finished
/// case (from worker threads).
pub fn run_suite(cfg: &Config, progress: &(dyn Fn(&CaseResult) + Sync)) -> SuiteResult {
    let started = Instant::now();
    let files = select(cfg);
    let known = KnownDivergences::load(&cfg.root.join("cases/known_divergences.yaml"));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.max(1))
        .build();
    let work = |files: &[PathBuf]| -> Vec<CaseResult> {
        files
            .par_iter()
            .map(|p| {
                let r = run_file(cfg, &known, p);
                progress(&r);
                r
            })
            .collect()
    };
    let mut cases = match &pool {
        Ok(pool) => pool.install(|| work(&files)),
        Err(_) => work(&files),
    };
    for p in cfg.paths.iter().filter(|p| !p.exists()) {
        let rel = relative(&cfg.root, p);
        cases.push(error_result(
            &rel,
            format!("{rel}: no such file or directory"),
        ));
    }
    if let Err(e) = &known {
        cases.push(error_result(
            "cases/known_divergences.yaml",
            format!("cases/known_divergences.yaml: {e}"),
        ));
    }
    let meta = RunMeta {
        started: now_rfc3339(),
        duration_ms: started.elapsed().as_millis() as u64,
        shard: cfg.shard.map(|(k, n)| format!("{k}/{n}")),
        notes: Vec::new(),
        ..cfg.meta_sides()
    };
    SuiteResult {
        format_version: FORMAT_VERSION,
        meta,
        cases,
    }
}

/// Seconds since the epoch as an RFC 3339 UTC timestamp (no calendar crate needed).
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn error_result(path: &str, message: String) -> CaseResult {
    CaseResult {
        path: path.to_string(),
        name: path.to_string(),
        source: String::new(),
        tags: Vec::new(),
        status: CaseStatus::Error,
        program: String::new(),
        program_line: 0,
        statements: 0,
        observables: 0,
        divergences: Vec::new(),
        drift: Vec::new(),
        claims: Vec::new(),
        numerics: Vec::new(),
        xfail_reason: None,
        message: Some(message),
        duration_ms: 0,
    }
}

/// One case file, end to end, never panicking.
pub fn run_file(
    cfg: &Config,
    known: &Result<KnownDivergences, crate::known::KnownError>,
    path: &Path,
) -> CaseResult {
    let rel = relative(&cfg.root, path);
    let started = Instant::now();
    let case = match case::load(path) {
        Ok(c) => c,
        Err(e) => {
            let mut r = error_result(&rel, e.to_string());
            r.duration_ms = started.elapsed().as_millis() as u64;
            return r;
        }
    };
    let result = catch_unwind(AssertUnwindSafe(|| run_loaded(cfg, &rel, &case)));
    let mut r = match result {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a non-string panic".into());
            let mut r = base_result(&rel, &case);
            r.status = CaseStatus::Fail;
            r.message = Some(format!("{rel}: the harness panicked: {msg}"));
            r
        }
    };
    // The known divergences are the engine's against libtorch; libtorch judged against its
    // own goldens, or a mutant, owes none of them.
    let engine_subject = cfg
        .subject
        .is_some_and(|e| e.name == sides::ENGINE.name || e.name == sides::ENGINE_CUDA.name);
    if let Ok(k) = known
        && engine_subject
    {
        k.apply(&mut r);
    }
    r.duration_ms = started.elapsed().as_millis() as u64;
    r
}

fn base_result(rel: &str, case: &Case) -> CaseResult {
    CaseResult {
        path: rel.to_string(),
        name: case.name.clone(),
        source: case.source.clone(),
        tags: case.tags.clone(),
        status: CaseStatus::Pass,
        program: case.program_text.clone(),
        program_line: case.program_line,
        statements: 0,
        observables: 0,
        divergences: Vec::new(),
        drift: Vec::new(),
        claims: Vec::new(),
        numerics: Vec::new(),
        xfail_reason: None,
        message: None,
        duration_ms: 0,
    }
}

fn run_loaded(cfg: &Config, rel: &str, case: &Case) -> CaseResult {
    let mut r = run_sides(cfg, rel, case);
    if matches!(r.status, CaseStatus::Pass | CaseStatus::Fail)
        && let Ok(sensitive) = golden::read_sensitive(&golden::path_for(&cfg.root, rel))
    {
        explain_by_sensitivity(&mut r, case, &sensitive);
        mark_sensitive(&mut r, case, &sensitive);
    }
    r
}

/// A failing case whose every divergence is a value at an observable its golden records as
/// float32-sensitive is `numerics`: one unit roundoff moves that value anywhere (a quotient by
/// a sum that cancels to zero), so the difference is the CPU's, not a semantic one. Without a
/// live shadow (a golden oracle) nothing else could tell, and with one the verdict must be the
/// same.
pub fn explain_by_sensitivity(
    r: &mut CaseResult,
    case: &Case,
    sensitive: &[crate::numerics::NumericsNote],
) {
    if r.status != CaseStatus::Fail || sensitive.is_empty() || r.divergences.is_empty() {
        return;
    }
    let offset = case.program_line.saturating_sub(1);
    let note = |d: &Divergence| {
        sensitive.iter().find(|n| {
            n.line + offset == d.line && n.variable == d.variable && n.observable == d.observable
        })
    };
    let Some(notes) = r.divergences.iter().map(note).collect::<Option<Vec<_>>>() else {
        return;
    };
    r.numerics = notes
        .into_iter()
        .map(|n| crate::numerics::NumericsNote {
            line: n.line + offset,
            ..n.clone()
        })
        .collect();
    r.divergences.clear();
    r.status = CaseStatus::Numerics;
}

/// A passing case whose program is float32-sensitive (its golden says where) is `numerics`:
/// its agreement rests on float32 rounding here as on any other machine.
pub fn mark_sensitive(
    r: &mut CaseResult,
    case: &Case,
    sensitive: &[crate::numerics::NumericsNote],
) {
    if r.status != CaseStatus::Pass || sensitive.is_empty() {
        return;
    }
    let offset = case.program_line.saturating_sub(1);
    r.status = CaseStatus::Numerics;
    r.numerics = sensitive
        .iter()
        .map(|n| crate::numerics::NumericsNote {
            line: n.line + offset,
            ..n.clone()
        })
        .collect();
}

fn run_sides(cfg: &Config, rel: &str, case: &Case) -> CaseResult {
    let entries = cfg.entries();
    if let Some(why) = crate::devices::unmet_requirement(&case.requires, &entries) {
        let mut r = base_result(rel, case);
        r.status = CaseStatus::Skipped;
        r.message = Some(format!("{rel}: skipped: {why}"));
        return r;
    }
    // The command line refuses a side this machine lacks up front; a library caller that did
    // not check gets one error per case.
    if let Some(e) = entries.iter().find_map(|e| e.available().err()) {
        return side_error(rel, case, e);
    }
    let mut oracle = cfg.oracle.build(&cfg.root);
    let mut subject = cfg.subject.map(|e| e.build(&cfg.root));
    let subject = subject.as_mut().map(|s| s.as_mut() as &mut dyn Side);
    judge(rel, case, subject, oracle.as_mut(), cfg.all)
}

/// A case that could not be run on one of its sides (no golden, no device).
fn side_error(rel: &str, case: &Case, e: sides::SideError) -> CaseResult {
    let mut r = base_result(rel, case);
    r.status = CaseStatus::Error;
    r.message = Some(if e.0.contains(rel) {
        e.0
    } else {
        format!("{rel}: {e}")
    });
    r
}

/// Runs `case` on the oracle and, when given, on the subject, and judges it. A value difference
/// beyond the tight tolerance is judged again with the oracle's float64 shadow (a live
/// backend's, or the one a golden recorded); without a shadow the tight verdict stands.
pub fn judge(
    rel: &str,
    case: &Case,
    subject: Option<&mut dyn Side>,
    oracle: &mut dyn Side,
    all: bool,
) -> CaseResult {
    let opts = sides::options_for(case);
    let job = Job::case(rel, case);
    let orun = match oracle.run(&job, &opts) {
        Ok(r) => r,
        Err(e) => return side_error(rel, case, e),
    };
    let Some(subject) = subject else {
        return verdict(rel, case, None, &orun, None, all);
    };
    let srun = match subject.run(&job, &opts) {
        Ok(r) => r,
        Err(e) => return side_error(rel, case, e),
    };
    let mut r = verdict(rel, case, Some(&srun), &orun, None, all);
    if needs_shadow(&r)
        && let Ok(shadow) = oracle.shadow(&job, &opts)
    {
        r = verdict(rel, case, Some(&srun), &orun, Some(&shadow), all);
    }
    if !r.divergences.is_empty() {
        attach_graphs(&mut r, case, &job, subject, oracle, &srun, &orun);
    }
    r
}

/// Graphs are only recorded where they are shown: reruns both sides up to the last diverging
/// step, capturing the graphs after each diverging step (a golden has none to give).
fn attach_graphs(
    r: &mut CaseResult,
    case: &Case,
    job: &Job<'_>,
    subject: &mut dyn Side,
    oracle: &mut dyn Side,
    srun: &Run,
    orun: &Run,
) {
    let offset = case.program_line.saturating_sub(1);
    let seqs = diverging_seqs(srun, orun, &r.divergences, offset);
    let Some(&last) = seqs.iter().map(|(s, _)| s).max() else {
        return;
    };
    let gopts = crate::interp::Options {
        graphs_at: seqs.iter().map(|(s, _)| *s).collect(),
        max_steps: last + 1,
        ..sides::options_for(case)
    };
    let (Ok(srun2), Ok(orun2)) = (subject.run(job, &gopts), oracle.run(job, &gopts)) else {
        return;
    };
    for (seq, i) in seqs {
        let d = &mut r.divergences[i];
        let Some(var) = d.variable.clone() else {
            continue;
        };
        let base = var.strip_suffix(".grad").unwrap_or(&var).to_string();
        let graph = |run: &Run| {
            run.steps
                .iter()
                .find(|s| s.seq == seq)
                .and_then(|s| s.graphs.iter().find(|(n, _)| *n == base))
                .map(|(_, g)| g.clone())
        };
        d.subject_graph = graph(&srun2);
        d.oracle_graph = graph(&orun2);
    }
}

/// Whether a failed tight comparison is about values, which the float64 shadow may explain.
pub fn needs_shadow(r: &CaseResult) -> bool {
    r.status == CaseStatus::Fail
        && r.divergences
            .iter()
            .any(|d| crate::numerics::may_be_rounding(&d.observable))
}

/// For each divergence about a variable: the step it was found at (the first step on its line
/// whose observations differ; an oracle that kept only some steps, a golden, is matched by step
/// number) and the divergence's index.
fn diverging_seqs(srun: &Run, orun: &Run, divs: &[Divergence], offset: u32) -> Vec<(usize, usize)> {
    let mut seqs = Vec::new();
    for (i, d) in divs.iter().enumerate() {
        if d.variable.is_none() {
            continue;
        }
        for o in &orun.steps {
            let Some(s) = srun.steps.iter().find(|s| s.seq == o.seq) else {
                continue;
            };
            if o.line + offset == d.line && s.vars != o.vars {
                seqs.push((o.seq, i));
                break;
            }
        }
    }
    seqs
}

/// Judges runs: subject vs oracle, `# raises:` expectations, and `doc` claims.
pub fn verdict(
    rel: &str,
    case: &Case,
    subject: Option<&Run>,
    oracle: &Run,
    shadow: Option<&Run>,
    all: bool,
) -> CaseResult {
    let mut r = base_result(rel, case);
    let tol = Tol::new(case.tolerance.as_ref());
    let reference = subject.unwrap_or(oracle);
    r.statements = reference.steps.len() as u64;
    let mut divs = Vec::new();
    let mut judge = shadow.map(|s| Judge::new(s, &case.program));
    let observables = if let Some(s) = subject {
        let (d, n) = compare::compare_judged(s, oracle, tol, all, judge.as_mut());
        divs.extend(d);
        n
    } else {
        oracle
            .steps
            .iter()
            .map(|s| 1 + s.vars.len() as u64 * 8)
            .sum()
    };
    if all || divs.is_empty() {
        divs.extend(compare::check_expectations(subject, oracle, all));
    }
    let (claims, claim_divs) = compare::check_claims(&case.doc, subject, oracle, tol);
    if all || divs.is_empty() {
        divs.extend(claim_divs);
    }
    if !all {
        // The earliest divergence in program order is the one named.
        divs.sort_by_key(|d| d.line);
        divs.truncate(1);
    }
    let lines: Vec<&str> = case.program_text.lines().collect();
    let offset = case.program_line.saturating_sub(1);
    for d in &mut divs {
        if d.statement.is_empty() && d.line >= 1 {
            d.statement = lines
                .get(d.line as usize - 1)
                .map_or(String::new(), |s| s.trim().to_string());
        }
        if d.observable != "doc claim" {
            d.line += offset;
        }
    }
    r.claims = claims;
    for c in &mut r.claims {
        let line = case
            .doc
            .iter()
            .find(|d| d.file_line == c.line)
            .map_or(0, |d| d.after);
        if line >= 1 {
            c.statement = lines
                .get(line as usize - 1)
                .map_or(String::new(), |s| s.trim().to_string());
        }
    }
    r.drift = r
        .claims
        .iter()
        .filter(|c| !c.oracle_agrees)
        .cloned()
        .collect();
    r.observables = observables + r.claims.len() as u64;
    if let Some(j) = judge {
        r.numerics = j.notes;
        for n in &mut r.numerics {
            n.line += offset;
        }
    }
    if !divs.is_empty() {
        r.status = CaseStatus::Fail;
    } else if !r.numerics.is_empty() {
        r.status = CaseStatus::Numerics;
    }
    r.divergences = divs;
    if oracle.truncated && r.message.is_none() {
        r.message = Some(format!(
            "{rel}: stopped after {} statement executions",
            oracle.steps.len()
        ));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::libtorch::LibtorchBackend;
    use crate::backend::{Backend, Call, Failure, GraphObs, TensorObs, Value};
    use crate::interp;
    use crate::sides::GoldenSide;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// libtorch with a planted bug: every `grad_fn` name it reports loses its trailing `0`, and
    /// `x * 2` computes `x * 3`.
    struct Wrong(LibtorchBackend);

    impl Backend for Wrong {
        type Tensor = <LibtorchBackend as Backend>::Tensor;
        fn name(&self) -> &'static str {
            "wrong"
        }
        fn version(&self) -> String {
            "wrong 0".into()
        }
        fn call(&mut self, call: Call<Self::Tensor>) -> Result<Value<Self::Tensor>, Failure> {
            let call = match call {
                Call::Binary {
                    op: crate::backend::BinaryOp::Mul,
                    a,
                    b: crate::backend::Operand::Scalar(crate::backend::Scalar::Int(2)),
                } => Call::Binary {
                    op: crate::backend::BinaryOp::Mul,
                    a,
                    b: crate::backend::Operand::Scalar(crate::backend::Scalar::Int(3)),
                },
                c => c,
            };
            self.0.call(call)
        }
        fn observe(&mut self, x: &Self::Tensor) -> TensorObs {
            let mut o = self.0.observe(x);
            o.grad_fn = o.grad_fn.map(|n| n.trim_end_matches('0').to_string());
            o
        }
        fn same(&self, a: &Self::Tensor, b: &Self::Tensor) -> bool {
            self.0.same(a, b)
        }
        fn graph(&mut self, x: &Self::Tensor) -> GraphObs {
            self.0.graph(x)
        }
        fn take_warnings(&mut self) -> Vec<String> {
            self.0.take_warnings()
        }
    }

    fn load(rel: &str) -> Case {
        case::load(&root().join(rel)).expect("case loads")
    }

    #[test]
    fn libtorch_against_itself_never_diverges() {
        let files = discover(&[root().join("cases")]);
        assert!(!files.is_empty());
        for p in files {
            let Ok(c) = case::load(&p) else { continue };
            let rel = relative(&root(), &p);
            let opts = sides::options_for(&c);
            let runs = catch_unwind(AssertUnwindSafe(|| {
                let a = interp::run(&mut LibtorchBackend::new(), &c.program, c.seed, &opts);
                let b = interp::run(&mut LibtorchBackend::new(), &c.program, c.seed, &opts);
                (a, b)
            }));
            // A panic inside the libtorch backend is that backend's bug, reported elsewhere.
            let Ok((a, b)) = runs else { continue };
            let d = compare::compare(&a, &b, c.tolerance.as_ref(), true);
            let labels = Labels::new(Some("libtorch"), "libtorch");
            assert!(d.is_empty(), "{rel}: {}", compare::describe(&d[0], &labels));
        }
    }

    #[test]
    fn a_wrong_backend_is_caught_with_graphs_attached() {
        let c = load("cases/seed001/in03_add_grad_fn.yaml");
        let mut wrong = Wrong(LibtorchBackend::new());
        let r = judge(
            "cases/seed001/in03_add_grad_fn.yaml",
            &c,
            Some(&mut wrong),
            &mut LibtorchBackend::new(),
            false,
        );
        assert_eq!(r.status, CaseStatus::Fail);
        let d = &r.divergences[0];
        assert_eq!(d.observable, "grad_fn");
        assert_eq!(d.subject, "Some(\"AddBackward\")");
        assert_eq!(d.oracle, "Some(\"AddBackward0\")");
        assert!(d.line > c.program_line, "file line, not program line");
        assert!(!d.statement.is_empty());
        assert!(d.oracle_graph.as_ref().is_some_and(|g| !g.nodes.is_empty()));
    }

    #[test]
    fn wrong_values_are_named_with_the_variable() {
        let c = load("cases/seed002/sum_2x_grad.yaml");
        let mut wrong = Wrong(LibtorchBackend::new());
        let r = judge("x", &c, Some(&mut wrong), &mut LibtorchBackend::new(), true);
        assert_eq!(r.status, CaseStatus::Fail);
        assert!(
            r.divergences
                .iter()
                .any(|d| d.observable.ends_with("values")),
            "{:#?}",
            r.divergences
        );
    }

    #[test]
    fn known_divergences_are_strict() {
        let known = KnownDivergences::parse("cases/a.yaml: \"engine lacks X\"\n").unwrap();
        let c = load("cases/seed002/sum_2x_grad.yaml");
        let mut pass = judge(
            "cases/a.yaml",
            &c,
            Some(&mut LibtorchBackend::new()),
            &mut LibtorchBackend::new(),
            false,
        );
        assert_eq!(pass.status, CaseStatus::Pass);
        known.apply(&mut pass);
        assert_eq!(pass.status, CaseStatus::Fail);
        assert!(
            pass.message
                .as_deref()
                .unwrap_or("")
                .contains("no longer diverges")
        );
        let mut fail = judge(
            "cases/a.yaml",
            &c,
            Some(&mut Wrong(LibtorchBackend::new())),
            &mut LibtorchBackend::new(),
            false,
        );
        known.apply(&mut fail);
        assert_eq!(fail.status, CaseStatus::Xfail);
        assert_eq!(fail.xfail_reason.as_deref(), Some("engine lacks X"));
    }

    #[test]
    fn malformed_cases_are_errors_and_the_rest_still_run() {
        let dir = std::env::temp_dir().join(format!("harness-runner-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("bad.yaml"), "name: [unclosed\n").unwrap();
        std::fs::copy(
            root().join("cases/seed002/sum_2x_grad.yaml"),
            dir.join("good.yaml"),
        )
        .unwrap();
        let mut cfg = Config::new(&root());
        cfg.paths = vec![dir.clone(), dir.join("missing")];
        cfg.subject = None;
        let r = run_suite(&cfg, &|_| {});
        let status: Vec<_> = r.cases.iter().map(|c| c.status).collect();
        assert_eq!(
            status,
            [CaseStatus::Error, CaseStatus::Pass, CaseStatus::Error]
        );
        assert!(
            r.cases[0]
                .message
                .as_deref()
                .unwrap_or("")
                .contains("bad.yaml:")
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn libtorch_matches_its_goldens() {
        let mut cfg = Config::new(&root());
        cfg.oracle = sides::GOLDEN;
        cfg.subject = Some(sides::LIBTORCH);
        let labels = cfg.labels();
        let mut checked = 0;
        for p in discover(&[root().join("cases")]) {
            let Ok(c) = case::load(&p) else { continue };
            let rel = relative(&root(), &p);
            if !c.requires.is_empty() {
                continue;
            }
            let r = catch_unwind(AssertUnwindSafe(|| {
                let mut golden = GoldenSide::new(&root());
                judge(
                    &rel,
                    &c,
                    Some(&mut LibtorchBackend::new()),
                    &mut golden,
                    true,
                )
            }));
            let Ok(mut r) = r else { continue };
            if let Ok(sensitive) = golden::read_sensitive(&golden::path_for(&root(), &rel)) {
                explain_by_sensitivity(&mut r, &c, &sensitive);
            }
            let d: Vec<_> = r
                .divergences
                .iter()
                .filter(|d| !d.observable.starts_with("raises"))
                .collect();
            assert!(d.is_empty(), "{rel}: {}", compare::describe(d[0], &labels));
            assert_ne!(r.status, CaseStatus::Error, "{rel}: {:?}", r.message);
            checked += 1;
        }
        assert!(checked > 0, "no goldens found");
    }

    #[test]
    fn sensitivity_marks_ill_conditioned_programs_only_and_touches_no_other_observable() {
        for (rel, sensitive) in [
            ("cases/regressions/66513461.yaml", true),
            ("cases/seed002/polyfit_training_loop_zero_init.yaml", true),
            ("cases/seed002/sum_2x_grad.yaml", false),
            ("cases/views/expand.yaml", false),
        ] {
            let c = load(rel);
            let opts = sides::options_for(&c);
            let (shadow, perturbed) = golden::shadow_runs(&mut LibtorchBackend::new(), &c, &opts);
            let notes = crate::compare::sensitivity(&shadow, &perturbed, None);
            assert_eq!(!notes.is_empty(), sensitive, "{rel}: {notes:?}");
            // Rounding moves values only: versions, grad_fns and outcomes stay as they were.
            let (d, _) = compare::compare_counted(&perturbed, &shadow, Tol::new(None), true);
            for d in &d {
                assert!(
                    d.observable.ends_with("values") || d.observable == "result",
                    "{rel}: {}",
                    compare::describe(d, &Labels::new(Some("perturbed"), "shadow"))
                );
            }
            let g = golden::read(&golden::path_for(&root(), rel)).unwrap();
            assert_eq!(
                !g.sensitive.is_empty(),
                sensitive,
                "{rel}: golden out of date"
            );
        }
    }

    #[test]
    fn every_case_has_a_golden_with_its_shadow() {
        let mut missing = Vec::new();
        let mut checked = 0;
        for p in discover(&[root().join("cases")]) {
            let Ok(c) = case::load(&p) else { continue };
            // A case that needs a device is recorded on that device's oracle.
            if !c.requires.is_empty() {
                continue;
            }
            let rel = relative(&root(), &p);
            match golden::read(&golden::path_for(&root(), &rel)) {
                Ok(g) if g.shadow.is_some() && g.case == rel => checked += 1,
                Ok(_) => missing.push(format!("{rel}: golden without a float64 shadow")),
                Err(e) => missing.push(format!("{rel}: {e}")),
            }
        }
        assert!(
            missing.is_empty(),
            "{} cases lack a usable golden; run `harness bless`:\n{}",
            missing.len(),
            missing.join("\n")
        );
        assert!(checked > 400, "only {checked} goldens");
    }

    #[test]
    fn shards_partition_the_suite() {
        let mut cfg = Config::new(&root());
        let all = select(&cfg);
        let mut union = Vec::new();
        for k in 1..=3 {
            cfg.shard = Some((k, 3));
            union.extend(select(&cfg));
        }
        union.sort();
        assert_eq!(union, all);
    }
}
