//! Latency on a client's link: every connection of the harness into the
//! namespace passes through a relay that holds each chunk for the link's
//! delay, in each direction, keeping order (what Toxiproxy's latency toxic
//! does). The delay starts at zero and is set by a sentence on the client
//! the connection belongs to, found by its local port (`CLIENT LIST`'s
//! `addr`).

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// The delay of each relayed connection, in milliseconds, by its local port.
fn links() -> &'static Mutex<HashMap<u16, Arc<AtomicU64>>> {
    static LINKS: OnceLock<Mutex<HashMap<u16, Arc<AtomicU64>>>> = OnceLock::new();
    LINKS.get_or_init(Default::default)
}

/// Puts `stream` behind a relay whose delay [`set`] can change; the
/// returned end is what the client speaks on.
pub(crate) fn relay(stream: tokio::net::TcpStream) -> io::Result<tokio::io::DuplexStream> {
    let port = stream.local_addr()?.port();
    let delay = Arc::new(AtomicU64::new(0));
    links()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(port, delay.clone());
    let (near, far) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        let (server_in, server_out) = stream.into_split();
        let (client_in, client_out) = tokio::io::split(far);
        let _ = tokio::join!(
            pump(client_in, server_out, delay.clone()),
            pump(server_in, client_out, delay)
        );
        links()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&port);
    });
    Ok(near)
}

/// Copies `from` to `to`, each chunk sent `delay` after it arrived.
pub(super) async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    delay: Arc<AtomicU64>,
) -> io::Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let reading = async move {
        loop {
            let mut buf = vec![0u8; 16 * 1024];
            let n = from.read(&mut buf).await?;
            if n == 0 {
                return Ok::<(), io::Error>(());
            }
            buf.truncate(n);
            let due =
                tokio::time::Instant::now() + Duration::from_millis(delay.load(Ordering::SeqCst));
            if tx.send((due, buf)).is_err() {
                return Ok(());
            }
        }
    };
    let writing = async move {
        while let Some((due, buf)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            to.write_all(&buf).await?;
        }
        to.shutdown().await
    };
    let (r, w) = tokio::join!(reading, writing);
    r.and(w)
}

/// Sets the one-way delay of the relayed connection whose local port is
/// `port`; `false` when no such connection is open.
pub fn set(port: u16, delay: Duration) -> bool {
    match links().lock().unwrap_or_else(|p| p.into_inner()).get(&port) {
        Some(d) => {
            d.store(delay.as_millis() as u64, Ordering::SeqCst);
            true
        }
        None => false,
    }
}

/// Sets every relayed connection's delay back to zero (the network heals).
pub fn clear(ports: &[u16]) {
    for port in ports {
        set(*port, Duration::ZERO);
    }
}
