//! Longest first: how long each scenario took when it last ran, kept between
//! runs so that the next run starts the features with the longest scenarios
//! first. A suite's wall time is set by its longest scenarios (a cluster's
//! automatic failover waits out the node timeout); started last, they run
//! on alone after everything else has finished.
//!
//! The record is a small text file, one `seconds<TAB>test name` line per
//! scenario ([`Candidate::test_name`]). Under `cargo test` it lives in the
//! cargo target directory (`target/valkey-bdd-durations.tsv`);
//! `VALKEY_BDD_DURATIONS` names another file, or `off` keeps none. A
//! scenario never timed yet counts as the longest (its cost is unknown, so
//! it starts early); a missing or unreadable record leaves the files' own
//! order. The record is written whole, to a temporary file renamed over the
//! old one, so a killed run never leaves half of it.

use super::ScenarioResult;
use super::select::Candidate;
use cucumber::gherkin;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

/// Where the record is kept by default: in the cargo target directory of
/// the running executable, if it is in one (`VALKEY_BDD_DURATIONS`' default,
/// [`crate::settings::durations_path`]).
pub use crate::settings::default_durations_path as default_path;

/// The durations of an earlier run, by test name (sorted, so that the
/// record diffs well).
#[derive(Debug, Default, Clone)]
pub struct Durations {
    known: BTreeMap<String, Duration>,
}

impl Durations {
    /// Reads the record at `path`; a file that does not exist is an empty
    /// record, and so is one that cannot be read (with a warning: it only
    /// orders the run, it never decides a verdict).
    pub fn load(path: &Path) -> Durations {
        match std::fs::read_to_string(path) {
            Ok(text) => Durations::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Durations::default(),
            Err(e) => {
                eprintln!(
                    "valkey-bdd: warning: cannot read the scenario durations in {} ({e}); scenarios start in file order",
                    path.display()
                );
                Durations::default()
            }
        }
    }

    /// Reads the record's text; lines that do not parse are left out.
    pub fn parse(text: &str) -> Durations {
        let known = text
            .lines()
            .filter_map(|l| {
                let (secs, name) = l.split_once('\t')?;
                let secs: f64 = secs.parse().ok()?;
                Some((name.to_string(), Duration::try_from_secs_f64(secs).ok()?))
            })
            .collect();
        Durations { known }
    }

    /// The record's text, a line per test, by name.
    pub fn render(&self) -> String {
        self.known
            .iter()
            .map(|(name, d)| format!("{:.3}\t{name}\n", d.as_secs_f64()))
            .collect()
    }

    /// Puts `features` in the order to start them: the feature whose
    /// longest scenario (among those that will `run`, by test name) takes
    /// longest first, a feature with a scenario never timed before all
    /// timed ones, ties in the files' order.
    pub fn order<'a>(
        &self,
        features: &mut [gherkin::Feature],
        run: impl IntoIterator<Item = &'a Candidate>,
    ) {
        if self.known.is_empty() {
            return;
        }
        // Per feature, its longest scenario; `None` once one was never timed.
        let mut longest: HashMap<&Path, Option<Duration>> = HashMap::new();
        for c in run {
            let d = self.known.get(&c.test_name).copied();
            let entry = longest
                .entry(c.path.as_path())
                .or_insert(Some(Duration::ZERO));
            *entry = entry.zip(d).map(|(a, b)| a.max(b));
        }
        let cost = |f: &gherkin::Feature| {
            let path = f
                .path
                .as_ref()
                .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))?;
            longest.get(path.as_path()).copied().flatten()
        };
        // `None` sorts before every `Some`: the untimed start first, then
        // the longest.
        features.sort_by_cached_key(|f| cost(f).map(std::cmp::Reverse));
    }

    /// Takes this run's durations in: each scenario that ran replaces its
    /// old figure (a test of several scenarios counts the sum of theirs);
    /// the others keep theirs, so a run of part of the suite forgets
    /// nothing.
    pub fn update(&mut self, ran: &[ScenarioResult]) {
        let mut this_run: HashMap<&str, Duration> = HashMap::new();
        for r in ran {
            if let Some(d) = r.duration
                && !r.test_name.is_empty()
            {
                *this_run.entry(&r.test_name).or_default() += d;
            }
        }
        for (name, d) in this_run {
            self.known.insert(name.to_string(), d);
        }
    }

    /// Writes the record to `path`: whole, or not at all.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut file = tempfile::Builder::new()
            .prefix(".valkey-bdd-durations")
            .tempfile_in(dir)?;
        std::io::Write::write_all(&mut file, self.render().as_bytes())?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// After a run: merges its durations into the record at `path` (read again
/// just before, so that runs of other suites sharing the file keep theirs)
/// and writes it. A failure to write is a warning: the record only orders
/// runs.
pub fn record(path: &Path, ran: &[ScenarioResult]) {
    let mut durations = Durations::load(path);
    durations.update(ran);
    if let Err(e) = durations.save(path) {
        eprintln!(
            "valkey-bdd: warning: cannot write the scenario durations to {} ({e}); the next run starts scenarios in file order",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn feature(path: &str) -> gherkin::Feature {
        let text = "Feature: f\n  Scenario: s\n    Given a server\n";
        let mut f = gherkin::Feature::parse(text, gherkin::GherkinEnv::default()).unwrap();
        f.path = Some(PathBuf::from(path));
        f
    }

    fn candidate(path: &str, name: &str) -> Candidate {
        Candidate {
            path: PathBuf::from(path),
            line: 2,
            feature: "f".into(),
            scenario: name.into(),
            combination: String::new(),
            tags: Vec::new(),
            steps: Vec::new(),
            test_name: format!("{path}: {name}"),
            selected: true,
        }
    }

    fn paths(features: &[gherkin::Feature]) -> Vec<String> {
        features
            .iter()
            .map(|f| f.path.as_ref().unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn the_longest_feature_starts_first_and_an_untimed_one_before_it() {
        let d = Durations::parse("0.100\t/a: quick\n7.000\t/b: failover\n2.000\t/c: cluster\n");
        let mut features = vec![feature("/a"), feature("/b"), feature("/c"), feature("/d")];
        let candidates = [
            candidate("/a", "quick"),
            candidate("/b", "failover"),
            candidate("/b", "other"),
            candidate("/c", "cluster"),
            candidate("/d", "new"),
        ];
        // /b has a scenario never timed ("other"), so it counts as unknown
        // too; /d is wholly new. Both start first, in file order.
        d.order(&mut features, &candidates);
        assert_eq!(paths(&features), ["/b", "/d", "/c", "/a"]);
    }

    #[test]
    fn without_a_record_the_files_keep_their_order() {
        let mut features = vec![feature("/b"), feature("/a")];
        Durations::default().order(&mut features, &[candidate("/a", "x")]);
        assert_eq!(paths(&features), ["/b", "/a"]);
    }

    #[test]
    fn a_record_round_trips_and_bad_lines_are_left_out() {
        let d = Durations::parse("1.500\tx: one\nnot a line\nabc\ty: two\n0.250\tz: three\n");
        assert_eq!(d.render(), "1.500\tx: one\n0.250\tz: three\n");
    }

    #[test]
    fn saving_replaces_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.tsv");
        let d = Durations::parse("3.000\tx: one\n");
        d.save(&path).unwrap();
        assert_eq!(Durations::load(&path).render(), "3.000\tx: one\n");
        // Only the record is left in the directory: no temporary file.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
