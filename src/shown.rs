//! Values as the user sees them in messages and reports: whole when short;
//! when long, the head, the size, where the whole value is, and the tail.
//!
//! One rule for every place a value is shown — a step's text echoed on the
//! console, a reply in an assertion's failure, an error message, the JUnit,
//! HTML and JSON reports: a 50 MB reply or literal is shown in a few
//! kilobytes, and showing it takes a few kilobytes of memory too ([`Clip`]
//! reads a value as it is written, keeping only its head and tail; the
//! whole, when it is kept, goes straight to a file).
//!
//! ```
//! use valkey_bdd::shown::{Whole, clip};
//! assert_eq!(clip("OK", &Whole::Nowhere), "OK");
//! let long = "x".repeat(100_000);
//! let shown = clip(&long, &Whole::At("features/big.feature:3".into()));
//! assert!(shown.len() < 2_000);
//! assert!(shown.contains("100000 bytes in 1 line"));
//! assert!(shown.contains("the whole is at features/big.feature:3"));
//! ```

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::path::PathBuf;

/// A value longer than this (bytes) is clipped.
pub const MAX_BYTES: usize = 4096;
/// A value of more lines than this is clipped.
pub const MAX_LINES: usize = 40;
/// How much of a clipped value's start is shown: bytes, lines.
const HEAD: (usize, usize) = (1024, 12);
/// How much of a clipped value's end is shown: bytes, lines.
const TAIL: (usize, usize) = (512, 8);

/// Where the whole of a clipped value can be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whole {
    /// Nowhere: it was not kept.
    Nowhere,
    /// In a file written for it, or a place that has it already (a feature
    /// file's line).
    At(String),
    /// Not kept, and why (`VALKEY_BDD_KEEP=never`).
    NotKept(String),
}

/// A sink for a value being written ([`fmt::Write`]) that keeps its head,
/// its tail and its size, and, once the value turns out too long to show,
/// writes it whole to the file [`Clip::spill_to`] names.
pub struct Clip {
    /// The value's start, up to [`MAX_BYTES`].
    start: String,
    /// The last bytes seen (at most twice the tail's size), once past the start.
    tail: String,
    bytes: usize,
    newlines: usize,
    spill: Option<Spill>,
}

enum Spill {
    /// Opened when the value turns out long.
    Later(Box<dyn FnOnce() -> std::io::Result<(std::fs::File, PathBuf)>>),
    Open(std::io::BufWriter<std::fs::File>, PathBuf),
    Failed(String),
}

impl Default for Clip {
    fn default() -> Self {
        Clip::new()
    }
}

impl Clip {
    /// An empty sink that keeps the whole value nowhere.
    pub fn new() -> Clip {
        Clip {
            start: String::new(),
            tail: String::new(),
            bytes: 0,
            newlines: 0,
            spill: None,
        }
    }

    /// Writes a value that turns out too long to show to the file `open`
    /// makes (called once, only then).
    pub fn spill_to(
        mut self,
        open: impl FnOnce() -> std::io::Result<(std::fs::File, PathBuf)> + 'static,
    ) -> Clip {
        self.spill = Some(Spill::Later(Box::new(open)));
        self
    }

    /// Whether what was written so far is too long to show whole.
    pub fn is_long(&self) -> bool {
        self.long()
    }

    fn long(&self) -> bool {
        self.bytes > MAX_BYTES || self.newlines >= MAX_LINES
    }

    /// Writes `s` to the file, opening it on first use.
    fn spill(&mut self, s: &str) {
        let spill = match self.spill.take() {
            None => return,
            Some(Spill::Later(open)) => match open() {
                Ok((file, path)) => Spill::Open(std::io::BufWriter::new(file), path),
                Err(e) => Spill::Failed(format!("no file for it: {e}")),
            },
            Some(other) => other,
        };
        self.spill = Some(match spill {
            Spill::Open(mut w, path) => match w.write_all(s.as_bytes()) {
                Ok(()) => Spill::Open(w, path),
                Err(e) => Spill::Failed(format!("writing {} failed: {e}", path.display())),
            },
            other => other,
        });
    }

    /// The value as shown: whole when short, else head, a line with its
    /// size and where the whole is (`whole`, unless this sink wrote it to a
    /// file itself), and tail.
    pub fn finish(self, whole: &Whole) -> String {
        let long = self.long();
        if !long {
            return self.start;
        }
        let where_ = match self.spill {
            Some(Spill::Open(mut w, path)) => match w.flush() {
                Ok(()) => Whole::At(path.display().to_string()),
                Err(e) => Whole::NotKept(format!("writing {} failed: {e}", path.display())),
            },
            Some(Spill::Failed(why)) => Whole::NotKept(why),
            _ => whole.clone(),
        };
        // A last line ended by a newline is not followed by another.
        let lines = self.newlines + usize::from(!self.tail.ends_with('\n'));
        let head = cut_head(&self.start);
        let tail_source = if self.bytes <= MAX_BYTES {
            &self.start[head.len()..]
        } else {
            &self.tail
        };
        let tail = cut_tail(tail_source);
        let hidden = self.bytes - head.len() - tail.len();
        let mut out = String::with_capacity(head.len() + tail.len() + 200);
        out.push_str(head);
        if !head.ends_with('\n') {
            out.push('\n');
        }
        let _ = write!(
            out,
            "[… {} bytes in {lines} line{}; {hidden} bytes not shown; {} …]",
            self.bytes,
            if lines == 1 { "" } else { "s" },
            match where_ {
                Whole::Nowhere => "the whole is not kept".to_string(),
                Whole::At(at) => format!("the whole is at {at}"),
                Whole::NotKept(why) => format!("the whole is not kept: {why}"),
            }
        );
        if !tail.is_empty() {
            out.push('\n');
            out.push_str(tail);
        }
        out
    }
}

