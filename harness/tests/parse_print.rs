//! Parsing then printing is the identity on programs: random programs from
//! `program::strategy::arb_program` survive `parse(print(p))`, printing is canonical (a fixed
//! point after one round), and every program in `cases/` parses, checks and round-trips.

use harness::program::{self, strategy::arb_program};
use proptest::prelude::*;
use std::path::Path;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn parse_inverts_print(p in arb_program()) {
        let text = program::print(&p);
        let back = match program::parse(&text) {
            Ok(b) => b,
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n--- printed:\n{text}"))),
        };
        prop_assert_eq!(&back, &p, "printed:\n{}", text);
        prop_assert_eq!(program::print(&back), text);
    }

    #[test]
    fn any_text_parses_or_fails_cleanly_and_round_trips(text in "[a-z0-9 ()\\[\\]{}:.,=+*/%@<>!#'\"\\\\\t\n_é-]{0,80}") {
        // Whatever text parses, its printed form parses back to the same program.
        if let Ok(p) = program::parse(&text) {
            let printed = program::print(&p);
            let back = program::parse(&printed);
            prop_assert_eq!(back.as_ref().ok(), Some(&p), "text {:?} printed {:?}: {:?}", text, printed, back);
        }
    }
}

#[test]
fn every_case_program_round_trips() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases");
    let files = harness::case::discover(&[&root]).expect("cases/ is readable");
    let mut failures = Vec::new();
    for f in &files {
        let case = match harness::case::load(f) {
            Ok(c) => c,
            Err(e) => {
                failures.push(e.to_string());
                continue;
            }
        };
        let text = program::print(&case.program);
        match program::parse(&text) {
            Ok(back) if back == case.program => {
                if program::print(&back) != text {
                    failures.push(format!("{}: printing is not canonical", f.display()));
                }
            }
            Ok(_) => failures.push(format!(
                "{}: re-parsed program differs:\n{text}",
                f.display()
            )),
            Err(e) => failures.push(format!(
                "{}: printed program does not parse: {e}\n{text}",
                f.display()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
