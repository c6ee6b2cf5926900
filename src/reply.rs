//! Replies, as a value to assert on and as `valkey-cli` prints them.

use std::fmt;

/// One reply of a server, in RESP2 or RESP3 shape.
///
/// Errors are replies too: `SET` on a full server *answers* with an OOM
/// error, which a scenario asserts on like any other answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Reply {
    /// `(nil)`.
    Nil,
    /// A simple string such as `OK` or `PONG`.
    Status(String),
    /// An error reply, code included (`ERR unknown command ...`).
    Error(String),
    /// `(integer) 3`.
    Integer(i64),
    /// A bulk string, binary safe.
    Bulk(Vec<u8>),
    /// An array (a list in `valkey-cli`'s words).
    Array(Vec<Reply>),
    /// A RESP3 map.
    Map(Vec<(Reply, Reply)>),
    /// A RESP3 set.
    Set(Vec<Reply>),
    /// A RESP3 double.
    Double(f64),
    /// A RESP3 boolean.
    Boolean(bool),
    /// A RESP3 big number, kept as its decimal text.
    BigNumber(String),
    /// A RESP3 verbatim string (`txt` or `mkd`).
    Verbatim(String),
    /// A RESP3 push message (pub/sub, invalidation).
    Push(String, Vec<Reply>),
}

impl Reply {
    /// The text of a status or bulk string reply; `None` for anything else.
    pub fn text(&self) -> Option<String> {
        match self {
            Reply::Status(s) | Reply::Verbatim(s) => Some(s.clone()),
            Reply::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }

    /// The message of an error reply.
    pub fn error(&self) -> Option<&str> {
        match self {
            Reply::Error(e) => Some(e),
            _ => None,
        }
    }

    /// A short name of the reply's kind, for messages ("an integer").
    pub fn kind(&self) -> &'static str {
        match self {
            Reply::Nil => "nil",
            Reply::Status(_) => "a status",
            Reply::Error(_) => "an error",
            Reply::Integer(_) => "an integer",
            Reply::Bulk(_) => "a string",
            Reply::Array(_) => "a list",
            Reply::Map(_) => "a map",
            Reply::Set(_) => "a set",
            Reply::Double(_) => "a double",
            Reply::Boolean(_) => "a boolean",
            Reply::BigNumber(_) => "a big number",
            Reply::Verbatim(_) => "a verbatim string",
            Reply::Push(..) => "a push message",
        }
    }

    /// The elements of a list or set reply, each as it would be compared to
    /// a cell of a Gherkin table (see [`Reply::cell`]).
    pub fn items(&self) -> Option<Vec<String>> {
        let items = match self {
            Reply::Array(v) | Reply::Set(v) => v,
            _ => return None,
        };
        Some(items.iter().map(Reply::cell).collect())
    }

    /// How the reply reads in a table cell: bare text for strings and
    /// numbers, `valkey-cli` rendering for the rest.
    pub fn cell(&self) -> String {
        match self {
            Reply::Integer(i) => i.to_string(),
            Reply::Double(d) => d.to_string(),
            Reply::BigNumber(n) => n.clone(),
            _ => self.text().unwrap_or_else(|| self.to_string()),
        }
    }
}

impl From<redis::Value> for Reply {
    fn from(v: redis::Value) -> Self {
        use redis::Value as V;
        match v {
            V::Nil => Reply::Nil,
            V::Int(i) => Reply::Integer(i),
            V::BulkString(b) => Reply::Bulk(b),
            V::Array(a) => Reply::Array(a.into_iter().map(Reply::from).collect()),
            V::SimpleString(s) => Reply::Status(s),
            V::Okay => Reply::Status("OK".into()),
            V::Map(m) => Reply::Map(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect()),
            V::Attribute { data, .. } => Reply::from(*data),
            V::Set(s) => Reply::Set(s.into_iter().map(Reply::from).collect()),
            V::Double(d) => Reply::Double(d),
            V::Boolean(b) => Reply::Boolean(b),
            V::VerbatimString { text, .. } => Reply::Verbatim(text),
            V::BigNumber(n) => Reply::BigNumber(String::from_utf8_lossy(&n).into_owned()),
            V::Push { kind, data } => Reply::Push(
                kind.to_string(),
                data.into_iter().map(Reply::from).collect(),
            ),
            V::ServerError(e) => Reply::Error(match e.details() {
                Some(d) => format!("{} {d}", e.code()),
                None => e.code().to_string(),
            }),
            // `redis::Value` is non-exhaustive; anything newer reads as text.
            #[allow(unreachable_patterns)]
            other => Reply::Status(format!("{other:?}")),
        }
    }
}

