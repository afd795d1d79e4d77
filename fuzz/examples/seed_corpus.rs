//! Writes the seed corpus: `cargo run -p fuzz --example seed_corpus [CASES_DIR] [CORPUS_DIR]`.
//!
//! Every case under `cases/` (default) becomes a `parse_cases` input (its program text) and a
//! `diff_programs`/`engine_programs` input (the text behind `fuzz::PROGRAM_MAGIC`), and 64
//! seeded byte strings give the structure-aware generator somewhere to start. Files are named by
//! content hash, so re-running adds nothing twice. The corpus is ignored by git.

use rand::{RngCore, SeedableRng};
use std::path::{Path, PathBuf};

fn cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            // Deliberately broken cases are for the loader's tests, and goldens are not cases.
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name != "broken" && name != "golden" {
                cases(&p, out);
            }
        } else if p.extension().is_some_and(|e| e == "yaml") {
            out.push(p);
        }
    }
}

fn write(dir: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let path = dir.join(format!("{h:016x}"));
    if path.exists() {
        return Ok(false);
    }
    std::fs::write(path, bytes)?;
    Ok(true)
}

fn main() -> std::io::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cases_dir = args.first().map_or(root.join("cases"), PathBuf::from);
    let corpus = args.get(1).map_or(root.join("fuzz/corpus"), PathBuf::from);
    let targets = ["diff_programs", "engine_programs", "parse_cases"];
    for t in targets {
        std::fs::create_dir_all(corpus.join(t))?;
    }
    let mut files = Vec::new();
    cases(&cases_dir, &mut files);
    let (mut from_cases, mut skipped) = (0, 0);
    for f in &files {
        match harness::case::load(f) {
            Ok(case) => {
                let text = case.program_text;
                write(&corpus.join("parse_cases"), text.as_bytes())?;
                let mut tagged = fuzz::PROGRAM_MAGIC.to_vec();
                tagged.extend_from_slice(text.as_bytes());
                write(&corpus.join("diff_programs"), &tagged)?;
                write(&corpus.join("engine_programs"), &tagged)?;
                from_cases += 1;
            }
            Err(e) => {
                eprintln!("skipped {e}");
                skipped += 1;
            }
        }
    }
    for seed in 0..64u64 {
        let mut bytes = vec![0u8; 2048];
        rand_chacha::ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
        write(&corpus.join("diff_programs"), &bytes)?;
        write(&corpus.join("engine_programs"), &bytes)?;
    }
    println!(
        "{from_cases} cases ({skipped} skipped) and 64 generator seeds written under {}",
        corpus.display()
    );
    Ok(())
}
