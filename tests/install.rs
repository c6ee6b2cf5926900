//! The command installed without this repository's cargo build: through
//! `cargo install` under a fresh CARGO_HOME, and through the Python wheel in
//! a fresh virtualenv, which then runs the C-module suite. Both are linked
//! by zig for glibc 2.17, so that the wheel (tagged manylinux2014) installs
//! on the Linux CI images people use, and both share one release build in
//! `target/<host triple>/release`, under the clean CARGO_HOME, linker and C
//! compiler of `.ci/packaging-env`: the first packaging pays for it, the
//! second reuses it (checked here: it rewrites no compiled crate), later
//! runs reuse it too.
//!
//! Both package from a crate cache that holds only what README's two
//! commands download on a fresh machine (a new CARGO_HOME with an empty
//! registry, [`FreshCargoHome`]): this machine's crates, as `cargo test`
//! downloads them, and those `.ci/install-server` downloads — packaging reads
//! every platform's, offline, and once passed here only because the
//! developer's cache happened to hold them (downloading them takes about
//! half a minute).
//!
//! A test is skipped, saying why, when a tool it needs is missing from the
//! machine (python3's venv for the wheel), and when `TEST_PACKAGING=0` asks
//! to leave packaging out: the first run pays for a release build (about 9
//! minutes cold on a 2-core machine, seconds when nothing changed), which a
//! developer iterating on something else may skip.

use std::process::Command;
use std::sync::Mutex;

/// One packaging at a time, the second reusing what the first compiled
/// instead of waiting on its lock; it counts the packagings this process
/// has run, so that the second can check it compiled nothing again.
static ONE_AT_A_TIME: Mutex<usize> = Mutex::new(0);

fn has(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The cargo running the tests.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// This machine's target triple, which `.ci/packaging-env` builds for.
fn host() -> String {
    let out = Command::new("rustc").arg("-vV").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .unwrap()
}

/// The compiled crates of the packagings' release build
/// (`target/<host triple>/release/deps/*.rlib`) with their modification
/// times: a crate compiled again is rewritten.
fn compiled_crates() -> Vec<(std::path::PathBuf, std::time::SystemTime)> {
    let target = std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
    let deps = std::path::Path::new(&target)
        .join(host())
        .join("release/deps");
    let Ok(entries) = std::fs::read_dir(&deps) else {
        return Vec::new();
    };
    let mut crates: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "rlib"))
        .filter_map(|e| Some((e.path(), e.metadata().ok()?.modified().ok()?)))
        .collect();
    crates.sort();
    crates
}

/// A CARGO_HOME made afresh, its registry empty, then filled as on a fresh
/// machine: the crates `cargo test` downloads (this machine's platform
/// only), then what `.ci/install-server` downloads. Network: the registry
/// the user's cargo configuration names (its `config.toml` is copied; no
/// crate is).
struct FreshCargoHome(tempfile::TempDir);

impl FreshCargoHome {
    fn new() -> FreshCargoHome {
        let home = tempfile::tempdir().unwrap();
        let user = std::env::var_os("CARGO_HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(&std::env::var_os("HOME").unwrap()).join(".cargo")
            });
        for config in ["config.toml", "config"] {
            if user.join(config).is_file() {
                std::fs::copy(user.join(config), home.path().join(config)).unwrap();
            }
        }
        // What `cargo test` downloads: the crates of this platform.
        let fetch = Command::new(cargo())
            .args(["fetch", "--locked", "--quiet", "--target", &host()])
            .env("CARGO_HOME", home.path())
            .output()
            .unwrap();
        assert!(fetch.status.success(), "cargo fetch: {fetch:?}");
        // What README's first command downloads.
        let install = Command::new("bash")
            .args([".ci/install-server", "crates"])
            .env("CARGO_HOME", home.path())
            .output()
            .unwrap();
        assert!(
            install.status.success(),
            ".ci/install-server crates: {install:?}"
        );
        FreshCargoHome(home)
    }
}

