//! Backends as values. A run has two sides, a *subject* (the backend under test) and an
//! *oracle* (the reference), and either is a [`Side`]: something that runs a program and hands
//! back what it showed. Every [`Backend`] is a side (through the interpreter), and so is
//! [`GoldenSide`], which replays libtorch's recordings in `cases/golden/`.
//!
//! [`REGISTRY`] is the one list the command line chooses both sides from (`--subject`,
//! `--oracle`): the runner, the fuzzer and `harness show` build their sides from an [`Entry`]
//! and never name a backend type themselves.

use crate::backend::Backend;
use crate::backend::cuda::{
    EngineCudaBackend, LibtorchCudaBackend, engine_cuda_available, libtorch_cuda_available,
};
use crate::backend::engine::EngineBackend;
use crate::backend::libtorch::LibtorchBackend;
use crate::backend::shadow::Shadow;
use crate::case::Case;
use crate::fuzzing::gradcheck::{self, Verdict};
use crate::fuzzing::mutant::{Mutant, Mutation};
use crate::golden::{self, Golden};
use crate::interp::{self, Options, Probe};
use crate::observe::Run;
use crate::program::Program;
use crate::results::SideInfo;
use std::path::{Path, PathBuf};

/// One program for a side to run: the program, the seed of its random data, and the case file
/// it comes from, relative to the repository root (`golden` looks its recording up by that).
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    pub program: &'a Program,
    pub seed: u64,
    pub case: Option<&'a str>,
}

impl<'a> Job<'a> {
    /// A case of the suite.
    pub fn case(rel: &'a str, case: &'a Case) -> Self {
        Job {
            program: &case.program,
            seed: case.seed,
            case: Some(rel),
        }
    }

    /// A program that is no case file (the fuzzer's).
    pub fn program(program: &'a Program, seed: u64) -> Self {
        Job {
            program,
            seed,
            case: None,
        }
    }
}

/// Why a side could not give what was asked of it (no golden for the case, no device).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SideError(pub String);

/// One side of a run. Object-safe, so that a run holds its sides as `Box<dyn Side>`.
pub trait Side {
    /// The backend's name (`engine`, `libtorch`; a registry side: its registry name).
    fn name(&self) -> &str;
    /// The backend's own name, version and, for registry sides, device: `engine 0.1.0 (cpu)`.
    fn version(&self) -> String;
    /// What the program showed, observed as `opts` asks.
    fn run(&mut self, job: &Job<'_>, opts: &Options) -> Result<Run, SideError>;
    /// The same program in float64 (`backend::shadow`): what the numerics oracle measures this
    /// side's own float32 rounding by when it is the oracle.
    fn shadow(&mut self, job: &Job<'_>, opts: &Options) -> Result<Run, SideError>;
    /// Gradcheck of this side's gradients on `program` (`fuzzing::gradcheck`), `per_input`
    /// elements of each input.
    fn gradcheck(
        &mut self,
        program: &Program,
        seed: u64,
        per_input: usize,
    ) -> Result<Verdict, SideError>;
}

/// Every backend is a side: the interpreter runs the program on it.
impl<B: Backend> Side for B {
    fn name(&self) -> &str {
        Backend::name(self)
    }
    fn version(&self) -> String {
        Backend::version(self)
    }
    fn run(&mut self, job: &Job<'_>, opts: &Options) -> Result<Run, SideError> {
        Ok(interp::run(self, job.program, job.seed, opts))
    }
    fn shadow(&mut self, job: &Job<'_>, opts: &Options) -> Result<Run, SideError> {
        Ok(interp::run(
            &mut Shadow::new(self),
            job.program,
            job.seed,
            opts,
        ))
    }
    fn gradcheck(
        &mut self,
        program: &Program,
        seed: u64,
        per_input: usize,
    ) -> Result<Verdict, SideError> {
        Ok(gradcheck::check_sampled(
            self,
            program,
            seed,
            Default::default(),
            per_input,
        ))
    }
}

impl Side for Box<dyn Side> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn version(&self) -> String {
        (**self).version()
    }
    fn run(&mut self, job: &Job<'_>, opts: &Options) -> Result<Run, SideError> {
        (**self).run(job, opts)
    }
    fn shadow(&mut self, job: &Job<'_>, opts: &Options) -> Result<Run, SideError> {
        (**self).shadow(job, opts)
    }
    fn gradcheck(
        &mut self,
        program: &Program,
        seed: u64,
        per_input: usize,
    ) -> Result<Verdict, SideError> {
        (**self).gradcheck(program, seed, per_input)
    }
}

/// The interpreter options a case runs with on every side: one probe per `doc` claim.
pub fn options_for(case: &Case) -> Options {
    let probes = case
        .doc
        .iter()
        .map(|c| Probe {
            line: c.after,
            expr: if c.expr == "raises" {
                None
            } else {
                crate::program::parser::parse_expr(&c.expr).ok()
            },
        })
        .collect();
    Options {
        probes,
        ..Options::default()
    }
}

/// libtorch's recorded observations of the suite's cases (`cases/golden/`), replayed: an
/// oracle for machines without libtorch. It knows the cases it recorded and nothing else, so
/// it cannot run a generated program or gradcheck, and it has no graphs.
pub struct GoldenSide {
    root: PathBuf,
    /// The golden read last, kept for the shadow the same case asks for next.
    last: Option<(String, Golden)>,
}

impl GoldenSide {
    /// The goldens under `root/cases/golden/`.
    pub fn new(root: &Path) -> Self {
        GoldenSide {
            root: root.to_path_buf(),
            last: None,
        }
    }

