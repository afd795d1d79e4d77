//! Renders a [`SuiteResult`] as one self-contained HTML page: inline CSS and JS, no network.
//!
//! The summary and a list of the cases that need attention are plain HTML, readable without
//! script. The case table and each case's details are built by `app.js` from JSON embedded in
//! the page, so a thousand-case report stays small and opens fast; the autograd graphs are drawn
//! here as SVG and parked in inert `<template>` elements until a case is opened.

use super::{
    Summary, case_summary, divergence_line, document_of, escape_html, status_name, status_rank, svg,
};
use crate::backend::Failure;
use crate::results::{CaseResult, CaseStatus, DocClaimCheck, SuiteResult};
use serde::Serialize;
use std::fmt::Write as _;

const STYLE: &str = include_str!("style.css");
const APP: &str = include_str!("app.js");

#[derive(Serialize)]
struct ViewCase<'a> {
    path: &'a str,
    name: &'a str,
    source: &'a str,
    document: &'a str,
    tags: &'a [String],
    status: &'static str,
    program: &'a str,
    program_line: u32,
    statements: u64,
    observables: u64,
    duration_ms: u64,
    summary: String,
    divergences: Vec<ViewDivergence<'a>>,
    claims: &'a [DocClaimCheck],
    drift: &'a [DocClaimCheck],
    xfail_reason: Option<&'a str>,
    message: Option<&'a str>,
    /// Differences explained as float32 rounding, one line each with its budget.
    numerics: Vec<String>,
}

#[derive(Serialize)]
struct ViewDivergence<'a> {
    line: u32,
    statement: &'a str,
    variable: Option<&'a str>,
    observable: &'a str,
    subject: &'a str,
    oracle: &'a str,
    subject_error: Option<&'a Failure>,
    oracle_error: Option<&'a Failure>,
    /// What the document claims about this variable at this line, when it says anything.
    doc: Option<ViewDoc<'a>>,
    /// The id of the `<template>` holding both graphs, when either side has one.
    graph: Option<String>,
}

#[derive(Serialize)]
struct ViewDoc<'a> {
    observable: &'a str,
    value: &'a str,
}

/// How the page's tables name the two sides.
#[derive(Serialize)]
struct ViewSides {
    /// `subject engine 0.1.0 (cpu)`.
    subject: String,
    /// `oracle libtorch 2.13.0 (cpu)`.
    oracle: String,
}

#[derive(Serialize)]
struct ViewData<'a> {
    sides: ViewSides,
    cases: Vec<ViewCase<'a>>,
}

/// The document's claim that speaks about a divergence: at the same line or statement, and
/// about the same variable (`x.grad` for a divergence on `x`'s `grad`), or the outcome claim for
/// an outcome divergence.
fn doc_for<'a>(
    c: &'a CaseResult,
    line: u32,
    statement: &str,
    variable: Option<&str>,
    observable: &str,
) -> Option<ViewDoc<'a>> {
    let about = |claim: &DocClaimCheck| match variable {
        Some(v) => {
            claim.observable == v
                || claim
                    .observable
                    .strip_prefix(v)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        }
        None => observable == "outcome" && claim.observable == "raises",
    };
    let field = observable.split('.').next().unwrap_or(observable);
    let candidates: Vec<&DocClaimCheck> = c
        .claims
        .iter()
        .filter(|k| {
            (k.line == line || (!k.statement.is_empty() && k.statement.trim() == statement.trim()))
                && about(k)
        })
        .collect();
    let best = candidates
        .iter()
        .find(|k| variable.is_some_and(|v| k.observable == format!("{v}.{field}")))
        .or_else(|| candidates.first())?;
    Some(ViewDoc {
        observable: &best.observable,
        value: &best.doc,
    })
}

