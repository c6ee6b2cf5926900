//! TLS from plain Rust: certificates made once, private files, TLS
//! topologies, and what a binary without TLS does to TLS scenarios.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use valkey_bdd::cluster::{Cluster, ClusterSpec};
use valkey_bdd::replication::{self, ReplicaSet, ReplicaSetSpec};
use valkey_bdd::tls::{self, AuthClients, Identity, ServerTls};
use valkey_bdd::{Reply, Runner, Server, ServerSpec};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn certificates_are_made_once_and_written_private() {
    let a = Server::start(ServerSpec::new("a").tls(ServerTls::new()))
        .await
        .unwrap();
    let b =
        Server::start(ServerSpec::new("b").tls(ServerTls::new().auth_clients(AuthClients::Yes)))
            .await
            .unwrap();
    // Two servers, one authority: made once for the whole process.
    assert_eq!(tls::generations(), 1);
    for server in [&a, &b] {
        let dir = server.dir().join("tls");
        assert_eq!(mode(server.dir()), 0o700, "{}", server.dir().display());
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        for file in ["ca.crt", "server.crt", "server.key"] {
            assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
        }
        // The server reads them: a client checking its certificate against
        // the run's authority gets in.
        let mut c = server.client().await.unwrap();
        assert_eq!(c.run("PING").await.unwrap(), Reply::Status("PONG".into()));
    }
    assert_eq!(
        std::fs::read_to_string(a.dir().join("tls/ca.crt")).unwrap(),
        std::fs::read_to_string(b.dir().join("tls/ca.crt")).unwrap()
    );
    // Mutual TLS: no certificate, no entry; the error quotes the server.
    let err = b
        .connect(&b.address_as(Identity::Anonymous), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("peer did not return a certificate"), "{err}");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn a_refusal_that_the_client_sees_as_a_timeout_quotes_the_server() {
    let s =
        Server::start(ServerSpec::new("mtls").tls(ServerTls::new().auth_clients(AuthClients::Yes)))
            .await
            .unwrap();
    // The first command is not waited for at all: the client sees a timeout,
    // as a loaded machine once made it see one, never the server's alert.
    let err = s
        .connect_within(&s.address_as(Identity::Anonymous), None, Duration::ZERO)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("`PING` got no reply within"), "{text}");
    // The verdict rests on the server's own line.
    assert!(
        text.contains("the server logged: Error accepting a client connection")
            && text.contains("peer did not return a certificate"),
        "{text}"
    );
    assert!(
        matches!(err, valkey_bdd::Error::Connection { .. }),
        "{err:?}"
    );
    // A client the server lets in is not refused by the same deadline's
    // absence of a reply: the server logged nothing about it.
    let err = s
        .connect_within(&s.address(), None, Duration::ZERO)
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.contains("the server logged"), "{err}");
    s.stop().await.unwrap();
}

#[tokio::test]
async fn a_unix_socket_server_has_no_tcp_port() {
    let s = Server::start(ServerSpec::new("sock").unix_socket(0o770))
        .await
        .unwrap();
    assert_eq!(mode(&s.socket_path()), 0o770);
    let mut c = s.client().await.unwrap();
    assert_eq!(
        c.run("CONFIG GET port").await.unwrap().to_string(),
        "1) \"port\"\n2) \"0\""
    );
    assert!(s.connect(&s.plaintext_address(), None).await.is_err());
    s.stop().await.unwrap();
}

#[tokio::test]
async fn a_password_keeps_the_harness_in_and_users_out() {
    let s = Server::start(ServerSpec::new("pw").password("s3cret"))
        .await
        .unwrap();
    // The harness's own connection authenticates ...
    let mut admin = s.client().await.unwrap();
    assert_eq!(
        admin.run("SET k v").await.unwrap(),
        Reply::Status("OK".into())
    );
    // ... a user's does not, until it says the password.
    let mut user = s.connect(&s.address(), None).await.unwrap();
    assert!(
        user.run("GET k")
            .await
            .unwrap()
            .to_string()
            .contains("NOAUTH")
    );
    let wrong = valkey_bdd::Credentials {
        user: None,
        password: "wrong".into(),
    };
    let err = s.connect(&s.address(), Some(&wrong)).await.unwrap_err();
    assert!(err.to_string().contains("WRONGPASS"), "{err}");
    // Disabling the default user moves the harness to a user of its own.
    s.disable_default_user().await.unwrap();
    assert_eq!(
        s.admin_credentials().unwrap().user.as_deref(),
        Some(valkey_bdd::acl::HARNESS_USER)
    );
    s.stop().await.unwrap();
    assert_eq!(s.status().await, valkey_bdd::Status::Stopped);
}