    fn load(&mut self, job: &Job<'_>) -> Result<&Golden, SideError> {
        let Some(rel) = job.case else {
            return Err(SideError(
                "the golden oracle replays recorded cases; it cannot run a generated program"
                    .into(),
            ));
        };
        if self.last.as_ref().is_none_or(|(r, _)| r != rel) {
            let path = golden::path_for(&self.root, rel);
            let g = golden::read(&path).map_err(|e| {
                SideError(format!(
                    "{}: no usable golden ({e}); run `harness bless` with libtorch",
                    path.display()
                ))
            })?;
            self.last = Some((rel.to_string(), g));
        }
        match &self.last {
            Some((_, g)) => Ok(g),
            None => Err(SideError(format!("{rel}: no golden"))),
        }
    }

    /// The libtorch that recorded the goldens, as the first of them says.
    fn recorded_by(&self) -> Option<String> {
        if let Some((_, g)) = &self.last {
            return Some(g.libtorch.clone());
        }
        first_json(&self.root.join("cases/golden"))
            .and_then(|p| golden::read(&p).ok())
            .map(|g| g.libtorch)
    }
}

/// The first `.json` file under `dir`, in sorted order.
fn first_json(dir: &Path) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if let Some(f) = first_json(&p) {
                return Some(f);
            }
        } else if p.extension().is_some_and(|e| e == "json") {
            return Some(p);
        }
    }
    None
}

impl Side for GoldenSide {
    fn name(&self) -> &str {
        "golden"
    }
    fn version(&self) -> String {
        match self.recorded_by() {
            Some(v) => format!("golden of {v} (cpu)"),
            None => "golden (no recordings found)".into(),
        }
    }
    fn run(&mut self, job: &Job<'_>, _opts: &Options) -> Result<Run, SideError> {
        self.load(job).map(|g| g.run.clone())
    }
    fn shadow(&mut self, job: &Job<'_>, _opts: &Options) -> Result<Run, SideError> {
        let rel = job.case.unwrap_or_default().to_string();
        self.load(job)?
            .shadow
            .clone()
            .ok_or_else(|| SideError(format!("{rel}: the golden has no float64 shadow")))
    }
    fn gradcheck(&mut self, _: &Program, _: u64, _: usize) -> Result<Verdict, SideError> {
        Err(SideError(
            "the golden oracle has recorded values only, no gradients to check".into(),
        ))
    }
}

