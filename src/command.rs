//! Command lines written as in `valkey-cli`.
//!
//! The rules are those of valkey's own `sdssplitargs`, which both
//! `valkey-cli` and `valkey.conf` use, so a line copied from a terminal means
//! the same thing in a feature file:
//!
//! - arguments are separated by spaces;
//! - `"double quotes"` allow escapes: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`,
//!   `\a` and `\xHH` for any byte;
//! - `'single quotes'` take everything literally except `\'`;
//! - a closing quote must be followed by a space or the end of the line.

use crate::error::{Error, Result};

/// Spellings [`split`] (and `valkey-cli`) read, with the bytes each one
/// means: the hint of a line that cannot be read shows them.
pub const QUOTING_EXAMPLES: [(&str, &[u8]); 5] = [
    ("\"my key\"", b"my key"),
    ("\"it's\"", b"it's"),
    (r"'it\'s'", b"it's"),
    (r#""a\"b""#, b"a\"b"),
    (r#""\x00""#, b"\0"),
];

/// The hint of [`Error::CommandSyntax`]: how to quote, by example.
pub fn quoting_hint() -> String {
    let examples: Vec<&str> = QUOTING_EXAMPLES.iter().map(|(s, _)| *s).collect();
    format!("quote arguments as in valkey-cli: {}", examples.join(", "))
}

/// Splits `line` into the arguments of one command.
///
/// ```
/// let args = valkey_bdd::command::split(r#"SET "my key" 'a b' \x41"#).unwrap();
/// assert_eq!(args, vec![b"SET".to_vec(), b"my key".to_vec(), b"a b".to_vec(), br"\x41".to_vec()]);
/// ```
pub fn split(line: &str) -> Result<Vec<Vec<u8>>> {
    let err = |reason: &str| Error::CommandSyntax {
        line: line.to_string(),
        reason: reason.to_string(),
        hint: quoting_hint(),
    };
    let bytes = line.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        // An unquoted argument ends at the next blank, quotes inside it
        // being its own: it is copied whole (a 50 MB literal grows no
        // buffer byte by byte).
        if bytes[i] != b'"' && bytes[i] != b'\'' {
            let end = bytes[i..]
                .iter()
                .position(|c| c.is_ascii_whitespace())
                .map_or(bytes.len(), |n| i + n);
            args.push(bytes[i..end].to_vec());
            i = end;
            continue;
        }
        let mut arg = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        let quote_start = i;
        loop {
            if in_double {
                let Some(&c) = bytes.get(i) else {
                    return Err(err(&format!(
                        "the double quote at column {} is never closed",
                        quote_start + 1
                    )));
                };
                if c == b'\\'
                    && i + 3 < bytes.len()
                    && bytes[i + 1] == b'x'
                    && let (Some(h), Some(l)) = (hex(bytes[i + 2]), hex(bytes[i + 3]))
                {
                    arg.push(h * 16 + l);
                    i += 4;
                    continue;
                }
                if c == b'\\' && i + 1 < bytes.len() {
                    arg.push(match bytes[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                    i += 2;
                    continue;
                }
                if c == b'"' {
                    if bytes.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                        return Err(err(&format!(
                            "the closing quote at column {} must be followed by a space",
                            i + 1
                        )));
                    }
                    i += 1;
                    break;
                }
                arg.push(c);
                i += 1;
            } else if in_single {
                let Some(&c) = bytes.get(i) else {
                    return Err(err(&format!(
                        "the single quote at column {} is never closed",
                        quote_start + 1
                    )));
                };
                if c == b'\\' && bytes.get(i + 1) == Some(&b'\'') {
                    arg.push(b'\'');
                    i += 2;
                    continue;
                }
                if c == b'\'' {
                    if bytes.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                        return Err(err(&format!(
                            "the closing quote at column {} must be followed by a space",
                            i + 1
                        )));
                    }
                    i += 1;
                    break;
                }
                arg.push(c);
                i += 1;
            } else {
                match bytes.get(i) {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(b'"') if arg.is_empty() => {
                        in_double = true;
                        i += 1;
                    }
                    Some(b'\'') if arg.is_empty() => {
                        in_single = true;
                        i += 1;
                    }
                    Some(&c) => {
                        arg.push(c);
                        i += 1;
                    }
                }
                // An opening quote starts where the argument starts.
                if in_double || in_single {
                    continue;
                }
            }
        }
        args.push(arg);
    }
    if args.is_empty() {
        return Err(err("there is no command in it"));
    }
    Ok(args)
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Renders arguments back into a line that [`split`] reads the same way.
pub fn join(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.iter()
                    .all(|&c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\');
            if plain {
                String::from_utf8_lossy(a).into_owned()
            } else {
                crate::reply::quote(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(line: &str) -> Vec<String> {
        split(line)
            .unwrap()
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect()
    }

    #[test]
    fn splits_like_valkey_cli() {
        assert_eq!(s("SET k v"), ["SET", "k", "v"]);
        assert_eq!(s("  SET   k  v  "), ["SET", "k", "v"]);
        assert_eq!(s(r#"SET "my key" "a b""#), ["SET", "my key", "a b"]);
        assert_eq!(s(r#"SET k "say \"hi\"\n""#), ["SET", "k", "say \"hi\"\n"]);
        assert_eq!(s(r"SET k 'it\'s'"), ["SET", "k", "it's"]);
        assert_eq!(s(r#"SET k "\x41\x42""#), ["SET", "k", "AB"]);
        assert_eq!(s(r#"SET k """#), ["SET", "k", ""]);
        assert_eq!(s("SET a\"b c"), ["SET", "a\"b", "c"]);
        assert_eq!(split(r#"SET k "\x00""#).unwrap()[2], vec![0u8]);
    }

    #[test]
    fn rejects_bad_quoting() {
        for (line, reason) in [
            (
                r#"SET "my key v"#,
                "the double quote at column 5 is never closed",
            ),
            ("SET 'k v", "the single quote at column 5 is never closed"),
            (
                r#"SET "k"v 1"#,
                "the closing quote at column 7 must be followed by a space",
            ),
            ("   ", "there is no command in it"),
        ] {
            let e = split(line).unwrap_err().to_string();
            assert!(e.contains(reason), "{line:?}: {e}");
            assert!(
                e.contains(&format!("cannot read the command `{line}`")),
                "{e}"
            );
        }
    }

    #[test]
    fn the_hint_suggests_only_spellings_that_parse() {
        let e = split("SET k 'it''s'").unwrap_err().to_string();
        assert!(e.contains(&format!("hint: {}", quoting_hint())), "{e}");
        for (spelling, meaning) in QUOTING_EXAMPLES {
            assert!(e.contains(spelling), "{spelling} missing from {e}");
            let args = split(&format!("SET k {spelling}")).unwrap();
            assert_eq!(args[2], meaning.to_vec(), "{spelling}");
            assert_eq!(args.len(), 3, "{spelling}");
        }
        // What the hint used to suggest, `'it''s'`, valkey-cli refuses too.
        let hint = e.split("hint: ").nth(1).unwrap();
        assert!(!hint.contains("''"), "{hint}");
    }

    #[test]
    fn join_round_trips() {
        for line in [r#"SET "my key" "a\"b""#, r#"SET k "\x00\n""#, "GET plain"] {
            let args = split(line).unwrap();
            assert_eq!(split(&join(&args)).unwrap(), args);
        }
    }
}
