//! Source builds: the error a failed build shows and the log it keeps, one
//! build for concurrent callers, and `SERVER_VERSION`: found in every root
//! of built binaries (the crate's, the workspace's, the user cache) before
//! it is built, into the user cache.
//!
//! The real build (Valkey's source tarball, `make BUILD_TLS=yes`) runs in
//! `.ci/install-server` and its binary in `tests/matrix.rs`; the source trees
//! here are small Makefiles, so that these checks take a second: the one
//! that succeeds "builds" by copying the distribution's real valkey-server.

mod common;

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
    b.logs = dest.with_file_name("build-logs");
    b.progress = false;
    b
}

/// The one log a build kept in `logs`, and what the error says of it.
fn kept_log(logs: &Path, version: &str, err: &str) -> String {
    let logs: Vec<_> = std::fs::read_dir(logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let name = logs[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("{version}-")) && name.ends_with("Z.log"),
        "{name}"
    );
    assert!(
        err.contains(&format!("log {}, last lines:", logs[0].display())),
        "{err}"
    );
    std::fs::read_to_string(&logs[0]).unwrap()
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
    // The log the error names outlives the build directory.
    let kept = kept_log(&tmp.path().join("build-logs"), "0.0.1", &err);
    assert!(kept.contains("==> make"), "{kept}");
    assert!(kept.contains("expected ';' before"), "{kept}");
    // Nothing half-built is left where SERVER_VERSION looks.
    assert!(!dest.join("0.0.1").exists());
}

#[tokio::test]
async fn a_source_that_is_not_a_valkey_tree_fails_at_once_and_names_its_kept_log() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("not-valkey");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("README"), "no Makefile here").unwrap();
    let dest = tmp.path().join("binaries");
    let started = std::time::Instant::now();
    let err = build("0.0.2", &src, &dest)
        .run()
        .await
        .unwrap_err()
        .to_string();
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(err.contains("make exited with code 2"), "{err}");
    let kept = kept_log(&tmp.path().join("build-logs"), "0.0.2", &err);
    assert!(
        kept.contains("No targets specified and no makefile found"),
        "{kept}"
    );
    // The build directory went with the build; only the log stays.
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
}

#[tokio::test]
async fn a_tarball_tar_cannot_read_fails_with_what_to_check_and_its_kept_log() {
    let tmp = tempfile::tempdir().unwrap();
    let tarball = tmp.path().join("valkey-0.0.3.tar.xz");
    std::fs::write(&tarball, "not a tarball").unwrap();
    let dest = tmp.path().join("binaries");
    let mut b = build("0.0.3", &tarball, &dest);
    b.source = Source::local(tarball.clone());
    let err = b.run().await.unwrap_err().to_string();
    assert!(
        err.starts_with("building valkey 0.0.3 failed: unpacking the tarball exited with code 2"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "hint: is {} a source tarball tar can read?",
            tarball.display()
        )),
        "{err}"
    );
    let kept = kept_log(&tmp.path().join("build-logs"), "0.0.3", &err);
    assert!(kept.contains("==> unpacking the tarball"), "{kept}");
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
}

#[tokio::test]
async fn concurrent_builds_of_one_version_build_once() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src-tree");
    let counter = tmp.path().join("runs");
    tree(&src, &copying_makefile(&counter));
    let dest = tmp.path().join("binaries");
    let (first, second) = (build("8.0.1", &src, &dest), build("8.0.1", &src, &dest));
    // (The build's log is kept outside the binaries, in build-logs.)
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

/// The child's part of the tests below; does nothing in a normal run.
#[tokio::test]
async fn child_process_entry() {
    if std::env::var("VALKEY_BDD_TEST_CHILD").as_deref() == Ok("resolve") {
        match valkey_bdd::ServerBinary::resolve(None).await {
            Ok(b) => println!(
                "RESOLVED {} {} by {}",
                b.path.display(),
                b.version_string(),
                b.found_by
            ),
            Err(e) => println!("FAILED {e}"),
        }
    }
}

/// A downstream crate as a module author has one: a workspace `ws` with a
/// member `ws/member`, a user cache `cache`, and nothing built anywhere.
struct Downstream {
    tmp: tempfile::TempDir,
}

impl Downstream {
    fn new() -> Downstream {
        let tmp = tempfile::tempdir().unwrap();
        let member = tmp.path().join("ws/member");
        std::fs::create_dir_all(member.join("src")).unwrap();
        std::fs::write(
            tmp.path().join("ws/Cargo.toml"),
            "[workspace]\nmembers = [\"member\"]\n",
        )
        .unwrap();
        std::fs::write(
            member.join("Cargo.toml"),
            "[package]\nname = \"member\"\nversion = \"0.1.0\"\n",
        )
        .unwrap();
        std::fs::create_dir_all(tmp.path().join("cache")).unwrap();
        Downstream { tmp }
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.tmp.path().join(rel)
    }

