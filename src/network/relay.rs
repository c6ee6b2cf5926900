//! Latency on a server's links: a transparent relay inside the run's
//! namespace.
//!
//! A `nat` rule of the scenario ([`super::Faults`]) sends every new TCP
//! connection from or to the server's address (except the harness's own,
//! from `127.0.0.1`) to a listener of the relay. The relay reads where the
//! connection was going (`SO_ORIGINAL_DST`), connects there itself from the
//! original source address (every `127/8` address is local), so the servers
//! still see each other's addresses, and holds every chunk for the delay in
//! each direction ([`super::latency`]'s pump). Its own connections carry a
//! socket mark that the rule lets pass. Dropping the [`Relay`] closes its
//! listener and every connection it carries.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use super::Namespace;

/// The socket mark of the relay's own connections, which the `nat` rule
/// lets pass (`meta mark`).
pub const MARK: u32 = 0x7662;

/// How long the relay may take to reach the original destination.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long closing a relay may take: its listener and every connection it
/// carries closed.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// A running relay; dropping it closes every connection it carries.
#[derive(Debug)]
pub struct Relay {
    port: u16,
    task: tokio::task::JoinHandle<()>,
    /// Asks the task to close its listener and its connections, and end.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Relay {
    /// A relay listening on `127.0.0.1` inside `namespace`, holding each
    /// chunk for `delay`, each way.
    pub async fn start(namespace: &Arc<Namespace>, delay: Duration) -> io::Result<Relay> {
        let socket = namespace.socket().await?;
        socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        let listener = socket.listen(128)?;
        let port = listener.local_addr()?.port();
        let delay = Arc::new(AtomicU64::new(delay.as_millis() as u64));
        let ns = namespace.clone();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // Dropped with this task: aborts every relayed connection.
            let mut links = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, peer)) => {
                            links.spawn(forward(ns.clone(), stream, peer, delay.clone()));
                        }
                        // Out of descriptors, or the like: try again shortly.
                        Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                    },
                    Some(_) = links.join_next(), if !links.is_empty() => {}
                }
            }
            // The listener first: a link made from now on is refused, not
            // left waiting in its backlog; then every link, waiting until
            // each one's sockets are closed.
            drop(listener);
            links.shutdown().await;
        });
        Ok(Relay {
            port,
            task,
            stop: Some(stop),
        })
    }

    /// Closes its listener and every connection it carries, and returns
    /// once all of them are closed: the servers at both ends of each have
    /// been told (while the `nat` rules that translate what the relay sends
    /// them are still in force). An error when that takes longer than
    /// [`CLOSE_TIMEOUT`].
    pub async fn close(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match tokio::time::timeout(CLOSE_TIMEOUT, &mut self.task).await {
            Ok(_) => Ok(()),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the relay at 127.0.0.1:{} did not close its links within {CLOSE_TIMEOUT:?}",
                    self.port
                ),
            )),
        }
    }

    /// The port it listens on, at `127.0.0.1`.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Where a redirected connection was going.
fn original_destination(stream: &tokio::net::TcpStream) -> io::Result<SocketAddr> {
    let dst = nix::sys::socket::getsockopt(stream, nix::sys::socket::sockopt::OriginalDst)
        .map_err(io::Error::from)?;
    Ok(SocketAddr::V4(SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(dst.sin_addr.s_addr)),
        u16::from_be(dst.sin_port),
    )))
}

/// Carries one redirected connection to where it was going, from where it
/// came, holding each chunk for `delay`.
async fn forward(
    namespace: Arc<Namespace>,
    inbound: tokio::net::TcpStream,
    peer: SocketAddr,
    delay: Arc<AtomicU64>,
) -> io::Result<()> {
    let destination = original_destination(&inbound)?;
    let socket = namespace.socket().await?;
    nix::sys::socket::setsockopt(&socket, nix::sys::socket::sockopt::Mark, &MARK)
        .map_err(io::Error::from)?;
    socket.bind(SocketAddr::new(peer.ip(), 0))?;
    let outbound = tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(destination))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "relay connect timed out"))??;
    inbound.set_nodelay(true)?;
    outbound.set_nodelay(true)?;
    let (from_in, from_out) = inbound.into_split();
    let (to_in, to_out) = outbound.into_split();
    let (a, b) = tokio::join!(
        super::latency::pump(from_in, to_out, delay.clone()),
        super::latency::pump(to_in, from_out, delay)
    );
    a.and(b)
}