/// Quotes bytes the way `valkey-cli` does (`sdscatrepr`).
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &c in bytes {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A reply may hold the run's password (`CONFIG GET masterauth`).
        f.write_str(&crate::acl::redact(&render(self, 0)))
    }
}

fn render(r: &Reply, indent: usize) -> String {
    match r {
        Reply::Nil => "(nil)".into(),
        Reply::Status(s) => s.clone(),
        Reply::Error(e) => format!("(error) {e}"),
        Reply::Integer(i) => format!("(integer) {i}"),
        Reply::Bulk(b) => quote(b),
        Reply::Double(d) => format!("(double) {d}"),
        Reply::Boolean(b) => format!("({b})"),
        Reply::BigNumber(n) => format!("(big number) {n}"),
        Reply::Verbatim(t) => t.clone(),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(_, items) => {
            if items.is_empty() {
                return match r {
                    Reply::Set(_) => "(empty set)".into(),
                    _ => "(empty array)".into(),
                };
            }
            let mark = if matches!(r, Reply::Set(_)) { '~' } else { ')' };
            numbered(items.len(), indent, mark, |i, inner| {
                render(&items[i], inner)
            })
        }
        Reply::Map(pairs) => {
            if pairs.is_empty() {
                return "(empty hash)".into();
            }
            numbered(pairs.len(), indent, '#', |i, inner| {
                format!(
                    "{} => {}",
                    render(&pairs[i].0, inner),
                    render(&pairs[i].1, inner)
                )
            })
        }
    }
}

/// Numbers items as `valkey-cli` does: `1) ...`, with nested items aligned
/// under their parent's first character.
fn numbered(n: usize, indent: usize, mark: char, item: impl Fn(usize, usize) -> String) -> String {
    let width = n.to_string().len();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let label = format!("{:>width$}{mark} ", i + 1);
        let inner = indent + label.len();
        let prefix = if i == 0 {
            label
        } else {
            format!("{}{label}", " ".repeat(indent))
        };
        out.push(format!("{prefix}{}", item(i, inner)));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_valkey_cli() {
        assert_eq!(Reply::Status("OK".into()).to_string(), "OK");
        assert_eq!(Reply::Integer(3).to_string(), "(integer) 3");
        assert_eq!(Reply::Nil.to_string(), "(nil)");
        assert_eq!(
            Reply::Bulk(b"a \"b\"\n\x01".to_vec()).to_string(),
            r#""a \"b\"\n\x01""#
        );
        assert_eq!(
            Reply::Error("ERR wrong".into()).to_string(),
            "(error) ERR wrong"
        );
        assert_eq!(Reply::Array(vec![]).to_string(), "(empty array)");
        let nested = Reply::Array(vec![
            Reply::Bulk(b"a".to_vec()),
            Reply::Array(vec![Reply::Integer(1), Reply::Bulk(b"x".to_vec())]),
        ]);
        assert_eq!(
            nested.to_string(),
            "1) \"a\"\n2) 1) (integer) 1\n   2) \"x\""
        );
        let long = Reply::Array((0..10).map(Reply::Integer).collect());
        assert!(long.to_string().starts_with(" 1) (integer) 0\n 2)"));
        assert!(long.to_string().ends_with("\n10) (integer) 9"));
    }
}
