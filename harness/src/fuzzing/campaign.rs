//! Fuzz campaigns without libFuzzer: `harness fuzz --seed S --time 60`.
//!
//! One worker per core, each with its own pair of sides, the subject and the oracle, built from
//! the registry (`crate::sides`; libtorch handles are not shared across threads). Program `i` of
//! a campaign is generated from seed `S + i`, so any finding can be regenerated from its seed
//! alone. Every tenth program is a differentiable one and goes through gradcheck as well. Findings are deduplicated by [`Key`] (first divergent observable,
//! op); the first program with a new key is shrunk and written as a case under
//! `cases/regressions/`. A watchdog reports a program that runs for more than 10 s as a hang
//! (it is written out and the campaign stops without waiting for that worker).
//!
//! `harness fuzz reduce FILE` shrinks a given case, the same subject against the same oracle.

use super::generate::{self, GenConfig};
use super::oracle::{Differential, Finding, FindingKind, Key};
use super::shrink;
use crate::error_kind::ErrorKind;
use crate::program::Program;
use crate::sides::{Entry, Side};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `harness fuzz`'s options. The two sides come from the registry (`crate::sides`): any
/// backend that runs programs, so every name but `golden`.
#[derive(Debug, Clone, clap::Args)]
pub struct FuzzArgs {
    #[command(subcommand)]
    pub cmd: Option<FuzzCmd>,
    /// The campaign's first program seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Time budget in seconds.
    #[arg(long, default_value_t = 60)]
    pub time: u64,
    /// Stop after this many programs (default: only the time budget).
    #[arg(long)]
    pub programs: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Where shrunk findings are written.
    #[arg(long, default_value = "cases/regressions")]
    pub out: PathBuf,
    /// The backend under test (`libtorch`: against itself, a campaign that must come out
    /// clean; a mutant: one that must find divergences).
    #[arg(long, value_enum, default_value = "engine", global = true)]
    pub subject: Entry,
    /// The reference the subject is judged against.
    #[arg(long, value_enum, default_value = "libtorch", global = true)]
    pub oracle: Entry,
    /// Oracle calls the shrinker may spend on one finding.
    #[arg(long, default_value_t = 2000, global = true)]
    pub shrink_budget: usize,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum FuzzCmd {
    /// Shrink a case file against the oracle and write the result as a regression case.
    Reduce {
        file: PathBuf,
        #[arg(long, default_value = "cases/regressions")]
        out: PathBuf,
    },
}

impl FuzzArgs {
    /// The campaign options these arguments ask for (one worker per core by default).
    pub fn options(&self) -> Options {
        Options {
            seed: self.seed,
            time: Duration::from_secs(self.time),
            programs: self.programs,
            workers: self
                .workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
            out: Some(self.out.clone()),
            progress: true,
            shrink_budget: self.shrink_budget,
        }
    }

