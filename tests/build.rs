//! Source builds: the error a failed build shows, one build for concurrent
//! callers, and the automatic build of a missing `SERVER_VERSION`.
//!
//! The real build (Valkey's source tarball, `make BUILD_TLS=yes`) runs in
//! `.ci/install-server` and its binary in `tests/matrix.rs`; the source trees
//! here are small Makefiles, so that these checks take a second: the one
//! that succeeds "builds" by copying the distribution's real valkey-server.

use std::path::Path;
use std::process::Command;

use valkey_bdd::build::{Build, Source};

fn tree(dir: &Path, makefile: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Makefile"), makefile).unwrap();
}

fn build(version: &str, source: &Path, dest: &Path) -> Build {
    let mut b = Build::new(version);
    b.source = Source::Tree(source.to_path_buf());
    b.dest = dest.to_path_buf();
    b.progress = false;
    b
}

/// A Makefile that takes a moment, counts its runs in `counter`, and
/// installs the real valkey-server 8.0.1 as its product.
fn copying_makefile(counter: &Path) -> String {
    format!(
        "all:\n\t@echo CC server.c\n\t@sleep 1\n\t@echo built >> {}\n\tcp /usr/bin/valkey-server src/valkey-server\n",
        counter.display()
    )
}

#[tokio::test]
async fn a_failed_build_shows_the_tail_of_its_log_and_keeps_it() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src-tree");
    tree(
        &src,
        "all:\n\t@echo CC server.c\n\t@echo \"server.c:1:1: error: expected ';' before '}' token\" >&2\n\t@false\n",
    );
    let dest = tmp.path().join("binaries");
    let err = build("0.0.1", &src, &dest)
        .run()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("building valkey 0.0.1 failed: make exited with code 2"),
        "{err}"
    );
    assert!(err.contains("server.c:1:1: error: expected ';'"), "{err}");
    assert!(err.contains("hint: a missing compiler or library"), "{err}");
    let kept = std::fs::read_to_string(dest.join("build-0.0.1.log")).unwrap();
    assert!(kept.contains("==> make"), "{kept}");
    // Nothing half-built is left where SERVER_VERSION looks.
    assert!(!dest.join("0.0.1").exists());
}

#[tokio::test]
async fn concurrent_builds_of_one_version_build_once() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src-tree");
    let counter = tmp.path().join("runs");
    tree(&src, &copying_makefile(&counter));
    let dest = tmp.path().join("binaries");
    let (first, second) = (build("8.0.1", &src, &dest), build("8.0.1", &src, &dest));
    let (a, b) = tokio::join!(first.run(), second.run());
    assert_eq!(a.unwrap(), dest.join("8.0.1/valkey-server"));
    assert_eq!(b.unwrap(), dest.join("8.0.1/valkey-server"));
    assert_eq!(std::fs::read_to_string(&counter).unwrap(), "built\n");
    // The build directory went; only the version's directory is left.
    let left: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["8.0.1"]);
    // The source tree was copied, not built in place.
    assert!(!src.join("src/valkey-server").exists());
}

#[tokio::test]
async fn a_build_of_the_wrong_version_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src-tree");
    tree(&src, &copying_makefile(&tmp.path().join("runs")));
    let err = build("9.9.9", &src, &tmp.path().join("binaries"))
        .run()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the source built a server that says \"Valkey server v=8.0.1"),
        "{err}"
    );
}

/// The child's part of the test below; does nothing in a normal run.
#[tokio::test]
async fn child_process_entry() {
    if std::env::var("VALKEY_BDD_TEST_CHILD").as_deref() == Ok("resolve") {
        let b = valkey_bdd::ServerBinary::resolve(None).await.unwrap();
        println!("RESOLVED {} {}", b.path.display(), b.version_string());
    }
}

#[test]
fn a_missing_server_version_is_built_from_valkey_source() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src-tree");
    tree(&src, &copying_makefile(&tmp.path().join("runs")));
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_entry", "--nocapture"])
        .current_dir(tmp.path())
        .env("VALKEY_BDD_TEST_CHILD", "resolve")
        .env("SERVER_VERSION", "8.0.1")
        .env("VALKEY_SOURCE", &src)
        .env_remove("VALKEY_SERVER_PATH")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = tmp.path().join(".build/binaries/8.0.1/valkey-server");
    assert!(
        text.contains(&format!("RESOLVED {} 8.0.1", expected.display())),
        "{text}"
    );
    assert!(
        text.contains("valkey-bdd: building valkey 8.0.1 from the source tree"),
        "{text}"
    );
}

#[tokio::test]
async fn a_build_clones_the_repository_at_the_version_tag() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    tree(&repo, &copying_makefile(&tmp.path().join("runs")));
    std::fs::write(repo.join("src/.keep"), "").unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "--quiet"]);
    git(&["add", "."]);
    git(&["commit", "--quiet", "-m", "source"]);
    git(&["tag", "8.0.1"]);
    let mut b = Build::new("8.0.1");
    b.source = Source::Git {
        url: format!("file://{}", repo.display()),
        tag: "8.0.1".into(),
    };
    b.dest = tmp.path().join("binaries");
    b.progress = false;
    assert_eq!(
        b.run().await.unwrap(),
        tmp.path().join("binaries/8.0.1/valkey-server")
    );
    // A tag that does not exist fails with git's words and what to do.
    let mut missing = Build::new("9.9.9");
    missing.source = Source::Git {
        url: format!("file://{}", repo.display()),
        tag: "9.9.9".into(),
    };
    missing.dest = tmp.path().join("binaries");
    missing.progress = false;
    let err = missing.run().await.unwrap_err().to_string();
    assert!(
        err.contains("cloning file://") && err.contains("9.9.9"),
        "{err}"
    );
    assert!(err.contains("hint: no network, or no such tag?"), "{err}");
}
