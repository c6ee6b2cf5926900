//! `valkey-bdd`: run feature files with the whole vocabulary (no Rust
//! needed), build a server from source, show what a binary can do, or run
//! the features against several binaries at once.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use valkey_bdd::build::{Build, ENV_GIT_URL, Source};
use valkey_bdd::{Runner, ServerBinary};

/// Acceptance specs for Valkey: the command-line helper.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs feature files and folders (default: features) with the whole
    /// vocabulary and the step libraries beside them: the runner of
    /// `cargo test --test cucumber`, with the same options (`run --help`).
    /// Exits 0 when every scenario passed, 1 when one failed, 2 when the
    /// run could not start.
    #[command(disable_help_flag = true)]
    Run {
        /// Feature files and folders, then any option of `run --help`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Lists the sentences the step libraries for these features define
    /// (`*.steps` beside and above them, `--steps`, VALKEY_BDD_STEPS), the
    /// sentences the servos of their roles serve (`roles.toml`), then every
    /// built-in sentence.
    Steps {
        /// Feature files and folders (default: features).
        paths: Vec<PathBuf>,
        /// More step libraries (files or folders).
        #[arg(long)]
        steps: Vec<PathBuf>,
    },
    /// Builds valkey-server <version> with TLS into <dest>/<version>/, the
    /// layout SERVER_VERSION reads; does nothing when it is built already.
    /// The build's log is kept in ~/.cache/valkey-bdd/build-logs/.
    Build {
        /// The version, a tag of valkey-io's repository (8.1.1).
        version: String,
        /// A source tree or tarball instead of cloning (default: VALKEY_SOURCE).
        #[arg(long)]
        source: Option<PathBuf>,
        /// The repository to clone (default: VALKEY_BDD_GIT_URL, else valkey-io's).
        #[arg(long)]
        git_url: Option<String>,
        /// The root of the binaries (default: the user cache,
        /// ~/.cache/valkey-bdd/binaries, where SERVER_VERSION looks last).
        #[arg(long)]
        dest: Option<PathBuf>,
        /// make -j jobs (default: the number of CPUs).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Shows what binaries are and can do, as the tags see it.
    Capabilities {
        /// Binaries (default: every one the harness knows of).
        paths: Vec<PathBuf>,
    },
    /// Runs the features against several binaries and prints the table of
    /// scenario x server.
    Matrix {
        /// name=path pairs, comma-separated (default: VALKEY_BDD_MATRIX).
        #[arg(long)]
        servers: Option<String>,
        /// The features to run.
        #[arg(long, default_value = "features")]
        features: PathBuf,
    },
    /// Works on the JUnit reports of runs.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Joins the JUnit reports of a run's shards into one, as if one machine
    /// had run them all. Each report says which part of which selection it
    /// holds: a missing part, a part given twice, a report of another
    /// selection or a scenario found in two reports is refused (exit 2).
    Merge {
        /// Where to write the joined report.
        #[arg(long, short)]
        output: PathBuf,
        /// Also write an HTML report of the joined reports (scenarios,
        /// verdicts, durations and failures: JUnit keeps no steps).
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write the reports even when parts are missing, marked partial
        /// (in the JUnit report's name and properties, on the HTML report,
        /// on stderr). A repeated or mismatched part is still refused.
        #[arg(long)]
        allow_partial: bool,
        /// The shards' reports.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { args } => {
            let args = std::iter::once("valkey-bdd run".to_string()).chain(args);
            Runner::new("features")
                .paths_from_args()
                .args(args)
                .run_and_exit()
                .await
        }
        Command::Steps { paths, steps } => list_steps(paths, steps).await,
        Command::Build {
            version,
            source,
            git_url,
            dest,
            jobs,
        } => {
            let mut build = Build::new(&version);
            if let Some(dest) = dest {
                build.dest = dest;
            }
            if let Some(j) = jobs {
                build.jobs = j.max(1);
            }
            build.source = match (source, git_url) {
                (Some(p), _) => Source::local(p),
                (None, Some(url)) => Source::Git { url, tag: version },
                (None, None) => build.source,
            };
            build.run().await.map(|p| println!("{}", p.display()))
        }
        Command::Capabilities { paths } => capabilities(paths).await,
        Command::Report {
            command:
                ReportCommand::Merge {
                    output,
                    html,
                    allow_partial,
                    reports,
                },
        } => {
            if let Err(e) = merge(&output, html.as_deref(), allow_partial, &reports) {
                eprintln!("valkey-bdd: {e}");
                std::process::exit(2);
            }
            Ok(())
        }
        Command::Matrix { servers, features } => {
            let spec = servers
                .or_else(|| std::env::var(valkey_bdd::matrix::ENV_MATRIX).ok())
                .unwrap_or_default();
            match valkey_bdd::matrix::parse_columns(&spec) {
                Err(e) => Err(e),
                Ok(columns) => {
                    let base = Runner::new(features).args(["valkey-bdd"]);
                    match valkey_bdd::matrix::run(&base, &columns).await {
                        Ok(m) => {
                            println!("\n{}", m.render());
                            if m.failed() {
                                std::process::exit(1);
                            }
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
            }
        }
    };
    if let Err(e) = result {
        eprintln!("valkey-bdd: {e}");
        if matches!(e, valkey_bdd::Error::Build { .. }) {
            eprintln!("  ({ENV_GIT_URL} and --source choose where the source comes from)");
        }
        std::process::exit(1);
    }
}

async fn list_steps(paths: Vec<PathBuf>, steps: Vec<PathBuf>) -> valkey_bdd::Result<()> {
    use valkey_bdd::runner::library::{self, Library};
    let paths = if paths.is_empty() {
        vec![PathBuf::from("features")]
    } else {
        paths
    };
    let mut extra = steps;
    extra.extend(valkey_bdd::settings::step_libraries());
    let lib = Library::discover(&paths, &extra)?;
    let vocabulary = valkey_bdd::glossary::registered();
    lib.check(vocabulary)?;
    println!(
        "# Sentences of the step libraries
{}",
        library::render(&lib)
    );
    print!(
        "{}",
        valkey_bdd::runner::servos::render_roles(&paths).await?
    );
    println!(
        "
# Built-in sentences (STEPS.md explains each)
"
    );
    for s in vocabulary {
        println!(
            "- **{}** `` {} ``",
            s.keyword,
            valkey_bdd::glossary::sentence_of(&s.regex)
        );
    }
    Ok(())
}

fn merge(
    output: &std::path::Path,
    html: Option<&std::path::Path>,
    allow_partial: bool,
    reports: &[PathBuf],
) -> valkey_bdd::Result<()> {
    use valkey_bdd::runner::junit;
    let read = reports
        .iter()
        .map(|p| -> valkey_bdd::Result<_> { Ok((p.clone(), junit::read(p)?)) })
        .collect::<valkey_bdd::Result<Vec<_>>>()?;
    let merged = junit::merge(read, allow_partial)?;
    junit::write(output, &merged.report)?;
    let report = &merged.report;
    eprintln!(
        "valkey-bdd: {}{} scenarios from {} reports ({} failed, {} skipped) written to {}",
        if merged.partial.is_some() {
            "PARTIAL report: "
        } else {
            ""
        },
        report.tests,
        reports.len(),
        report.failures,
        report.test_suites.iter().map(|s| s.skipped).sum::<usize>(),
        output.display()
    );
    if let Some(why) = &merged.partial {
        eprintln!("valkey-bdd: partial: {why}");
    }
    if let Some(path) = html {
        let outcome = junit::outcome(report, merged.partial.clone());
        let page = valkey_bdd::runner::html::render(
            &outcome,
            &format!("(merged from {} reports)", reports.len()),
        )?;
        valkey_bdd::runner::report::write_whole(path, &page)?;
        eprintln!("valkey-bdd: HTML report written to {}", path.display());
    }
    Ok(())
}

async fn capabilities(paths: Vec<PathBuf>) -> valkey_bdd::Result<()> {
    let binaries = if paths.is_empty() {
        valkey_bdd::binary::known().await
    } else {
        let mut out = Vec::new();
        for p in paths {
            out.push(ServerBinary::resolve(Some(&p)).await?);
        }
        out
    };
    for b in binaries {
        println!(
            "{}\n  engine {}, version {}, TLS {}, DEBUG {}, tls-auth-clients-user {}",
            b.path.display(),
            b.engine,
            b.version_string(),
            yes(b.supports_tls().await),
            yes(b.supports_debug().await),
            yes(b.knows_directive("tls-auth-clients-user").await),
        );
    }
    Ok(())
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
