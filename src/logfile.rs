//! Reading a server's log: its tail, the crash report, a search.
//!
//! The server writes everything to one file: valkey's own log (its `logfile`
//! is left empty, meaning standard output) and anything printed before
//! logging starts, such as a fatal configuration error on standard error.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// How much of the end of a log is read for a tail: enough for a crash
/// report, small enough to stay cheap on a huge log.
const TAIL_BYTES: u64 = 256 * 1024;

/// The last `lines` lines of the log, or a note saying why there are none.
pub fn tail(path: &Path, lines: usize) -> String {
    match read_end(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            let start = all.len().saturating_sub(lines);
            all[start..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// The `BUG REPORT` section a crashing server writes, if the log holds one.
/// Valkey and Redis both frame it with `=== ... BUG REPORT START` and
/// `... BUG REPORT END`; the stack trace and registers come before it and are
/// included from the `crashed by signal` line on.
pub fn bug_report(path: &Path) -> Option<String> {
    let text = read_end(path).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().rposition(|l| l.contains("BUG REPORT START"))?;
    let from = lines[..start]
        .iter()
        .rposition(|l| l.contains("crashed by signal") || l.contains("ASSERTION FAILED"))
        .unwrap_or(start);
    let end = lines[start..]
        .iter()
        .position(|l| l.contains("BUG REPORT END"))
        .map_or(lines.len(), |p| start + p + 1);
    // A full report lists every client and module; the head and the frame
    // are what a reader needs in a test failure.
    let section = &lines[from..end];
    let shown: Vec<&str> = if section.len() > 60 {
        section[..50]
            .iter()
            .copied()
            .chain(std::iter::once("    [...]"))
            .chain(section[section.len() - 5..].iter().copied())
            .collect()
    } else {
        section.to_vec()
    };
    Some(shown.join("\n"))
}

/// The log's size in bytes now (0 when it cannot be read), to read what
/// comes after with [`since`].
pub fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// What the log gained after `offset` (at most the last [`TAIL_BYTES`]).
pub fn since(path: &Path, offset: u64) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let from = offset.max(len.saturating_sub(TAIL_BYTES));
    if from >= len || f.seek(SeekFrom::Start(from)).is_err() {
        return String::new();
    }
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The last `lines` lines of what the log gained after `offset`.
pub fn tail_since(path: &Path, offset: u64, lines: usize) -> String {
    let text = since(path, offset);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Whether the whole log contains `needle`.
pub fn contains(path: &Path, needle: &str) -> bool {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).contains(needle))
        .unwrap_or(false)
}

fn read_end(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity((len - start) as usize);
    f.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    // Drop a partial first line when we started mid-file.
    Ok(if start > 0 {
        text.split_once('\n')
            .map_or(text.clone(), |(_, rest)| rest.to_string())
    } else {
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_bug_report() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        std::fs::write(
            &log,
            "1:M ready\n\n=== VALKEY BUG REPORT START: Cut & paste starting from here ===\n\
             1:M crashed by signal: 11, si_code: 0\n------ STACK TRACE ------\nframe\n\
             === VALKEY BUG REPORT END. Make sure to include from START to END. ===\nafter\n",
        )
        .unwrap();
        let report = bug_report(&log).unwrap();
        assert!(report.starts_with("=== VALKEY BUG REPORT START"));
        assert!(report.contains("crashed by signal: 11"));
        assert!(report.ends_with("END. Make sure to include from START to END. ==="));
        assert_eq!(tail(&log, 1), "after");
        assert!(bug_report(&dir.path().join("missing")).is_none());
    }
}
