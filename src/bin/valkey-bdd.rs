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
    /// (`*.steps` beside and above them, `--steps`, VALKEY_BDD_STEPS), then
    /// every built-in sentence.
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
    /// had run them all; a scenario found in two reports is refused.
    Merge {
        /// Where to write the joined report.
        #[arg(long, short)]
        output: PathBuf,
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
        Command::Steps { paths, steps } => list_steps(paths, steps),
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
            command: ReportCommand::Merge { output, reports },
        } => merge(&output, &reports),
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

fn list_steps(paths: Vec<PathBuf>, steps: Vec<PathBuf>) -> valkey_bdd::Result<()> {
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

fn merge(output: &std::path::Path, reports: &[PathBuf]) -> valkey_bdd::Result<()> {
    use valkey_bdd::runner::junit;
    let read = reports
        .iter()
        .map(|p| junit::read(p))
        .collect::<valkey_bdd::Result<Vec<_>>>()?;
    let merged = junit::merge(read)?;
    junit::write(output, &merged)?;
    eprintln!(
        "valkey-bdd: {} scenarios from {} reports ({} failed, {} skipped) written to {}",
        merged.tests,
        reports.len(),
        merged.failures,
        merged.test_suites.iter().map(|s| s.skipped).sum::<usize>(),
        output.display()
    );
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
