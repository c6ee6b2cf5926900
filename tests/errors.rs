//! The errors a user sees, checked on their text.

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::unix::fs::PermissionsExt;

use valkey_bdd::binary::locate_with;
use valkey_bdd::cucumber::gherkin;
use valkey_bdd::{Error, Runner, Server, ServerSpec};

#[test]
fn a_missing_binary_lists_every_place_looked_and_how_to_fix_it() {
    let empty = tempfile::tempdir().unwrap();
    let path = OsString::from(empty.path());
    let err = locate_with(None, |k| (k == "PATH").then(|| path.clone())).unwrap_err();
    let text = err.to_string();
    for expected in [
        "no valkey-server binary found",
        "VALKEY_SERVER_PATH: (unset) (not set)",
        "SERVER_VERSION: .build/binaries/$SERVER_VERSION/valkey-server (SERVER_VERSION not set)",
        "PATH: valkey-server (not in any PATH directory)",
        "PATH: redis-server (not in any PATH directory)",
        "hint: install one (`bash .ci/install-server` on Debian/Ubuntu), or point VALKEY_SERVER_PATH",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn a_server_version_that_is_not_built_says_where_it_looked() {
    let empty = tempfile::tempdir().unwrap();
    let path = OsString::from(empty.path());
    let cache = OsString::from(empty.path().join("cache"));
    let err = locate_with(None, |k| match k {
        "PATH" => Some(path.clone()),
        "SERVER_VERSION" => Some("9.9.9".into()),
        "XDG_CACHE_HOME" => Some(cache.clone()),
        _ => None,
    })
    .unwrap_err()
    .to_string();
    let cwd = std::env::current_dir().unwrap();
    for expected in [
        format!(
            "SERVER_VERSION=9.9.9 in the current directory's .build: {}/.build/binaries/9.9.9/valkey-server (does not exist)",
            cwd.display()
        ),
        format!(
            "SERVER_VERSION=9.9.9 in the user cache: {}/cache/valkey-bdd/binaries/9.9.9/valkey-server (does not exist)",
            empty.path().display()
        ),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in:\n{err}");
    }
}

#[test]
fn a_non_executable_binary_is_refused_with_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("valkey-server");
    std::fs::write(&fake, "not a program").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o644)).unwrap();
    let var = OsString::from(&fake);
    let err = locate_with(None, |k| (k == "VALKEY_SERVER_PATH").then(|| var.clone()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "the server binary {} cannot be used: is not executable (mode 644)",
            fake.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: fix or unset VALKEY_SERVER_PATH"),
        "{err}"
    );
}

#[tokio::test]
async fn an_explicit_binary_that_does_not_exist_is_named() {
    let err = Server::start(ServerSpec::new("x").binary("/nonexistent/valkey-server"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "the server binary /nonexistent/valkey-server cannot be used: does not exist"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_bad_directive_shows_the_log_and_a_hint() {
    let err = Server::start(ServerSpec::new("bad").config("no-such-directive", "1"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::StartFailed { .. }), "{text}");
    for expected in [
        "server \"bad\" (port ",
        ") failed to start: the process exited with status 1",
        "Bad directive or wrong number of arguments",
        "no-such-directive 1",
        "hint: a directive was rejected: see the lines above, and ",
        "valkey.conf for what was written",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    if let Error::StartFailed { report, .. } = &err {
        // The log is kept for the user to read (keep policy "failed").
        assert!(report.log.exists());
        std::fs::remove_dir_all(report.log.parent().unwrap()).unwrap();
    }
}

#[tokio::test]
async fn a_pinned_port_that_is_taken_is_refused() {
    let lease = valkey_bdd::ports::lease().unwrap();
    let port = lease.port();
    drop(lease);
    let _busy = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).unwrap();
    let err = Server::start(ServerSpec::new("pinned").config("port", port.to_string()))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "bad configuration: port {port} is already in use (or leased by another valkey-bdd run)\n  \
             hint: leave `port` out of the configuration to let valkey-bdd choose a free one"
        )
    );
}

#[tokio::test]
async fn a_crash_is_reported_with_exit_status_log_and_bug_report() {
    let server = Server::start(ServerSpec::new("crashy")).await.unwrap();
    let err = server.command("DEBUG SEGFAULT").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Died { .. }), "{text}");
    let head = format!(
        "server \"crashy\" (port {}) is not running: the process was killed by signal 11 (SIGSEGV)",
        server.port()
    );
    for expected in [
        head.as_str(),
        "while: running `DEBUG SEGFAULT`",
        "last lines:",
        "bug report:",
        "BUG REPORT START",
        "crashed by signal",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // Later checks keep reporting the death, not a vague connection error.
    let again = server
        .check_running("checking again")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        again.contains("killed by signal 11 (SIGSEGV)") && again.contains("while: checking again"),
        "{again}"
    );
}

