//! What a run's sides need of the machine: the `requires:` check of case metadata against the
//! devices the sides use, and the fail-fast check that every side can run here at all.

use crate::sides::{Entry, SideError};

/// The first side of a run that cannot run on this machine, and why (`no CUDA device: ...`).
pub fn check(sides: &[Entry]) -> Result<(), SideError> {
    sides.iter().try_for_each(Entry::available)
}

/// Why a case whose metadata says `requires: [...]` cannot run with `sides`, or `None` when it
/// can. `cuda` needs a CUDA backend on at least one side and a device for it; any other
/// requirement is unknown to this harness and never met.
pub fn unmet_requirement(requires: &[String], sides: &[Entry]) -> Option<String> {
    for r in requires {
        match r.as_str() {
            "cuda" if !sides.iter().any(Entry::uses_cuda) => {
                return Some(
                    "requires cuda: this run has no CUDA backend (use --subject engine-cuda or \
                     --oracle libtorch-cuda)"
                        .into(),
                );
            }
            "cuda" => {
                if let Err(e) = check(sides) {
                    return Some(format!("requires cuda: {e}"));
                }
            }
            other => return Some(format!("requires {other}: unknown to this harness")),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sides::{ENGINE, ENGINE_CUDA, GOLDEN, LIBTORCH, LIBTORCH_CUDA};

    #[test]
    fn requirements_are_checked_against_the_sides() {
        let cuda = vec!["cuda".to_string()];
        for cpu in [[ENGINE, LIBTORCH], [LIBTORCH, GOLDEN]] {
            let why = unmet_requirement(&cuda, &cpu).unwrap();
            assert!(
                why.starts_with("requires cuda: this run has no CUDA backend"),
                "{why}"
            );
            assert_eq!(unmet_requirement(&[], &cpu), None);
            assert_eq!(check(&cpu), Ok(()));
        }
        let other = unmet_requirement(&["tpu".to_string()], &[ENGINE, LIBTORCH]).unwrap();
        assert_eq!(other, "requires tpu: unknown to this harness");
        for gpu in [[ENGINE_CUDA, LIBTORCH], [ENGINE, LIBTORCH_CUDA]] {
            match check(&gpu) {
                Ok(()) => assert_eq!(unmet_requirement(&cuda, &gpu), None),
                Err(e) => {
                    assert!(e.0.starts_with("no CUDA device: "), "{e}");
                    assert_eq!(
                        unmet_requirement(&cuda, &gpu),
                        Some(format!("requires cuda: {e}"))
                    );
                }
            }
        }
    }
}