/// A side built from the registry: a backend under its registry name, with its device in its
/// version where the backend's own version does not say it.
struct Registered<S> {
    inner: S,
    name: &'static str,
    device: Option<&'static str>,
}

impl<S: Side> Side for Registered<S> {
    fn name(&self) -> &str {
        self.name
    }
    fn version(&self) -> String {
        match self.device {
            Some(d) => format!("{} ({d})", self.inner.version()),
            None => self.inner.version(),
        }
    }
    fn run(&mut self, job: &Job<'_>, opts: &Options) -> Result<Run, SideError> {
        self.inner.run(job, opts)
    }
    fn shadow(&mut self, job: &Job<'_>, opts: &Options) -> Result<Run, SideError> {
        self.inner.shadow(job, opts)
    }
    fn gradcheck(
        &mut self,
        program: &Program,
        seed: u64,
        per_input: usize,
    ) -> Result<Verdict, SideError> {
        self.inner.gradcheck(program, seed, per_input)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Engine,
    EngineCuda,
    Libtorch,
    LibtorchCuda,
    Golden,
    Mutant(Mutation),
}

/// A backend a run can use, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// What `--subject`/`--oracle` call it.
    pub name: &'static str,
    /// One line for `--help`.
    pub help: &'static str,
    kind: Kind,
}

const fn entry(name: &'static str, help: &'static str, kind: Kind) -> Entry {
    Entry { name, help, kind }
}

/// A mutation's mutant, named and described as `fuzzing::mutant` names it.
const fn mutant(m: Mutation) -> Entry {
    entry(m.name(), m.summary(), Kind::Mutant(m))
}

pub const ENGINE: Entry = entry("engine", "the engine on the CPU", Kind::Engine);
pub const ENGINE_CUDA: Entry = entry(
    "engine-cuda",
    "the engine with every tensor on cuda:0 (a `--features cuda` build and a GPU)",
    Kind::EngineCuda,
);
pub const LIBTORCH: Entry = entry("libtorch", "libtorch 2.13 on the CPU", Kind::Libtorch);
pub const LIBTORCH_CUDA: Entry = entry(
    "libtorch-cuda",
    "libtorch with every tensor on cuda:0 (a GPU and the CUDA torch wheel)",
    Kind::LibtorchCuda,
);
pub const GOLDEN: Entry = entry(
    "golden",
    "libtorch's recordings in cases/golden/, replayed (an oracle only; runs no libtorch)",
    Kind::Golden,
);

const ALL: [Entry; 13] = [
    ENGINE,
    ENGINE_CUDA,
    LIBTORCH,
    LIBTORCH_CUDA,
    GOLDEN,
    mutant(Mutation::ALL[0]),
    mutant(Mutation::ALL[1]),
    mutant(Mutation::ALL[2]),
    mutant(Mutation::ALL[3]),
    mutant(Mutation::ALL[4]),
    mutant(Mutation::ALL[5]),
    mutant(Mutation::ALL[6]),
    mutant(Mutation::ALL[7]),
];

/// Every backend a run can use. The mutants are libtorch with one deliberate bug each
/// (`fuzzing::mutant`): subjects a suite or a campaign must catch.
pub static REGISTRY: [Entry; 13] = ALL;

/// A name the registry does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown backend `{0}`; the choices are: {choices}", choices = names().join(", "))]
pub struct UnknownSide(pub String);

/// Every registry name, in registry order.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|e| e.name).collect()
}

/// The registry entry called `name`.
pub fn resolve(name: &str) -> Result<Entry, UnknownSide> {
    REGISTRY
        .iter()
        .find(|e| e.name == name)
        .copied()
        .ok_or_else(|| UnknownSide(name.to_string()))
}

