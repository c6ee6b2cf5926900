//! A module named once for the whole run (`VALKEY_BDD_MODULE`, or
//! `MODULE_PATH` as the Python framework names it) is loaded into every
//! server the scenarios start: alone, replicas, cluster nodes. The
//! environment is process-wide, so each case runs this test binary again as
//! a child with the environment under test.

mod common;

const REDISEARCH: &str = "/usr/lib/redis/modules/redisearch.so";

/// The child's part: runs the fixture and prints how it went.
#[tokio::test]
async fn child_process_entry() {
    if std::env::var_os("VALKEY_BDD_TEST_CHILD").is_none() {
        return;
    }
    let fixture = std::env::var("VALKEY_BDD_TEST_FIXTURE").unwrap_or("run_module".into());
    let outcome = valkey_bdd::Runner::new(format!("tests/fixtures/{fixture}"))
        .args(["run_module"])
        .keep(valkey_bdd::settings::KeepPolicy::Never)
        .quiet()
        .run()
        .await;
    match outcome {
        Ok(o) => println!("run: failed={} failed_steps={}", o.failed, o.failed_steps),
        Err(e) => println!("run: refused: {e}"),
    }
}

fn child(env: &[(&str, &str)]) -> String {
    let mut cmd = common::this_test("child_process_entry");
    cmd.env("VALKEY_BDD_TEST_CHILD", "1")
        .env_remove("VALKEY_BDD_MODULE")
        .env_remove("MODULE_PATH")
        .env_remove("VALKEY_BDD_MODULE_ARGS");
    common::stdout(&cmd.envs(env.iter().copied()).output().unwrap())
}

#[test]
fn module_path_loads_the_module_into_every_server() {
    let out = child(&[
        ("MODULE_PATH", REDISEARCH),
        ("VALKEY_BDD_MODULE_ARGS", "SAFEMODE"),
    ]);
    assert!(out.contains("run: failed=false failed_steps=0"), "{out}");
}

#[test]
fn without_the_module_the_same_scenarios_fail() {
    let out = child(&[]);
    assert!(out.contains("run: failed=true failed_steps=3"), "{out}");
}

#[test]
fn valkey_bdd_module_names_it_too() {
    let out = child(&[
        ("VALKEY_BDD_MODULE", REDISEARCH),
        ("VALKEY_BDD_MODULE_ARGS", "SAFEMODE"),
    ]);
    assert!(out.contains("run: failed=false failed_steps=0"), "{out}");
}

#[test]
fn a_missing_module_stops_the_run_naming_the_path_tried() {
    let out = child(&[("VALKEY_BDD_MODULE", "no/such/libmod.so")]);
    let tried = std::env::current_dir().unwrap().join("no/such/libmod.so");
    assert!(
        out.contains(&format!(
            "VALKEY_BDD_MODULE=no/such/libmod.so: no module at {}",
            tried.display()
        )),
        "{out}"
    );
    assert!(out.contains("run: refused"), "{out}");
}

#[test]
fn two_different_modules_are_refused() {
    let out = child(&[
        ("VALKEY_BDD_MODULE", REDISEARCH),
        ("MODULE_PATH", "/elsewhere/libmod.so"),
    ]);
    assert!(out.contains("name different modules"), "{out}");
}

#[test]
fn the_run_s_module_named_again_under_another_path_is_loaded_once() {
    let out = child(&[
        ("VALKEY_BDD_MODULE", REDISEARCH),
        ("VALKEY_BDD_MODULE_ARGS", "SAFEMODE"),
        ("VALKEY_BDD_TEST_FIXTURE", "run_module_twice"),
    ]);
    assert!(out.contains("run: failed=false failed_steps=0"), "{out}");
}

#[test]
fn both_variables_naming_one_file_under_two_paths_are_one_module() {
    let out = child(&[
        ("VALKEY_BDD_MODULE", REDISEARCH),
        (
            "MODULE_PATH",
            "/usr/lib/redis/../redis/modules/redisearch.so",
        ),
        ("VALKEY_BDD_MODULE_ARGS", "SAFEMODE"),
    ]);
    assert!(out.contains("run: failed=false failed_steps=0"), "{out}");
}
