//! The command line of a run: libtest's arguments (`cargo test -- --nocapture`,
//! `cargo test <filter>`), the selection options the gate applies itself
//! (`--name`, `--tags`, `-i`), and what is left for cucumber's own options.

use super::select::Criteria;
use crate::error::{Error, Result};

/// The command line, cleaned of what `cargo test` passes for libtest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibtestArgs {
    /// What is left for cucumber.
    pub args: Vec<String>,
    /// `--list` was asked for.
    pub list: bool,
    /// libtest-style name filters (`cargo test persistence`): a scenario runs
    /// when one of them occurs, ignoring case, in its name, its feature's
    /// name or its feature file's path.
    pub filters: Vec<String>,
    /// `-n`/`--name`: a regular expression on scenario names.
    pub name: Option<String>,
    /// `-t`/`--tags`: a tag expression.
    pub tags: Option<String>,
    /// `-i`/`--input`: globs of feature files (also left for cucumber, which
    /// reads the same files).
    pub inputs: Vec<String>,
    /// `-h`/`--help` was asked for.
    pub help: bool,
    /// `--exact`: the filters are whole test names (as nextest runs one
    /// test), not parts of names.
    pub exact: bool,
    /// `--ignored`: only ignored tests (there are none).
    pub ignored: bool,
    /// `--shard i/n` (or `auto`, `auto/n`).
    pub shard: Option<String>,
    /// `--shard-timings REPORT`: an earlier run's JUnit report, whose
    /// durations pack the shards.
    pub shard_timings: Option<String>,
    /// `--report PATH`: write the run's HTML report there (as
    /// `VALKEY_BDD_REPORT` does).
    pub report: Option<String>,
    /// `--json PATH`: write the run's Cucumber JSON there (as
    /// `VALKEY_BDD_JSON` does).
    pub json: Option<String>,
    /// `--filter TEXT`: a name filter given by flag (`valkey-bdd run` takes
    /// its positional arguments as paths, so its filters come this way).
    pub named_filters: Vec<String>,
    /// `--keep failed|always|never` (wins over `VALKEY_BDD_KEEP`).
    pub keep: Option<String>,
    /// `--junit PATH` (wins over `VALKEY_BDD_JUNIT`).
    pub junit: Option<String>,
    /// `--strict`: unmet capability tags fail the run (as `VALKEY_BDD_STRICT=1`).
    pub strict: bool,
    /// `--matrix name=path,...` (wins over `VALKEY_BDD_MATRIX`).
    pub matrix: Option<String>,
    /// `--module PATH [--module-args "a b"]`: loaded into every server the
    /// scenarios start, with the arguments that follow it.
    pub modules: Vec<(String, String)>,
    /// `--steps PATH`: more step libraries (files or folders of `*.steps`).
    pub steps: Vec<String>,
    /// `--no-tests fail|warn|pass` (wins over `VALKEY_BDD_NO_TESTS`).
    pub no_tests: Option<String>,
    /// `--role role=implementation` (repeatable; wins over
    /// `VALKEY_BDD_ROLES`): the one implementation of a role that runs.
    pub roles: Vec<String>,
    /// `--combinations all|each|one` (wins over `VALKEY_BDD_COMBINATIONS`).
    pub combinations: Option<String>,
}

impl LibtestArgs {
    /// The filters that match within test names: positional filters and
    /// `--name`-style ones, or only the latter under `--exact` (where the
    /// positional ones are whole names).
    pub(crate) fn name_filters(&self) -> Vec<String> {
        if self.exact {
            self.named_filters.clone()
        } else {
            self.filters
                .iter()
                .chain(&self.named_filters)
                .cloned()
                .collect()
        }
    }

    /// The selection the gate applies: filters, `--name`, `--tags`, `-i`.
    pub fn criteria(&self) -> Result<Criteria> {
        let name = match &self.name {
            None => None,
            Some(re) => Some(regex::Regex::new(re).map_err(|e| Error::Config {
                what: format!("--name {re:?} is not a regular expression: {e}"),
                hint: "--name takes a regular expression matched against scenario names".into(),
            })?),
        };
        let tags = match &self.tags {
            None => None,
            Some(expr) => Some(Criteria::parse_tags(expr)?),
        };
        let shard = match &self.shard {
            None => None,
            Some(spec) => {
                let mut shard = super::shard::Shard::parse(spec)?;
                if let Some(report) = &self.shard_timings {
                    let report = super::junit::read(std::path::Path::new(report))?;
                    shard.timings = super::junit::timings(&report);
                }
                Some(shard)
            }
        };
        if let Some((_, margs)) = self.modules.iter().find(|(p, _)| p.is_empty()) {
            return Err(Error::Config {
                what: format!("--module-args {margs:?} follows no --module (or a --module that has its arguments already), or --module names no file"),
                hint: "write --module ./path/to/module.so, then --module-args \"a b\" for its arguments".into(),
            });
        }
        Ok(Criteria {
            filters: self.name_filters(),
            exact: if self.exact {
                self.filters.clone()
            } else {
                Vec::new()
            },
            name,
            tags,
            inputs: self.inputs.clone(),
            shard,
            choice: super::combinations::Choice::new(&self.roles, self.combinations.as_deref())?,
        })
    }
}

