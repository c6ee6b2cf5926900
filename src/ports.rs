//! Ports for servers, unique across every test process on the machine.
//!
//! Ports come from a block below the kernel's ephemeral range
//! (`/proc/sys/net/ipv4/ip_local_port_range`), so that no outgoing connection
//! of any program can be handed one of them, and so that port+10000 — the
//! cluster bus — lies below that range as well.
//!
//! Two test processes must never pick the same port. Each port is leased by
//! binding a Linux *abstract* unix socket named after it
//! (`@valkey-bdd/port/<port>`). This is the per-port lock: binding is
//! exclusive, the kernel releases it when the holder exits however it exits
//! (even SIGKILL), it leaves no lock file behind, and its scope — the network
//! namespace — is exactly the scope of the ports it protects.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// Offset of the cluster bus port from the client port.
pub const BUS_OFFSET: u16 = 10000;
/// Environment variable overriding the first port of the block.
pub const ENV_PORT_BASE: &str = "VALKEY_BDD_PORT_BASE";
/// Lowest port the block starts at by default: above the well-known and the
/// usual development ports, far from 6379.
const DEFAULT_BASE: u16 = 16000;
/// The lowest first port [`ENV_PORT_BASE`] may name: ports below are
/// privileged (and 0 is not a port but "any").
const LOWEST_BASE: u16 = 1024;
/// The fewest ports a block holds.
const LEAST_PORTS: u16 = 64;

/// A port held for one server for as long as this value lives.
#[derive(Debug)]
pub struct PortLease {
    port: u16,
    // Holding the socket is holding the lease.
    _lock: UnixListener,
}

impl PortLease {
    /// The leased port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster bus port that goes with it.
    pub fn bus_port(&self) -> u16 {
        self.port + BUS_OFFSET
    }
}

inventory::submit! {
    crate::settings::Check {
        variable: ENV_PORT_BASE,
        check: || block().map(drop),
    }
}

/// The block ports are taken from: `first..last`.
pub fn block() -> Result<(u16, u16)> {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|p| p.parse::<u16>().ok())
        })
        .unwrap_or(32768);
    let first = match std::env::var(ENV_PORT_BASE) {
        Ok(v) => v.parse::<u16>().map_err(|_| Error::Config {
            what: format!("{ENV_PORT_BASE}={v:?} is not a port number"),
            hint: "use a number such as 16000".into(),
        })?,
        Err(_) => DEFAULT_BASE,
    };
    let last = ephemeral_low.saturating_sub(BUS_OFFSET);
    if first < LOWEST_BASE {
        return Err(Error::Config {
            what: format!(
                "{ENV_PORT_BASE}={first} is below {LOWEST_BASE}: servers would be given privileged ports \
                 (the block runs from it to {last}, each port with its cluster bus port +{BUS_OFFSET})"
            ),
            hint: format!(
                "use a port from {LOWEST_BASE} to {}, such as {DEFAULT_BASE}",
                last.saturating_sub(LEAST_PORTS)
            ),
        });
    }
    if last <= first || last - first < LEAST_PORTS {
        return Err(Error::PortBlock {
            reason: format!(
                "the ephemeral range starts at {ephemeral_low}, leaving no room for ports from {first} \
                 whose bus port (+{BUS_OFFSET}) stays below it"
            ),
        });
    }
    Ok((first, last))
}

/// Leases a free port: locked by no other process, and with both the port and
/// its bus port free to bind on 127.0.0.1.
pub fn lease() -> Result<PortLease> {
    if let Some(lease) = take_pretended() {
        return Ok(lease);
    }
    let (first, last) = block()?;
    let size = usize::from(last - first);
    // Spread processes over the block so that they rarely contend, and walk
    // on from the last lease so that a restarted scenario does not reuse a
    // port whose old connections may linger.
    static NEXT: AtomicUsize = AtomicUsize::new(usize::MAX);
    let _ = NEXT.compare_exchange(
        usize::MAX,
        (std::process::id() as usize).wrapping_mul(7919) % size,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for tried in 0..size {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % size;
        let port = first + offset as u16;
        if let Some(lease) = try_lease(port) {
            return Ok(lease);
        }
        if tried > 0 && tried % 1024 == 0 {
            tracing::debug!(tried, "still looking for a free port");
        }
    }
    Err(Error::NoFreePort {
        first,
        last,
        tried: size,
    })
}

/// Leases exactly `port` if nobody holds it and it is free to bind.
pub fn try_lease(port: u16) -> Option<PortLease> {
    let name = format!("valkey-bdd/port/{port}");
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).ok()?;
    let lock = UnixListener::bind_addr(&addr).ok()?;
    if !is_free(port) || !is_free(port.checked_add(BUS_OFFSET)?) {
        return None;
    }
    Some(PortLease { port, _lock: lock })
}

/// A port [`pretend_free_once`] asked the next lease to hand out.
static PRETENDED: Mutex<Option<u16>> = Mutex::new(None);

/// For the harness's own tests: the next [`lease`] of this process hands out
/// `port` (when no other process holds its lock) without checking that
/// nothing listens there — the state that another program binding the port
/// right after the check leaves behind, made on purpose.
#[doc(hidden)]
pub fn pretend_free_once(port: u16) {
    *PRETENDED.lock().unwrap_or_else(|p| p.into_inner()) = Some(port);
}

fn take_pretended() -> Option<PortLease> {
    let port = PRETENDED.lock().unwrap_or_else(|p| p.into_inner()).take()?;
    let name = format!("valkey-bdd/port/{port}");
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).ok()?;
    let lock = UnixListener::bind_addr(&addr).ok()?;
    Some(PortLease { port, _lock: lock })
}

/// Whether something listens on, or holds, `port` on 127.0.0.1.
pub fn is_free(port: u16) -> bool {
    TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leased_port_is_not_leased_twice() {
        let a = lease().expect("a port");
        assert!(try_lease(a.port()).is_none());
        let b = lease().expect("another port");
        assert_ne!(a.port(), b.port());
        let port = a.port();
        drop(a);
        assert!(try_lease(port).is_some());
    }

    #[test]
    fn a_port_in_use_is_skipped() {
        let a = lease().expect("a port");
        let port = a.port();
        drop(a);
        let _busy = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).unwrap();
        assert!(try_lease(port).is_none());
    }
}
