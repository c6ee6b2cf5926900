//! Secure by default: a server the harness starts lets in only what has the
//! run's password (the harness, named clients, the user's own programs); not
//! an unauthenticated client, not another local user. The password is never
//! printed.

use std::os::unix::fs::PermissionsExt as _;

use valkey_bdd::process::{ProcessSpec, UserProcess};
use valkey_bdd::tls::{AuthClients, Identity, ServerTls};
use valkey_bdd::{Client, Reply, Server, ServerSpec};

/// How long the stranger's connection and commands may take.
const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn is_noauth(reply: &Reply) -> bool {
    matches!(reply, Reply::Error(e) if e.starts_with("NOAUTH"))
}

#[tokio::test]
async fn an_unauthenticated_client_is_refused() {
    let s = Server::start(ServerSpec::new("guarded")).await.unwrap();
    let mut stranger = Client::connect("a stranger", s.host(), s.port(), COMMAND_TIMEOUT)
        .await
        .unwrap();
    for line in ["PING", "MODULE LIST", "CONFIG GET dir"] {
        let reply = stranger.run(line).await.unwrap();
        assert!(is_noauth(&reply), "`{line}` answered {reply}");
    }
    // The harness gets in ...
    assert_eq!(
        s.command("PING").await.unwrap(),
        Reply::Status("PONG".into())
    );
    // ... and so does a program given the server's URL, as the default user.
    let creds = s.client_credentials().expect("a guarded server has them");
    let mut app = s.connect(&s.address(), Some(&creds)).await.unwrap();
    assert_eq!(
        app.run("ACL WHOAMI").await.unwrap(),
        Reply::Bulk(b"default".to_vec())
    );
    // A scenario's own `CONFIG GET requirepass` sees what it always saw.
    assert_eq!(
        app.run("CONFIG GET requirepass").await.unwrap().to_string(),
        "1) \"requirepass\"\n2) \"\""
    );
    // Where the password is written, only the run's user can read it.
    assert_eq!(mode(s.dir()), 0o700);
    assert_eq!(mode(&s.dir().join("valkey.conf")), 0o600);
    s.stop().await.unwrap();
}

#[tokio::test]
async fn another_local_user_cannot_run_commands() {
    // The owner of /proc/self is this process's effective user.
    let uid = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap());
    if uid != 0 {
        eprintln!("skipped: only root can run valkey-cli as user nobody (setpriv)");
        return;
    }
    let s = Server::start(ServerSpec::new("guarded")).await.unwrap();
    let as_nobody = |args: &[&str]| {
        let mut c = tokio::process::Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .args(args)
            .env_remove("REDISCLI_AUTH")
            .kill_on_drop(true);
        c
    };
    let port = s.port().to_string();
    let out = as_nobody(&[
        "valkey-cli",
        "-p",
        &port,
        "MODULE",
        "LOAD",
        "/usr/lib/redis/modules/redisearch.so",
    ])
    .output()
    .await
    .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("NOAUTH"),
        "valkey-cli as nobody printed {printed:?} {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        s.command("MODULE LIST").await.unwrap(),
        Reply::Array(vec![])
    );
    // Nor can it read the password where the server keeps it.
    let conf = s.dir().join("valkey.conf");
    let out = as_nobody(&["cat", conf.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success(), "nobody read {}", conf.display());
    // A program of the run's gets the password in its environment (private
    // to its user), never on its command line (which every user can read).
    let p = UserProcess::start(
        ProcessSpec::new("app", "exec sleep 30").env("VALKEY_URL", s.authenticated_url()),
    )
    .await
    .unwrap();
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", p.pid())).unwrap();
    let password = valkey_bdd::acl::run_password();
    assert!(!String::from_utf8_lossy(&cmdline).contains(password));
    let out = as_nobody(&["cat", &format!("/proc/{}/environ", p.pid())])
        .output()
        .await
        .unwrap();
    assert!(
        !out.status.success(),
        "nobody read the program's environment"
    );
    drop(p);
    s.stop().await.unwrap();
}

#[tokio::test]
async fn the_password_is_never_printed() {
    let password = valkey_bdd::acl::run_password();
    assert_eq!(password.len(), 64, "256 random bits in hex");
    // A refused connection that was sending it (AUTH on connect).
    let s =
        Server::start(ServerSpec::new("mtls").tls(ServerTls::new().auth_clients(AuthClients::Yes)))
            .await
            .unwrap();
    let err = s
        .connect(
            &s.address_as(Identity::Anonymous),
            s.client_credentials().as_ref(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("peer did not return a certificate"), "{err}");
    assert!(!err.contains(password), "{err}");
    // A reply that holds it (a replica's `masterauth`).
    let reply = s.command("CONFIG GET masterauth").await.unwrap();
    let Reply::Array(items) = &reply else {
        panic!("CONFIG GET answered {reply}")
    };
    assert_eq!(items[1], Reply::Bulk(password.as_bytes().to_vec()));
    assert!(!reply.to_string().contains(password), "{reply}");
    // A program's environment, when its description is shown.
    let spec = ProcessSpec::new("app", "true").server(&s);
    let shown = format!("{spec:?}");
    assert!(
        shown.contains("REDISCLI_AUTH") && !shown.contains(password),
        "{shown}"
    );
    // A program's command line and output in a failure message.
    let mut p = UserProcess::start(ProcessSpec::new(
        "leaky",
        format!("echo {password}; exit 3"),
    ))
    .await
    .unwrap();
    p.wait_exit(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert!(
        !p.output_tail(10).contains(password),
        "{}",
        p.output_tail(10)
    );
    let err = p
        .wait_line("never printed", std::time::Duration::from_millis(10))
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.contains(password), "{err}");
    s.stop().await.unwrap();
}

#[tokio::test]
async fn replicas_get_in_with_the_run_s_password_or_the_scenario_s_own() {
    use valkey_bdd::replication::{ReplicaSet, ReplicaSetSpec};
    for spec in [
        ReplicaSetSpec::new(1),
        ReplicaSetSpec::new(1).config("requirepass", "s3cret"),
    ] {
        // `start` returns once the replica has caught up: it got in.
        let set = ReplicaSet::start(spec).await.unwrap();
        set.primary.command("SET k v").await.unwrap();
        let link = set.replicas[0]
            .command("INFO replication")
            .await
            .unwrap()
            .to_string();
        assert!(link.contains("master_link_status:up"), "{link}");
        for s in set.servers() {
            s.stop().await.unwrap();
        }
    }
}
