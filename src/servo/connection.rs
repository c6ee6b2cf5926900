//! One servo's connection: JSON-RPC 2.0 requests from the harness, one JSON
//! object per line each way, every call under a deadline.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

/// The longest line a servo may send (a step's log lines included).
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// Why a call did not return a result.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// No answer within the deadline.
    Timeout(Duration),
    /// The servo closed the connection (it exited, or closed its socket).
    Closed,
    /// It sent a line that is not a JSON-RPC response: the line, clipped.
    Garbage(String),
    /// It answered an id the harness did not ask.
    WrongId {
        /// The id asked.
        expected: u64,
        /// The line it sent, clipped.
        line: String,
    },
    /// It answered with a JSON-RPC error.
    Rpc {
        /// The error's code (-32001: no pattern matches; -32002: protocol
        /// version not spoken).
        code: i64,
        /// Its message.
        message: String,
    },
    /// Reading or writing the socket failed.
    Io(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Timeout(d) => write!(f, "it did not answer within {}", seconds(*d)),
            CallError::Closed => write!(f, "it closed its connection (did it exit?)"),
            CallError::Garbage(line) => write!(
                f,
                "it wrote a line that is not a JSON-RPC 2.0 response on the protocol's socket: {line}"
            ),
            CallError::WrongId { expected, line } => {
                write!(
                    f,
                    "it answered an id it was not asked (asked {expected}): {line}"
                )
            }
            CallError::Rpc { code, message } => write!(f, "it answered error {code}: {message}"),
            CallError::Io(e) => write!(f, "the connection failed: {e}"),
        }
    }
}

/// `2.5 s`, `30 s`.
pub fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// The harness's end of a servo's socket.
#[derive(Debug)]
pub struct Connection {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    next_id: u64,
    /// Set once a call failed in a way that leaves the stream unusable.
    broken: bool,
}

impl Connection {
    /// Wraps an accepted stream.
    pub fn new(stream: UnixStream) -> Connection {
        let (r, w) = stream.into_split();
        Connection {
            reader: BufReader::new(r),
            writer: w,
            next_id: 1,
            broken: false,
        }
    }

    /// Whether an earlier call left the stream in an unknown state.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Sends `method` with `params` and waits, at most `deadline`, for the
    /// response with the same id; returns its `result`.
    pub async fn call(
        &mut self,
        method: &str,
        params: Value,
        deadline: Duration,
    ) -> Result<Value, CallError> {
        if self.broken {
            return Err(CallError::Io(
                "an earlier call failed; the connection is not used again".into(),
            ));
        }
        let id = self.next_id;
        self.next_id += 1;
        let result = tokio::time::timeout(deadline, self.exchange(id, method, params)).await;
        let result = match result {
            Ok(r) => r,
            Err(_) => Err(CallError::Timeout(deadline)),
        };
        if matches!(
            result,
            Err(CallError::Timeout(_)
                | CallError::Closed
                | CallError::Garbage(_)
                | CallError::WrongId { .. }
                | CallError::Io(_))
        ) {
            self.broken = true;
        }
        result
    }

    async fn exchange(&mut self, id: u64, method: &str, params: Value) -> Result<Value, CallError> {
        let mut line = request(id, method, params);
        line.push('\n');
        self.writer
            .write_all(line.as_bytes())
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset => {
                    CallError::Closed
                }
                _ => CallError::Io(e.to_string()),
            })?;
        let mut buf = Vec::new();
        let n = (&mut self.reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .await
            .map_err(|e| CallError::Io(e.to_string()))?;
        if n == 0 {
            return Err(CallError::Closed);
        }
        if buf.last() != Some(&b'\n') {
            if buf.len() > MAX_LINE {
                return Err(CallError::Garbage(format!(
                    "a line longer than {MAX_LINE} bytes"
                )));
            }
            // The stream ended inside a line.
            return Err(CallError::Garbage(clip(&String::from_utf8_lossy(&buf))));
        }
        parse_response(id, &String::from_utf8_lossy(&buf))
    }
}

