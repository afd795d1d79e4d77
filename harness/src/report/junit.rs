//! JUnit XML for CI systems: one `testsuite` per case folder, one `testcase` per case. A failure
//! carries the divergence text, a case error is an `error`, and a known divergence is `skipped`
//! with its reason. Document drift goes to `system-out`, since it never fails. Each `testsuite`'s
//! properties name the run's subject and oracle.

use super::{Summary, divergence_line, divergence_text, status_name};
use crate::results::{CaseResult, CaseStatus, Labels, SuiteResult};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Escapes text for XML 1.0 content and attributes. Characters XML 1.0 cannot carry at all
/// (most C0 controls) become U+FFFD, because a CI server rejects the whole file otherwise.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or(".", |(dir, _)| dir)
}

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

pub fn render_junit(result: &SuiteResult) -> String {
    let total = Summary::of(result);
    let mut suites: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for c in &result.cases {
        suites.entry(folder(&c.path)).or_default().push(c);
    }

    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        r#"<testsuites name="autograd-conformance" tests="{}" failures="{}" errors="{}" skipped="{}" time="{}">"#,
        total.cases,
        total.failed,
        total.errors,
        total.xfail + total.skipped,
        secs(result.meta.duration_ms)
    );
    for (name, cases) in suites {
        let count = |s: CaseStatus| cases.iter().filter(|c| c.status == s).count();
        let _ = writeln!(
            x,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="{}" time="{}" timestamp="{}">"#,
            xml(name),
            cases.len(),
            count(CaseStatus::Fail),
            count(CaseStatus::Error),
            count(CaseStatus::Xfail) + count(CaseStatus::Skipped),
            secs(cases.iter().map(|c| c.duration_ms).sum()),
            xml(&result.meta.started)
        );
        // Which backends were the subject and the oracle: JUnit's place for a suite's settings.
        let meta = &result.meta;
        let subject = meta.subject.as_ref().map_or("none", |s| s.version.as_str());
        let _ = writeln!(
            x,
            r#"    <properties><property name="subject" value="{}"/><property name="oracle" value="{}"/></properties>"#,
            xml(subject),
            xml(&meta.oracle.version)
        );
        let (labels, names) = (meta.labels(), meta.names());
        let mut sorted = cases;
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        for c in sorted {
            write_case(&mut x, c, &labels, &names);
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// One case; `labels` name the sides with their versions, `names` by name only.
fn write_case(x: &mut String, c: &CaseResult, labels: &Labels, names: &Labels) {
    let _ = write!(
        x,
        r#"    <testcase name="{}" classname="{}" file="{}" time="{}">"#,
        xml(&c.name),
        xml(&folder(&c.path).replace('/', ".")),
        xml(&c.path),
        secs(c.duration_ms)
    );
    match c.status {
        CaseStatus::Pass => {}
        CaseStatus::Numerics => {
            // Passing: the differences are float32 rounding, each with its measured budget.
            let notes: Vec<String> = c.numerics.iter().map(|n| n.describe()).collect();
            let _ = write!(
                x,
                "\n      <properties><property name=\"status\" value=\"numerics\"/></properties>\n      <system-out>{}</system-out>",
                xml(&notes.join("\n"))
            );
        }
        CaseStatus::Fail => {
            let message = match (c.divergences.first(), &c.message) {
                (Some(d), _) => divergence_line(d, names),
                (None, Some(m)) => m.clone(),
                (None, None) => "failed".into(),
            };
            let mut body = String::new();
            if let Some(m) = &c.message {
                let _ = writeln!(body, "{m}");
            }
            for d in &c.divergences {
                body.push_str(&divergence_text(d, labels));
            }
            let _ = write!(
                x,
                "\n      <failure type=\"divergence\" message=\"{}\">{}</failure>",
                xml(&message),
                xml(&body)
            );
        }
        CaseStatus::Error => {
            let m = c.message.as_deref().unwrap_or("case error");
            let _ = write!(
                x,
                "\n      <error type=\"case_error\" message=\"{}\">{}</error>",
                xml(m),
                xml(m)
            );
        }
        CaseStatus::Skipped => {
            let why = c.message.as_deref().unwrap_or("skipped");
            let _ = write!(x, "\n      <skipped message=\"{}\"/>", xml(why));
        }
        CaseStatus::Xfail => {
            let why = c.xfail_reason.as_deref().unwrap_or("known divergence");
            let _ = write!(
                x,
                "\n      <skipped message=\"{}\"/>",
                xml(&format!("{}: {why}", status_name(c.status)))
            );
        }
    }
    if !c.drift.is_empty() {
        let mut out = format!(
            "document drift ({} disagrees with the document):\n",
            labels.oracle
        );
        for d in &c.drift {
            let _ = writeln!(
                out,
                "  line {}: {}: {}: document {}, {} {}",
                d.line, d.statement, d.observable, d.doc, names.oracle, d.oracle
            );
        }
        let _ = write!(x, "\n      <system-out>{}</system-out>", xml(&out));
    }
    x.push_str(if c.status == CaseStatus::Pass && c.drift.is_empty() {
        "</testcase>\n"
    } else {
        "\n    </testcase>\n"
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escaping_drops_forbidden_controls() {
        assert_eq!(
            xml("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot;\u{FFFD}"
        );
    }

    #[test]
    fn folders_name_the_suites() {
        assert_eq!(folder("cases/seed001/in07.yaml"), "cases/seed001");
        assert_eq!(folder("top.yaml"), ".");
    }
}
