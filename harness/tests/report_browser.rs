//! Opens generated reports in headless Chromium and checks the DOM after the page's script ran:
//! the summary figures, the case rows, the opened first failure with its SVG graphs, and that a
//! 1000-case report is ready in under 2 s. Saves `reports/screenshot.png`.
//!
//! Without Chromium the test says why and passes; with `CI=true` it fails, since CI installs it
//! (`scripts/install-chromium.sh`).

use harness::report::{self, sample};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a single Chromium run may take on a loaded machine before it counts as hung.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("report-browser-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs Chromium headless on `page` with `extra` flags; returns stdout and the wall time.
fn run_chromium(bin: &Path, page: &Path, extra: &[String]) -> (String, Duration) {
    let profile = scratch("profile");
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(format!("file://{}", page.canonicalize().unwrap().display()))
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("chromium starts");
    // Read stdout on a thread so a large DOM cannot fill the pipe and stall Chromium.
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).map(|_| s)
    });
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let elapsed = start.elapsed();
            let stdout = reader.join().unwrap().expect("chromium output is UTF-8");
            let stderr = err_reader.join().unwrap();
            assert!(status.success(), "chromium failed ({status}): {stderr}");
            let _ = std::fs::remove_dir_all(&profile);
            return (stdout, elapsed);
        }
        if start.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {CHROMIUM_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn dump_dom(bin: &Path, page: &Path) -> (String, Duration) {
    run_chromium(bin, page, &["--dump-dom".to_string()])
}

fn figure(dom: &str, key: &str) -> String {
    let marker = format!(r#"data-fig="{key}">"#);
    let at = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("no figure {key}"))
        + marker.len();
    dom[at..].split('<').next().unwrap().to_string()
}

fn ready_ms(dom: &str) -> f64 {
    let marker = "data-ready-ms=\"";
    let at = dom.find(marker).expect("the script marked the page ready") + marker.len();
    dom[at..].split('"').next().unwrap().parse().unwrap()
}

/// Clicks and types into the page, then writes how many case rows each step left visible.
const UI_SCRIPT: &str = r#"
(function () {
  function shown() {
    return Array.prototype.filter.call(document.querySelectorAll('tr.case'), function (r) { return !r.hidden; }).length;
  }
  function chip(cat) { document.querySelector('.chip[data-cat="' + cat + '"]').click(); }
  function set(id, value, ev) { var e = document.getElementById(id); e.value = value; e.dispatchEvent(new Event(ev)); }
  function openDetails() { return document.querySelectorAll('tr.detail:not([hidden])').length; }
  var out = { all: shown(), openedAtLoad: openDetails() };
  chip('passing'); out.noPassing = shown();
  chip('drift'); out.noPassingNoDrift = shown();
  chip('passing'); chip('drift');
  set('f-q', 'ACCUMULATE', 'input'); out.search = shown(); set('f-q', '', 'input');
  set('f-tag', 'view', 'change'); out.tagView = shown(); set('f-tag', '', 'change');
  set('f-doc', 'original', 'change'); out.docOriginal = shown(); set('f-doc', '', 'change');
  var rows = document.querySelectorAll('tr.case');
  rows[rows.length - 1].click(); out.opened = openDetails();
  document.getElementById('f-close').click(); out.afterClose = openDetails();
  out.count = document.getElementById('f-count').textContent;
  var pre = document.createElement('pre');
  pre.id = 'ui-test';
  pre.textContent = JSON.stringify(out);
  document.body.append(pre);
})();
"#;

#[test]
fn reports_render_in_headless_chromium() {
    let Some(bin) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but Chromium is missing: run scripts/install-chromium.sh");
        }
        eprintln!(
            "skipped: no Chromium at /usr/bin/chromium (set CHROMIUM=/path, or run scripts/install-chromium.sh)"
        );
        return;
    };

    let reports = repo_root().join("reports");
    let page = reports.join("example.html");
    report::write_html(&sample::sample_suite(), &page).unwrap();

    let (dom, took) = dump_dom(&bin, &page);
    eprintln!("sample report: DOM dumped in {took:?}");
    // The summary.
    assert_eq!(figure(&dom, "cases"), "9");
    assert_eq!(figure(&dom, "failed"), "3");
    assert_eq!(figure(&dom, "passed"), "3");
    assert_eq!(figure(&dom, "xfail"), "1");
    assert_eq!(figure(&dom, "numerics"), "1");
    assert_eq!(figure(&dom, "errors"), "1");
    // The rows the script built, one per case, failures first.
    assert_eq!(dom.matches("<tr class=\"case ").count(), 9, "{dom}");
    let first_row = dom.find("<tr class=\"case ").unwrap();
    assert!(dom[first_row..].starts_with("<tr class=\"case fail open\""));
    assert!(dom.contains("showing 9 of 9 cases"));
    assert!(dom.contains("<tr class=\"case numerics"), "{dom}");
    // The first failure is open, with its marked program line and both graphs drawn.
    let detail = dom
        .find("<tr class=\"detail fail\"")
        .expect("first failure opened");
    // The detail row ends where the next case row begins (its own tables hold `</tr>`s).
    let end = dom[detail..]
        .find("<tr class=\"case ")
        .unwrap_or(dom.len() - detail);
    let detail = &dom[detail..detail + end];
    assert!(detail.contains("class=\"l bad\""), "{detail}");
    assert_eq!(
        detail.matches("<svg class=\"graph\"").count(),
        2,
        "{detail}"
    );
    // The case named `<script>…` is text, and its script never ran into the page.
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!dom.contains("<script>alert"));

    // The filters and row toggles, driven the way a user drives them, on a copy of the page.
    let ui = reports.join("example-ui.html");
    let page_text = std::fs::read_to_string(&page).unwrap();
    let at = page_text.rfind("</body>").unwrap();
    std::fs::write(
        &ui,
        format!(
            "{}<script>{UI_SCRIPT}</script>{}",
            &page_text[..at],
            &page_text[at..]
        ),
    )
    .unwrap();
    let (dom, _) = dump_dom(&bin, &ui);
    let marker = "<pre id=\"ui-test\">";
    let start = dom.find(marker).expect("the UI script ran") + marker.len();
    let got: serde_json::Value =
        serde_json::from_str(&dom[start..start + dom[start..].find('<').unwrap()]).unwrap();
    assert_eq!(
        got,
        serde_json::json!({
            "all": 9, "noPassing": 7, "noPassingNoDrift": 6, "search": 1,
            "tagView": 2, "docOriginal": 1, "openedAtLoad": 1, "opened": 2, "afterClose": 0,
            "count": "showing 9 of 9 cases"
        })
    );

    // The screenshot shows a report as a user sees it: the first failure opened, with graphs.
    let showcase = reports.join("example-showcase.html");
    report::write_html(&sample::showcase_suite(), &showcase).unwrap();
    let shot = reports.join("screenshot.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &bin,
        &showcase,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1400,1000".to_string(),
        ],
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    eprintln!("screenshot: {}", shot.display());

    // A thousand cases: the script's own clock, from navigation start to the table built.
    let big = reports.join("example-1000.html");
    report::write_html(&sample::synthetic_suite(1000), &big).unwrap();
    let size = std::fs::metadata(&big).unwrap().len();
    let (dom, took) = dump_dom(&bin, &big);
    let ready = ready_ms(&dom);
    eprintln!("1000-case report: {size} bytes, ready in {ready} ms (Chromium run {took:?})");
    assert_eq!(dom.matches("<tr class=\"case ").count(), 1000);
    assert!(ready < 2000.0, "ready after {ready} ms");
}
