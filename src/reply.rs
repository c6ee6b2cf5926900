//! Replies, as a value to assert on and as `valkey-cli` prints them.

use std::fmt::{self, Write as _};

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
            Reply::Double(d) => double(*d),
            Reply::BigNumber(n) => n.clone(),
            _ => self.text().unwrap_or_else(|| self.to_string()),
        }
    }
}

/// A reply as [`Reply::cell`] reads it, written piece by piece ([`fmt::Display`])
/// without a copy of a long string; the run's password taken out.
#[derive(Debug, Clone, Copy)]
pub struct Cell<'a>(pub &'a Reply);

impl fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Reply::Status(s) | Reply::Verbatim(s) => redacted(s, f),
            Reply::Bulk(b) => redacted(&String::from_utf8_lossy(b), f),
            Reply::Integer(_) | Reply::Double(_) | Reply::BigNumber(_) => {
                f.write_str(&self.0.cell())
            }
            other => render(other, 0, f),
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

/// A double as the server writes it in RESP3, which `valkey-cli` prints as
/// it is: `nan`, `inf`, `-0`, `3`, `0.1`, `1e+300`, `1.234e-7`.
///
/// The `redis` crate hands over the parsed `f64`, not the server's text, so
/// the text is made again the way Valkey (and Redis 7.2 and later) make it
/// (`d2string`): an integral value within half the `long long` range as an
/// integer, anything else as the shortest digits that read back as the
/// same double, laid out as `fpconv_dtoa` lays them out. Older servers
/// (Redis 7.0 and before) wrote 17 significant digits
/// (`0.10000000000000001`); their doubles read here as Valkey's would.
///
/// ```
/// use valkey_bdd::reply::double;
/// assert_eq!(double(1e300), "1e+300");
/// assert_eq!(double(1e-17), "1e-17");
/// assert_eq!(double(0.000025), "0.000025");
/// assert_eq!(double(f64::NAN), "nan");
/// ```
pub fn double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // `double2ll`: within ±LLONG_MAX/2, an integral double is an integer.
    const HALF: f64 = (i64::MAX / 2) as f64;
    if (-HALF..=HALF).contains(&d) && d.fract() == 0.0 {
        return (d as i64).to_string();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `1.234e-7`.
    let sci = format!("{:e}", d.abs());
    let (mantissa, exp10) = sci.split_once('e').expect("`{:e}` writes an exponent");
    let exp10: i32 = exp10.parse().expect("`{:e}` writes an integer exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if d < 0.0 { "-" } else { "" };
    format!("{sign}{}", fpconv_layout(&digits, exp10))
}

/// `fpconv_dtoa`'s layout of `digits` (no leading zero) whose first digit
/// stands for 10^`exp10`: plain when that takes few zeros, else `d.ddde±x`.
fn fpconv_layout(digits: &str, exp10: i32) -> String {
    let n = digits.len() as i32;
    // fpconv's K: the power of ten of the last digit.
    let k = exp10 - n + 1;
    let exp = exp10.abs();
    if k >= 0 && exp < n + 7 {
        return format!("{digits}{}", "0".repeat(k as usize));
    }
    if k < 0 && (k > -7 || exp < 4) {
        let offset = n + k;
        return if offset <= 0 {
            format!("0.{}{digits}", "0".repeat(-offset as usize))
        } else {
            let (int, frac) = digits.split_at(offset as usize);
            format!("{int}.{frac}")
        };
    }
    let (first, rest) = digits.split_at(1);
    let dot = if rest.is_empty() { "" } else { "." };
    let sign = if exp10 < 0 { '-' } else { '+' };
    format!("{first}{dot}{rest}e{sign}{exp}")
}

/// Quotes bytes the way `valkey-cli` does (`sdscatrepr`).
/// The bytes as they are, the run's password included: configuration files
/// are written with it (`masterauth`); replies are shown through
/// [`Reply`]'s `Display`, which hides it.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    let _ = quote_into(bytes, &mut out);
    out
}

/// [`quote`], written piece by piece: a 50 MB string is never copied whole
/// to be shown.
fn write_quoted(bytes: &[u8], out: &mut dyn fmt::Write) -> fmt::Result {
    // A reply may hold the run's password (`CONFIG GET masterauth`).
    if crate::acl::holds_password(bytes) {
        let mut whole = String::new();
        quote_into(bytes, &mut whole)?;
        return out.write_str(&crate::acl::redact(&whole));
    }
    quote_into(bytes, out)
}