/// The registry entry of a mutation's mutant.
pub const fn mutant_entry(m: Mutation) -> Entry {
    mutant(m)
}

impl Entry {
    /// Whether this side puts tensors on a CUDA device.
    pub fn uses_cuda(&self) -> bool {
        matches!(self.kind, Kind::EngineCuda | Kind::LibtorchCuda)
    }

    /// Whether it runs programs it has not seen (all but `golden`, which replays cases).
    pub fn runs_programs(&self) -> bool {
        self.kind != Kind::Golden
    }

    /// Whether it can be the subject: `golden` holds the oracle's recordings, so it is an
    /// oracle only.
    pub fn can_be_subject(&self) -> bool {
        self.kind != Kind::Golden
    }

    /// Whether it can run on this machine, and why not: a CUDA side needs a build with CUDA
    /// and a device.
    pub fn available(&self) -> Result<(), SideError> {
        let r = match self.kind {
            Kind::EngineCuda => engine_cuda_available(),
            Kind::LibtorchCuda => libtorch_cuda_available(),
            _ => Ok(()),
        };
        r.map_err(|e| SideError(e.to_string()))
    }

    /// A fresh side. `root` is the repository root (the goldens are under it). Nothing is
    /// checked: a CUDA side built without a device fails at its first tensor, so callers check
    /// [`Entry::available`] first.
    pub fn build(&self, root: &Path) -> Box<dyn Side> {
        let (name, cpu) = (self.name, Some("cpu"));
        match self.kind {
            Kind::Engine => Box::new(Registered {
                inner: EngineBackend::new(),
                name,
                device: cpu,
            }),
            Kind::EngineCuda => Box::new(Registered {
                inner: EngineCudaBackend::unchecked(),
                name,
                device: None,
            }),
            Kind::Libtorch => Box::new(Registered {
                inner: LibtorchBackend::new(),
                name,
                device: cpu,
            }),
            Kind::LibtorchCuda => Box::new(Registered {
                inner: LibtorchCudaBackend::unchecked(),
                name,
                device: None,
            }),
            Kind::Golden => Box::new(GoldenSide::new(root)),
            Kind::Mutant(m) => Box::new(Registered {
                inner: Mutant::new(LibtorchBackend::new(), m),
                name,
                device: cpu,
            }),
        }
    }

    /// The name and version the results record for this side.
    pub fn info(&self, root: &Path) -> SideInfo {
        SideInfo::new(self.name, &self.build(root).version())
    }
}

/// `--oracle NAME` (and `--subject NAME` through [`SubjectChoice`]): any registry entry, listed
/// with its help in `--help`; clap refuses any other name, listing the choices.
impl clap::ValueEnum for Entry {
    fn value_variants<'a>() -> &'a [Self] {
        &REGISTRY
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name).help(self.help))
    }
}

/// A `--subject` value: a registry entry that can be a subject, or `none`, which runs the
/// oracle alone (only the cases' `# raises:` expectations and document claims are checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubjectChoice(pub Option<Entry>);

/// `none`, then every entry but `golden`.
static SUBJECT_CHOICES: [SubjectChoice; ALL.len()] = {
    let mut out = [SubjectChoice(None); ALL.len()];
    let (mut i, mut j) = (0, 1);
    while i < ALL.len() {
        if !matches!(ALL[i].kind, Kind::Golden) {
            out[j] = SubjectChoice(Some(ALL[i]));
            j += 1;
        }
        i += 1;
    }
    out
};

impl clap::ValueEnum for SubjectChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &SUBJECT_CHOICES
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self.0 {
            Some(e) => clap::builder::PossibleValue::new(e.name).help(e.help),
            None => clap::builder::PossibleValue::new("none").help(
                "no subject: the oracle alone, checking the cases' `# raises:` expectations and \
                 document claims",
            ),
        })
    }
}
