//! The command installed without this repository's cargo build: through
//! `cargo install` under a fresh CARGO_HOME, and through the Python wheel in
//! a fresh virtualenv. Both are release builds (minutes on a small machine),
//! so they run only when `TEST_PACKAGING=1` asks (a CI job of its own).

fn wanted() -> bool {
    let on = std::env::var("TEST_PACKAGING").is_ok_and(|v| v == "1");
    if !on {
        eprintln!("set TEST_PACKAGING=1 to build and install the packages");
    }
    on
}

fn script(name: &str, args: &[&str]) {
    let out = std::process::Command::new("bash")
        .arg(format!(".ci/{name}"))
        .args(args)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), ".ci/{name} failed:\n{all}");
    let version = format!("valkey-bdd {}", env!("CARGO_PKG_VERSION"));
    assert!(all.contains(&version), "{version} in:\n{all}");
    assert!(all.contains(" 0 failed, 0 skipped"), "{all}");
}

#[test]
fn cargo_install_from_a_fresh_cargo_home_gives_a_working_command() {
    if wanted() {
        script("cargo-install", &[]);
    }
}

#[test]
fn the_wheel_installs_the_command_into_a_fresh_venv() {
    if wanted() {
        script("wheel", &[]);
    }
}