    /// The real valkey-server 8.0.1, linked as `<root>/8.0.1/valkey-server`.
    fn place(&self, root: &str) -> std::path::PathBuf {
        let dir = self.path(root).join("8.0.1");
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("valkey-server");
        std::os::unix::fs::symlink("/usr/bin/valkey-server", &binary).unwrap();
        binary
    }

    /// Resolves `SERVER_VERSION=version` in a child process run by cargo in
    /// the member crate; a build, if one starts, clones from nowhere.
    fn resolve(&self, version: &str, extra: &[(&str, &Path)]) -> String {
        let member = self.path("ws/member");
        let mut cmd = common::this_test("child_process_entry");
        cmd.current_dir(&member)
            .env("VALKEY_BDD_TEST_CHILD", "resolve")
            .env("SERVER_VERSION", version)
            .env("CARGO_MANIFEST_DIR", &member)
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("VALKEY_BDD_GIT_URL", self.path("no-such-repository"))
            .env_remove("VALKEY_SOURCE")
            .env_remove("VALKEY_SERVER_PATH");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        common::text(&out)
    }

    /// No `.build` appeared in the crate or the workspace.
    fn assert_no_build_dirs(&self, text: &str) {
        for dir in ["ws/member/.build", "ws/.build"] {
            assert!(!self.path(dir).exists(), "{dir} was created\n{text}");
        }
    }
}

#[test]
fn a_server_version_in_the_user_cache_is_used_by_another_crate_without_a_build() {
    let d = Downstream::new();
    let binary = d.place("cache/valkey-bdd/binaries");
    let text = d.resolve("8.0.1", &[]);
    assert!(
        text.contains(&format!(
            "RESOLVED {} 8.0.1 by SERVER_VERSION=8.0.1 in the user cache",
            binary.display()
        )),
        "{text}"
    );
    assert!(!text.contains("building"), "{text}");
    d.assert_no_build_dirs(&text);
}

#[test]
fn a_server_version_in_the_workspace_build_is_found_from_a_member_crate() {
    let d = Downstream::new();
    let binary = d.place("ws/.build/binaries");
    let text = d.resolve("8.0.1", &[]);
    assert!(
        text.contains(&format!(
            "RESOLVED {} 8.0.1 by SERVER_VERSION=8.0.1 in the cargo workspace's .build",
            binary.display()
        )),
        "{text}"
    );
    assert!(!text.contains("building"), "{text}");
    assert!(!d.path("ws/member/.build").exists(), "{text}");
}

#[test]
fn a_server_version_that_cannot_be_built_says_every_place_it_looked() {
    let d = Downstream::new();
    let text = d.resolve("0.0.7", &[]);
    assert!(
        text.contains("FAILED building valkey 0.0.7 failed: cloning "),
        "{text}"
    );
    for (label, root) in [
        (
            "the current directory's .build",
            "ws/member/.build/binaries",
        ),
        ("the cargo workspace's .build", "ws/.build/binaries"),
        ("the user cache", "cache/valkey-bdd/binaries"),
    ] {
        let line = format!(
            "- SERVER_VERSION=0.0.7 in {label}: {}/0.0.7/valkey-server (does not exist)",
            d.path(root).display()
        );
        assert!(text.contains(&line), "missing {line:?} in:\n{text}");
    }
    assert!(
        text.contains(&format!(
            "and, found in none, built into {}",
            d.path("cache/valkey-bdd/binaries").display()
        )),
        "{text}"
    );
    // The log it names is kept in the user cache.
    kept_log(&d.path("cache/valkey-bdd/build-logs"), "0.0.7", &text);
    d.assert_no_build_dirs(&text);
}

#[test]
fn a_missing_server_version_is_built_from_valkey_source_into_the_user_cache() {
    let d = Downstream::new();
    let src = d.path("src-tree");
    tree(&src, &copying_makefile(&d.path("runs")));
    let text = d.resolve("8.0.1", &[("VALKEY_SOURCE", &src)]);
    let expected = d.path("cache/valkey-bdd/binaries/8.0.1/valkey-server");
    assert!(
        text.contains(&format!("RESOLVED {} 8.0.1", expected.display())),
        "{text}"
    );
    assert!(
        text.contains("valkey-bdd: building valkey 8.0.1 from the source tree"),
        "{text}"
    );
    d.assert_no_build_dirs(&text);
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
    b.logs = tmp.path().join("build-logs");
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
    missing.logs = tmp.path().join("build-logs");
    missing.progress = false;
    let err = missing.run().await.unwrap_err().to_string();
    assert!(
        err.contains("cloning file://") && err.contains("9.9.9"),
        "{err}"
    );
    assert!(err.contains("hint: no network, or no such tag?"), "{err}");
}
