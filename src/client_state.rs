//! What `CLIENT LIST` says of one client, and the states a checkpoint waits
//! for: a flag (`b` blocked, `x` inside `MULTI`, `d` a doomed transaction),
//! the number of keys it watches (`watch=`, Valkey 8.0, Redis 7.4 and later), or any
//! field (`db=0`, `name=alice`, `resp=3`).
//!
//! ```
//! use valkey_bdd::client_state::{ClientLine, ClientState};
//! let line = ClientLine::parse("id=7 addr=127.0.0.1:5 name=alice db=0 flags=xd watch=2");
//! assert_eq!(line.field("db"), Some("0"));
//! assert_eq!(ClientState::Watching(2).check(&line), Ok(true));
//! assert_eq!(ClientState::flag('d').check(&line), Ok(true));
//! assert_eq!(ClientState::field("db", "1").check(&line), Ok(false));
//! ```

use std::fmt;

/// One client's line of `CLIENT LIST`, split into its `name=value` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientLine {
    raw: String,
    fields: Vec<(String, String)>,
}

impl ClientLine {
    /// Splits a line such as `id=7 addr=… flags=N db=0`. A value never holds
    /// a space (`CLIENT SETNAME` refuses them), so spaces separate fields.
    pub fn parse(line: &str) -> ClientLine {
        let raw = line.trim().to_string();
        let fields = raw
            .split_whitespace()
            .filter_map(|f| f.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ClientLine { raw, fields }
    }

    /// The value of a field, if the line has it (`None`: the server does
    /// not show that field, which is not the same as an empty value).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The line as the server wrote it.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Whether the line is empty: no such client (it disconnected).
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// A state of a client that `CLIENT LIST` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientState {
    /// A letter among its `flags=`.
    Flag(char),
    /// `watch=<n>`: it watches that many keys (Valkey 8.0, Redis 7.4 and later).
    Watching(u64),
    /// A field with exactly this value.
    Field {
        /// The field's name, as `CLIENT LIST` writes it (`db`, `name`).
        name: String,
        /// Its expected value.
        value: String,
    },
}

impl ClientState {
    /// The flag `letter` (`b`, `x`, `d`, `N`...).
    pub fn flag(letter: char) -> ClientState {
        ClientState::Flag(letter)
    }

    /// The field `name` with this value.
    pub fn field(name: &str, value: &str) -> ClientState {
        ClientState::Field {
            name: name.to_string(),
            value: value.to_string(),
        }
    }

    /// Whether the line shows this state. `Err` says why it never can: the
    /// server does not show the field at all (an older version).
    pub fn check(&self, line: &ClientLine) -> Result<bool, String> {
        let field = |name: &str| {
            line.field(name).ok_or_else(|| {
                format!(
                    "CLIENT LIST of this server has no field {name:?}{}",
                    since(name)
                )
            })
        };
        match self {
            ClientState::Flag(c) => Ok(field("flags")?.contains(*c)),
            ClientState::Watching(n) => Ok(field("watch")?.parse::<u64>().ok() == Some(*n)),
            ClientState::Field { name, value } => Ok(field(name)? == value),
        }
    }
}

/// When a field appeared, for the fields added late.
fn since(field: &str) -> &'static str {
    match field {
        "watch" => " (Valkey 8.0 and Redis 7.4 and later show it)",
        "lib-name" | "lib-ver" => " (Valkey 7.2 and later show it)",
        _ => "",
    }
}

impl fmt::Display for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientState::Flag('b') => write!(f, "blocked (flag b)"),
            ClientState::Flag('x') => write!(f, "inside a transaction (flag x)"),
            ClientState::Flag('d') => write!(
                f,
                "in a doomed transaction (flag d: a key it watches has changed)"
            ),
            ClientState::Flag(c) => write!(f, "with the flag {c:?}"),
            ClientState::Watching(n) => write!(f, "watching {n} key(s) (watch={n})"),
            ClientState::Field { name, value } => write!(f, "with {name}={value}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ClientLine, ClientState};

    #[test]
    fn a_field_the_server_does_not_show_is_an_error_not_a_mismatch() {
        let old = ClientLine::parse("id=3 addr=127.0.0.1:1 flags=N db=0");
        let err = ClientState::Watching(0).check(&old).unwrap_err();
        assert!(
            err.contains("no field \"watch\" (Valkey 8.0 and Redis 7.4"),
            "{err}"
        );
        assert!(ClientState::field("resp", "3").check(&old).is_err());
        assert_eq!(ClientState::field("db", "0").check(&old), Ok(true));
    }

    #[test]
    fn flags_are_letters_of_the_flags_field() {
        let line = ClientLine::parse("id=3 flags=xd watch=1");
        assert_eq!(ClientState::flag('x').check(&line), Ok(true));
        assert_eq!(ClientState::flag('b').check(&line), Ok(false));
        assert_eq!(ClientState::Watching(2).check(&line), Ok(false));
        assert_eq!(ClientState::Watching(1).check(&line), Ok(true));
    }

    #[test]
    fn an_empty_value_is_kept() {
        let line = ClientLine::parse("id=3 name= lib-name=redis-rs");
        assert_eq!(line.field("name"), Some(""));
        assert_eq!(line.field("lib-name"), Some("redis-rs"));
        assert_eq!(line.field("nope"), None);
    }
}
