//! Absolute feature paths as they are. cucumber's writers print a feature's
//! path by cutting off the project's folder, then every leading `/`: a
//! feature outside that folder, `/tmp/suite/x.feature`, comes out as
//! `tmp/suite/x.feature` ("Defined: tmp/…", the Cucumber JSON's `uri`), a
//! path that does not exist. [`Rooted`] puts the `/` back in what the
//! console writer prints, [`restore`] in a finished text.

use std::path::Path;

/// The paths among `paths` that cucumber prints cut, each as printed and
/// as it is: absolute paths outside the folder cucumber cuts off.
fn cut<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Vec<(String, String)> {
    // The folder cucumber's writers cut off, found as they find it.
    let project = std::env::var("CARGO_WORKSPACE_DIR")
        .or_else(|_| std::env::var("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        });
    let mut out: Vec<(String, String)> = paths
        .into_iter()
        .filter(|p| p.is_absolute())
        .map(|p| p.display().to_string())
        .filter(|p| project.is_empty() || !p.starts_with(&project))
        .map(|p| (p.trim_start_matches('/').to_string(), p))
        .filter(|(printed, _)| !printed.is_empty())
        .collect();
    // The longest first: one path may begin another.
    out.sort_by_key(|(printed, _)| std::cmp::Reverse(printed.len()));
    out.dedup();
    out
}

/// `text` with each path cucumber printed cut put back whole: where the cut
/// form starts a word (not inside a longer path or name).
fn put_back(text: &str, cut: &[(String, String)]) -> String {
    let mut text = text.to_string();
    for (printed, whole) in cut {
        if !text.contains(printed.as_str()) {
            continue;
        }
        let mut out = String::with_capacity(text.len() + 8);
        let mut last = 0;
        for (at, _) in text.match_indices(printed.as_str()) {
            let starts_word = text[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || "/._-~".contains(c)));
            if starts_word {
                out.push_str(&text[last..at]);
                out.push_str(whole);
                last = at + printed.len();
            }
        }
        out.push_str(&text[last..]);
        text = out;
    }
    text
}

/// `text` (a report cucumber wrote) with the absolute paths among `paths`
/// whole again.
pub fn restore<'a>(text: &str, paths: impl IntoIterator<Item = &'a Path>) -> String {
    put_back(text, &cut(paths))
}

/// A writer that puts back the leading `/` of the absolute feature paths
/// cucumber's console writer prints cut.
pub struct Rooted<W> {
    inner: W,
    cut: Vec<(String, String)>,
}

impl<W> Rooted<W> {
    /// Writes to `inner`, the paths of `features` whole.
    pub fn new(inner: W, features: &[cucumber::gherkin::Feature]) -> Self {
        Rooted {
            inner,
            cut: cut(features.iter().filter_map(|f| f.path.as_deref())),
        }
    }
}

impl<W: std::io::Write> std::io::Write for Rooted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // cucumber writes a line at a time; a line cut in two by the
        // formatter is written as it came.
        match std::str::from_utf8(buf) {
            Ok(text) if !self.cut.is_empty() => {
                self.inner.write_all(put_back(text, &self.cut).as_bytes())?;
                Ok(buf.len())
            }
            _ => self.inner.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
