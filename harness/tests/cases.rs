//! Every case under `cases/` as its own test (libtest-mimic), named by its path: the engine
//! (subject) against libtorch (oracle). A failure shows the divergence as `- oracle libtorch ... /
//! + subject engine ...`. A case listed
//! in `cases/known_divergences.yaml` passes (with a note) only while it still diverges.

use harness::compare;
use harness::known::KnownDivergences;
use harness::results::CaseStatus;
use harness::runner::{self, Config};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn main() {
    let args = Arguments::from_args();
    tch::set_num_threads(1);
    std::panic::set_hook(Box::new(|_| {}));
    let root: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap_or(root);
    let cfg = Arc::new(Config::new(&root));
    let labels = Arc::new(cfg.labels());
    let known = Arc::new(KnownDivergences::load(
        &root.join("cases/known_divergences.yaml"),
    ));
    let trials = runner::select(&cfg)
        .into_iter()
        .map(|path| {
            let name = runner::relative(&root, &path);
            let (cfg, known, labels) = (cfg.clone(), known.clone(), labels.clone());
            Trial::test(name, move || {
                let known = match known.as_ref() {
                    Ok(k) => Ok(k.clone()),
                    Err(e) => {
                        return Err(Failed::from(format!("cases/known_divergences.yaml: {e}")));
                    }
                };
                let r = runner::run_file(&cfg, &known, &path);
                match r.status {
                    CaseStatus::Pass => Ok(()),
                    CaseStatus::Xfail => {
                        // libtest has no "expected failure": passing, with the reason shown.
                        println!(
                            "note: {} still diverges as known: {}",
                            r.path,
                            r.xfail_reason.as_deref().unwrap_or("")
                        );
                        Ok(())
                    }
                    CaseStatus::Numerics => {
                        // float32 rounding only, with the budget the float64 shadow measured.
                        for n in &r.numerics {
                            println!("note: {}: numerics: {}", r.path, n.describe());
                        }
                        Ok(())
                    }
                    CaseStatus::Skipped => {
                        // A requirement (`requires: [cuda]`) this run lacks: passing, with why.
                        println!("note: {}", r.message.as_deref().unwrap_or(&r.path));
                        Ok(())
                    }
                    CaseStatus::Fail | CaseStatus::Error => {
                        let mut msg = String::new();
                        if let Some(m) = &r.message {
                            msg.push_str(m);
                            msg.push('\n');
                        }
                        for d in &r.divergences {
                            msg.push_str(&compare::describe(d, &labels));
                        }
                        Err(msg.into())
                    }
                }
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
