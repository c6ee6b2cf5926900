//! Network faults between named servers: partitions, dropped links and
//! latency, for real, while every process keeps running.
//!
//! ## How
//!
//! A scenario that states a network fault ([`is_fault_sentence`]) runs its
//! servers inside one private network namespace made for the run (never
//! named in `/run/netns`: it lives as long as this process's handle on it and
//! the processes inside, and goes with them). Inside, `lo` is brought up and
//! each server gets a loopback address of its own, `127.0.0.2` and on (a
//! [`Seat`]): it listens there (`bind`) and speaks from there
//! (`bind-source-addr`), so its replication links and cluster bus carry its
//! address at both ends. A fault is an `nftables` rule inside the namespace
//! that drops packets between two such addresses ([`faults`]); the harness's
//! own connections come from `127.0.0.1`, which no rule names, so they are
//! never subject to the faults. Latency is a relay in the harness, on the
//! connection of the client a sentence names ([`latency`]), or on every link
//! of a named server, redirected to it by a `nat` rule ([`relay`]): the
//! kernels this runs on do not all have `netem`.
//!
//! Sockets of the harness are made inside the namespace by one dedicated
//! thread that entered it (a socket keeps the namespace it was made in) and
//! handed to Tokio; servers and `nft` enter it between fork and exec
//! ([`crate::spawn::enter_network_namespace`]). Nothing is done to the
//! machine's own network configuration.
//!
//! Where the namespace cannot be made (not root, a kernel that refuses,
//! `nft` missing), [`available`] says why and the selection gate skips the
//! scenarios (`@requires:network-faults`, implied by any fault sentence).

pub mod faults;
pub mod latency;
pub mod relay;

use std::collections::HashSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Duration;

use cucumber::gherkin;

use crate::error::{Error, Result};

pub use faults::{Fault, Faults};

/// The tag (normalized) a scenario needs to run network faults; every
/// scenario with a fault sentence has it implicitly.
pub const REQUIREMENT: &str = "requires:network-faults";

/// How long making the namespace, or one `nft` call, may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The sentences that state a fault or heal one: a scenario with any of them
/// runs its servers in the namespace.
const FAULT_SENTENCES: &[&str] = &[
    r" is cut off from ",
    r"^the link from .+ to .+ drops$",
    r"^the links? of .+ ha(?:ve|s) \d+ ms of latency$",
    r"^the network heals$",
];

/// Whether a step's text states a network fault (or heals them).
pub fn is_fault_sentence(text: &str) -> bool {
    static COMPILED: OnceLock<Vec<regex::Regex>> = OnceLock::new();
    COMPILED
        .get_or_init(|| {
            FAULT_SENTENCES
                .iter()
                .map(|r| regex::Regex::new(r).expect("valid regex"))
                .collect()
        })
        .iter()
        .any(|re| re.is_match(text))
}

/// Whether a scenario states a network fault anywhere it runs steps: the
/// feature's `Background`, the background of the `Rule` it is under, or its
/// own steps. Such a scenario runs its servers in the namespace and needs
/// [`REQUIREMENT`].
pub fn scenario_states_faults(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
) -> bool {
    feature
        .background
        .iter()
        .chain(rule.and_then(|r| r.background.as_ref()))
        .flat_map(|b| b.steps.iter())
        .chain(scenario.steps.iter())
        .any(|s| is_fault_sentence(&s.value))
}

/// The run's private network namespace.
pub struct Namespace {
    /// An open handle on it: it keeps the namespace alive, and servers and
    /// `nft` enter it through this descriptor.
    handle: OwnedFd,
    /// Asks the thread that lives inside for a new socket.
    sockets: Mutex<mpsc::Sender<tokio::sync::oneshot::Sender<io::Result<tokio::net::TcpSocket>>>>,
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("handle", &self.handle.as_raw_fd())
            .finish()
    }
}

/// A server's place in the namespace: its own loopback address.
#[derive(Debug, Clone)]
pub struct Seat {
    /// The address it binds and speaks from.
    pub address: Ipv4Addr,
    /// The namespace it runs in.
    pub namespace: Arc<Namespace>,
}

fn made() -> &'static tokio::sync::OnceCell<std::result::Result<Arc<Namespace>, String>> {
    static NAMESPACE: tokio::sync::OnceCell<std::result::Result<Arc<Namespace>, String>> =
        tokio::sync::OnceCell::const_new();
    &NAMESPACE
}

