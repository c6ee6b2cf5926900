//! A port that passes the harness's check but that the server cannot bind
//! (another program took it, here on ::1 only) is retried on the next port.
//!
//! Alone in its test binary: it relies on the order in which this process
//! hands out ports.

use std::net::TcpListener;

use valkey_bdd::{Server, ServerSpec};

#[tokio::test]
async fn a_port_taken_behind_the_harness_s_back_is_retried() {
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