impl fmt::Write for Clip {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let was_long = self.long();
        self.bytes += s.len();
        self.newlines += s.bytes().filter(|&b| b == b'\n').count();
        if self.long() && self.spill.is_some() {
            if !was_long {
                // Until now the start held the whole value.
                let start = self.start.clone();
                self.spill(&start);
            }
            self.spill(s);
        }
        if !was_long {
            let room = MAX_BYTES.saturating_sub(self.start.len());
            self.start.push_str(prefix(s, room));
        }
        self.tail.push_str(suffix(s, 2 * TAIL.0));
        if self.tail.len() > 2 * TAIL.0 {
            let cut = self.tail.len() - TAIL.0;
            let cut = (cut..self.tail.len())
                .find(|&i| self.tail.is_char_boundary(i))
                .unwrap_or(self.tail.len());
            self.tail.drain(..cut);
        }
        Ok(())
    }
}

/// `text` as shown (see the module's doc): whole, or clipped with `whole`
/// saying where the whole is.
pub fn clip<'a>(text: &'a str, whole: &Whole) -> Cow<'a, str> {
    if text.len() <= MAX_BYTES && text.bytes().filter(|&b| b == b'\n').count() < MAX_LINES {
        return Cow::Borrowed(text);
    }
    let mut c = Clip::new();
    let _ = c.write_str(text);
    Cow::Owned(c.finish(whole))
}

/// A value's rendering as shown, computed as it is written: at most a few
/// kilobytes in memory, whatever the value's size.
pub fn render(value: &dyn fmt::Display, sink: Clip, whole: &Whole) -> String {
    let mut sink = sink;
    let _ = write!(sink, "{value}");
    sink.finish(whole)
}

/// The longest start of `s` of at most `max` bytes, on a char boundary.
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The longest end of `s` of at most `max` bytes, on a char boundary.
fn suffix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// The head shown: at most [`HEAD`]'s bytes and lines.
fn cut_head(s: &str) -> &str {
    let s = prefix(s, HEAD.0);
    match s.match_indices('\n').nth(HEAD.1 - 1) {
        Some((i, _)) => &s[..=i],
        None => s,
    }
}

/// The tail shown: at most [`TAIL`]'s bytes and lines.
fn cut_tail(s: &str) -> &str {
    let s = suffix(s, TAIL.0);
    let s = s.strip_suffix('\n').unwrap_or(s);
    match s.rmatch_indices('\n').nth(TAIL.1 - 1) {
        Some((i, _)) => &s[i + 1..],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_shown_whole() {
        assert_eq!(clip("a\nb", &Whole::Nowhere), "a\nb");
        let exact = "y".repeat(MAX_BYTES);
        assert_eq!(clip(&exact, &Whole::Nowhere), exact);
    }

    #[test]
    fn many_lines_show_head_and_tail_lines() {
        let text: String = (1..=270).map(|i| format!("field_{i}:{i}\n")).collect();
        let shown = clip(&text, &Whole::At("/tmp/v.txt".into()));
        assert!(shown.starts_with("field_1:1\n"), "{shown}");
        assert!(shown.contains("field_12:12\n[…"), "{shown}");
        assert!(!shown.contains("field_13:13"), "{shown}");
        assert!(shown.contains("270 lines"), "{shown}");
        assert!(shown.contains("the whole is at /tmp/v.txt"), "{shown}");
        assert!(shown.ends_with("field_270:270"), "{shown}");
        assert!(!shown.contains("field_262:262\n"), "{shown}");
    }

    #[test]
    fn a_long_value_written_in_pieces_is_spilled_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("value.txt");
        let at = path.clone();
        let mut sink = Clip::new().spill_to(move || Ok((std::fs::File::create(&at)?, at)));
        let mut whole = String::new();
        for i in 0..10_000 {
            let piece = format!("é{i} ");
            whole.push_str(&piece);
            sink.write_str(&piece).unwrap();
        }
        let shown = sink.finish(&Whole::Nowhere);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), whole);
        assert!(
            shown.contains(&format!("the whole is at {}", path.display())),
            "{shown}"
        );
        assert!(shown.starts_with("é0 é1 "), "{shown}");
        assert!(shown.ends_with("é9999 "), "{shown}");
        assert!(shown.len() < 2_000, "{}", shown.len());
    }

    #[test]
    fn a_short_value_opens_no_file() {
        let sink = Clip::new().spill_to(|| panic!("no file for a short value"));
        assert_eq!(render(&"PONG", sink, &Whole::Nowhere), "PONG");
    }
}