/// The run's namespace, made on first use; `Err` says why it cannot be made.
pub async fn namespace() -> std::result::Result<Arc<Namespace>, String> {
    made()
        .get_or_init(|| async {
            match tokio::time::timeout(SETUP_TIMEOUT, make()).await {
                Ok(r) => r,
                Err(_) => Err(format!(
                    "making the network namespace took more than {SETUP_TIMEOUT:?}"
                )),
            }
        })
        .await
        .clone()
}

/// Whether network faults can be made on this machine, and if not, why.
pub async fn available() -> std::result::Result<(), String> {
    namespace().await.map(drop)
}

async fn make() -> std::result::Result<Arc<Namespace>, String> {
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (tx, rx) =
        mpsc::channel::<tokio::sync::oneshot::Sender<io::Result<tokio::net::TcpSocket>>>();
    std::thread::Builder::new()
        .name("valkey-bdd-netns".into())
        .spawn(move || {
            match enter_new_namespace() {
                Ok(handle) => {
                    let _ = ready_tx.send(Ok(handle));
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            }
            // Lives as long as the process: every socket of the harness
            // into the namespace is made here.
            for reply in rx {
                let _ = reply.send(tokio::net::TcpSocket::new_v4());
            }
        })
        .map_err(|e| format!("cannot start the namespace thread: {e}"))?;
    let handle = ready_rx
        .await
        .map_err(|_| "the namespace thread ended".to_string())??;
    let ns = Arc::new(Namespace {
        handle,
        sockets: Mutex::new(tx),
    });
    // nft must work inside, or no fault can be made.
    ns.run("nft", &["list", "ruleset"], None)
        .await
        .map_err(|e| format!("{e}; install nftables (.ci/install-server does)"))?;
    Ok(ns)
}

/// On the calling thread: a new network namespace with `lo` up; returns a
/// handle on it.
fn enter_new_namespace() -> std::result::Result<OwnedFd, String> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
        format!(
            "cannot make a network namespace: unshare(CLONE_NEWNET) failed: {e} (it needs root, or CAP_SYS_ADMIN)"
        )
    })?;
    let handle = std::fs::File::open("/proc/thread-self/ns/net")
        .map_err(|e| format!("cannot open /proc/thread-self/ns/net: {e}"))?;
    // A child forked from this thread starts in its namespace.
    let up = std::process::Command::new(tool("ip"))
        .args(["link", "set", "lo", "up"])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `ip link set lo up` (iproute2): {e}"))?;
    if !up.status.success() {
        return Err(format!(
            "`ip link set lo up` in the new namespace failed: {}",
            String::from_utf8_lossy(&up.stderr).trim()
        ));
    }
    Ok(OwnedFd::from(handle))
}

/// A system tool by name: `/usr/sbin/<name>` or `/sbin/<name>` where it is
/// (a normal user's `PATH` often lacks them), else the name for `PATH`.
fn tool(name: &str) -> std::path::PathBuf {
    ["/usr/sbin", "/sbin"]
        .iter()
        .map(|d| std::path::Path::new(d).join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| name.into())
}

/// The addresses handed out, so that a connection to one is made inside.
fn seated() -> &'static Mutex<HashSet<Ipv4Addr>> {
    static SEATED: OnceLock<Mutex<HashSet<Ipv4Addr>>> = OnceLock::new();
    SEATED.get_or_init(Default::default)
}

impl Namespace {
    /// A loopback address of its own for a new server (`127.0.0.2` on;
    /// `127.0.0.1` stays the harness's).
    pub fn seat(self: &Arc<Self>) -> Seat {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let address = Ipv4Addr::new(127, 0, (n / 250) as u8, (n % 250 + 2) as u8);
        seated()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(address);
        Seat {
            address,
            namespace: self.clone(),
        }
    }

    /// The descriptor a child enters the namespace through.
    pub fn raw_handle(&self) -> std::os::fd::RawFd {
        self.handle.as_raw_fd()
    }

