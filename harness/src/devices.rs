//! Which device each side of a run uses: the CLI's `--subject engine|engine-cuda` and
//! `--oracle libtorch|libtorch-cuda`, the fail-fast availability check behind them, the
//! `requires:` check of case metadata, and the CUDA fuzz campaign (the campaign driver's own
//! subjects are CPU backends; this runs its generic `run_with` with the CUDA backends).

use crate::backend::cuda::{
    EngineCudaBackend, LibtorchCudaBackend, NoCudaDevice, engine_cuda_available,
    libtorch_cuda_available,
};
use crate::backend::engine::EngineBackend;
use crate::backend::libtorch::LibtorchBackend;
use crate::fuzzing::campaign::{self, FuzzArgs};
use std::process::ExitCode;

/// The backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Subject {
    /// The engine on the CPU.
    #[default]
    Engine,
    /// The engine with every tensor on `cuda:0`.
    EngineCuda,
}

/// The reference backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Oracle {
    /// libtorch on the CPU.
    #[default]
    Libtorch,
    /// libtorch with every tensor on `cuda:0`.
    LibtorchCuda,
}

/// The two sides of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sides {
    pub subject: Subject,
    pub oracle: Oracle,
}

impl Sides {
    pub fn uses_cuda(self) -> bool {
        self.subject == Subject::EngineCuda || self.oracle == Oracle::LibtorchCuda
    }
    /// Fails with the first CUDA side that cannot run here.
    pub fn check(self) -> Result<(), NoCudaDevice> {
        if self.subject == Subject::EngineCuda {
            engine_cuda_available()?;
        }
        if self.oracle == Oracle::LibtorchCuda {
            libtorch_cuda_available()?;
        }
        Ok(())
    }
}

/// Why a case whose metadata says `requires: [...]` cannot run with `sides`, or `None` when it
/// can. `cuda` needs a CUDA backend on at least one side and a device for it; any other
/// requirement is unknown to this harness and never met.
pub fn unmet_requirement(requires: &[String], sides: Sides) -> Option<String> {
    for r in requires {
        match r.as_str() {
            "cuda" if !sides.uses_cuda() => {
                return Some(
                    "requires cuda: this run has no CUDA backend (use --subject engine-cuda or \
                     --oracle libtorch-cuda)"
                        .into(),
                );
            }
            "cuda" => {
                if let Err(e) = sides.check() {
                    return Some(format!("requires cuda: {e}"));
                }
            }
            other => return Some(format!("requires {other}: unknown to this harness")),
        }
    }
    None
}

/// Takes `--subject`/`--oracle` values this module owns out of `harness fuzz`'s arguments:
/// `Some(sides)` when a CUDA side was asked for (the rest of `args` is the campaign's).
fn take_sides(args: &mut Vec<String>) -> Result<Option<Sides>, String> {
    let mut sides = Sides::default();
    let mut cuda = false;
    let mut i = 0;
    while i < args.len() {
        let (flag, inline) = match args[i].split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (args[i].clone(), None),
        };
        let value = inline.clone().or_else(|| args.get(i + 1).cloned());
        let width = if inline.is_some() { 1 } else { 2 };
        match (flag.as_str(), value.as_deref()) {
            ("--subject", Some("engine-cuda")) => {
                sides.subject = Subject::EngineCuda;
                cuda = true;
            }
            ("--oracle", Some("libtorch-cuda")) => {
                sides.oracle = Oracle::LibtorchCuda;
                cuda = true;
            }
            ("--oracle", Some("libtorch")) => {}
            ("--oracle", v) => {
                return Err(format!(
                    "--oracle {}: expected libtorch or libtorch-cuda",
                    v.unwrap_or("")
                ));
            }
            _ => {
                i += 1;
                continue;
            }
        }
        args.drain(i..(i + width).min(args.len()));
    }
    Ok(cuda.then_some(sides))
}

/// `harness fuzz`: the campaign driver as before when no CUDA side is asked for, else a
/// campaign with the CUDA backends. Without a device it fails at once.
pub fn fuzz(mut args: Vec<String>) -> ExitCode {
    match cuda_sides(&mut args) {
        Ok(None) => campaign::main_from_args(args),
        Ok(Some(sides)) => cuda_campaign(sides, args),
        Err(code) => code,
    }
}