/// Runs `.ci/<name>` with a [`FreshCargoHome`] and returns what it printed;
/// fails when it failed or did not print the version of this crate, and
/// when, run after the other packaging, it compiled a crate again: the two
/// must share one release build (a linker, C compiler or target of their
/// own would compile every crate a second time, about 9 minutes in CI).
fn script(name: &str, args: &[&str]) -> String {
    let mut done = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let before = (*done > 0).then(compiled_crates);
    let started = std::time::Instant::now();
    let home = FreshCargoHome::new();
    eprintln!(
        "a fresh CARGO_HOME filled in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let out = Command::new("bash")
        .arg(format!(".ci/{name}"))
        .args(args)
        .env("CARGO_HOME", home.0.path())
        .output()
        .unwrap();
    eprintln!(
        ".ci/{name} done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), ".ci/{name} failed:\n{all}");
    let version = format!("valkey-bdd {}", env!("CARGO_PKG_VERSION"));
    assert!(all.contains(&version), "{version} in:\n{all}");
    if let Some(before) = before {
        let after = compiled_crates();
        let again: Vec<_> = after.iter().filter(|c| !before.contains(c)).collect();
        assert!(
            !before.is_empty() && again.is_empty(),
            ".ci/{name} compiled again what the other packaging had compiled, \
             or found nothing compiled ({} crates before): {again:#?}",
            before.len()
        );
    }
    *done += 1;
    all
}

/// The `N scenarios selected: P passed, 0 failed, 0 skipped` line: `P`,
/// when every selected scenario passed.
fn all_passed(output: &str) -> usize {
    let line = output
        .lines()
        .find(|l| l.contains(" scenarios selected: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{output}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    match numbers.as_slice() {
        [selected, passed, 0, 0] if selected == passed => *passed,
        _ => panic!("not every scenario passed: {line}\n{output}"),
    }
}

/// Whether packaging runs: always, unless `TEST_PACKAGING=0` leaves it out
/// (said on stderr, so a skipped packaging test is never silent).
fn asked() -> bool {
    let asked = std::env::var("TEST_PACKAGING").as_deref() != Ok("0");
    if !asked {
        eprintln!("skipped: TEST_PACKAGING=0 leaves out the packaging tests (a release build)");
    }
    asked
}

#[test]
fn cargo_install_from_a_fresh_cargo_home_gives_a_working_command() {
    if !asked() {
        return;
    }
    let out = script("cargo-install", &[]);
    assert!(all_passed(&out) > 0, "{out}");
}

#[test]
fn the_wheel_installs_the_command_into_a_fresh_venv_and_runs_the_c_module_suite() {
    if !asked() {
        return;
    }
    if !has("python3", &["-c", "import venv, ensurepip"]) {
        eprintln!(
            "skipped: python3 with its venv module is not installed (apt-get install python3-venv)"
        );
        return;
    }
    if !std::path::Path::new(".build/modules/8.1.1/datatype.so").exists() {
        eprintln!("skipped: Valkey's test modules are not built (.ci/install-server builds them)");
        return;
    }
    let out = script("wheel", &["examples/c-modules"]);
    // A binary-only wheel for glibc 2.17 (manylinux2014), so that it
    // installs on the Linux CI images people use, not only on this
    // machine's glibc (2.36 on Debian 12, which would tag it manylinux_2_34).
    let tag = format!(
        "-py3-none-manylinux2014_{arch}.manylinux_2_17_{arch}.whl",
        arch = std::env::consts::ARCH
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("wheel: ") && l.ends_with(&tag)),
        "no wheel tagged {tag}:\n{out}"
    );
    // And the binary in it asks for no newer glibc symbol than the tag says.
    let glibc = out
        .lines()
        .find_map(|l| l.strip_prefix("wheel: the binary needs glibc "))
        .and_then(|l| l.strip_suffix(" or later"))
        .and_then(|v| v.split_once('.'))
        .and_then(|(major, minor)| Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?)))
        .unwrap_or_else(|| panic!("no glibc version of the binary in:\n{out}"));
    assert!(
        glibc <= (2, 17),
        "the installed binary needs glibc {}.{}, newer than its tag's 2.17:\n{out}",
        glibc.0,
        glibc.1
    );
    // Every scenario of the suite, run by the venv's valkey-bdd.
    assert!(all_passed(&out) >= 95, "{out}");
}
