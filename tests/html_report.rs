//! The run's reports as people and tools see them: the HTML report of a
//! small run (a pass, a failure, a skip) opened in headless Chromium, its
//! DOM checked and a screenshot kept; its HTML, Cucumber JSON and JUnit
//! compared; the Cucumber JSON read by the Cucumber project's own
//! validator; and the progress a run prints off a terminal.
//!
//! Chromium comes from Debian's `chromium` package (`.ci/install-server`);
//! the validator, `@cucumber/cucumber-json-converter`, is installed with npm
//! into a temporary directory by the test that uses it.

mod common;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use valkey_bdd::runner::{Outcome, Runner};
use valkey_bdd::settings::KeepPolicy;

const FIXTURE: &str = "tests/fixtures/report";

/// The one run of the fixture every test here reads, with its reports.
struct Run {
    outcome: Outcome,
    html: String,
    html_path: PathBuf,
    json: serde_json::Value,
    json_path: PathBuf,
    junit: valkey_bdd::runner::junit::Report,
    _dir: tempfile::TempDir,
}

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let html_path = dir.path().join("reports/report.html");
        let json_path = dir.path().join("reports/cucumber.json");
        let junit_path = dir.path().join("reports/junit.xml");
        let outcome = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(
                Runner::new(FIXTURE)
                    .args(["html_report"])
                    .quiet()
                    .keep(KeepPolicy::Never)
                    .report(&html_path)
                    .json(&json_path)
                    .junit(&junit_path)
                    .run(),
            )
            .unwrap();
        let html = std::fs::read_to_string(&html_path).unwrap();
        let json = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
        let junit = valkey_bdd::runner::junit::read(&junit_path).unwrap();
        Run {
            outcome,
            html,
            html_path,
            json,
            json_path,
            junit,
            _dir: dir,
        }
    })
}

/// The scenarios' data the HTML report embeds.
fn embedded(html: &str) -> Vec<serde_json::Value> {
    const OPEN: &str = r#"<script type="application/json" id="valkey-bdd-data">"#;
    let start = html.find(OPEN).expect("the report embeds its data") + OPEN.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

/// The program `name` on PATH, if there is one.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn chromium() -> PathBuf {
    if let Some(path) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(on_path)
    {
        return path;
    }
    panic!(
        "no chromium on PATH: the HTML report is tested in a real browser; \
         install it with `bash .ci/install-server` (Debian's chromium package)"
    );
}

/// Runs headless Chromium on `url` with `args`, bounded; returns stdout.
fn headless(args: &[String], url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
        ])
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let stdout = reader.join().unwrap();
            if !status.success() {
                let mut err = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut err);
                panic!("chromium {args:?} ended with {status}:\n{err}");
            }
            return stdout;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium {args:?} did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Where the screenshot is kept (a CI artifact): `target/html-report.png`.
fn screenshot_path(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    std::fs::create_dir_all(&target).unwrap();
    target.join(name)
}