/// The CUDA sides asked for (taken out of `args`), or the exit code of a refusal.
fn cuda_sides(args: &mut Vec<String>) -> Result<Option<Sides>, ExitCode> {
    match take_sides(args) {
        Ok(None) => Ok(None),
        Ok(Some(sides)) => match sides.check() {
            Ok(()) => Ok(Some(sides)),
            Err(e) => {
                eprintln!("harness fuzz: {e}");
                Err(ExitCode::from(2))
            }
        },
        Err(e) => {
            eprintln!("harness fuzz: {e}");
            Err(ExitCode::from(2))
        }
    }
}

fn cuda_campaign(sides: Sides, args: Vec<String>) -> ExitCode {
    #[derive(clap::Parser)]
    #[command(name = "harness fuzz")]
    struct Cli {
        #[command(flatten)]
        args: FuzzArgs,
    }
    let argv = std::iter::once("harness fuzz".to_string()).chain(args);
    let a = match <Cli as clap::Parser>::try_parse_from(argv) {
        Ok(c) => c.args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    if a.cmd.is_some() {
        eprintln!("harness fuzz: `reduce` runs on the CPU backends; drop --subject/--oracle");
        return ExitCode::from(2);
    }
    let opts = a.options();
    // Availability was checked above, so the constructors below only build.
    let report = match (sides.subject, sides.oracle) {
        (Subject::EngineCuda, Oracle::Libtorch) => {
            campaign::run_with(&opts, EngineCudaBackend::unchecked, LibtorchBackend::new)
        }
        (Subject::EngineCuda, Oracle::LibtorchCuda) => campaign::run_with(
            &opts,
            EngineCudaBackend::unchecked,
            LibtorchCudaBackend::unchecked,
        ),
        (Subject::Engine, _) => {
            campaign::run_with(&opts, EngineBackend::new, LibtorchCudaBackend::unchecked)
        }
    };
    report.print()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn cuda_sides_are_taken_out_of_the_fuzz_arguments() {
        let mut a = args("--time 5 --subject engine-cuda --oracle=libtorch-cuda --seed 3");
        let s = take_sides(&mut a).unwrap().unwrap();
        assert_eq!(s.subject, Subject::EngineCuda);
        assert_eq!(s.oracle, Oracle::LibtorchCuda);
        assert_eq!(a, args("--time 5 --seed 3"));
        // CPU subjects stay for the campaign driver.
        let mut a = args("--subject mutant-sub --time 1");
        assert_eq!(take_sides(&mut a), Ok(None));
        assert_eq!(a, args("--subject mutant-sub --time 1"));
        assert!(take_sides(&mut args("--oracle tpu")).is_err());
    }

    #[test]
    fn requirements_are_checked_against_the_sides() {
        let cuda = vec!["cuda".to_string()];
        let why = unmet_requirement(&cuda, Sides::default()).unwrap();
        assert!(
            why.starts_with("requires cuda: this run has no CUDA backend"),
            "{why}"
        );
        assert_eq!(unmet_requirement(&[], Sides::default()), None);
        let other = unmet_requirement(&["tpu".to_string()], Sides::default()).unwrap();
        assert_eq!(other, "requires tpu: unknown to this harness");
        let gpu = Sides {
            subject: Subject::EngineCuda,
            oracle: Oracle::Libtorch,
        };
        match gpu.check() {
            Ok(()) => assert_eq!(unmet_requirement(&cuda, gpu), None),
            Err(e) => assert_eq!(
                unmet_requirement(&cuda, gpu),
                Some(format!("requires cuda: {e}"))
            ),
        }
    }

    #[test]
    fn fuzz_without_a_device_fails_fast() {
        if engine_cuda_available().is_err() {
            let mut a = args("--subject engine-cuda --time 1");
            assert_eq!(cuda_sides(&mut a), Err(ExitCode::from(2)));
        }
        if libtorch_cuda_available().is_err() {
            let mut a = args("--oracle libtorch-cuda --time 1");
            assert_eq!(cuda_sides(&mut a), Err(ExitCode::from(2)));
        }
        let mut a = args("--oracle libtorch --time 1");
        assert_eq!(cuda_sides(&mut a), Ok(None));
        assert_eq!(a, args("--time 1"));
    }
}