/// Embeds JSON in a `<script>` element: `<` never appears raw, so neither `</script>` nor `<!--`
/// can end or confuse the element. `\u003c` is the same string to `JSON.parse`.
fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn format_duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn render_html(result: &SuiteResult) -> String {
    let sum = Summary::of(result);
    let mut order: Vec<&CaseResult> = result.cases.iter().collect();
    order.sort_by(|a, b| {
        status_rank(a)
            .cmp(&status_rank(b))
            .then_with(|| a.path.cmp(&b.path))
    });

    let meta = &result.meta;
    let (labels, names) = (meta.labels(), meta.names());
    let mut templates = String::new();
    let mut view = ViewData {
        sides: ViewSides {
            subject: labels.subject.clone(),
            oracle: labels.oracle.clone(),
        },
        cases: Vec::with_capacity(order.len()),
    };
    for (ci, c) in order.iter().enumerate() {
        let mut divergences = Vec::with_capacity(c.divergences.len());
        for (di, d) in c.divergences.iter().enumerate() {
            let graph = if d.subject_graph.is_some() || d.oracle_graph.is_some() {
                let id = format!("g{ci}-{di}");
                let var = d.variable.as_deref().unwrap_or("the result");
                let (e, l) = svg::render_pair(
                    d.subject_graph.as_ref(),
                    d.oracle_graph.as_ref(),
                    var,
                    &names,
                );
                let _ = write!(
                    templates,
                    r#"<template id="{id}"><div class="gside"><h5>{}</h5>{e}</div><div class="gside"><h5>{}</h5>{l}</div></template>"#,
                    escape_html(&labels.subject),
                    escape_html(&labels.oracle)
                );
                Some(id)
            } else {
                None
            };
            divergences.push(ViewDivergence {
                line: d.line,
                statement: &d.statement,
                variable: d.variable.as_deref(),
                observable: &d.observable,
                subject: &d.subject,
                oracle: &d.oracle,
                subject_error: d.subject_error.as_ref(),
                oracle_error: d.oracle_error.as_ref(),
                doc: doc_for(
                    c,
                    d.line,
                    &d.statement,
                    d.variable.as_deref(),
                    &d.observable,
                ),
                graph,
            });
        }
        view.cases.push(ViewCase {
            path: &c.path,
            name: &c.name,
            source: &c.source,
            document: document_of(&c.source),
            tags: &c.tags,
            status: status_name(c.status),
            program: &c.program,
            program_line: c.program_line,
            statements: c.statements,
            observables: c.observables,
            duration_ms: c.duration_ms,
            summary: case_summary(c, &names),
            divergences,
            claims: &c.claims,
            drift: &c.drift,
            xfail_reason: c.xfail_reason.as_deref(),
            message: c.message.as_deref(),
            numerics: c.numerics.iter().map(|n| n.describe()).collect(),
        });
    }
    // Serialising borrowed strings and plain numbers cannot fail; an empty list is the fallback
    // that keeps the page's summary usable all the same.
    let json = serde_json::to_string(&view)
        .unwrap_or_else(|_| r#"{"sides":{"subject":"","oracle":""},"cases":[]}"#.to_string());

    let attention = sum.failed + sum.errors;
    let verdict = verdict(result, &sum);
    let title = format!(
        "Autograd conformance: {} failed, {} passed of {}",
        sum.failed + sum.errors,
        sum.passed,
        sum.cases
    );

    let mut h = String::with_capacity(json.len() + templates.len() + 32_768);
    h.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\" class=\"nojs\">\n<head>\n<meta charset=\"utf-8\">\n",
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // No network: the page may not load anything, even by accident.
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
    let _ = writeln!(h, "<title>{}</title>", escape_html(&title));
    let _ = writeln!(h, "<style>\n{STYLE}</style>\n</head>\n<body>");

    h.push_str("<header><h1>Autograd conformance report</h1>\n");
    let ran = match &meta.subject {
        Some(s) => format!(
            "run on the subject, <b>{}</b>, and on the oracle, <b>{}</b>, the reference",
            escape_html(&s.version),
            escape_html(&meta.oracle.version)
        ),
        None => format!(
            "run on the oracle, <b>{}</b>, alone (no subject)",
            escape_html(&meta.oracle.version)
        ),
    };
    let _ = writeln!(
        h,
        "<p class=\"lede\">Each case is a short PyTorch program, {ran}. After every statement every observable is compared: success or error kind, shape, dtype, values, <code>requires_grad</code>, <code>is_leaf</code>, <code>grad_fn</code>, <code>.grad</code>, <code>_version</code>, warnings. A case <b>fails</b> at the first disagreement that float32 rounding does not explain; one whose differences it all explains, as the oracle re-run in float64 measures it, is <b>numerics</b>. <b>Document drift</b> marks what a source document printed that the oracle itself no longer does: shown, never failing.</p></header>"
    );

    h.push_str("<main>\n<section id=\"summary\">\n");
    let _ = writeln!(
        h,
        "<p class=\"verdict {}\" id=\"verdict\">{}</p>",
        verdict.0,
        escape_html(&verdict.1)
    );
    h.push_str("<div class=\"cards\">\n");
    let card = |h: &mut String, key: &str, class: &str, value: String, label: &str, help: &str| {
        let _ = writeln!(
            h,
            "<div class=\"card {class}\" title=\"{help}\"><span class=\"fig\" data-fig=\"{key}\">{value}</span><span class=\"label\">{label}</span><span class=\"help\">{help}</span></div>"
        );
    };
    card(
        &mut h,
        "cases",
        "",
        sum.cases.to_string(),
        "cases",
        "YAML programs run",
    );
    card(
        &mut h,
        "statements",
        "",
        sum.statements.to_string(),
        "statements",
        "executed, loop bodies each time",
    );
    card(
        &mut h,
        "observables",
        "",
        sum.observables.to_string(),
        "observables",
        "compared, subject vs oracle",
    );
    card(
        &mut h,
        "passed",
        "pass",
        sum.passed.to_string(),
        "passed",
        "every observable agrees",
    );
    card(
        &mut h,
        "failed",
        "fail",
        sum.failed.to_string(),
        "failed",
        "subject and oracle disagree",
    );
    card(
        &mut h,
        "numerics",
        "numerics",
        sum.numerics.to_string(),
        "numerics",
        "float32 rounding only, within the float64 shadow's budget",
    );
    card(
        &mut h,
        "xfail",
        "xfail",
        sum.xfail.to_string(),
        "xfail",
        "known divergences, with reasons",
    );
    card(
        &mut h,
        "errors",
        "error",
        sum.errors.to_string(),
        "case errors",
        "the case file could not be run",
    );
    card(
        &mut h,
        "drift",
        "drift",
        sum.drift_claims.to_string(),
        "drift",
        &format!(
            "document claims the oracle contradicts, in {}",
            plural(sum.drift_cases as u64, "case", "cases")
        ),
    );
    h.push_str("</div>\n");

    if sum.cases > 0 {
        h.push_str("<div class=\"bar\" aria-hidden=\"true\">");
        for (n, class) in [
            (sum.failed, "fail"),
            (sum.errors, "error"),
            (sum.xfail, "xfail"),
            (sum.numerics, "numerics"),
            (sum.passed, "pass"),
        ] {
            if n > 0 {
                let _ = write!(h, "<span class=\"{class}\" style=\"flex-grow:{n}\"></span>");
            }
        }
        h.push_str("</div>\n");
    }

    h.push_str("<dl class=\"meta\">\n");
    let mut meta_row = |k: &str, v: &str| {
        let _ = writeln!(
            h,
            "<div><dt>{}</dt><dd>{}</dd></div>",
            escape_html(k),
            escape_html(v)
        );
    };
    meta_row(
        "subject",
        meta.subject
            .as_ref()
            .map_or("none (the oracle alone)", |s| s.version.as_str()),
    );
    meta_row("oracle", &meta.oracle.version);
    meta_row("started", &meta.started);
    meta_row("duration", &format_duration(meta.duration_ms));
    if let Some(shard) = &meta.shard {
        meta_row("shard", shard);
    }
    for note in &meta.notes {
        meta_row("note", note);
    }
    h.push_str("</dl>\n");
    h.push_str("<details class=\"help\"><summary>How to read this report</summary><ul>\
<li><b class=\"st fail\">fail</b> the subject and the oracle disagree; the first disagreement is named: the statement, the variable and the observable, with both values.</li>\
<li><b class=\"st error\">error</b> the case file itself could not be run (YAML, syntax, an unknown name): fix the case.</li>\
<li><b class=\"st xfail\">xfail</b> a known divergence, listed with a reason in <code>cases/known_divergences.yaml</code>. If it starts agreeing it turns into a failure, so the list stays true.</li>\
<li><b class=\"st numerics\">numerics</b> every difference is float32 rounding: re-run in float64, the oracle's own float32 result is at least that far from the exact one (half the difference either side), or a tie, cast or comparison the float64 run shows within rounding of its edge. Each is listed with its budget; never failing.</li>\
<li><b class=\"st pass\">pass</b> every observable agrees after every statement.</li>\
<li><b class=\"st drift\">drift</b> the source document printed something that the oracle no longer does (PyTorch changed since). Recorded, never failing; the subject follows the oracle.</li>\
<li>Open a case to see its program with the diverging line marked, a subject | oracle | document table for each divergence, the error kinds and messages, and both autograd graphs. In the graphs, <span class=\"key only\">red</span> nodes and edges exist on one side only and <span class=\"key differs\">amber</span> nodes differ in name, leaf shape or saved-tensor versions.</li>\
</ul></details>\n");
    h.push_str("</section>\n");

    // The cases needing attention, for readers without script (and for text search of the file).
    if attention + sum.xfail > 0 {
        h.push_str("<noscript><section><h2>Cases needing attention</h2><ul class=\"plain\">");
        for c in order.iter().filter(|c| c.status != CaseStatus::Pass) {
            let first = c
                .divergences
                .first()
                .map(|d| divergence_line(d, &names))
                .unwrap_or_else(|| case_summary(c, &names));
            let _ = write!(
                h,
                "<li><b class=\"st {st}\">{st}</b> {name} <code>{path}</code><br>{first}</li>",
                st = status_name(c.status),
                name = escape_html(&c.name),
                path = escape_html(&c.path),
                first = escape_html(&first)
            );
        }
        h.push_str("</ul></section></noscript>\n");
    }

    h.push_str("<section id=\"cases\">\n<h2>Cases</h2>\n<div class=\"filters\" role=\"group\" aria-label=\"filters\">\n");
    let chips = [
        ("failing", sum.failed, "fail"),
        ("error", sum.errors, "error"),
        ("xfail", sum.xfail, "xfail"),
        ("numerics", sum.numerics, "numerics"),
        ("drift", sum.drift_cases, "drift"),
        ("passing", sum.passed, "pass"),
    ];
    for (cat, n, class) in chips {
        let _ = writeln!(
            h,
            "<button type=\"button\" class=\"chip {class}\" data-cat=\"{cat}\" aria-pressed=\"true\">{cat} <span class=\"n\">{n}</span></button>"
        );
    }
    h.push_str("<select id=\"f-doc\" aria-label=\"document\"><option value=\"\">all documents</option></select>\n");
    h.push_str(
        "<select id=\"f-tag\" aria-label=\"tag\"><option value=\"\">all tags</option></select>\n",
    );
    h.push_str("<input id=\"f-q\" type=\"search\" placeholder=\"search name or path\" aria-label=\"search\">\n");
    h.push_str("<button type=\"button\" id=\"f-open\">open all shown</button> <button type=\"button\" id=\"f-close\">close all</button>\n");
    h.push_str("<span id=\"f-count\" class=\"count\"></span>\n</div>\n");
    h.push_str("<table id=\"case-table\"><colgroup><col class=\"c-st\"><col class=\"c-name\"><col class=\"c-doc\"><col class=\"c-tags\"><col class=\"c-what\"><col class=\"c-time\"></colgroup><thead><tr><th>status</th><th>case</th><th>document</th><th>tags</th><th>what happened</th><th class=\"num\">time</th></tr></thead><tbody id=\"case-rows\"></tbody></table>\n");
    h.push_str("</section>\n</main>\n");
    let _ = writeln!(
        h,
        "<footer>Generated by the autograd conformance harness. <span id=\"ready\"></span></footer>"
    );
    h.push_str(&templates);
    h.push('\n');
    let _ = writeln!(
        h,
        "<script type=\"application/json\" id=\"report-data\">{}</script>",
        script_json(&json)
    );
    let _ = writeln!(h, "<script>\n{APP}</script>\n</body>\n</html>");
    h
}

/// The headline: its CSS class and text. A run without a subject compares nothing, and the
/// verdict must not claim it does.
fn verdict(result: &SuiteResult, sum: &Summary) -> (&'static str, String) {
    let meta = &result.meta;
    let oracle = &meta.oracle.version;
    if sum.cases == 0 {
        return ("none", "No cases were run.".to_string());
    }
    if sum.failed + sum.errors > 0 {
        let mut v = match &meta.subject {
            None => format!(
                "{} of {} cases fail on {oracle} alone",
                sum.failed, sum.cases
            ),
            Some(s) => format!(
                "{} diverges from {oracle} on {} of {} cases",
                s.version, sum.failed, sum.cases
            ),
        };
        if sum.errors > 0 {
            let _ = write!(v, ", {} could not be run", sum.errors);
        }
        return ("bad", v);
    }
    let n = sum.cases - sum.xfail - sum.skipped - sum.numerics;
    let mut v = match &meta.subject {
        None => format!("All {n} cases pass on {oracle} alone (no subject was run)"),
        Some(s) => format!("{} matches {oracle} on all {n} cases", s.version),
    };
    if sum.numerics > 0 {
        let _ = write!(v, ", and on {} more up to float32 rounding", sum.numerics);
    }
    if sum.xfail > 0 {
        let _ = write!(v, " but {} known divergences", sum.xfail);
    }
    if sum.skipped > 0 {
        let _ = write!(v, " ({} skipped for lack of a requirement)", sum.skipped);
    }
    ("good", v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_never_closes_the_element() {
        let s = script_json(r#"{"a":"</script><!--"}"#);
        assert!(!s.contains('<'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["a"], "</script><!--");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(12), "12 ms");
        assert_eq!(format_duration(1530), "1.5 s");
        assert_eq!(format_duration(125_000), "2 min 5 s");
    }
}