#[test]
fn the_html_report_shows_the_failure_its_log_tail_and_the_timeline_in_a_browser() {
    let run = run();
    assert!(run.outcome.failed, "the fixture has a failing scenario");
    let url = format!("file://{}", run.html_path.display());
    let dom = headless(&["--dump-dom".to_string()], &url);
    // The failure: its step and the message the step failed with.
    let failure = run
        .outcome
        .scenarios
        .iter()
        .find_map(|s| s.failure.clone())
        .expect("a failed scenario with its failure");
    let message_line = failure.message.lines().next().unwrap().trim().to_string();
    assert!(
        dom.contains(&html_escape(&message_line)),
        "the rendered page lacks the failure's message {message_line:?}:\n{dom}"
    );
    assert!(dom.contains("Failed at line 15"), "{dom}");
    // The failed scenario's server log tail, as the server wrote it.
    assert!(dom.contains("last "), "{dom}");
    assert!(dom.contains("log lines"), "{dom}");
    assert!(
        dom.contains("Ready to accept connections"),
        "no log tail in:\n{dom}"
    );
    // The timeline: one bar for each scenario that ran, coloured by verdict.
    let bars = regex::Regex::new(r#"<rect class="bar (passed|failed)""#).unwrap();
    let verdicts: Vec<&str> = bars
        .captures_iter(&dom)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(verdicts.len(), 2, "timeline bars {verdicts:?} in:\n{dom}");
    assert!(verdicts.contains(&"passed") && verdicts.contains(&"failed"));
    // The skipped scenario with its reason.
    assert!(
        dom.contains("Skipped: @requires:no-such-directive-anywhere"),
        "{dom}"
    );
    // The filters are there, by verdict and by tag.
    assert!(dom.contains(r#"<option value="@slow-enough">"#), "{dom}");

    // The filters run in the browser: a link may carry one.
    let dom = headless(
        &["--dump-dom".to_string()],
        &format!("{url}?verdict=failed"),
    );
    let classes = |id: &str| {
        let re = regex::Regex::new(&format!(r#"<details class="([^"]*)" id="{id}""#)).unwrap();
        re.captures(&dom)
            .unwrap_or_else(|| panic!("no scenario {id} in:\n{dom}"))[1]
            .to_string()
    };
    let ids: Vec<String> = regex::Regex::new(r#"<details class="scenario (\w+)[^"]*" id="(s\d+)""#)
        .unwrap()
        .captures_iter(&dom)
        .map(|c| format!("{} {}", &c[1], &c[2]))
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    for v_id in &ids {
        let (verdict, id) = v_id.split_once(' ').unwrap();
        assert_eq!(
            classes(id).contains("hidden"),
            verdict != "failed",
            "{verdict} scenario {id} with ?verdict=failed: {}",
            classes(id)
        );
    }
    let dom = headless(
        &["--dump-dom".to_string()],
        &format!("{url}?tag=@slow-enough"),
    );
    let shown = dom.matches(r#"class="scenario passed""#).count()
        + dom.matches(r#"class="scenario failed""#).count()
        + dom.matches(r#"class="scenario skipped""#).count();
    assert_eq!(shown, 1, "only the @slow-enough scenario is shown:\n{dom}");

    let wide = screenshot_path("html-report.png");
    headless(
        &[
            format!("--screenshot={}", wide.display()),
            "--window-size=1100,1300".into(),
        ],
        &url,
    );
    let narrow = screenshot_path("html-report-narrow.png");
    headless(
        &[
            format!("--screenshot={}", narrow.display()),
            "--window-size=400,1300".into(),
        ],
        &url,
    );
    for shot in [&wide, &narrow] {
        let png = std::fs::read(shot).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{} is no PNG", shot.display());
        assert!(png.len() > 10_000, "{} is blank", shot.display());
    }
    println!("screenshot of the HTML report: {}", wide.display());
    println!("in a narrow window: {}", narrow.display());
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[test]
fn the_html_json_and_junit_reports_of_one_run_agree() {
    let run = run();
    // name -> (verdict, duration in ms)
    let mut html = std::collections::BTreeMap::new();
    for d in embedded(&run.html) {
        html.insert(
            d["scenario"].as_str().unwrap().to_string(),
            (
                d["verdict"].as_str().unwrap().to_string(),
                d["duration_ms"].as_f64(),
            ),
        );
    }
    let mut junit = std::collections::BTreeMap::new();
    for case in run.junit.test_suites.iter().flat_map(|s| &s.test_cases) {
        let verdict = match &case.status {
            quick_junit::TestCaseStatus::Success { .. } => "passed",
            quick_junit::TestCaseStatus::NonSuccess { .. } => "failed",
            quick_junit::TestCaseStatus::Skipped { .. } => "skipped",
        };
        junit.insert(
            case.name.as_str().to_string(),
            (
                verdict.to_string(),
                case.time.map(|t| t.as_secs_f64() * 1000.0),
            ),
        );
    }
    let mut json = std::collections::BTreeMap::new();
    for feature in run.json.as_array().unwrap() {
        for e in feature["elements"].as_array().unwrap() {
            let mut failed = false;
            let mut nanos = 0u128;
            let results = ["before", "steps", "after"]
                .iter()
                .flat_map(|k| e[*k].as_array().cloned().unwrap_or_default());
            for r in results {
                failed |= r["result"]["status"] == "failed";
                nanos += r["result"]["duration"].as_u64().unwrap() as u128;
            }
            json.insert(
                e["name"].as_str().unwrap().to_string(),
                (
                    if failed { "failed" } else { "passed" }.to_string(),
                    nanos as f64 / 1e6,
                ),
            );
        }
    }
    assert_eq!(html.len(), 3, "{html:?}");
    assert_eq!(
        html.keys().collect::<Vec<_>>(),
        junit.keys().collect::<Vec<_>>()
    );
    for (name, (verdict, ms)) in &html {
        let (j_verdict, j_ms) = &junit[name];
        assert_eq!(verdict, j_verdict, "{name}");
        match (ms, j_ms) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1.0, "{name}: {a} ms vs {b} ms"),
            (None, None) => assert_eq!(verdict, "skipped", "{name}"),
            other => panic!("{name}: durations {other:?}"),
        }
        // Cucumber's JSON holds the scenarios that ran, not the skipped.
        match json.get(name) {
            None => assert_eq!(verdict, "skipped", "{name} is missing from the JSON"),
            Some((c_verdict, c_ms)) => {
                assert_eq!(verdict, c_verdict, "{name}");
                // Its steps and hooks, summed, make the scenario's time.
                let ms = ms.unwrap();
                assert!(
                    (ms - c_ms).abs() <= 100.0 + ms * 0.2,
                    "{name}: {ms} ms in HTML, {c_ms} ms in the JSON"
                );
            }
        }
    }
    assert!(html["A passing scenario that sleeps"].1.unwrap() >= 300.0);
}

#[test]
fn a_failed_junit_case_carries_the_message_and_the_log_tails() {
    let run = run();
    let case = run
        .junit
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .find(|c| c.name.as_str() == "A failing scenario")
        .unwrap();
    let quick_junit::TestCaseStatus::NonSuccess {
        message,
        description,
        ..
    } = &case.status
    else {
        panic!("{case:?}")
    };
    let message = message.as_ref().unwrap().as_str();
    assert!(
        message.ends_with("report.feature:15 Then the reply is \"not what the server says\""),
        "{message}"
    );
    let description = description.as_ref().unwrap().as_str();
    assert!(
        description.contains("not what the server says"),
        "{description}"
    );
    assert!(description.contains("log lines"), "{description}");
    assert!(
        description.contains("Ready to accept connections"),
        "{description}"
    );
}

/// The child's part of the test below; does nothing in a normal run.
#[tokio::test]
async fn child_process_entry() {
    if std::env::var("VALKEY_BDD_TEST_CHILD").as_deref() == Ok("progress") {
        let _ = Runner::new(FIXTURE)
            .args(["progress"])
            .keep(KeepPolicy::Never)
            .run()
            .await;
    }
}

#[test]
fn off_a_terminal_a_slow_scenario_is_named_on_a_plain_line_and_the_summary_has_timings() {
    let out = common::this_test("child_process_entry")
        .env("VALKEY_BDD_TEST_CHILD", "progress")
        .env("VALKEY_BDD_SLOW_NOTICE", "0.1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stderr.contains("valkey-bdd: still running after 0.")
            && stderr.contains(
                "\"A passing scenario that sleeps\" (tests/fixtures/report/report.feature:7)"
            ),
        "{stderr}"
    );
    // Named once, however long it runs on (on a loaded machine the other
    // scenario may pass the threshold too: it is named once as well).
    for name in ["A passing scenario that sleeps", "A failing scenario"] {
        let notices = stderr
            .lines()
            .filter(|l| l.starts_with("valkey-bdd: still running") && l.contains(name))
            .count();
        assert!(notices <= 1, "{name} named {notices} times:\n{stderr}");
    }
    assert!(
        !stderr.contains('\x1b') && !stdout.contains('\x1b'),
        "{stderr}{stdout}"
    );
    assert!(stderr.contains("valkey-bdd: wall time "), "{stderr}");
    assert!(stderr.contains("starting 2 servers"), "{stderr}");
    let slowest = stderr
        .split("valkey-bdd: slowest scenarios:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no slowest scenarios in:\n{stderr}"));
    assert!(
        slowest.lines().next().unwrap().ends_with(
            "\"A passing scenario that sleeps\" (tests/fixtures/report/report.feature:7)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("valkey-bdd: slowest steps:\n")
            && stderr
                .contains("When I run `DEBUG SLEEP 0.3` (tests/fixtures/report/report.feature:9)"),
        "{stderr}"
    );
}

/// Where the browser puts the cards of a report: appended to a copy of the
/// report, it writes the measures into the page for `--dump-dom` to show.
const PROBE: &str = r#"<script>
(function () {
  function top(sel) { var e = document.querySelector(sel); return e ? Math.round(e.getBoundingClientRect().top + window.scrollY) : -1; }
  function drawn(sel) { var e = document.querySelector(sel); return e ? e.checkVisibility() : false; }
  var p = document.createElement("pre");
  p.id = "probe";
  p.textContent = "viewport=" + window.innerHeight + " failed=" + top(".scenario.failed") +
    " passed=" + top(".scenario.passed") + " skipped=" + top(".scenario.skipped") +
    " skipped_drawn=" + drawn(".scenario.skipped");
  document.body.appendChild(p);
})();
</script>"#;

#[test]
fn the_failure_is_in_the_first_screen_above_the_passes_and_the_skips_come_last_folded() {
    // As in an external run: 21 scenarios the server cannot run, in a file
    // that sorts before the one failure's.
    let dir = tempfile::tempdir().unwrap();
    let html_path = dir.path().join("report.html");
    let outcome = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(
            Runner::new("tests/fixtures/report_order")
                .args(["html_report"])
                .quiet()
                .keep(KeepPolicy::Never)
                .report(&html_path)
                .run(),
        )
        .unwrap();
    let count = |v: &str| {
        outcome
            .scenarios
            .iter()
            .filter(|s| match &s.verdict {
                valkey_bdd::runner::Verdict::Passed => v == "passed",
                valkey_bdd::runner::Verdict::Failed => v == "failed",
                valkey_bdd::runner::Verdict::Skipped(_) => v == "skipped",
            })
            .count()
    };
    assert_eq!(
        (count("failed"), count("passed"), count("skipped")),
        (1, 1, 21)
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    let probed = dir.path().join("probed.html");
    std::fs::write(&probed, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    let dom = headless(
        &["--dump-dom".to_string(), "--window-size=1280,800".into()],
        &format!("file://{}", probed.display()),
    );
    let measures = regex::Regex::new(
        r"viewport=(\d+) failed=(-?\d+) passed=(-?\d+) skipped=(-?\d+) skipped_drawn=(\w+)",
    )
    .unwrap();
    let m = measures
        .captures(&dom)
        .unwrap_or_else(|| panic!("the probe wrote nothing in:\n{dom}"));
    let n = |i: usize| m[i].parse::<i64>().unwrap();
    let (viewport, failed, passed) = (n(1), n(2), n(3));
    println!("{}", &m[0]);
    assert!(
        (0..viewport - 100).contains(&failed),
        "the failure's card starts {failed} px down, below the first screen of {viewport} px: {}",
        &m[0]
    );
    assert!(failed < passed, "the failure is below a pass: {}", &m[0]);
    // Skipped last, folded: no card drawn until the reader unfolds them.
    assert_eq!(&m[5], "false", "the skipped cards are drawn: {}", &m[0]);
    let skipped_at = html.find(r#"class="scenario skipped""#).unwrap();
    let passed_at = html.find(r#"class="scenario passed""#).unwrap();
    assert!(passed_at < skipped_at, "a skip comes before the pass");
    assert!(
        html.contains(">21 skipped scenarios<"),
        "the fold names how many it holds"
    );
}

/// The Cucumber project's own validator, `@cucumber/cucumber-json-converter`,
/// installed with npm into a temporary directory (its downloads cached in
/// the target directory): `None`, said aloud, when npm is absent.
fn cucumber_json_converter() -> Option<(tempfile::TempDir, PathBuf)> {
    let Some(npm) = on_path("npm") else {
        println!(
            "SKIPPED: npm is not on PATH, so the Cucumber JSON is not checked with \
             @cucumber/cucumber-json-converter (install Node.js and npm to check it)"
        );
        return None;
    };
    let prefix = tempfile::tempdir().unwrap();
    let cache = screenshot_path("npm-cache");
    let out = Command::new(npm)
        .args([
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefer-offline",
            "--logs-max=0",
        ])
        .arg("--prefix")
        .arg(prefix.path())
        .arg("--cache")
        .arg(&cache)
        .arg("@cucumber/cucumber-json-converter@0.0.3")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "npm could not install @cucumber/cucumber-json-converter:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let package = prefix
        .path()
        .join("node_modules/@cucumber/cucumber-json-converter");
    Some((prefix, package))
}

#[test]
fn the_cucumber_json_passes_the_cucumber_projects_own_validator() {
    let run = run();
    let Some((_prefix, converter)) = cucumber_json_converter() else {
        return;
    };
    // `convert` throws unless one of the implementations' schemas accepts
    // the report and its conversion passes the common schema.
    const CHECK: &str = r#"
const { convert } = require(process.argv[1]);
const report = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const { implementation, features } = convert(report);
console.log("read as " + implementation);
for (const f of features) for (const e of f.elements)
  console.log(e.name + ": " + e.steps.map((s) => s.result.status).join(","));
"#;
    let out = Command::new("node")
        .args(["-e", CHECK])
        .arg(&converter)
        .arg(&run.json_path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "@cucumber/cucumber-json-converter refuses {}:\n{}{stdout}",
        run.json_path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // What it read back is the run: the pass, and the failure at its step.
    assert!(
        stdout.contains("A passing scenario that sleeps: passed,passed,passed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("A failing scenario: passed,passed,failed"),
        "{stdout}"
    );
}

/// The process's umask, as the kernel reports it.
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line["Umask:".len()..].trim(), 8).unwrap()
}

#[test]
fn reports_are_made_to_be_shared_as_any_new_file_is() {
    use std::os::unix::fs::PermissionsExt as _;
    let run = run();
    let dir = run.html_path.parent().unwrap();
    for name in ["report.html", "cucumber.json", "junit.xml"] {
        let mode = std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(
            mode,
            0o666 & !umask(),
            "{name} has mode {mode:o} under umask {:o}",
            umask()
        );
    }
}