    /// Why these sides cannot fuzz here: a side that cannot run new programs (`golden`), or
    /// one whose device this machine lacks.
    pub fn refusal(&self) -> Option<String> {
        for (flag, e) in [("--subject", self.subject), ("--oracle", self.oracle)] {
            if !e.runs_programs() {
                return Some(format!(
                    "{flag} {}: it replays recorded cases and cannot run generated programs",
                    e.name
                ));
            }
            if let Err(why) = e.available() {
                return Some(format!("{flag} {}: {why}", e.name));
            }
        }
        None
    }
}

/// Entry point for a CLI that embeds [`FuzzArgs`] in its own clap tree (`harness fuzz`).
pub fn cli(args: FuzzArgs) -> ExitCode {
    // A side that cannot run here fails at once, not once per worker.
    if let Some(why) = args.refusal() {
        eprintln!("harness fuzz: {why}");
        return ExitCode::from(2);
    }
    if let Some(FuzzCmd::Reduce { file, out }) = &args.cmd {
        return match reduce(file, out, args.subject, args.oracle, args.shrink_budget) {
            Ok(msg) => {
                println!("{msg}");
                ExitCode::SUCCESS
            }
            Err(msg) => {
                eprintln!("harness fuzz reduce: {msg}");
                ExitCode::from(2)
            }
        };
    }
    let opts = args.options();
    let (subject, oracle) = (args.subject, args.oracle);
    // Only `golden` reads files to build, and a campaign refuses it; the root is the working
    // directory, where `cases/known_divergences.yaml` is read from too.
    let report = run_with(
        &opts,
        move || subject.build(Path::new(".")),
        move || oracle.build(Path::new(".")),
    );
    report.print()
}

#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    pub time: Duration,
    pub programs: Option<u64>,
    pub workers: usize,
    /// Where to write shrunk findings; `None` keeps them in memory (tests).
    pub out: Option<PathBuf>,
    pub progress: bool,
    pub shrink_budget: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 0,
            time: Duration::from_secs(60),
            programs: None,
            workers: 2,
            out: None,
            progress: false,
            shrink_budget: 2000,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Found {
    pub key: Key,
    /// The seed of the first program that showed it.
    pub seed: u64,
    /// How many programs showed it.
    pub count: u64,
    /// The finding on the shrunk program.
    pub description: String,
    pub program: Program,
    pub path: Option<PathBuf>,
    /// The known divergence (a case in `cases/known_divergences.yaml`) that explains it (the
    /// same key, and the same ops once shrunk): counted against it and not written again.
    pub known: Option<String>,
}

/// Programs whose only differences were float32 rounding, by the first difference's key.
#[derive(Debug, Clone)]
pub struct Rounding {
    pub key: Key,
    pub seed: u64,
    pub count: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The subject's and the oracle's versions (`engine 0.1.0 (cpu)`).
    pub sides: [String; 2],
    pub programs: u64,
    pub elapsed: Duration,
    pub findings: Vec<Found>,
    /// Programs the numerics oracle explained as float32 rounding: counted, never written.
    pub numerics: Vec<Rounding>,
    /// Seeds of programs that ran past the watchdog's limit.
    pub hangs: Vec<u64>,
}

impl Report {
    pub fn rate(&self) -> f64 {
        self.programs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The campaign's summary and its findings on stdout; the exit code says whether any.
    pub fn print(&self) -> ExitCode {
        let new: Vec<&Found> = self.findings.iter().filter(|f| f.known.is_none()).collect();
        println!(
            "subject {} vs oracle {}: {} programs in {:.1} s ({:.0} programs/s): {} distinct divergences, {} explained by known divergences, {} distinct float32 numerics ({} programs)",
            self.sides[0],
            self.sides[1],
            self.programs,
            self.elapsed.as_secs_f64(),
            self.rate(),
            new.len(),
            self.findings.len() - new.len(),
            self.numerics.len(),
            self.numerics.iter().map(|n| n.count).sum::<u64>()
        );
        for f in &self.findings {
            let path = match (&f.known, &f.path) {
                (Some(k), _) => format!("(known: {k})"),
                (None, Some(p)) => p.display().to_string(),
                (None, None) => "(not written)".into(),
            };
            println!(
                "  {} x{}  seed {}  {}\n    {}",
                f.key, f.count, f.seed, path, f.description
            );
        }
        if !self.numerics.is_empty() {
            println!("float32 numerics (not divergences, not written):");
            for n in &self.numerics {
                println!("  {} x{}  seed {}", n.key, n.count, n.seed);
            }
        }
        if new.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
}

/// Program `seed`'s generator configuration: every tenth is differentiable.
pub fn config_for(seed: u64) -> GenConfig {
    if seed % 10 == 9 {
        GenConfig::differentiable()
    } else {
        GenConfig::default()
    }
}

/// The data seed for `randn`/`rand` in program `seed` (kept small so cases stay readable).
pub fn data_seed(seed: u64) -> u64 {
    seed % 1000
}

/// Per worker: the seed it is running and since when.
type Busy = Vec<Option<(u64, Instant)>>;

/// Runs a campaign of `opts` with `test()` against `reference()`, one pair per worker.
pub fn run_with<A, B, FA, FB>(opts: &Options, test: FA, reference: FB) -> Report
where
    A: Side + 'static,
    B: Side + 'static,
    FA: Fn() -> A + Send + Sync + 'static + Clone,
    FB: Fn() -> B + Send + Sync + 'static + Clone,
{
    let start = Instant::now();
    // Panics are findings, caught and reported; the default hook would also print each one.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let found: Arc<Mutex<BTreeMap<Key, Found>>> = Arc::default();
    let rounding: Arc<Mutex<BTreeMap<Key, Rounding>>> = Arc::default();
    let mut first = Differential::new(test(), reference());
    let sides = [first.test.version(), first.reference.version()];
    let known = Arc::new(known_signatures(&mut first));
    drop(first);
    let busy: Arc<Mutex<Busy>> = Arc::new(Mutex::new(vec![None; opts.workers.max(1)]));
    let mut handles = Vec::new();
    for w in 0..opts.workers.max(1) {
        let (next, done, stop, found, busy, rounding, known) = (
            next.clone(),
            done.clone(),
            stop.clone(),
            found.clone(),
            busy.clone(),
            rounding.clone(),
            known.clone(),
        );
        let (test, reference, opts) = (test.clone(), reference.clone(), opts.clone());
        handles.push(std::thread::spawn(move || {
            // Workers are the parallelism; intra-op threads would only fight them for cores.
            tch::set_num_threads(1);
            let mut diff = Differential::new(test(), reference());
            loop {
                if stop.load(Ordering::Relaxed) || start.elapsed() >= opts.time {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if opts.programs.is_some_and(|n| i >= n) {
                    break;
                }
                let seed = opts.seed.wrapping_add(i);
                busy.lock().unwrap_or_else(|e| e.into_inner())[w] = Some((seed, Instant::now()));
                let program = generate::program_from_seed(seed, &config_for(seed));
                diff.data_seed = data_seed(seed);
                if let Some(f) = diff.check(&program) {
                    record(&mut diff, &opts, &found, &known, seed, &program, f);
                } else if let Some(key) = diff.last_numerics.take() {
                    rounding
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(key.clone())
                        .or_insert(Rounding {
                            key,
                            seed,
                            count: 0,
                        })
                        .count += 1;
                }
                busy.lock().unwrap_or_else(|e| e.into_inner())[w] = None;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let bar = if opts.progress {
        let b = ProgressBar::new(opts.time.as_secs().max(1));
        b.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let mut hangs = Vec::new();
    while handles.iter().any(|h| !h.is_finished()) {
        std::thread::sleep(Duration::from_millis(100));
        let n = done.load(Ordering::Relaxed);
        let k = found.lock().unwrap_or_else(|e| e.into_inner()).len();
        let secs = start.elapsed().as_secs_f64();
        bar.set_position(start.elapsed().as_secs());
        bar.set_message(format!(
            "{n} programs, {:.0}/s, {k} distinct divergences",
            n as f64 / secs.max(1e-9)
        ));
        let stuck: Vec<u64> = busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .flatten()
            .filter(|(_, t)| t.elapsed() > Duration::from_secs(10))
            .map(|(s, _)| *s)
            .collect();
        if !stuck.is_empty() {
            hangs = stuck;
            stop.store(true, Ordering::Relaxed);
            for &s in &hangs {
                bar.println(format!(
                    "program seed {s} has run for more than 10 s: a hang"
                ));
                if let Some(dir) = &opts.out {
                    let p = generate::program_from_seed(s, &config_for(s));
                    let _ = std::fs::create_dir_all(dir);
                    let _ =
                        std::fs::write(dir.join(format!("hang-{s}.py")), crate::program::print(&p));
                }
            }
            break;
        }
    }
    bar.finish_and_clear();
    std::panic::set_hook(hook);
    if hangs.is_empty() {
        for h in handles {
            let _ = h.join();
        }
    }
    let findings = found
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .cloned()
        .collect();
    let numerics = rounding
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .cloned()
        .collect();
    Report {
        sides,
        programs: done.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
        findings,
        numerics,
        hangs,
    }
}

/// What ties a finding to a known divergence: its key, and the ops of its shrunk program. A
/// known case is itself a shrunk finding, so the same bug shrinks to at least its ops; another
/// bug with the same first divergent observable rarely does. A finding so explained is still
/// listed, with its seed and count, in the campaign's report.
type Signature = (Key, BTreeSet<String>);

/// The known divergence whose key this is and whose ops the shrunk program holds (the most
/// specific, when several do).
fn explained_by<'k>(
    known: &'k BTreeMap<Signature, String>,
    key: &Key,
    p: &Program,
) -> Option<&'k String> {
    let have = ops(p);
    known
        .iter()
        .filter(|((k, need), _)| k == key && need.is_subset(&have))
        .max_by_key(|((_, need), _)| need.len())
        .map(|(_, case)| case)
}

fn ops(p: &Program) -> BTreeSet<String> {
    fn walk(stmts: &[crate::program::Stmt], out: &mut BTreeSet<String>) {
        for s in stmts {
            out.insert(super::oracle::stmt_op(s));
            match &s.kind {
                crate::program::StmtKind::With { body, .. }
                | crate::program::StmtKind::For { body, .. } => walk(body, out),
                crate::program::StmtKind::If { body, orelse, .. } => {
                    walk(body, out);
                    walk(orelse, out);
                }
                _ => {}
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&p.stmts, &mut out);
    out
}

/// Each known divergence's signature, as the oracle finds it on the listed case today, so that
/// a campaign counts a finding it explains against it instead of writing it again.
fn known_signatures<A: Side, B: Side>(
    diff: &mut Differential<A, B>,
) -> BTreeMap<Signature, String> {
    let path = std::path::Path::new("cases/known_divergences.yaml");
    let Ok(known) = crate::known::KnownDivergences::load(path) else {
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for (case, _) in known.entries() {
        let Ok(c) = crate::case::load(std::path::Path::new(case)) else {
            continue;
        };
        diff.data_seed = c.seed;
        let f = std::panic::catch_unwind(AssertUnwindSafe(|| diff.check(&c.program)));
        if let Ok(Some(f)) = f {
            out.entry((f.key, ops(&c.program)))
                .or_insert_with(|| case.to_string());
        }
    }
    out
}

fn record<A: Side, B: Side>(
    diff: &mut Differential<A, B>,
    opts: &Options,
    found: &Mutex<BTreeMap<Key, Found>>,
    known: &BTreeMap<Signature, String>,
    seed: u64,
    program: &Program,
    f: Finding,
) {
    {
        let mut map = found.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = map.get_mut(&f.key) {
            old.count += 1;
            return;
        }
        // Claim the key before the slow shrink, so other workers only count it.
        map.insert(
            f.key.clone(),
            Found {
                key: f.key.clone(),
                seed,
                count: 1,
                description: f.to_string(),
                program: program.clone(),
                path: None,
                known: None,
            },
        );
    }
    let (small, sf) = shrink::shrink(program, &f.key, |q| diff.check(q), opts.shrink_budget)
        .unwrap_or_else(|| (program.clone(), f.clone()));
    if let Some(case) = explained_by(known, &f.key, &small) {
        let mut map = found.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = map.get_mut(&f.key) {
            entry.description = sf.to_string();
            entry.program = small;
            entry.known = Some(case.clone());
        }
        return;
    }
    // A message the classification table does not know is a gap in the table (the engine maps
    // its errors to kinds directly), not a divergence a case could state: report it, no case.
    let table_gap = matches!(&sf.kind, FindingKind::Divergence(d)
        if [&d.subject_error, &d.oracle_error]
            .iter()
            .any(|e| e.as_ref().is_some_and(|e| e.kind == ErrorKind::Unclassified)));
    let path = opts.out.as_ref().filter(|_| !table_gap).and_then(|dir| {
        shrink::write_case(
            dir,
            &mut diff.reference,
            &small,
            &sf,
            &format!("fuzz {seed}"),
            diff.data_seed,
        )
        .ok()
    });
    let mut map = found.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(entry) = map.get_mut(&f.key) {
        entry.description = sf.to_string();
        entry.program = small;
        entry.path = path;
    }
}

/// `harness fuzz reduce FILE`: shrink a case's program, `subject` against `oracle`.
fn reduce(
    file: &Path,
    out: &Path,
    subject: Entry,
    oracle: Entry,
    budget: usize,
) -> Result<String, String> {
    let case = crate::case::load(file).map_err(|e| e.to_string())?;
    let root = Path::new(".");
    let mut d = Differential::new(subject.build(root), oracle.build(root));
    d.data_seed = case.seed;
    let f = d
        .check(&case.program)
        .ok_or_else(|| format!("{}: no divergence to reduce", file.display()))?;
    let (p, f) = shrink::shrink(&case.program, &f.key, |q| d.check(q), budget)
        .ok_or_else(|| format!("{}: the divergence does not reproduce", file.display()))?;
    let origin = format!("{} (reduced)", case.source);
    let path = shrink::write_case(out, &mut d.reference, &p, &f, &origin, case.seed)
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "{} statements -> {}: {}\n{}",
        case.program.stmts.len(),
        p.stmts.len(),
        path.display(),
        f
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Program {
        crate::program::parser::parse(text).unwrap()
    }

    #[test]
    fn a_known_divergence_explains_only_findings_with_its_key_and_its_ops() {
        let key = Key {
            observable: "grad.values".into(),
            op: "backward".into(),
        };
        let known_case = parse(
            "a = tensor(1.0, requires_grad=True)\nb = tensor(2.0, requires_grad=True)\ns = torch.stack([a, b], dim=0)\ns.sum().backward(retain_graph=True)\nb.backward()\n",
        );
        let known = BTreeMap::from([((key.clone(), ops(&known_case)), "cases/k.yaml".to_string())]);
        // The same bug, shrunk with one more op around it.
        let same = parse(
            "a = tensor(1.0, requires_grad=True)\nc = a + 2.0\nb = tensor(2.0, requires_grad=True)\ns = torch.stack([c, b], dim=0)\ns.sum().backward()\n(s @ s).backward()\n",
        );
        assert_eq!(
            explained_by(&known, &key, &same).map(String::as_str),
            Some("cases/k.yaml")
        );
        // A gradient bug without the stack is another bug.
        let other = parse("a = tensor(1.0, requires_grad=True)\n(a * a).backward()\n");
        assert_eq!(explained_by(&known, &key, &other), None);
        // The same ops with another first divergence is another bug too.
        let values = Key {
            observable: "values".into(),
            op: "backward".into(),
        };
        assert_eq!(explained_by(&known, &values, &same), None);
    }
}