#[tokio::test]
async fn an_unbalanced_quote_is_pointed_at() {
    let server = Server::start(ServerSpec::new("quotes")).await.unwrap();
    let mut c = server.client().await.unwrap();
    let err = c.run(r#"SET "my key v"#).await.unwrap_err().to_string();
    assert_eq!(
        err,
        "cannot read the command `SET \"my key v`: the double quote at column 5 is never closed\n  \
         hint: quote arguments as in valkey-cli: \"my key\", \"it's\", 'it\\'s', \"a\\\"b\", \"\\x00\""
    );
    // Every spelling the hint suggests reaches the server as meant.
    for (spelling, meaning) in valkey_bdd::command::QUOTING_EXAMPLES {
        let reply = c.run(&format!("ECHO {spelling}")).await.unwrap();
        assert_eq!(
            reply,
            valkey_bdd::Reply::Bulk(meaning.to_vec()),
            "{spelling}"
        );
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_unknown_step_is_reported_before_anything_starts() {
    let err = Runner::new("tests/fixtures/unknown_step")
        .args(["cucumber"])
        .run()
        .await
        .unwrap_err()
        .to_string();
    for expected in [
        "1 step(s) match no step definition:",
        "tests/fixtures/unknown_step/unknown.feature:5  When I runn `PING` on the server",
        "closest known sentences:",
        "closest known sentences:\n      When I run {command} on {server}\n",
        "hint: STEPS.md lists every sentence valkey-bdd knows",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}

fn step_of(feature: &str) -> gherkin::Step {
    let f = gherkin::Feature::parse(feature, gherkin::GherkinEnv::default()).unwrap();
    f.scenarios[0].steps[0].clone()
}

#[tokio::test]
async fn a_malformed_config_table_names_the_row() {
    let mut w = valkey_bdd::ValkeyWorld::new();
    let step = step_of(
        "Feature: f\n  Scenario: s\n    Given a server with the config:\n      | maxmemory | 1kb | extra |\n",
    );
    let err = valkey_bdd::steps::config_table(&mut w, &step)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "bad configuration: row 1 of the table has 3 cell(s) (\"maxmemory\", \"1kb\", \"extra\"), not 2\n  \
         hint: each row is | directive | value |; a directive with several arguments keeps them in one cell: | save | 900 1 |"
    );
    let missing = step_of("Feature: f\n  Scenario: s\n    Given a server with the config:\n");
    let err = valkey_bdd::steps::config_table(&mut w, &missing)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("needs a table of directives below it"),
        "{err}"
    );
}

#[tokio::test]
async fn a_tls_server_on_a_binary_without_tls_says_so_and_what_to_do() {
    // .ci/install-server puts a Valkey 9 binary built without TLS in
    // .build/binaries (beside one built from source, with TLS).
    let mut binary = None;
    for entry in std::fs::read_dir(".build/binaries")
        .expect("run `bash .ci/install-server` first")
        .flatten()
    {
        let path = std::path::absolute(entry.path().join("valkey-server")).unwrap();
        if path.exists()
            && !valkey_bdd::ServerBinary::resolve(Some(&path))
                .await
                .unwrap()
                .supports_tls()
                .await
        {
            binary = Some(path);
        }
    }
    let binary = binary.expect("a binary without TLS in .build/binaries");
    let err = Server::start(
        ServerSpec::new("secure")
            .binary(&binary)
            .tls(valkey_bdd::tls::ServerTls::new()),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(&format!(
            "{} cannot be used: was built without TLS, and server \"secure\" needs it",
            binary.display()
        )) && err.contains("hint: tag the scenario @requires:tls"),
        "{err}"
    );
}

#[tokio::test]
async fn a_unix_socket_path_too_long_for_the_kernel_is_refused_with_a_fix() {
    let root = tempfile::tempdir().unwrap();
    let deep = root.path().join("d".repeat(100));
    std::fs::create_dir_all(&deep).unwrap();
    let err = Server::start(ServerSpec::new("sock").unix_socket(0o700).in_dir(&deep))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bytes long; the kernel takes at most 107")
            && err.contains("hint: set VALKEY_BDD_TMPDIR to a shorter directory"),
        "{err}"
    );
}

/// The `.rs` files under `dir`, recursively.
fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A heading's anchor as GitHub makes it: lower case, spaces as `-`, other
/// punctuation dropped.
fn anchor_of(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The headings of a Markdown file, outside its fenced code blocks.
fn headings(file: &std::path::Path) -> Vec<String> {
    let mut fenced = false;
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            if l.starts_with("```") {
                fenced = !fenced;
            }
            !fenced && l.starts_with('#')
        })
        .map(|l| l.trim_start_matches('#').trim().to_string())
        .collect()
}

#[test]
fn every_page_section_or_anchor_a_message_names_exists() {
    // A message names a section as PAGE: "Title", the page a file of the
    // book (docs/src/….md) or README; a link as FILE.md#anchor.
    let section =
        regex::Regex::new(r#"(README|docs/src/[A-Za-z0-9_./-]+\.md): \\?"([^"\\]+)\\?""#).unwrap();
    let anchor = regex::Regex::new(r"([A-Za-z_./-]+\.md)#([A-Za-z0-9_-]+)").unwrap();
    let mut files = Vec::new();
    sources(std::path::Path::new("src"), &mut files);
    let mut wrong = Vec::new();
    let mut named = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            let place = format!("{}:{}", file.display(), n + 1);
            let names_a_page = line.contains("README") || line.contains("docs/src/");
            if names_a_page && !section.is_match(line) && !anchor.is_match(line) {
                wrong.push(format!(
                    "{place}: names a page without a section: write docs/src/PAGE.md: \\\"Title\\\"\n    {}",
                    line.trim()
                ));
            }
            for c in section.captures_iter(line) {
                named += 1;
                let page = match &c[1] {
                    "README" => "README.md",
                    page => page,
                };
                if !headings(std::path::Path::new(page))
                    .iter()
                    .any(|h| h == &c[2])
                {
                    wrong.push(format!("{place}: {page} has no section \"{}\"", &c[2]));
                }
            }
            for c in anchor.captures_iter(line) {
                named += 1;
                // A bare name (STEPS.md) is the repository's root file;
                // a path is taken from the root.
                let target = std::path::Path::new(&c[1]);
                let exists =
                    target.exists() && headings(target).iter().any(|h| anchor_of(h) == c[2]);
                if !exists {
                    wrong.push(format!("{place}: {}#{} names no heading", &c[1], &c[2]));
                }
            }
        }
    }
    assert!(named >= 2, "the scan found too few named sections: {named}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