fn quote_into(bytes: &[u8], out: &mut dyn fmt::Write) -> fmt::Result {
    let mut piece = String::with_capacity(8192);
    piece.push('"');
    for &c in bytes {
        match c {
            b'\\' => piece.push_str("\\\\"),
            b'"' => piece.push_str("\\\""),
            b'\n' => piece.push_str("\\n"),
            b'\r' => piece.push_str("\\r"),
            b'\t' => piece.push_str("\\t"),
            0x07 => piece.push_str("\\a"),
            0x08 => piece.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => piece.push(c as char),
            c => {
                let _ = write!(piece, "\\x{c:02x}");
            }
        }
        if piece.len() >= 8000 {
            out.write_str(&piece)?;
            piece.clear();
        }
    }
    piece.push('"');
    out.write_str(&piece)
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render(self, 0, f)
    }
}

/// Text a server wrote, with the run's password taken out.
fn redacted(text: &str, out: &mut dyn fmt::Write) -> fmt::Result {
    out.write_str(&crate::acl::redact(text))
}

fn render(r: &Reply, indent: usize, out: &mut dyn fmt::Write) -> fmt::Result {
    match r {
        Reply::Nil => out.write_str("(nil)"),
        Reply::Status(s) | Reply::Verbatim(s) => redacted(s, out),
        Reply::Error(e) => {
            out.write_str("(error) ")?;
            redacted(e, out)
        }
        Reply::Integer(i) => write!(out, "(integer) {i}"),
        Reply::Bulk(b) => write_quoted(b, out),
        Reply::Double(d) => write!(out, "(double) {}", double(*d)),
        Reply::Boolean(b) => write!(out, "({b})"),
        Reply::BigNumber(n) => write!(out, "(big number) {n}"),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(_, items) => {
            if items.is_empty() {
                return out.write_str(match r {
                    Reply::Set(_) => "(empty set)",
                    _ => "(empty array)",
                });
            }
            let mark = if matches!(r, Reply::Set(_)) { '~' } else { ')' };
            numbered(items.len(), indent, mark, out, &|i, inner, out| {
                render(&items[i], inner, out)
            })
        }
        Reply::Map(pairs) => {
            if pairs.is_empty() {
                return out.write_str("(empty hash)");
            }
            numbered(pairs.len(), indent, '#', out, &|i, inner, out| {
                render(&pairs[i].0, inner, out)?;
                out.write_str(" => ")?;
                render(&pairs[i].1, inner, out)
            })
        }
    }
}

type Item<'a> = dyn Fn(usize, usize, &mut dyn fmt::Write) -> fmt::Result + 'a;

/// Numbers items as `valkey-cli` does: `1) ...`, with nested items aligned
/// under their parent's first character.
fn numbered(
    n: usize,
    indent: usize,
    mark: char,
    out: &mut dyn fmt::Write,
    item: &Item<'_>,
) -> fmt::Result {
    let width = n.to_string().len();
    for i in 0..n {
        if i > 0 {
            write!(out, "\n{:indent$}", "")?;
        }
        let label = format!("{:>width$}{mark} ", i + 1);
        out.write_str(&label)?;
        item(i, indent + label.len(), out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_read_as_valkey_writes_them() {
        // Each pair: Valkey 8's text (`valkey-cli -3`), and the double.
        for (text, d) in [
            ("1e+300", 1e300),
            ("1e-17", 1e-17),
            ("inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("0.1", 0.1),
            ("3", 3.0),
            ("-0", -0.0),
            ("0.00001", 0.00001),
            ("-0.000025", -2.5e-5),
            ("1.234e-7", 1.234e-7),
            ("1.5e+20", 1.5e20),
            ("1e+21", 1e21),
            ("100000000000000000", 1e17),
            ("123456789012345680", 123456789012345678.0),
            ("0.1234567890123", 0.1234567890123),
            ("123456789.123", 123456789.123),
            ("5e-324", 5e-324),
            ("1.7976931348623157e+308", f64::MAX),
            ("1e+100", 1e100),
        ] {
            assert_eq!(double(d), text, "{d:e}");
        }
    }

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
        assert_eq!(Reply::Double(f64::NAN).to_string(), "(double) nan");
        assert_eq!(Reply::Double(1e300).to_string(), "(double) 1e+300");
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
