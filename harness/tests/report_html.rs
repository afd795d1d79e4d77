//! The HTML, JUnit and JSON reports and `merge`, checked on hand-built results: every status, a
//! divergence with graphs on both sides, document drift, and a case whose every text tries to
//! inject markup.

use harness::report::{self, sample};
use harness::results::{FORMAT_VERSION, RunMeta, SideInfo, SuiteResult};

fn html() -> String {
    report::render_html(&sample::sample_suite())
}

/// The JSON the page's script reads, parsed back as a browser would.
fn embedded_data(page: &str) -> serde_json::Value {
    let start = page
        .find(r#"<script type="application/json" id="report-data">"#)
        .expect("data element");
    let rest = &page[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest.find("</script>").unwrap();
    serde_json::from_str(&rest[open..close]).expect("embedded JSON parses")
}

fn figure(page: &str, key: &str) -> String {
    let marker = format!(r#"data-fig="{key}">"#);
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no figure {key}"))
        + marker.len();
    page[at..].split('<').next().unwrap().to_string()
}

#[test]
fn summary_figures_are_the_hand_counted_ones() {
    let page = html();
    // sample_suite: pass, fail, drift(pass), xfail, error, evil(fail), inplace(fail), fuzz(pass),
    // numerics.
    assert_eq!(figure(&page, "cases"), "9");
    assert_eq!(figure(&page, "passed"), "3");
    assert_eq!(figure(&page, "failed"), "3");
    assert_eq!(figure(&page, "xfail"), "1");
    assert_eq!(figure(&page, "numerics"), "1");
    assert_eq!(figure(&page, "errors"), "1");
    assert_eq!(figure(&page, "drift"), "1");
    // Statements are the program lines of each case, except 6 set by hand and 0 for the error.
    assert_eq!(figure(&page, "statements"), "25");
    assert_eq!(figure(&page, "observables"), (41 + 7 * 19).to_string());
    assert!(page.contains("libtorch 2.13.0") && page.contains("engine 0.1.0"));
    assert!(page.contains("2026-11-23T18:00:00Z") && page.contains("4.3 s"));
    assert!(page.contains(
        "engine 0.1.0 (cpu) diverges from libtorch 2.13.0 (cpu) on 3 of 9 cases, 1 could not be run"
    ));
    // The tables and graphs name both sides by role and backend.
    let data = embedded_data(&page);
    assert_eq!(data["sides"]["subject"], "subject engine 0.1.0 (cpu)");
    assert_eq!(data["sides"]["oracle"], "oracle libtorch 2.13.0 (cpu)");
    assert!(page.contains("<h5>subject engine 0.1.0 (cpu)</h5>"));
    assert!(page.contains("<dt>oracle</dt><dd>libtorch 2.13.0 (cpu)</dd>"));
}

#[test]
fn every_text_from_cases_and_libtorch_is_escaped() {
    let page = html();
    // Our two script elements, and no other: nothing from a case opens or closes one.
    assert_eq!(page.matches("<script").count(), 2, "{page}");
    assert_eq!(page.matches("</script>").count(), 2);
    for raw in [
        "<script>alert(",
        "<img src=x",
        "<svg onload",
        "<b onmouseover",
        "<i>tag</i>",
        "<!--",
    ] {
        assert!(!page.contains(raw), "raw {raw:?} in the page");
    }
    // The no-script list shows the case escaped, and the SVG template escapes node names.
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&lt;script&gt;alert(7)&lt;/script&gt;"));
    // The JSON carries the texts intact for the script to insert as text.
    let data = embedded_data(&page);
    let evil = data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "<script>alert(1)</script>")
        .expect("the evil case survives the round trip");
    assert_eq!(evil["message"], "</script><script>alert(4)</script>");
    assert_eq!(
        evil["divergences"][0]["oracle_error"]["message"],
        "<img src=x onerror=alert(6)>"
    );
}

#[test]
fn cases_are_listed_failures_first() {
    let data = embedded_data(&html());
    let statuses: Vec<&str> = data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "fail", "fail", "fail", "error", "xfail", "numerics", "pass", "pass", "pass"
        ]
    );
    // Within a status, by path; the drifting pass before the plain ones.
    let paths: Vec<&str> = data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths[6], "cases/seed001/in03_add_grad_fn.yaml");
    assert!(paths[0] < paths[1] && paths[1] < paths[2]);
}

