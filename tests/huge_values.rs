//! Huge values are shown as head, size and tail, with where the whole is
//! kept, and showing them costs little memory: `valkey-bdd run` on a step
//! with a 50 MB literal and a failing check on the 50 MB reply, its output
//! and its peak resident memory measured from `/proc`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::BIN;

const SIZE: usize = 50 * 1024 * 1024;

/// What a run printed, its exit code, and its peak resident memory (kB).
struct Ran {
    output: String,
    printed: u64,
    code: Option<i32>,
    peak_kb: u64,
}

/// The peak resident memory (`VmHWM`) of a running process, in kB.
fn peak_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs `valkey-bdd run <feature>` with its directories under `tmp`, looking
/// at its peak memory every few milliseconds until it exits (`VmHWM` only
/// grows, so the last look is the peak but for its last milliseconds).
fn run(feature: &Path, tmp: &Path) -> Ran {
    let out = tmp.join("out.txt");
    let file = std::fs::File::create(&out).unwrap();
    let mut child = std::process::Command::new(BIN)
        .arg("run")
        .arg(feature)
        .env("VALKEY_BDD_TMPDIR", tmp)
        .env("VALKEY_BDD_DURATIONS", "0")
        .env_remove("VALKEY_BDD_KEEP")
        .env_remove("VALKEY_BDD_JUNIT")
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap();
    let mut peak_kb = 0;
    let status = loop {
        if let Some(kb) = peak_of(child.id()) {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let printed = std::fs::metadata(&out).unwrap().len();
    let output = std::fs::read(&out).unwrap();
    // Only the shown part is read as text: the test itself stays small.
    let output = String::from_utf8_lossy(&output[..output.len().min(1 << 20)]).into_owned();
    Ran {
        output,
        printed,
        code: status.code(),
        peak_kb,
    }
}

/// The run the two tests below look at, made once: a 50 MB literal set
/// and read back, and a failing check on the 50 MB reply. Its directory is
/// removed before the tests look: they get what it printed, where the
/// feature was, and the size of the kept reply named in the output.
struct Huge {
    ran: Ran,
    feature: String,
    kept: Result<(String, u64), String>,
}

fn huge() -> &'static Huge {
    static HUGE: std::sync::OnceLock<Huge> = std::sync::OnceLock::new();
    HUGE.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let feature = tmp.path().join("huge.feature");
        let big = "x".repeat(SIZE);
        std::fs::write(
            &feature,
            format!(
                "Feature: huge\n\n  Scenario: a huge reply\n    Given a server\n    When I run `SET big {big}`\n    \
                 And I run `GET big`\n    Then the reply is \"small\"\n"
            ),
        )
        .unwrap();
        drop(big);
        let ran = run(&feature, tmp.path());
        let kept = ran
            .output
            .split("the whole is at ")
            .filter_map(|rest| rest.split(" …]").next())
            .find(|p| p.ends_with("value-1.txt"))
            .map(|p| (p.to_string(), std::fs::metadata(p).unwrap().len()))
            .ok_or_else(|| format!("no kept value named in:\n{}", ran.output));
        Huge {
            ran,
            feature: feature.display().to_string(),
            kept,
        }
    })
}

#[test]
fn a_50_mb_literal_and_its_reply_are_shown_clipped_with_the_whole_kept() {
    let Huge { ran, feature, kept } = huge();
    let out = &ran.output;
    assert_eq!(ran.code, Some(1), "{out}");
    // Once echoed, once in the failure: each a few kilobytes, not 50 MB.
    assert!(
        ran.printed < 64 * 1024,
        "printed {} bytes:\n{out}",
        ran.printed
    );
    assert!(
        out.contains(&format!("[… {} bytes in 1 line;", SIZE + 2)),
        "the quoted reply: {out}"
    );
    assert!(
        out.contains(&format!("the whole is at {feature}:5 …]")),
        "the literal's place: {out}"
    );
    // The reply, quoted as valkey-cli prints it, whole in the scenario's
    // kept directory.
    let (kept, whole) = kept.as_ref().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(*whole, SIZE as u64 + 2, "{kept}");
    assert!(out.contains("expected the text \"small\""), "{out}");
    eprintln!(
        "50 MB literal and reply: printed {} bytes, peak RSS {} MB",
        ran.printed,
        ran.peak_kb / 1024
    );
}

/// A 50 MB literal costs a fixed number of copies of itself, each named:
/// cucumber's five (the parsed feature, the two copies of the scenario its
/// runner makes, the matched text and its capture), the step's argument,
/// and the client library's three (the command, its packed form, the
/// written buffer) — about ten in all, the process's own ~40 MB beside.
/// The runner adds none of its own beyond the argument: the features are
/// handed to cucumber, not copied; the selection's step copies are let go
/// before the run; a line without `${…}` is not expanded into a copy; an
/// unquoted argument is copied whole, not grown byte by byte; each argument
/// is freed once the command holds it (measured before: 698 MB).
#[test]
fn a_50_mb_literal_costs_a_bounded_peak_memory() {
    let ran = &huge().ran;
    let bound_kb = (11 * SIZE / 1024) as u64;
    assert!(
        ran.peak_kb < bound_kb,
        "peak RSS {} MB, over {} MB (11 times the literal)",
        ran.peak_kb / 1024,
        bound_kb / 1024
    );
    eprintln!("50 MB literal: peak RSS {} MB", ran.peak_kb / 1024);
}

#[test]
fn a_failed_contains_on_info_everything_shows_its_head_and_tail() {
    let tmp = tempfile::tempdir().unwrap();
    let feature = tmp.path().join("info.feature");
    std::fs::write(
        &feature,
        "Feature: info\n\n  Scenario: a long INFO\n    Given a server\n    When I run `INFO everything`\n    \
         Then the reply contains \"no_such_field_anywhere\"\n",
    )
    .unwrap();
    let ran = run(&feature, tmp.path());
    let out = &ran.output;
    assert_eq!(ran.code, Some(1), "{out}");
    assert!(out.contains("# Server"), "the head: {out}");
    assert!(out.contains("lines;"), "{out}");
    let info_lines = out
        .lines()
        .map(str::trim)
        .filter(|l| l.contains(':') && !l.contains(' ') && !l.starts_with('#'))
        .count();
    assert!(info_lines < 40, "{info_lines} INFO lines shown:\n{out}");
    let kept = out
        .split("the whole is at ")
        .filter_map(|rest| rest.split(" …]").next())
        .find(|p| p.ends_with("value-1.txt"))
        .unwrap_or_else(|| panic!("no kept value named in:\n{out}"));
    let whole = std::fs::read_to_string(kept).unwrap();
    assert!(whole.lines().count() > 100, "{whole}");
}
