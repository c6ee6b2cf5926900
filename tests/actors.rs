//! Actors, streams and user processes from plain Rust, without Gherkin.

use std::sync::Arc;
use std::time::{Duration, Instant};

use valkey_bdd::actors::{Actor, Flag};
use valkey_bdd::process::{ProcessSpec, UserProcess};
use valkey_bdd::{Reply, Server, ServerSpec, streams};

const WAIT: Duration = Duration::from_secs(10);

fn popped(value: &str) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(b"q".to_vec()),
        Reply::Bulk(value.as_bytes().to_vec()),
    ])
}

#[tokio::test]
async fn blocked_actors_wake_in_the_order_they_blocked() {
    let server = Server::start(ServerSpec::new("fifo")).await.unwrap();
    let mut actors = Vec::new();
    for name in ["a", "b", "c"] {
        let mut actor = Actor::connect(name, &server).await.unwrap();
        actor.start("BLPOP q 0").await.unwrap();
        // The checkpoint makes the order of blocking exact.
        actor.wait_for(&server, Flag::Blocked, WAIT).await.unwrap();
        actors.push(actor);
    }
    // Busy with BLPOP, an actor refuses a second command, with a reason.
    let refused = actors[0].run("PING").await.unwrap_err().to_string();
    assert!(
        refused.contains("still waiting for `BLPOP q 0`"),
        "{refused}"
    );
    server.command("RPUSH q 1 2 3").await.unwrap();
    for (actor, value) in actors.iter_mut().zip(["1", "2", "3"]) {
        assert_eq!(actor.finish(WAIT).await.unwrap(), popped(value));
    }
    // A checkpoint that never comes says what it last saw.
    let err = actors[0]
        .wait_for(&server, Flag::Blocked, Duration::from_millis(50))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("to be blocked (flag b)") && err.contains("CLIENT LIST: id="),
        "{err}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_background_command_returns_at_once_while_the_server_sleeps() {
    let server = Arc::new(Server::start(ServerSpec::new("asleep")).await.unwrap());
    let mut sleeper = Actor::connect("sleeper", &server).await.unwrap();
    sleeper.start("DEBUG SLEEP 2").await.unwrap();
    server
        .wait_busy(Duration::from_millis(100), WAIT)
        .await
        .unwrap();
    // A client that has never connected: connecting, naming and learning its
    // id would each wait for the sleep to end; in the background they must not.
    let mut late = Actor::new("late", server.clone());
    let started = Instant::now();
    late.start("PING").await.unwrap();
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(300),
        "the background call took {took:?}"
    );
    assert!(!late.is_done(), "still connecting counts as still waiting");
    assert_eq!(late.id(), None, "not connected yet");
    // A checkpoint on it waits for the connection, within its deadline.
    let err = late
        .learn_id(Duration::from_millis(50))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("client \"late\" to connect"), "{err}");
    assert_eq!(
        late.finish(WAIT).await.unwrap(),
        Reply::Status("PONG".into())
    );
    assert!(late.id().is_some(), "the connection was handed over");
    assert_eq!(
        late.run("CLIENT GETNAME").await.unwrap(),
        Reply::Bulk(b"late".to_vec())
    );
    assert_eq!(
        sleeper.finish(WAIT).await.unwrap(),
        Reply::Status("OK".into())
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn named_clients_are_named_on_the_server() {
    let server = Arc::new(Server::start(ServerSpec::new("names")).await.unwrap());
    let alice = Actor::connect("alice", &server).await.unwrap();
    let mut reader = Actor::new("the reader ü", server.clone());
    assert_eq!(reader.server_side_name(), "the_reader__");
    let id = reader.learn_id(WAIT).await.unwrap();
    let Reply::Bulk(list) = server.command("CLIENT LIST").await.unwrap() else {
        panic!("CLIENT LIST answers a bulk string");
    };
    let list = String::from_utf8(list).unwrap();
    let line_of = |id: i64| {
        list.lines()
            .find(|l| l.starts_with(&format!("id={id} ")))
            .unwrap_or_else(|| panic!("no client with id {id} in {list}"))
            .to_string()
    };
    let alice_id = alice.id().expect("alice knows her id");
    assert!(line_of(alice_id).contains(" name=alice "), "{list}");
    assert!(line_of(id).contains(" name=the_reader__ "), "{list}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn five_consumers_drain_a_stream_exactly_once() {
    let server = Server::start(ServerSpec::new("streams")).await.unwrap();
    let ids = streams::add_numbered(&server, "s", 2000).await.unwrap();
    server.command("XGROUP CREATE s g 0").await.unwrap();
    let drained = streams::drain(&server, "s", "g", 5, 50, WAIT)
        .await
        .unwrap();
    drained.check_exactly_once(&ids).unwrap();
    assert_eq!(drained.by_consumer.len(), 5);
    // The check catches a loss.
    let err = drained
        .check_exactly_once(&[ids.clone(), vec!["9-9".into()]].concat())
        .unwrap_err()
        .to_string();
    assert!(err.contains("never delivered: [9-9]"), "{err}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_process_that_never_prints_is_reported_with_its_output() {
    let mut p = UserProcess::start(ProcessSpec::new("quiet", "echo starting; exec sleep 600"))
        .await
        .unwrap();
    let err = p
        .wait_line("ready", Duration::from_millis(300))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("process \"quiet\" to print \"ready\"")
            && err.contains("starting")
            && err.contains("it runs `echo starting; exec sleep 600`"),
        "{err}"
    );
    let status = p.stop().await.unwrap();
    assert_eq!(
        valkey_bdd::process::describe(status),
        "was killed by signal 15 (SIGTERM)"
    );
}
