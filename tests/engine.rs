//! The engine, used from plain Rust against real servers.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use valkey_bdd::{Reply, Server, ServerSpec, Status, StopMode};

fn pid_alive(pid: u32) -> bool {
    // A zombie is dead for our purpose: /proc/<pid>/stat's state is Z.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

async fn pid_of(server: &Server) -> u32 {
    match server.status().await {
        Status::Running { pid } => pid,
        other => panic!("server not running: {other:?}"),
    }
}

#[tokio::test]
async fn start_run_stop() {
    let server = Server::start(ServerSpec::new("engine")).await.unwrap();
    let mut c = server.client().await.unwrap();
    assert_eq!(c.run("PING").await.unwrap(), Reply::Status("PONG".into()));
    assert_eq!(
        c.run(r#"SET "my key" "a b""#).await.unwrap(),
        Reply::Status("OK".into())
    );
    assert_eq!(
        c.run(r#"GET "my key""#).await.unwrap(),
        Reply::Bulk(b"a b".to_vec())
    );
    let pid = pid_of(&server).await;
    let port = server.port();
    server.stop().await.unwrap();
    assert_eq!(server.status().await, Status::Stopped);
    assert!(!pid_alive(pid), "the process is gone after stop");
    assert!(
        valkey_bdd::ports::is_free(port),
        "the port is free after stop"
    );
}

#[tokio::test]
async fn the_directory_is_private_and_removed_with_the_server() {
    let server = Server::start(ServerSpec::new("private")).await.unwrap();
    let dir = server.dir().to_path_buf();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{} has mode {mode:o}", dir.display());
    assert!(server.log_path().starts_with(&dir));
    assert!(server.log_contains("Ready to accept connections"));
    server.stop().await.unwrap();
    drop(server);
    assert!(!dir.exists(), "{} should be removed", dir.display());
}

#[tokio::test]
async fn a_kept_directory_stays() {
    let server = Server::start(ServerSpec::new("kept")).await.unwrap();
    let dir = server.keep_dir();
    server.stop().await.unwrap();
    drop(server);
    assert!(dir.join("server.log").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn restart_keeps_port_directory_and_saved_data() {
    let server = Server::start(ServerSpec::new("restart")).await.unwrap();
    let port = server.port();
    let mut c = server.client().await.unwrap();
    c.run("SET saved yes").await.unwrap();
    c.run("SAVE").await.unwrap();
    c.run("SET unsaved yes").await.unwrap();
    let old_pid = pid_of(&server).await;
    server.restart(StopMode::NoSave).await.unwrap();
    assert_ne!(pid_of(&server).await, old_pid);
    assert_eq!(server.port(), port);
    let mut c = server.client().await.unwrap();
    assert_eq!(
        c.run("GET saved").await.unwrap(),
        Reply::Bulk(b"yes".to_vec())
    );
    assert_eq!(c.run("GET unsaved").await.unwrap(), Reply::Nil);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn restart_with_save_keeps_everything() {
    let server = Server::start(ServerSpec::new("save")).await.unwrap();
    server.command("SET k v").await.unwrap();
    server.restart(StopMode::Save).await.unwrap();
    assert_eq!(
        server.command("GET k").await.unwrap(),
        Reply::Bulk(b"v".to_vec())
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn drop_kills_a_running_server() {
    let server = Server::start(ServerSpec::new("dropped")).await.unwrap();
    let pid = pid_of(&server).await;
    drop(server);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while pid_alive(pid) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!pid_alive(pid), "Drop must kill the server");
}

#[tokio::test]
async fn a_forked_child_goes_with_the_server() {
    // BGSAVE forks; killing the process group must take the fork too.
    let server = Server::start(ServerSpec::new("forks").config("rdb-key-save-delay", "1000000"))
        .await
        .unwrap();
    server.command("SET k v").await.unwrap();
    server.command("BGSAVE").await.unwrap();
    let pid = pid_of(&server).await;
    let children = || -> Vec<u32> {
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut forks = children();
    while forks.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
        forks = children();
    }
    assert!(!forks.is_empty(), "BGSAVE should have forked");
    server.stop().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while forks.iter().any(|f| pid_alive(*f)) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        forks.iter().all(|f| !pid_alive(*f)),
        "the BGSAVE child outlived the server"
    );
}

#[tokio::test]
async fn many_servers_start_at_once_on_distinct_ports() {
    let servers = futures::future::join_all(
        (0..8).map(|i| Server::start(ServerSpec::new(format!("many-{i}")))),
    )
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()
    .unwrap();
    let mut ports: Vec<u16> = servers.iter().map(|s| s.port()).collect();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 8);
    for s in &servers {
        assert_eq!(
            s.command("PING").await.unwrap(),
            Reply::Status("PONG".into())
        );
        s.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_module_is_loaded_with_its_arguments() {
    let server = Server::start(
        ServerSpec::new("module").module("/usr/lib/redis/modules/redisearch.so", "SAFEMODE"),
    )
    .await
    .unwrap();
    let list = server.command("MODULE LIST").await.unwrap().to_string();
    assert!(list.contains("\"ft\""), "{list}");
    assert!(list.contains("SAFEMODE"), "{list}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn sigstop_and_sigcont_reach_the_server() {
    use nix::sys::signal::Signal;
    let server = Server::start(ServerSpec::new("frozen")).await.unwrap();
    let mut c = server.client().await.unwrap();
    c.set_timeout(Duration::from_millis(300));
    server.signal(Signal::SIGSTOP).await.unwrap();
    let err = c.run("PING").await.unwrap_err().to_string();
    assert!(err.contains("got no reply within 300ms"), "{err}");
    server.signal(Signal::SIGCONT).await.unwrap();
    assert_eq!(
        server.command("PING").await.unwrap(),
        Reply::Status("PONG".into())
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_harness_survives_its_connection_being_killed() {
    let server = Server::start(ServerSpec::new("kill-me")).await.unwrap();
    assert_eq!(
        server.command("SET k v").await.unwrap(),
        Reply::Status("OK".into())
    );
    // A scenario that kills every normal client kills the harness's too.
    let mut other = server.client().await.unwrap();
    other
        .run("CLIENT KILL TYPE normal SKIPME yes")
        .await
        .unwrap();
    assert_eq!(
        server.command("GET k").await.unwrap(),
        Reply::Bulk(b"v".to_vec())
    );
    server.stop().await.unwrap();
}

/// What `valkey-cli -3` prints for `args`, as it prints it on a terminal.
async fn valkey_cli(port: u16, args: &[&str]) -> String {
    let out = tokio::process::Command::new("valkey-cli")
        .args(["--no-raw", "-3", "-p", &port.to_string()])
        // Every server of the harness asks for the run's password.
        .env("REDISCLI_AUTH", valkey_bdd::acl::run_password())
        .args(args)
        .output()
        .await
        .expect("valkey-cli (the valkey-tools package) runs");
    assert!(out.status.success(), "valkey-cli {args:?}: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

#[tokio::test]
async fn resp3_doubles_print_as_valkey_cli_prints_them() {
    let server = Server::start(ServerSpec::new("doubles")).await.unwrap();
    let mut c = server.client().await.unwrap();
    c.run("HELLO 3").await.unwrap();
    let scores = [
        "1e300", "1e-17", "inf", "-inf", "0.1", "3", "-2.5e-5", "1.234e-7", "1.5e20", "1e17",
    ];
    let mut asked: Vec<Vec<String>> = Vec::new();
    for (i, score) in scores.iter().enumerate() {
        c.run(&format!("ZADD z {score} m{i}")).await.unwrap();
        asked.push(vec!["ZSCORE".into(), "z".into(), format!("m{i}")]);
    }
    // Not a score (ZADD refuses it): NaN comes from a script.
    asked.push(
        ["EVAL", "return {double=0/0}", "0"]
            .map(String::from)
            .to_vec(),
    );
    asked.push(
        ["ZRANGE", "z", "0", "1", "WITHSCORES"]
            .map(String::from)
            .to_vec(),
    );
    for args in &asked {
        let line = args
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(" ");
        let ours = c.run(&line).await.unwrap();
        assert!(
            matches!(&ours, Reply::Double(_) | Reply::Array(_)),
            "{line}: not a RESP3 double: {ours:?}"
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let theirs = valkey_cli(server.port(), &args).await;
        assert_eq!(ours.to_string(), theirs, "{line}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_module_named_under_two_paths_is_loaded_once() {
    const REDISEARCH: &str = "/usr/lib/redis/modules/redisearch.so";
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("search.so");
    std::os::unix::fs::symlink(REDISEARCH, &link).unwrap();
    let load = |p: String| async move {
        valkey_bdd::modules::ModuleLoad::at_path(p, "SAFEMODE")
            .await
            .unwrap()
    };
    let first = load(REDISEARCH.into()).await;
    let dotted = load("/usr/lib/redis/../redis/modules/redisearch.so".into()).await;
    let linked = load(link.display().to_string()).await;
    let server = Server::start(
        ServerSpec::new("module twice")
            .load(&first)
            .load(&dotted)
            .load(&linked),
    )
    .await
    .unwrap();
    let Reply::Array(modules) = server.command("MODULE LIST").await.unwrap() else {
        panic!("MODULE LIST is no list");
    };
    assert_eq!(modules.len(), 1, "{modules:?}");
    server.stop().await.unwrap();
}