#[test]
fn divergences_carry_the_document_side_and_both_graphs() {
    let page = html();
    let data = embedded_data(&page);
    let acc = data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "cases/seed001/in09_accumulate.yaml")
        .unwrap();
    let d = &acc["divergences"][0];
    assert_eq!(d["line"], 8);
    assert_eq!(d["doc"]["observable"], "x.grad");
    assert_eq!(d["doc"]["value"], "[[4.5, 4.5], [4.5, 4.5]]");
    let id = d["graph"].as_str().expect("a graph template");
    let start = page.find(&format!(r#"<template id="{id}">"#)).unwrap();
    let tpl = &page[start..start + page[start..].find("</template>").unwrap()];
    assert_eq!(tpl.matches("<svg class=\"graph\"").count(), 2);
    // libtorch has AddBackward0 where the engine has AccumulateGrad, and one more leaf.
    assert!(tpl.contains("AddBackward0") && tpl.contains("MeanBackward0"));
    assert!(tpl.contains(r#"class="n differs""#));
    assert!(tpl.contains(r#"class="n leaf only""#));
    assert!(tpl.contains("leaf [2, 2]") && tpl.contains("saved at v0, v0"));
    // A divergence without graphs has no template.
    let inplace = data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "cases/topics/inplace_leaf_add_.yaml")
        .unwrap();
    assert!(inplace["divergences"][0]["graph"].is_null());
    assert_eq!(
        inplace["divergences"][0]["oracle_error"]["kind"],
        "leaf_inplace"
    );
}

#[test]
fn the_page_loads_nothing_from_the_network() {
    let page = html();
    for needle in ["http://", "https://", "src=\"", "@import", "url("] {
        let hits: Vec<_> = page.match_indices(needle).collect();
        // The SVG namespace is an identifier, not a fetch.
        let real = hits
            .iter()
            .filter(|(i, _)| !page[*i..].starts_with("http://www.w3.org/2000/svg"))
            .count();
        assert_eq!(real, 0, "{needle} in the page");
    }
    assert!(page.contains("default-src 'none'"));
}

#[test]
fn a_thousand_case_report_stays_under_five_megabytes() {
    let suite = sample::synthetic_suite(1000);
    assert_eq!(suite.cases.len(), 1000);
    let page = report::render_html(&suite);
    eprintln!("1000-case report: {} bytes", page.len());
    assert!(page.len() < 5 * 1024 * 1024, "{} bytes", page.len());
    assert_eq!(
        embedded_data(&page)["cases"].as_array().unwrap().len(),
        1000
    );
}

#[test]
fn an_empty_run_still_renders() {
    let page = report::render_html(&SuiteResult::default());
    assert!(page.contains("No cases were run."));
    assert_eq!(figure(&page, "cases"), "0");
}

#[test]
fn junit_has_a_suite_per_folder_and_the_right_elements() {
    let x = report::render_junit(&sample::sample_suite());
    assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(x.contains(
        r#"<testsuites name="autograd-conformance" tests="9" failures="3" errors="1" skipped="1""#
    ));
    assert!(x.contains(
        r#"<testsuite name="cases/seed001" tests="3" failures="1" errors="0" skipped="0""#
    ));
    assert_eq!(x.matches("<testsuite ").count(), 6);
    assert_eq!(x.matches("<testcase ").count(), 9);
    assert_eq!(x.matches("<failure ").count(), 3);
    assert_eq!(x.matches("<error ").count(), 1);
    assert!(x.contains(
        r#"<skipped message="xfail: the engine does not record whether a view was made under no_grad yet"/>"#
    ));
    // Each side's value on a line of its own, named by role and backend.
    let line = |start: &str, value: &str| {
        x.lines()
            .any(|l| l.trim_start().starts_with(start) && l.ends_with(&format!(" {value}")))
    };
    assert!(
        line(
            "subject engine 0.1.0 (cpu):",
            "[[3.0000, 3.0000], [3.0000, 3.0000]]"
        ),
        "{x}"
    );
    assert!(
        line(
            "oracle libtorch 2.13.0 (cpu):",
            "[[4.5000, 4.5000], [4.5000, 4.5000]]"
        ),
        "{x}"
    );
    assert!(x.contains(
        "oracle libtorch 2.13.0 (cpu) raised leaf_inplace: a leaf Variable that requires grad"
    ));
    assert!(x.contains(r#"<property name="subject" value="engine 0.1.0 (cpu)"/>"#));
    assert!(x.contains(r#"<property name="oracle" value="libtorch 2.13.0 (cpu)"/>"#));
    assert!(x.contains("differs: subject engine [[3.0000"), "{x}");
    assert!(x.contains("<system-out>document drift"));
    // Markup from the case is text in the XML.
    assert!(!x.contains("<script>"));
    assert!(x.contains("name=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    // Every element that opens closes.
    for tag in [
        "testsuites",
        "testsuite",
        "testcase",
        "failure",
        "error",
        "system-out",
    ] {
        let opened =
            x.matches(&format!("<{tag} ")).count() + x.matches(&format!("<{tag}>")).count();
        assert_eq!(opened, x.matches(&format!("</{tag}>")).count(), "{tag}");
    }
}

fn shard(k: u32, n: u32, paths: &[&str], started: &str, ms: u64) -> SuiteResult {
    let base = sample::sample_suite();
    SuiteResult {
        format_version: FORMAT_VERSION,
        meta: RunMeta {
            shard: Some(format!("{k}/{n}")),
            started: started.into(),
            duration_ms: ms,
            ..base.meta.clone()
        },
        cases: paths
            .iter()
            .map(|p| {
                let mut c = base.cases[0].clone();
                c.path = p.to_string();
                c.name = format!("{p} from shard {k}");
                c
            })
            .collect(),
    }
}

#[test]
fn merge_sorts_keeps_the_last_duplicate_and_notes_it() {
    let a = shard(
        1,
        2,
        &["cases/b.yaml", "cases/a.yaml"],
        "2026-11-23T18:00:05Z",
        100,
    );
    let b = shard(
        2,
        2,
        &["cases/c.yaml", "cases/a.yaml"],
        "2026-11-23T18:00:01Z",
        300,
    );
    let m = report::merge(&[a, b]);
    let paths: Vec<&str> = m.cases.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["cases/a.yaml", "cases/b.yaml", "cases/c.yaml"]);
    assert_eq!(m.cases[0].name, "cases/a.yaml from shard 2");
    assert_eq!(m.meta.started, "2026-11-23T18:00:01Z");
    assert_eq!(m.meta.duration_ms, 300, "shards ran side by side");
    assert_eq!(m.meta.shard, None, "both halves make the whole run");
    assert!(
        m.meta
            .notes
            .iter()
            .any(|n| n.contains("merged all 2 shards"))
    );
    assert!(
        m.meta
            .notes
            .iter()
            .any(|n| n.contains("cases/a.yaml is in results 1 and 2"))
    );
    assert!(
        m.meta
            .notes
            .iter()
            .any(|n| n.contains("400 ms of run time in all"))
    );
    assert_eq!(
        m.meta.subject,
        Some(SideInfo::new("engine", "engine 0.1.0 (cpu)"))
    );
    assert_eq!(
        m.meta.oracle,
        SideInfo::new("libtorch", "libtorch 2.13.0 (cpu)")
    );
    assert_eq!(m.format_version, FORMAT_VERSION);
}

#[test]
fn merge_reports_missing_shards_and_version_disagreements() {
    let a = shard(1, 3, &["cases/a.yaml"], "t", 1);
    let mut b = shard(3, 3, &["cases/c.yaml"], "t", 1);
    b.meta.oracle.version = "libtorch 2.12.0 (cpu)".into();
    let m = report::merge(&[a, b]);
    assert_eq!(m.meta.shard.as_deref(), Some("1/3, 3/3"));
    assert!(
        m.meta
            .notes
            .iter()
            .any(|n| n.contains("shards 2/3 missing"))
    );
    assert!(
        m.meta
            .notes
            .iter()
            .any(|n| n.contains("different oracles: libtorch 2.13.0 (cpu), libtorch 2.12.0 (cpu)"))
    );
    // The notes reach the page.
    assert!(report::render_html(&m).contains("shards 2/3 missing"));
}

#[test]
fn merging_one_result_changes_only_the_order() {
    let s = sample::sample_suite();
    let m = report::merge(std::slice::from_ref(&s));
    let mut sorted = s.clone();
    sorted.cases.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(m, sorted);
}

#[test]
fn json_round_trips_through_files_and_old_files_still_read() {
    let dir = std::env::temp_dir().join(format!("report-json-{}", std::process::id()));
    let path = dir.join("nested/result.json");
    let s = sample::sample_suite();
    report::write_json(&s, &path).unwrap();
    assert_eq!(report::read_json(&path).unwrap(), s);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(written["format_version"], FORMAT_VERSION);

    // A format this harness does not know yet is refused, naming it.
    let mut newer = serde_json::to_value(&s).unwrap();
    newer["format_version"] = serde_json::json!(FORMAT_VERSION + 1);
    std::fs::write(&path, newer.to_string()).unwrap();
    let err = report::read_json(&path).unwrap_err().to_string();
    assert!(err.contains("newer harness"), "{err}");

    // Results written before `notes` existed.
    let mut v = serde_json::to_value(&s).unwrap();
    v["meta"].as_object_mut().unwrap().remove("notes");
    std::fs::write(&path, v.to_string()).unwrap();
    assert_eq!(report::read_json(&path).unwrap(), s);

    std::fs::write(&path, "{ not json").unwrap();
    let err = report::read_json(&path).unwrap_err().to_string();
    assert!(
        err.contains("result.json") && err.contains("not a suite result"),
        "{err}"
    );
    let missing = report::read_json(&dir.join("absent.json"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("absent.json"), "{missing}");

    report::write_html(&s, &dir.join("a/b/index.html")).unwrap();
    report::write_junit(&s, &dir.join("a/junit.xml")).unwrap();
    assert!(dir.join("a/b/index.html").exists() && dir.join("a/junit.xml").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn xfail_and_error_cases_say_why() {
    let page = html();
    let data = embedded_data(&page);
    let by_status = |s: &str| {
        data["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["status"] == s)
            .unwrap()
            .clone()
    };
    assert!(
        by_status("xfail")["summary"]
            .as_str()
            .unwrap()
            .starts_with("known: the engine does not record")
    );
    assert!(
        by_status("error")["summary"]
            .as_str()
            .unwrap()
            .contains("unknown function `onez`")
    );
}

#[test]
fn a_single_backend_run_does_not_claim_a_comparison() {
    let mut s = sample::sample_suite();
    s.cases
        .retain(|c| c.status == harness::results::CaseStatus::Pass);
    let subject = s.meta.subject.take();
    let page = report::render_html(&s);
    assert!(page.contains("All 3 cases pass on libtorch 2.13.0 (cpu) alone (no subject was run)"));
    assert!(!page.contains(" matches "));
    assert!(page.contains("<dt>subject</dt><dd>none (the oracle alone)</dd>"));
    s.meta.subject = subject;
    assert!(
        report::render_html(&s)
            .contains("engine 0.1.0 (cpu) matches libtorch 2.13.0 (cpu) on all 3 cases")
    );
    // Against the goldens the verdict names them, not a live libtorch.
    s.meta.oracle = SideInfo::new("golden", "golden of libtorch 2.13.0 (cpu)");
    let page = report::render_html(&s);
    assert!(
        page.contains("engine 0.1.0 (cpu) matches golden of libtorch 2.13.0 (cpu) on all 3 cases")
    );
    assert!(page.contains("on the oracle, <b>golden of libtorch 2.13.0 (cpu)</b>"));
}

#[test]
fn a_numerics_case_shows_its_budget_and_has_a_filter_of_its_own() {
    let page = html();
    assert!(
        page.contains(r#"data-cat="numerics""#),
        "no numerics filter chip"
    );
    assert!(
        page.contains(r#"<div class="card numerics""#),
        "no numerics card"
    );
    let data = embedded_data(&page);
    let c = data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "numerics")
        .expect("the numerics case is listed");
    let note = c["numerics"][0].as_str().unwrap();
    assert!(
        note.contains("t1 values") && note.contains("8.000e6") && note.contains("1.600e7"),
        "{note}"
    );
    assert!(
        c["summary"]
            .as_str()
            .unwrap()
            .starts_with("float32 numerics")
    );
    let junit = report::render_junit(&sample::sample_suite());
    assert!(
        junit.contains(r#"<property name="status" value="numerics"/>"#),
        "{junit}"
    );
    assert!(!junit.contains(r#"<failure type="divergence" message="line 7"#));
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Results files written before `format_version` existed (format 0, `engine`/`libtorch`
/// fields) read as the current format, and merge with current ones.
#[test]
fn merge_reads_results_of_the_format_before_format_version() {
    let old = report::read_json(&fixture("results_unversioned_engine_vs_libtorch.json"))
        .expect("an unversioned results file reads");
    assert_eq!(old.format_version, FORMAT_VERSION);
    assert_eq!(
        old.meta.subject,
        Some(SideInfo::new("engine", "engine 0.1.0"))
    );
    assert_eq!(
        old.meta.oracle,
        SideInfo::new("libtorch", "libtorch 2.13.0")
    );
    assert_eq!(old.cases.len(), 8);
    let by_path = |r: &SuiteResult, p: &str| {
        r.cases
            .iter()
            .find(|c| c.path == p)
            .unwrap_or_else(|| panic!("{p} in the old file"))
            .clone()
    };
    // The xfail's divergence keeps both values and both graphs under their new names.
    let x = by_path(&old, "cases/regressions/b2ca2950.yaml");
    assert_eq!(x.status, harness::results::CaseStatus::Xfail);
    let d = &x.divergences[0];
    assert_eq!(d.observable, "grad.values");
    assert!(!d.subject.is_empty() && !d.oracle.is_empty() && d.subject != d.oracle);
    assert!(d.subject_graph.is_some() && d.oracle_graph.is_some());
    // Document claims: the oracle's side and whether it agrees (the drift) are kept.
    let drift = by_path(&old, "cases/seed000/in28_slice_assign_leaf.yaml");
    assert!(!drift.drift.is_empty());
    assert!(drift.drift.iter().all(|c| !c.oracle_agrees));
    assert!(
        drift
            .claims
            .iter()
            .any(|c| c.oracle_agrees && !c.oracle.is_empty())
    );

    // The engine against the goldens: the oracle was `golden`.
    let golden =
        report::read_json(&fixture("results_unversioned_engine_vs_golden.json")).expect("reads");
    assert_eq!(golden.meta.oracle.name, "golden");
    assert_eq!(
        golden.meta.subject.as_ref().map(|s| s.name.as_str()),
        Some("engine")
    );

    // Merged with a current result: one result of every case, rendered like any other.
    let m = report::merge(&[old.clone(), sample::sample_suite()]);
    assert_eq!(
        m.cases.len(),
        old.cases.len() + sample::sample_suite().cases.len()
    );
    assert!(
        m.meta
            .notes
            .iter()
            .any(|n| n.contains("different subjects")),
        "{:?}",
        m.meta.notes
    );
    let page = report::render_html(&m);
    assert!(page.contains("cases/regressions/b2ca2950.yaml"));
}
