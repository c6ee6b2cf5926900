//! `VALKEY_BDD_WRAPPER=valgrind`: every server runs under memcheck, and a
//! definite leak or a memory error fails the scenario with the report.
//! Uses the Valkey 9 binary of `.build/binaries` (built with libc malloc,
//! which valgrind can follow) and the test module's deliberate leak.

mod common;

use std::process::Command;

use valkey_bdd::Runner;

/// The child's part of the test below; does nothing in a normal run.
#[tokio::test]
async fn child_process_entry() {
    if std::env::var("VALKEY_BDD_TEST_CHILD").as_deref() == Ok("checker") {
        let o = Runner::new("tests/fixtures/checker")
            .args(["checker"])
            .run()
            .await
            .unwrap();
        for s in &o.scenarios {
            println!("VERDICT {} => {:?}", s.scenario, s.verdict);
        }
    }
}

#[test]
fn a_leak_found_by_valgrind_fails_the_scenario_and_shows_the_report() {
    let binary = std::fs::read_dir(".build/binaries")
        .expect("run `bash .ci/install-server` first")
        .flatten()
        .map(|e| e.path().join("valkey-server"))
        .find(|p| {
            Command::new(p)
                .arg("--version")
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("malloc=libc"))
        })
        .expect("a server built with libc malloc in .build/binaries (the Valkey 9 one)");
    let tmp = tempfile::tempdir().unwrap();
    let out = common::this_test("child_process_entry")
        .env("VALKEY_BDD_TEST_CHILD", "checker")
        .env("VALKEY_BDD_WRAPPER", "valgrind")
        .env("VALKEY_SERVER_PATH", &binary)
        .env("VALKEY_BDD_TMPDIR", tmp.path())
        .env("VALKEY_BDD_KEEP", "never")
        .output()
        .unwrap();
    let text = common::text(&out);
    assert!(
        text.contains("VERDICT A clean module passes under valgrind => Passed"),
        "{text}"
    );
    assert!(
        text.contains(
            "VERDICT A module that leaks fails under valgrind, with the report => Failed"
        ),
        "{text}"
    );
    assert!(
        text.contains("valgrind found 1 error(s) in server \"default\""),
        "{text}"
    );
    assert!(
        text.contains("4,096 bytes in 1 blocks are definitely lost"),
        "{text}"
    );
    assert!(
        text.contains("tally_debug_leak"),
        "the report names the leaking function:\n{text}"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing left behind"
    );
}
