//! A port that passes the harness's check but that the server cannot bind
//! (another program took it) is retried on another port, at once, and a
//! foreign listener on it is never taken for the server.
//!
//! Each test holds [`ORDER`]: the first relies on the order in which this
//! process hands out ports, the others steer the next lease.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use valkey_bdd::process::{ProcessSpec, UserProcess};
use valkey_bdd::{Server, ServerSpec};

/// One test at a time in this binary: they all steer the port leases.
static ORDER: Mutex<()> = Mutex::const_new(());

/// How long a start may take when its first port turns out taken: the
/// server exits within milliseconds, and the retry must not wait for more.
const QUICK: Duration = Duration::from_secs(2);

#[tokio::test]
async fn a_port_taken_behind_the_harness_s_back_is_retried() {
    let _order = ORDER.lock().await;
    let probe = valkey_bdd::ports::lease().expect("a port");
    let first = probe.port();
    drop(probe);
    // The next three ports this process hands out are taken on ::1, which the
    // harness's IPv4 check does not see but the server, bound to both, does.
    let taken: Vec<TcpListener> = match (1..=3)
        .map(|i| TcpListener::bind(("::1", first + i)))
        .collect::<Result<_, _>>()
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("skipped: cannot listen on ::1 ({e}); this machine has no IPv6 loopback");
            return;
        }
    };
    let server = Server::start(ServerSpec::new("retry").config("bind", "127.0.0.1 ::1"))
        .await
        .expect("the start is retried until a port is free");
    assert_eq!(
        server.start_attempts(),
        4,
        "three taken ports, then a free one"
    );
    assert_eq!(server.port(), first + 4);
    assert!(server.log_contains("Ready to accept connections"));
    server.stop().await.unwrap();
    drop(taken);
}

/// A port the harness believes free although `holder` listens there.
fn taken_port_handed_out(port: u16) {
    valkey_bdd::ports::pretend_free_once(port);
}

#[tokio::test]
async fn a_silent_listener_on_the_port_does_not_hold_up_the_start() {
    let _order = ORDER.lock().await;
    // Another program listens on the port and never answers: the kernel
    // accepts connections for it, so a PING there waits forever.
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap().port();
    taken_port_handed_out(taken);
    let started = Instant::now();
    let server = Server::start(ServerSpec::new("beside-silent"))
        .await
        .expect("the start is retried on another port");
    let took = started.elapsed();
    assert!(took < QUICK, "the start took {took:?}");
    assert_ne!(server.port(), taken, "the taken port is not used");
    assert_eq!(
        server.start_attempts(),
        2,
        "the taken port, then a free one"
    );
    server.stop().await.unwrap();
    drop(holder);
}

#[tokio::test]
async fn another_server_on_the_port_is_not_taken_for_ours() {
    let _order = ORDER.lock().await;
    // A real valkey-server, not ours, answers PING on the port our server
    // cannot bind.
    let binary = valkey_bdd::ServerBinary::resolve(None).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = valkey_bdd::ports::lease().unwrap().port();
    let mut squatter = UserProcess::start(ProcessSpec::new(
        "squatter",
        format!(
            "exec '{}' --port {port} --bind 127.0.0.1 --save '' --dir '{}'",
            binary.path.display(),
            dir.path().display()
        ),
    ))
    .await
    .unwrap();
    squatter
        .wait_line("Ready to accept connections", Duration::from_secs(10))
        .await
        .unwrap();
    taken_port_handed_out(port);
    let started = Instant::now();
    let server = Server::start(ServerSpec::new("beside-server"))
        .await
        .expect("the start is retried on another port");
    let took = started.elapsed();
    assert!(took < QUICK, "the start took {took:?}");
    assert_ne!(server.port(), port, "the other server is not ours");
    assert_eq!(
        server.start_attempts(),
        2,
        "the taken port, then a free one"
    );
    assert!(server.log_contains("Ready to accept connections"));
    server.stop().await.unwrap();
    squatter.stop().await.unwrap();
}