impl From<Vec<String>> for LibtestArgs {
    /// Drops libtest's flags (`--nocapture`, `--test-threads=2`, ...) and
    /// sets libtest's name filters (`cargo test persistence`) apart.
    fn from(raw: Vec<String>) -> Self {
        const LIBTEST_FLAGS: &[&str] = &[
            "--nocapture",
            "--no-capture",
            "--show-output",
            "--quiet",
            "-q",
            "--include-ignored",
            "--test",
            "--bench",
            "--report-time",
            "--ensure-time",
            "--shuffle",
            "--force-run-in-process",
        ];
        const LIBTEST_VALUED: &[&str] = &[
            "--test-threads",
            "--format",
            "--skip",
            "--logfile",
            "--shuffle-seed",
            "-Z",
        ];
        const CUCUMBER_VALUED: &[&str] = &[
            "-c",
            "--concurrency",
            "--retry",
            "--retry-after",
            "--retry-tag-filter",
            "--color",
            "--junit-v",
        ];
        let mut it = raw.into_iter();
        let mut args: Vec<String> = it.next().into_iter().collect();
        let mut filters = Vec::new();
        let mut list = false;
        let (mut name, mut tags, mut inputs, mut help) = (None, None, Vec::new(), false);
        let (mut exact, mut ignored, mut shard, mut shard_timings) = (false, false, None, None);
        let (mut report, mut json) = (None, None);
        let (mut named_filters, mut keep, mut junit, mut strict) = (Vec::new(), None, None, false);
        let (mut matrix, mut modules, mut steps) =
            (None, Vec::<(String, String)>::new(), Vec::new());
        let mut no_tests = None;
        let (mut roles, mut combinations) = (Vec::new(), None);
        while let Some(a) = it.next() {
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) if f.starts_with('-') => (f.to_string(), Some(v.to_string())),
                _ => (a.clone(), None),
            };
            let mut value =
                |inline: Option<String>| inline.or_else(|| it.next()).unwrap_or_default();
            if a == "--" || LIBTEST_FLAGS.contains(&a.as_str()) {
                continue;
            } else if a == "--list" {
                list = true;
            } else if a == "-h" || a == "--help" {
                help = true;
            } else if a == "--exact" {
                exact = true;
            } else if a == "--ignored" {
                ignored = true;
            } else if flag == "--shard" {
                shard = Some(value(inline));
            } else if flag == "--shard-timings" {
                shard_timings = Some(value(inline));
            } else if flag == "--report" {
                report = Some(value(inline));
            } else if flag == "--json" {
                json = Some(value(inline));
            } else if ["-n", "--name", "--scenario-name"].contains(&flag.as_str()) {
                name = Some(value(inline));
            } else if ["-t", "--tags", "--scenario-tags"].contains(&flag.as_str()) {
                tags = Some(value(inline));
            } else if ["-i", "--input"].contains(&flag.as_str()) {
                // The gate reads the files and hands them to cucumber.
                inputs.push(value(inline));
            } else if flag == "--filter" {
                named_filters.push(value(inline));
            } else if flag == "--keep" {
                keep = Some(value(inline));
            } else if flag == "--junit" {
                junit = Some(value(inline));
            } else if a == "--strict" {
                strict = true;
            } else if flag == "--matrix" {
                matrix = Some(value(inline));
            } else if flag == "--module" {
                modules.push((value(inline), String::new()));
            } else if flag == "--module-args" {
                let v = value(inline);
                match modules.last_mut() {
                    Some(m) if m.1.is_empty() => m.1 = v,
                    // Arguments before any module, or twice: kept so that
                    // criteria() can refuse them with the reason.
                    _ => modules.push((String::new(), v)),
                }
            } else if flag == "--steps" {
                steps.push(value(inline));
            } else if flag == "--no-tests" {
                no_tests = Some(value(inline));
            } else if flag == "--role" {
                roles.push(value(inline));
            } else if flag == "--combinations" {
                combinations = Some(value(inline));
            } else if LIBTEST_VALUED.contains(&flag.as_str()) {
                if !a.contains('=') {
                    it.next();
                }
            } else if CUCUMBER_VALUED.contains(&flag.as_str()) {
                let has_value = a.contains('=');
                args.push(a);
                if !has_value {
                    args.extend(it.next());
                }
            } else if a.starts_with('-') {
                args.push(a);
            } else {
                filters.push(a);
            }
        }
        LibtestArgs {
            args,
            list,
            filters,
            name,
            tags,
            inputs,
            help,
            exact,
            ignored,
            shard,
            shard_timings,
            report,
            json,
            named_filters,
            keep,
            junit,
            strict,
            matrix,
            modules,
            steps,
            no_tests,
            roles,
            combinations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(a: &[&str]) -> Vec<String> {
        LibtestArgs::from(a.iter().map(|s| s.to_string()).collect::<Vec<_>>()).args
    }

    #[test]
    fn libtest_arguments_are_dropped_or_translated() {
        assert_eq!(clean(&["t", "--nocapture"]), ["t"]);
        assert_eq!(clean(&["t", "--test-threads", "2", "--tags", "@x"]), ["t"]);
        let a = LibtestArgs::from(
            [
                "t",
                "--test-threads=2",
                "-t",
                "@x and not @y",
                "-n=^a",
                "-i",
                "f/*.feature",
            ]
            .map(String::from)
            .to_vec(),
        );
        assert_eq!(a.args, ["t"]);
        assert_eq!(a.tags.as_deref(), Some("@x and not @y"));
        assert_eq!(a.name.as_deref(), Some("^a"));
        assert_eq!(a.inputs, ["f/*.feature"]);
        let a = LibtestArgs::from(["t", "Persist", "--tags", "@x"].map(String::from).to_vec());
        assert_eq!(a.args, ["t"]);
        assert_eq!(a.filters, ["Persist"]);
        assert_eq!(
            clean(&["t", "-vv", "--concurrency", "3"]),
            ["t", "-vv", "--concurrency", "3"]
        );
        assert!(LibtestArgs::from(vec!["t".to_string(), "--list".into()]).list);
        let a = LibtestArgs::from(
            ["t", "--report", "r.html", "--json=r.json"]
                .map(String::from)
                .to_vec(),
        );
        assert_eq!(a.args, ["t"]);
        assert_eq!(a.report.as_deref(), Some("r.html"));
        assert_eq!(a.json.as_deref(), Some("r.json"));
    }

    #[test]
    fn run_options_are_read_and_modules_take_the_arguments_after_them() {
        let a = LibtestArgs::from(
            [
                "t",
                "--module",
                "./a.so",
                "--module-args",
                "x 1",
                "--module=b.so",
                "--keep",
                "always",
                "--junit=r.xml",
                "--strict",
                "--steps",
                "lib",
                "--filter",
                "bloom",
            ]
            .map(String::from)
            .to_vec(),
        );
        assert_eq!(
            a.modules,
            [
                ("./a.so".into(), "x 1".into()),
                ("b.so".into(), String::new())
            ]
        );
        assert_eq!(a.keep.as_deref(), Some("always"));
        assert_eq!(a.junit.as_deref(), Some("r.xml"));
        assert!(a.strict);
        assert_eq!(a.steps, ["lib"]);
        assert_eq!(a.criteria().unwrap().filters, ["bloom"]);
        assert_eq!(a.args, ["t"]);
        let orphan = LibtestArgs::from(["t", "--module-args", "x"].map(String::from).to_vec());
        let err = orphan.criteria().unwrap_err().to_string();
        assert!(err.contains("--module"), "{err}");
        let a = LibtestArgs::from(
            [
                "t",
                "--role",
                "producer=node",
                "--role=consumer=python",
                "--combinations",
                "each",
            ]
            .map(String::from)
            .to_vec(),
        );
        let choice = a.criteria().unwrap().choice;
        assert_eq!(choice.mode, super::super::combinations::Mode::Each);
        assert_eq!(choice.picks["producer"], "node");
        assert_eq!(choice.picks["consumer"], "python");
        assert_eq!(a.args, ["t"]);
        let a = LibtestArgs::from(["t", "--no-tests=warn"].map(String::from).to_vec());
        assert_eq!(
            (a.no_tests.as_deref(), a.args),
            (Some("warn"), vec!["t".into()])
        );
    }
}