/// A request as one JSON line (without its `\n`).
pub fn request(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// Reads a servo's line as the response to request `id`.
pub fn parse_response(id: u64, line: &str) -> Result<Value, CallError> {
    let garbage = || CallError::Garbage(clip(line.trim_end()));
    let value: Value = serde_json::from_str(line).map_err(|_| garbage())?;
    let Value::Object(mut map) = value else {
        return Err(garbage());
    };
    if map.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(garbage());
    }
    if map.contains_key("method") {
        // Reserved for checkpoints, a later version of the protocol.
        return Err(CallError::Garbage(format!(
            "a request from the servo ({}), which protocol 1 does not have",
            clip(line.trim_end())
        )));
    }
    if map.get("id").and_then(Value::as_u64) != Some(id) {
        return Err(CallError::WrongId {
            expected: id,
            line: clip(line.trim_end()),
        });
    }
    if let Some(error) = map.remove("error") {
        let code = error
            .get("code")
            .and_then(Value::as_i64)
            .ok_or_else(garbage)?;
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        return Err(CallError::Rpc { code, message });
    }
    map.remove("result").ok_or_else(garbage)
}

/// A line as a message shows it: at most 300 characters.
fn clip(line: &str) -> String {
    const MAX: usize = 300;
    if line.chars().count() <= MAX {
        return format!("{line:?}");
    }
    let head: String = line.chars().take(MAX).collect();
    format!("{head:?}… ({} bytes)", line.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_one_line_of_json_rpc() {
        let line = request(7, "step", json!({"text": "a\nb"}));
        assert!(!line.contains('\n'), "newlines inside strings are escaped");
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["jsonrpc"], "2.0");
        assert_eq!(v["id"], 7);
        assert_eq!(v["method"], "step");
        assert_eq!(v["params"]["text"], "a\nb");
    }

    #[test]
    fn a_result_is_returned() {
        let r = parse_response(3, r#"{"jsonrpc":"2.0","id":3,"result":{"ok":true}}"#).unwrap();
        assert_eq!(r, json!({"ok": true}));
    }

    #[test]
    fn an_error_is_returned_with_its_code() {
        let e = parse_response(
            1,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"speaks 2"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            CallError::Rpc {
                code: -32002,
                message: "speaks 2".into()
            }
        );
    }

    #[test]
    fn another_id_is_refused() {
        let e = parse_response(2, r#"{"jsonrpc":"2.0","id":9,"result":{}}"#).unwrap_err();
        assert!(matches!(e, CallError::WrongId { expected: 2, .. }), "{e:?}");
    }

    #[test]
    fn what_is_not_json_rpc_is_garbage() {
        for line in [
            "hello world\n",
            "[1,2]\n",
            r#"{"id":1,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"checkpoint"}"#,
        ] {
            let e = parse_response(1, line).unwrap_err();
            assert!(matches!(e, CallError::Garbage(_)), "{line}: {e:?}");
        }
    }

    #[tokio::test]
    async fn a_silent_peer_times_out_and_a_closed_one_is_seen() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut c = Connection::new(a);
        let e = c
            .call("discover", json!({}), Duration::from_millis(50))
            .await
            .unwrap_err();
        assert_eq!(e, CallError::Timeout(Duration::from_millis(50)));
        assert!(c.is_broken());
        drop(b);
        let (a, b) = UnixStream::pair().unwrap();
        drop(b);
        let mut c = Connection::new(a);
        let e = c
            .call("discover", json!({}), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(e, CallError::Closed);
    }

    #[tokio::test]
    async fn a_round_trip_over_a_socket() {
        let (a, b) = UnixStream::pair().unwrap();
        let peer = tokio::spawn(async move {
            let (r, mut w) = b.into_split();
            let mut lines = BufReader::new(r).lines();
            while let Some(line) = lines.next_line().await.unwrap() {
                let v: Value = serde_json::from_str(&line).unwrap();
                let reply =
                    json!({"jsonrpc": "2.0", "id": v["id"], "result": {"echo": v["params"]}});
                w.write_all(format!("{reply}\n").as_bytes()).await.unwrap();
            }
        });
        let mut c = Connection::new(a);
        for i in 0..3 {
            let r = c
                .call("x", json!({"i": i}), Duration::from_secs(5))
                .await
                .unwrap();
            assert_eq!(r, json!({"echo": {"i": i}}));
        }
        drop(c);
        peer.await.unwrap();
    }
}
