//! `cargo test --test cucumber -- --help` and `valkey-bdd run --help`: what
//! the runner itself accepts, the settings it reads, and cucumber's output
//! options.

use clap::CommandFactory as _;

use crate::settings::SETTINGS;

/// The whole help text, as `cargo test --test cucumber -- --help` shows it.
pub fn render() -> String {
    text(
        "Usage: cargo test --test cucumber -- [OPTIONS] [FILTER]...
       valkey-bdd run [OPTIONS] [PATH]...     (PATH: feature files and folders; default: features)",
        "  [FILTER]...              run scenarios whose name, feature name or file path
                           contains one of these (ignoring case), as
                           `cargo test persistence` does",
    )
}

/// The whole help text, as `valkey-bdd run --help` shows it: its own usage
/// first.
pub fn render_run() -> String {
    text(
        "Usage: valkey-bdd run [OPTIONS] [PATH]...
       (in a crate's tests: cargo test --test cucumber -- [OPTIONS] [FILTER]...)",
        "  [PATH]...                read these feature files and folders (default:
                           features); --filter selects by name",
    )
}

/// The text under `usage`, whose positional arguments `positional` tells.
fn text(usage: &str, positional: &str) -> String {
    let concurrency = crate::settings::concurrency()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    let mut out = format!(
        "Runs the Gherkin features against real valkey-server processes.

{usage}

Selecting scenarios (all of them go through one gate that also applies
capability tags, the unknown-step check and the cluster pool's size):
{positional}
  -n, --name <regex>       run scenarios whose name matches the regex
  -t, --tags <expr>        run scenarios whose tags satisfy the expression, such
                           as '@tls and not @slow'; harness tags read
                           @requires:tls, @min-version:8.1, @engine:valkey
                           (@requires(tls) is accepted too)
  -i, --input <glob>       read these feature files instead of the runner's folder
      --shard <i/n>        run the i-th of n parts (by a hash of each test's name;
                           `auto` or `auto/n` read the CI's own variables)
      --shard-timings <report.xml>
                           pack the parts by an earlier run's JUnit durations
      --list --format terse
                           list the tests (one per scenario), as nextest asks
      --exact <name>       run the test of exactly this name
      --filter <text>      a name filter given as an option (`valkey-bdd run`
                           takes its positional arguments as feature paths)
      --strict             unmet capability tags fail the run [VALKEY_BDD_STRICT]
      --no-tests <fail|warn|pass>
                           a run that selects no scenario: fail (the default:
                           \"no tests to run\", exit status 4), warn or pass
                           [VALKEY_BDD_NO_TESTS]; an empty shard of a non-empty
                           selection passes, and --list lists what there is
      --role <role=implementation>
                           run only this implementation of a role (repeatable)
                           [VALKEY_BDD_ROLES]
      --combinations <all|each|one>
                           a scenario naming roles with several implementations
                           runs once per combination of them (all, the default),
                           as few times as run each implementation (each), or
                           once, each role's first implementation (one)
                           [VALKEY_BDD_COMBINATIONS]

Running:
      --module <path.so> [--module-args \"a b\"]
                           load this module into every server the scenarios start
      --steps <path>       also read this step library (*.steps file or folder)
                           [VALKEY_BDD_STEPS; libraries beside and above the
                           features are always read]
      --keep <policy>      failed, always or never [VALKEY_BDD_KEEP]
      --junit <path>       also write a JUnit report [VALKEY_BDD_JUNIT]
      --matrix <name=path,...>
                           run once per server binary [VALKEY_BDD_MATRIX]
  -c, --concurrency <n>    scenarios run at once [default here: {concurrency},
                           VALKEY_BDD_CONCURRENCY]
      --fail-fast          stop after the first failed scenario
  -v, -vv                  print the world and doc strings of failed steps
      --color <when>       auto, always or never
      --retry <n> ...      cucumber's retry options (see below)
  -h, --help               this text

Reports (each written whole once the run is over, or not at all):
      --report <path.html> an HTML report of the run [VALKEY_BDD_REPORT]
      --json <path.json>   Cucumber JSON [VALKEY_BDD_JSON]
                           (JUnit XML: VALKEY_BDD_JUNIT)

Exit status: 0 every selected scenario passed or was skipped, 1 one failed,
2 the run could not start (bad settings or arguments, a feature file that
cannot be parsed, an unknown step), 4 no tests to run.

Settings (environment variables, checked before anything starts):
"
    );
    let width = SETTINGS.iter().map(|(n, _, _)| n.len()).max().unwrap_or(0);
    for (name, what, default) in SETTINGS {
        out.push_str(&format!("  {name:width$}  {what} [default: {default}]\n"));
    }
    let cucumber_help = cucumber::cli::Opts::<
        cucumber::cli::Empty,
        cucumber::runner::basic::Cli,
        cucumber::writer::basic::Cli,
        cucumber::cli::Empty,
    >::command()
    .render_help()
    .to_string();
    out.push_str("\ncucumber's own options, as the runner passes them on (its default\nconcurrency does not apply: the runner's above does):\n\n");
    out.push_str(&cucumber_help);
    out.push('\n');
    out
}