#[tokio::test]
async fn tls_replication_and_tls_cluster_from_rust() {
    let set = ReplicaSet::start(
        ReplicaSetSpec::new(1).tls(ServerTls::new().auth_clients(AuthClients::Yes)),
    )
    .await
    .unwrap();
    set.primary.command("SET colour blue").await.unwrap();
    replication::wait_all_caught_up(
        &set.servers().cloned().collect::<Vec<_>>(),
        std::time::Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert_eq!(
        set.replicas[0].command("GET colour").await.unwrap(),
        Reply::Bulk(b"blue".to_vec())
    );
    let cluster = Cluster::start(ClusterSpec::new(3, 0).tls(ServerTls::new()))
        .await
        .unwrap();
    let mut c = cluster.client().await.unwrap();
    for i in 0..20 {
        assert_eq!(
            c.run(&format!("SET key{i} {i}")).await.unwrap(),
            Reply::Status("OK".into())
        );
    }
    // The keys are spread over the shards, each reached over TLS.
    let mut holding = 0;
    for node in cluster.nodes() {
        assert!(node.describe().ends_with("(TLS)"));
        if node.command("DBSIZE").await.unwrap() != Reply::Integer(0) {
            holding += 1;
        }
    }
    assert_eq!(holding, 3);
}

/// The child's part of the test below; does nothing in a normal run.
#[tokio::test]
async fn child_process_entry() {
    if std::env::var("VALKEY_BDD_TEST_CHILD").as_deref() == Ok("security") {
        match Runner::new("features/security")
            .args(["security"])
            .run()
            .await
        {
            Ok(o) => println!("OUTCOME failed={}", o.failed),
            Err(e) => println!("ERROR {e}"),
        }
    }
}

#[test]
fn a_binary_without_tls_skips_tls_scenarios_or_fails_when_strict() {
    // .ci/install-server puts a Valkey 9 binary built without TLS here.
    let Some(no_tls) = std::fs::read_dir(".build/binaries").ok().and_then(|d| {
        d.flatten()
            .map(|e| e.path().join("valkey-server"))
            .find(|p| {
                Command::new(p)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("v=9."))
            })
    }) else {
        panic!("no Valkey 9 binary in .build/binaries: run `bash .ci/install-server`");
    };
    let tmp = tempfile::tempdir().unwrap();
    let run = |strict: bool| {
        let mut c = common::this_test("child_process_entry");
        c.env("VALKEY_BDD_TEST_CHILD", "security")
            .env("VALKEY_SERVER_PATH", &no_tls)
            .env("VALKEY_BDD_TMPDIR", tmp.path())
            .stdin(Stdio::null());
        if strict {
            c.env("VALKEY_BDD_STRICT", "1");
        }
        let out = c.output().unwrap();
        common::text(&out)
    };
    let relaxed = run(false);
    assert!(relaxed.contains("OUTCOME failed=false"), "{relaxed}");
    assert!(
        relaxed.contains("skipped \"A TLS server answers over TLS and nowhere else\"")
            && relaxed.contains("@requires:tls: ")
            && relaxed.contains("built without TLS"),
        "{relaxed}"
    );
    // The scenarios that need no TLS ran.
    assert!(
        relaxed.contains("Named clients connect over the socket"),
        "{relaxed}"
    );
    let strict = run(true);
    assert!(
        strict.contains("ERROR bad configuration: VALKEY_BDD_STRICT is set")
            && strict.contains("@requires:tls: "),
        "{strict}"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing left behind"
    );
}
