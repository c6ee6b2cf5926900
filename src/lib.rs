//! # valkey-bdd
//!
//! Acceptance specs for Valkey servers, Valkey modules and the applications
//! built on them, written as Gherkin `.feature` files and run against real
//! `valkey-server` processes.
//!
//! The engine (everything but [`steps`]) knows nothing of Gherkin and can be
//! used from plain Rust tests:
//!
//! ```no_run
//! # async fn demo() -> valkey_bdd::Result<()> {
//! use valkey_bdd::{Server, ServerSpec, Reply};
//! let server = Server::start(ServerSpec::new("cache").config("maxmemory", "1mb")).await?;
//! let mut client = server.client().await?;
//! assert_eq!(client.run(r#"SET "my key" "a b""#).await?, Reply::Status("OK".into()));
//! server.stop().await?;
//! # Ok(()) }
//! ```
//!
//! ## Layout
//!
//! - [`binary`]: finding `valkey-server` and what it is; [`build`]: building
//!   it from source.
//! - [`ports`]: ports unique across test processes.
//! - [`spawn`]: child processes that cannot outlive the harness;
//!   [`leftovers`]: directories that cannot outlive it either.
//! - [`server`]: one server's lifecycle; [`logfile`] reads its log;
//!   [`external`]: servers the harness did not start (`VALKEY_BDD_EXTERNAL`).
//! - [`client`], [`command`], [`reply`]: commands as in `valkey-cli`, replies
//!   as it prints them; [`info`] reads `INFO`; [`shown`]: long values shown
//!   as head, size and tail in every message and report.
//! - [`replication`]: primaries and replicas, exact waits, data comparison.
//! - [`cluster`]: clusters formed natively, slots, failover, resharding;
//!   [`pool`]: cluster nodes started ahead of need; [`reuse`]: standalone
//!   servers reset and handed to the next scenario.
//! - [`world`]: one scenario's servers and clients; [`shared`]: servers shared
//!   by the scenarios of a feature.
//! - [`actors`]: named clients with background commands and checkpoints on
//!   what [`client_state`] reads of them in `CLIENT LIST`;
//!   [`process`]: the user's own programs; [`servo`]: the application's
//!   own processes serving step sentences of a role; [`streams`]: stream consumers;
//!   [`pubsub`]: subscribers to channels and patterns, keyspace events.
//! - [`tls`]: certificates made once per run; [`acl`]: the run's password
//!   every server needs (secure by default) and ACL users; credentials live
//!   in [`client::Credentials`].
//! - [`network`]: partitions, dropped links and latency between named
//!   servers, inside a private network namespace.
//! - [`matrix`]: one suite against several binaries.
//! - [`runner`]: running feature files and reporting them; [`spent`]: where
//!   a run's time went; [`glossary`]: the registered steps.
//! - [`settings`]: the environment switches; [`wait`]: the deadline every
//!   wait polls under.
//! - [`compare`]: numbers and the comparisons sentences make of them.
//! - [`steps`]: the Gherkin vocabulary (see `STEPS.md`).

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod acl;
pub mod actors;
pub mod binary;
pub mod client;
pub mod client_state;
pub mod cluster;
pub mod command;
pub mod compare;
pub mod error;
pub mod external;
mod feed;
pub mod glossary;
pub mod info;
pub mod leftovers;
pub mod logfile;
pub mod modules;
pub mod network;
pub mod pool;
pub mod ports;
pub mod process;
pub mod pubsub;
pub mod replication;
pub mod reply;
pub mod reuse;
pub mod runner;
pub mod server;
pub mod servo;
pub mod settings;
pub mod shared;
pub mod shown;
pub mod spawn;
pub mod spent;
pub mod steps;
pub mod streams;
pub mod tls;
pub mod wait;
pub mod world;

pub use binary::{Engine, ServerBinary, build};
pub use client::{Address, Client, Credentials};
pub use error::{Error, Result};
pub use reply::Reply;
pub use runner::{Outcome, Runner, matrix, run};
pub use server::{Server, ServerSpec, Status, StopMode};
pub use world::ValkeyWorld;

/// Re-exported so that downstream step definitions use the same version.
pub use cucumber;
