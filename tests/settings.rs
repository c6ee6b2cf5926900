//! Settings are validated before anything starts: a bad value stops the run
//! at once with every problem listed, and a misspelt name is refused with the
//! closest one. Each case runs this test binary again as a child with the
//! environment under test (the environment is process-wide).

mod common;

use std::time::{Duration, Instant};

/// The child's part: validates the settings, then tries a run; prints both.
#[tokio::test]
async fn child_process_entry() {
    if std::env::var_os("VALKEY_BDD_TEST_CHILD").is_none() {
        return;
    }
    println!("tmp_root: {}", valkey_bdd::settings::tmp_root().display());
    match valkey_bdd::settings::validate() {
        Ok(()) => println!("validate: ok"),
        Err(e) => println!("validate: {e}"),
    }
    let started = Instant::now();
    // The fixture has a failing scenario: keep nothing of it.
    let outcome = valkey_bdd::Runner::new("tests/fixtures/keep")
        .args(["settings"])
        .keep(valkey_bdd::settings::KeepPolicy::Never)
        .quiet()
        .run()
        .await;
    println!(
        "run: {} after {} ms",
        match outcome {
            Ok(_) => "ran".to_string(),
            Err(e) => format!("refused: {e}"),
        },
        started.elapsed().as_millis()
    );
}

#[test]
fn a_misspelt_name_is_warned_about_with_the_closest_one() {
    let out = common::this_test("child_process_entry")
        .env("VALKEY_BDD_TEST_CHILD", "1")
        .env("VALKEY_BDD_KEPP", "always")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: VALKEY_BDD_KEPP is not a setting valkey-bdd knows; did you mean VALKEY_BDD_KEEP?"),
        "{stderr}"
    );
}

fn child(env: &[(&str, &str)]) -> String {
    let mut cmd = common::this_test("child_process_entry");
    cmd.env("VALKEY_BDD_TEST_CHILD", "1");
    common::stdout(&cmd.envs(env.iter().copied()).output().unwrap())
}

fn refused_quickly(out: &str) -> bool {
    let re = regex::Regex::new(r"run: refused: (?s:.*) after (\d+) ms").unwrap();
    re.captures(out)
        .is_some_and(|c| Duration::from_millis(c[1].parse().unwrap()) < Duration::from_secs(2))
}

#[test]
fn bad_values_stop_the_run_before_anything_starts() {
    for (var, value, says) in [
        (
            "VALKEY_BDD_PORT_BASE",
            "abc",
            "VALKEY_BDD_PORT_BASE=\"abc\" is not a port number",
        ),
        (
            "VALKEY_BDD_COMMAND_TIMEOUT",
            "abc",
            "VALKEY_BDD_COMMAND_TIMEOUT=\"abc\" is not a number of seconds",
        ),
        (
            "VALKEY_BDD_START_TIMEOUT",
            "-1",
            "is not a number of seconds",
        ),
        (
            "VALKEY_BDD_TMPDIR",
            "/no/such/folder",
            "VALKEY_BDD_TMPDIR=/no/such/folder cannot be used",
        ),
        // The default it offers is the one a run takes.
        (
            "VALKEY_BDD_TMPDIR",
            "/no/such/folder",
            "unset VALKEY_BDD_TMPDIR to use /dev/shm when it has 1 GiB free, else the system temp dir",
        ),
        // Port 0 means "any", ports below 1024 are privileged.
        (
            "VALKEY_BDD_PORT_BASE",
            "0",
            "VALKEY_BDD_PORT_BASE=0 is below 1024",
        ),
        (
            "VALKEY_BDD_PORT_BASE",
            "1",
            "VALKEY_BDD_PORT_BASE=1 is below 1024",
        ),
        (
            "VALKEY_BDD_PORT_BASE",
            "80",
            "VALKEY_BDD_PORT_BASE=80 is below 1024: servers would be given privileged ports",
        ),
        (
            "VALKEY_BDD_DURATIONS",
            "/no/such/folder/durations.tsv",
            "VALKEY_BDD_DURATIONS=/no/such/folder/durations.tsv: the folder /no/such/folder does not exist",
        ),
        ("VALKEY_BDD_CONCURRENCY", "0", "is not a positive number"),
        ("VALKEY_BDD_KEEP", "sometimes", "is not a keep policy"),
        ("VALKEY_BDD_LOG", "valkey_bdd=loud", "is not a log filter"),
        (
            "VALKEY_BDD_SLOW_NOTICE",
            "later",
            "VALKEY_BDD_SLOW_NOTICE=\"later\" is not a number of seconds",
        ),
    ] {
        let out = child(&[(var, value)]);
        assert!(out.contains(says), "{var}={value}: {out}");
        assert!(refused_quickly(&out), "{var}={value}: {out}");
    }
}

#[test]
fn every_problem_is_listed_at_once() {
    let out = child(&[
        ("VALKEY_BDD_PORT_BASE", "abc"),
        ("VALKEY_BDD_WAIT_TIMEOUT", "soon"),
    ]);
    assert!(out.contains("2 setting(s) cannot be used:\n  "), "{out}");
    assert!(
        out.contains("VALKEY_BDD_PORT_BASE") && out.contains("VALKEY_BDD_WAIT_TIMEOUT"),
        "{out}"
    );
}

#[test]
fn good_values_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = child(&[
        ("VALKEY_BDD_TMPDIR", dir.path().to_str().unwrap()),
        ("VALKEY_BDD_PORT_BASE", "17000"),
        ("VALKEY_BDD_KEEP", "never"),
    ]);
    assert!(out.contains("validate: ok"), "{out}");
    assert!(out.contains("run: ran"), "{out}");
    assert!(
        out.contains(&format!("tmp_root: {}\n", dir.path().display())),
        "VALKEY_BDD_TMPDIR wins: {out}"
    );
}

#[test]
fn scenario_directories_go_to_memory_when_it_has_room() {
    let out = common::this_test("child_process_entry")
        .env("VALKEY_BDD_TEST_CHILD", "1")
        .env_remove("VALKEY_BDD_TMPDIR")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    let shm_has_room = nix::sys::statvfs::statvfs("/dev/shm")
        .is_ok_and(|s| s.blocks_available() * s.fragment_size() >= 1 << 30);
    let expected = if shm_has_room {
        "/dev/shm".into()
    } else {
        std::env::temp_dir().display().to_string()
    };
    assert!(out.contains(&format!("tmp_root: {expected}\n")), "{out}");
}