    /// A new TCP socket inside the namespace, not yet connected.
    pub async fn socket(&self) -> io::Result<tokio::net::TcpSocket> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.sockets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(tx)
            .map_err(|_| io::Error::other("the namespace thread is gone"))?;
        rx.await
            .map_err(|_| io::Error::other("the namespace thread dropped the request"))?
    }

    /// Runs `program` inside the namespace (`nft`), with `input` on its
    /// standard input; its standard output, or what it said on failure.
    pub async fn run(&self, program: &str, args: &[&str], input: Option<&str>) -> Result<String> {
        use tokio::io::AsyncWriteExt as _;
        let line = format!("{program} {}", args.join(" "));
        let mut cmd = std::process::Command::new(tool(program));
        cmd.args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        crate::spawn::enter_network_namespace(&mut cmd, self.raw_handle());
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.kill_on_drop(true);
        let fail = |e: String| Error::Config {
            what: format!("`{line}` inside the run's network namespace failed: {e}"),
            hint: "install nftables (.ci/install-server does); the rules were:\n".to_string()
                + input.unwrap_or(""),
        };
        let mut child = cmd.spawn().map_err(|e| fail(e.to_string()))?;
        let mut stdin = child.stdin.take().expect("piped");
        let text = input.unwrap_or("").to_string();
        let work = async move {
            stdin.write_all(text.as_bytes()).await?;
            drop(stdin);
            child.wait_with_output().await
        };
        let out = tokio::time::timeout(SETUP_TIMEOUT, work)
            .await
            .map_err(|_| fail(format!("no answer within {SETUP_TIMEOUT:?}")))?
            .map_err(|e| fail(e.to_string()))?;
        if !out.status.success() {
            return Err(fail(format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// Whether `host` is the address of a server inside the run's namespace.
pub fn is_seated(host: &str) -> bool {
    host.parse::<Ipv4Addr>().is_ok_and(|a| {
        seated()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&a)
    })
}

/// When `host` is a server's address inside the namespace, a connection to
/// it made from inside (from `127.0.0.1`); `None` for any other host.
pub(crate) async fn connect_inside(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Option<io::Result<tokio::net::TcpStream>> {
    if !is_seated(host) {
        return None;
    }
    let address: Ipv4Addr = host.parse().ok()?;
    let ns = match made().get() {
        Some(Ok(ns)) => ns.clone(),
        _ => return None,
    };
    Some(
        async {
            let socket = ns.socket().await?;
            let stream =
                tokio::time::timeout(timeout, socket.connect(SocketAddr::from((address, port))))
                    .await
                    .map_err(|_| {
                        io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no connection to {address}:{port} within {timeout:?}"),
                        )
                    })??;
            stream.set_nodelay(true)?;
            Ok(stream)
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_sentences_are_told_from_others() {
        for s in [
            "node 1 is cut off from the other nodes",
            "the primary is cut off from replica 1",
            "the link from replica 2 to the primary drops",
            "the link of client \"far\" has 200 ms of latency",
            "the links of node 3 have 200 ms of latency",
            "the network heals",
        ] {
            assert!(is_fault_sentence(s), "{s}");
        }
        for s in [
            "a primary with 1 replica",
            "I run `SET k v` on the primary",
            "the replicas have caught up",
        ] {
            assert!(!is_fault_sentence(s), "{s}");
        }
    }

    #[test]
    fn a_fault_in_any_background_a_scenario_runs_counts() {
        let text = "\
Feature: f
  Background:
    Given a primary with 1 replica

  Scenario: plain
    When I run `PING` on the primary

  Rule: cut
    Background:
      Given the primary is cut off from replica 1

    Scenario: under the rule
      When I run `PING` on the primary

  Rule: quiet
    Scenario: under a quiet rule
      When I run `PING` on the primary

    Scenario: with its own fault
      When the network heals
";
        let feature = gherkin::Feature::parse(text, gherkin::GherkinEnv::default()).unwrap();
        let states = |rule: Option<&gherkin::Rule>, s: &gherkin::Scenario| {
            (s.name.clone(), scenario_states_faults(&feature, rule, s))
        };
        let mut seen: Vec<(String, bool)> =
            feature.scenarios.iter().map(|s| states(None, s)).collect();
        for rule in &feature.rules {
            seen.extend(rule.scenarios.iter().map(|s| states(Some(rule), s)));
        }
        assert_eq!(
            seen,
            [
                ("plain".to_string(), false),
                ("under the rule".to_string(), true),
                ("under a quiet rule".to_string(), false),
                ("with its own fault".to_string(), true),
            ]
        );
    }
}
