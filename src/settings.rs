//! The environment switches of the harness, read in one place.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `VALKEY_SERVER_PATH` | the server binary to use | search (see [`crate::binary`]) |
//! | `SERVER_VERSION` | use that built version (`.build/binaries/<version>/` of the crate or workspace, or the user cache), built when missing | unset |
//! | `VALKEY_BDD_KEEP` | keep scenario directories: `failed`, `always`, `never` | `failed` |
//! | `VALKEY_BDD_CONCURRENCY` | scenarios run at once | 8 × CPUs, at least 16, at most 64 |
//! | `VALKEY_BDD_START_TIMEOUT` | seconds a server may take to become ready | 10 (60 under `VALKEY_BDD_WRAPPER`) |
//! | `VALKEY_BDD_COMMAND_TIMEOUT` | seconds a command may take to answer | 10 |
//! | `VALKEY_BDD_WAIT_TIMEOUT` | seconds a wait for a state may take (replicas caught up, ...) | 10 |
//! | `VALKEY_BDD_SERVO_TIMEOUT` | seconds a servo may take to answer a step ([`crate::servo`]) | 30 |
//! | `VALKEY_BDD_CLUSTER_POOL` | cluster nodes started ahead of need (0: none) | what the features' clusters use, up to 32 |
//! | `VALKEY_BDD_REUSE` | `0`: start every server fresh instead of reusing default-configuration servers of passed scenarios ([`crate::reuse`]) | `1` |
//! | `VALKEY_BDD_OTHER_SERVER_PATH` | a second binary, for scenarios mixing versions | the other engine on `PATH` |
//! | `VALKEY_BDD_JUNIT` | write a JUnit XML report to this path | unset |
//! | `VALKEY_BDD_JSON` | write a Cucumber JSON report to this path | unset |
//! | `VALKEY_BDD_REPORT` | write an HTML report of the run to this path | unset |
//! | `VALKEY_BDD_DURATIONS` | the file recording each scenario's last duration, so that the longest start first; `off` or `0`: none | `valkey-bdd-durations.tsv` in the cargo target directory, if the run is in one |
//! | `VALKEY_BDD_SLOW_NOTICE` | seconds after which a still-running scenario is named on stderr (off a terminal) | 5 |
//! | `VALKEY_BDD_PORT_BASE` | first port of the port block | 16000 |
//! | `VALKEY_BDD_TMPDIR` | where scenario directories are made | `/dev/shm` with 1 GiB free, else the system temp dir |
//! | `VALKEY_BDD_WRAPPER` | `valgrind`: run every server under valgrind's memcheck; a leak or memory error fails the scenario | unset |
//! | `VALKEY_BDD_EXTERNAL` | run against a server the harness did not start: `redis://host:port`, `rediss://…`, `cluster:redis://host:port` ([`crate::external`]) | unset |
//! | `VALKEY_BDD_EXTERNAL_FLUSH` | `1`: the harness may `FLUSHALL` the external server (at the start, before every scenario and at the end) | unset: a non-empty one is refused |
//! | `VALKEY_BDD_STEPS` | more step libraries: `*.steps` files or folders, `:`-separated | unset |
//! | `VALKEY_BDD_STRICT` | `1`: a scenario whose tags the server cannot meet (`@requires:tls`, ...) fails the run instead of being skipped | unset |
//! | `VALKEY_BDD_NO_TESTS` | what a run that selects no scenario does: `fail` (exit status 4), `warn` or `pass` | `fail` |
//! | `VALKEY_BDD_ROLES` | the one implementation of a role that runs: `producer=python,consumer=node` ([`crate::runner::combinations`]) | unset: every implementation |
//! | `VALKEY_BDD_COMBINATIONS` | which combinations of the roles' implementations run: `all`, `each` (every implementation at least once) or `one` | `all` |

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// What to do with a scenario's directory (server data and logs) at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepPolicy {
    /// Keep the directories of failed scenarios only.
    Failed,
    /// Keep every directory.
    Always,
    /// Remove every directory.
    Never,
}

impl KeepPolicy {
    /// Reads `VALKEY_BDD_KEEP`.
    pub fn from_env() -> Result<KeepPolicy> {
        match std::env::var("VALKEY_BDD_KEEP").as_deref() {
            Err(_) | Ok("") | Ok("failed") => Ok(KeepPolicy::Failed),
            Ok("always") => Ok(KeepPolicy::Always),
            Ok("never") => Ok(KeepPolicy::Never),
            Ok(other) => Err(Error::Config {
                what: format!("VALKEY_BDD_KEEP={other:?} is not a keep policy"),
                hint: "use failed (the default), always or never".into(),
            }),
        }
    }

    /// The policy's name, as `VALKEY_BDD_KEEP` spells it.
    pub fn name(self) -> &'static str {
        match self {
            KeepPolicy::Failed => "failed",
            KeepPolicy::Always => "always",
            KeepPolicy::Never => "never",
        }
    }

    /// Whether a directory is kept, given whether its scenario failed.
    pub fn keeps(self, failed: bool) -> bool {
        match self {
            KeepPolicy::Failed => failed,
            KeepPolicy::Always => true,
            KeepPolicy::Never => false,
        }
    }
}

fn run_keep() -> &'static std::sync::Mutex<Option<KeepPolicy>> {
    static KEEP: std::sync::OnceLock<std::sync::Mutex<Option<KeepPolicy>>> =
        std::sync::OnceLock::new();
    KEEP.get_or_init(Default::default)
}

/// Sets the keep policy of the run under way (`--keep`, [`crate::Runner::keep`]);
/// `None`: `VALKEY_BDD_KEEP` again.
pub fn set_run_keep_policy(policy: Option<KeepPolicy>) {
    *run_keep().lock().unwrap_or_else(|p| p.into_inner()) = policy;
}

/// The keep policy for directories no scenario owns (a server that failed
/// to start in a directory of its own): the run's, else `VALKEY_BDD_KEEP`.
pub fn keep_policy() -> Result<KeepPolicy> {
    match *run_keep().lock().unwrap_or_else(|p| p.into_inner()) {
        Some(policy) => Ok(policy),
        None => KeepPolicy::from_env(),
    }
}

fn seconds(var: &str, default: u64) -> Result<Duration> {
    match std::env::var(var) {
        Err(_) => Ok(Duration::from_secs(default)),
        Ok(v) => v
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| Error::Config {
                what: format!("{var}={v:?} is not a number of seconds"),
                hint: format!("use a positive number such as {default}"),
            }),
    }
}

/// How long a server may take from spawn to ready: 10 s, or 60 s when a
/// memory checker wraps every server (valgrind starts one 20–50× slower,
/// and more on a busy machine).
pub fn start_timeout() -> Result<Duration> {
    let default = if matches!(wrapper(), Ok(Some(_))) {
        60
    } else {
        10
    };
    seconds("VALKEY_BDD_START_TIMEOUT", default)
}

/// How long a command may take to answer.
pub fn command_timeout() -> Result<Duration> {
    seconds("VALKEY_BDD_COMMAND_TIMEOUT", 10)
}

/// How long a wait for a state (replicas caught up, a value replicated) may
/// take.
pub fn wait_timeout() -> Result<Duration> {
    seconds("VALKEY_BDD_WAIT_TIMEOUT", 10)
}

/// How long a servo may take to answer a step (`VALKEY_BDD_SERVO_TIMEOUT`,
/// default 30 s).
pub fn servo_timeout() -> Result<Duration> {
    seconds("VALKEY_BDD_SERVO_TIMEOUT", 30)
}

/// The second server binary, for scenarios mixing versions:
/// `VALKEY_BDD_OTHER_SERVER_PATH`, else the other engine on `PATH`
/// (`redis-server` when the main binary is a `valkey-server`, and back).
pub fn other_server_path() -> Option<PathBuf> {
    std::env::var_os("VALKEY_BDD_OTHER_SERVER_PATH")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// How many cluster nodes to keep started ahead of need
/// (`VALKEY_BDD_CLUSTER_POOL`; 0 turns the pool off). `None`: as many as the
/// features' clusters use, up to 32.
pub fn cluster_pool() -> Result<Option<usize>> {
    match std::env::var("VALKEY_BDD_CLUSTER_POOL") {
        Err(_) => Ok(None),
        Ok(v) => v.parse::<usize>().map(Some).map_err(|_| Error::Config {
            what: format!("VALKEY_BDD_CLUSTER_POOL={v:?} is not a number of nodes"),
            hint: "use a number such as 12, or 0 to start every cluster cold".into(),
        }),
    }
}

/// How many scenarios run at once: servers mostly wait (for a node timeout,
/// an election, a replica's sync), so several per CPU — bounded, so that a
/// large machine does not start hundreds of servers at the same moment.
pub fn concurrency() -> Result<usize> {
    match std::env::var("VALKEY_BDD_CONCURRENCY") {
        Ok(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| Error::Config {
                what: format!("VALKEY_BDD_CONCURRENCY={v:?} is not a positive number"),
                hint: "use a number such as 8".into(),
            }),
        Err(_) => {
            let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
            Ok((cpus * 8).clamp(16, 64))
        }
    }
}

/// Where scenario directories are made: `VALKEY_BDD_TMPDIR`, else a
/// memory-backed folder with room (`/dev/shm` on Linux: servers fsync their
/// AOF, RDB and cluster config, which on a disk costs milliseconds each),
/// else the system's temporary directory.
pub fn tmp_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("VALKEY_BDD_TMPDIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    static DEFAULT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DEFAULT
        .get_or_init(|| memory_backed().unwrap_or_else(std::env::temp_dir))
        .clone()
}

/// Where scenario directories go when `VALKEY_BDD_TMPDIR` is unset, as the
/// help and messages say it ([`tmp_root`]).
pub const TMP_DEFAULT: &str = "/dev/shm when it has 1 GiB free, else the system temp dir";

/// `/dev/shm` when it is a writable folder with at least 1 GiB free.
fn memory_backed() -> Option<PathBuf> {
    const ROOM: u64 = 1 << 30;
    let shm = PathBuf::from("/dev/shm");
    let stat = nix::sys::statvfs::statvfs(&shm).ok()?;
    let free = stat.blocks_available() * stat.fragment_size();
    (free >= ROOM && nix::unistd::access(&shm, nix::unistd::AccessFlags::W_OK).is_ok())
        .then_some(shm)
}

/// Where to write a JUnit report, if anywhere.
pub fn junit_path() -> Option<PathBuf> {
    std::env::var_os("VALKEY_BDD_JUNIT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Where to write a Cucumber JSON report, if anywhere.
pub fn json_path() -> Option<PathBuf> {
    std::env::var_os("VALKEY_BDD_JSON")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Where to write the HTML report of the run, if anywhere.
pub fn report_path() -> Option<PathBuf> {
    std::env::var_os("VALKEY_BDD_REPORT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Where each scenario's duration is recorded after a run, for the next run
/// to start the longest first ([`crate::runner`]'s durations): the file
/// `VALKEY_BDD_DURATIONS` names, none for `off`, else
/// `valkey-bdd-durations.tsv` in the cargo target directory the running
/// executable is in (none outside one).
pub fn durations_path() -> Result<Option<PathBuf>> {
    match std::env::var_os("VALKEY_BDD_DURATIONS").filter(|v| !v.is_empty()) {
        None => Ok(default_durations_path()),
        Some(v) if v == "off" || v == "0" => Ok(None),
        Some(v) => {
            let path = PathBuf::from(v);
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            if dir.is_dir() {
                Ok(Some(path))
            } else {
                Err(Error::Config {
                    what: format!(
                        "VALKEY_BDD_DURATIONS={}: the folder {} does not exist",
                        path.display(),
                        dir.display()
                    ),
                    hint: "name a file in an existing folder, or `off` to record no durations"
                        .into(),
                })
            }
        }
    }
}

/// The durations record's file name in the cargo target directory.
const DURATIONS_FILE_NAME: &str = "valkey-bdd-durations.tsv";

/// Where the durations record is kept by default: in the cargo target
/// directory of the running executable (the directory holding cargo's
/// `CACHEDIR.TAG` above it), if it is in one.
pub fn default_durations_path() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(4)
        .find(|d| d.join("CACHEDIR.TAG").is_file())
        .map(|d| d.join(DURATIONS_FILE_NAME))
}

/// After how long a scenario still running is named on stderr, when stderr
/// is not a terminal (a terminal shows the live progress line instead).
pub fn slow_notice() -> Result<Duration> {
    seconds("VALKEY_BDD_SLOW_NOTICE", 5)
}

/// More step libraries to read (`VALKEY_BDD_STEPS`, paths separated by `:`).
pub fn step_libraries() -> Vec<PathBuf> {
    std::env::var_os("VALKEY_BDD_STEPS")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether unmet capability tags fail the run (`VALKEY_BDD_STRICT=1`)
/// instead of skipping their scenarios.
pub fn strict() -> Result<bool> {
    match std::env::var("VALKEY_BDD_STRICT") {
        Err(_) => Ok(false),
        Ok(v) => match v.as_str() {
            "" | "0" | "no" | "false" => Ok(false),
            "1" | "yes" | "true" => Ok(true),
            _ => Err(Error::Config {
                what: format!("VALKEY_BDD_STRICT={v:?} is neither 1 nor 0"),
                hint: "use VALKEY_BDD_STRICT=1 to fail on unmet tags, or leave it unset".into(),
            }),
        },
    }
}

/// What a run that selects no scenario does (`--no-tests`,
/// `VALKEY_BDD_NO_TESTS`), as nextest's `--no-tests` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoTests {
    /// Stop with "no tests to run" and exit status 4 (the default): a
    /// misspelt filter or an empty folder checks nothing, and must not pass.
    Fail,
    /// Say so on stderr and pass.
    Warn,
    /// Pass.
    Pass,
}

impl NoTests {
    /// Reads `fail`, `warn` or `pass`; `from` names where the value came
    /// from in the error (`--no-tests`, `VALKEY_BDD_NO_TESTS`).
    pub fn parse(value: &str, from: &str) -> Result<NoTests> {
        match value {
            "" | "fail" => Ok(NoTests::Fail),
            "warn" => Ok(NoTests::Warn),
            "pass" => Ok(NoTests::Pass),
            other => Err(Error::Config {
                what: format!("{from}={other:?} is neither fail, warn nor pass"),
                hint: "use fail (the default: a run that selects nothing exits with status 4), warn or pass".into(),
            }),
        }
    }

    /// Reads `VALKEY_BDD_NO_TESTS`.
    pub fn from_env() -> Result<NoTests> {
        NoTests::parse(
            &std::env::var("VALKEY_BDD_NO_TESTS").unwrap_or_default(),
            "VALKEY_BDD_NO_TESTS",
        )
    }
}

/// Whether default-configuration servers of passed scenarios are reset and
/// handed to the next scenario (`VALKEY_BDD_REUSE`, on unless `0`).
pub fn reuse() -> Result<bool> {
    match std::env::var("VALKEY_BDD_REUSE") {
        Err(_) => Ok(true),
        Ok(v) => match v.as_str() {
            "" | "1" | "yes" | "true" => Ok(true),
            "0" | "no" | "false" => Ok(false),
            _ => Err(Error::Config {
                what: format!("VALKEY_BDD_REUSE={v:?} is neither 1 nor 0"),
                hint: "use VALKEY_BDD_REUSE=0 to start every server fresh, or leave it unset"
                    .into(),
            }),
        },
    }
}

/// A program every server runs under, to check its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapper {
    /// `valgrind --tool=memcheck`: memory errors and definite leaks.
    Valgrind,
}

/// Reads `VALKEY_BDD_WRAPPER`.
pub fn wrapper() -> Result<Option<Wrapper>> {
    match std::env::var("VALKEY_BDD_WRAPPER") {
        Err(_) => Ok(None),
        Ok(v) => match v.as_str() {
            "" => Ok(None),
            "valgrind" => Ok(Some(Wrapper::Valgrind)),
            _ => Err(Error::Config {
                what: format!("VALKEY_BDD_WRAPPER={v:?} is not a memory checker valkey-bdd knows"),
                hint: "use VALKEY_BDD_WRAPPER=valgrind, or a server built with a sanitizer (VALKEY_SERVER_PATH)".into(),
            }),
        },
    }
}

/// Modules named on `valkey-bdd run`'s command line (`--module PATH
/// --module-args "a b"`), for the length of a run: while set they are the
/// run's modules, in place of `VALKEY_BDD_MODULE`.
fn command_line_modules() -> &'static std::sync::Mutex<Option<Vec<RunModule>>> {
    static MODULES: std::sync::OnceLock<std::sync::Mutex<Option<Vec<RunModule>>>> =
        std::sync::OnceLock::new();
    MODULES.get_or_init(Default::default)
}

/// A module of the run: its shared library and its arguments.
type RunModule = (PathBuf, String);

/// Sets the run's modules as `--module` names them (`None`: the
/// environment's again). [`run_modules`] reads and checks them as it does
/// `VALKEY_BDD_MODULE`: the option is another spelling of that setting.
pub fn set_command_line_modules(modules: Option<Vec<(PathBuf, String)>>) {
    *command_line_modules()
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = modules;
}

/// The modules every server of the run loads — alone, in replica sets, in
/// clusters — each with its arguments: those of `--module` on the command
/// line when it names any, else `VALKEY_BDD_MODULE` (or `MODULE_PATH`, the
/// name the Python test framework uses) with `VALKEY_BDD_MODULE_ARGS`.
/// A relative path is taken from the working directory; a path with no file
/// there is an error naming the setting and the path tried. Empty when none
/// is named.
pub fn run_modules() -> Result<Vec<(PathBuf, String)>> {
    let named = command_line_modules()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if let Some(modules) = named {
        return modules
            .into_iter()
            .map(|(path, args)| {
                let file = module_file(&format!("--module {}", path.display()), &path)?;
                Ok((file, args.trim().to_string()))
            })
            .collect();
    }
    Ok(module_of_environment()?.into_iter().collect())
}

/// `VALKEY_BDD_MODULE` (or `MODULE_PATH`) with `VALKEY_BDD_MODULE_ARGS`.
fn module_of_environment() -> Result<Option<(PathBuf, String)>> {
    let named = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let (var, path) = match (named("VALKEY_BDD_MODULE"), named("MODULE_PATH")) {
        (Some(ours), Some(theirs))
            if ours != theirs && !same_file::is_same_file(&ours, &theirs).unwrap_or(false) =>
        {
            return Err(Error::Config {
                what: format!(
                    "VALKEY_BDD_MODULE={} and MODULE_PATH={} name different modules",
                    ours.display(),
                    theirs.display()
                ),
                hint: "set only one of them".into(),
            });
        }
        (Some(ours), _) => ("VALKEY_BDD_MODULE", ours),
        (None, Some(theirs)) => ("MODULE_PATH", theirs),
        (None, None) => {
            if let Ok(args) = std::env::var("VALKEY_BDD_MODULE_ARGS")
                && !args.is_empty()
            {
                return Err(Error::Config {
                    what: format!("VALKEY_BDD_MODULE_ARGS={args:?} is set, but no module is"),
                    hint: "name the module with VALKEY_BDD_MODULE=path/to/module.so".into(),
                });
            }
            return Ok(None);
        }
    };
    let file = module_file(&format!("{var}={}", path.display()), &path)?;
    let args = std::env::var("VALKEY_BDD_MODULE_ARGS").unwrap_or_default();
    Ok(Some((file, args.trim().to_string())))
}

/// The absolute path of a module file named by a setting (`label`: how the
/// user spelled it), or why there is no module there.
fn module_file(label: &str, path: &std::path::Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let cwd = std::env::current_dir().map_or_else(|_| "?".into(), |d| d.display().to_string());
    match std::fs::metadata(&absolute) {
        Ok(m) if m.is_file() => Ok(absolute),
        Ok(_) => Err(Error::Config {
            what: format!("{label}: {} is not a file", absolute.display()),
            hint: "name the module's shared library (.so)".into(),
        }),
        Err(e) => Err(Error::Config {
            what: format!("{label}: no module at {}: {e}", absolute.display()),
            hint: format!(
                "a relative path is taken from the working directory ({cwd}); build the module first"
            ),
        }),
    }
}

/// Every `VALKEY_BDD_*` variable the harness reads: name, meaning, default.
/// `--help` prints it; [`validate`] refuses a name that is not here.
pub const SETTINGS: &[(&str, &str, &str)] = &[
    (
        "VALKEY_SERVER_PATH",
        "the server binary to use",
        "search: SERVER_VERSION, then PATH",
    ),
    (
        "SERVER_VERSION",
        "use .build/binaries/<version>/valkey-server (built when missing)",
        "unset",
    ),
    (
        "VALKEY_BDD_KEEP",
        "keep scenario directories: failed, always, never",
        "failed",
    ),
    (
        "VALKEY_BDD_CONCURRENCY",
        "scenarios run at once (--concurrency wins)",
        "8 x CPUs, at least 16, at most 64",
    ),
    (
        "VALKEY_BDD_START_TIMEOUT",
        "seconds a server may take to become ready",
        "10",
    ),
    (
        "VALKEY_BDD_COMMAND_TIMEOUT",
        "seconds a command may take to answer",
        "10",
    ),
    (
        "VALKEY_BDD_WAIT_TIMEOUT",
        "seconds a wait for a state may take",
        "10",
    ),
    (
        "VALKEY_BDD_SERVO_TIMEOUT",
        "seconds a servo may take to answer a step",
        "30",
    ),
    (
        "VALKEY_BDD_CLUSTER_POOL",
        "cluster nodes started ahead of need (0: none)",
        "what the selected clusters use, up to 32",
    ),
    (
        "VALKEY_BDD_REUSE",
        "0: start every server fresh instead of reusing reset ones",
        "1",
    ),
    (
        "VALKEY_BDD_OTHER_SERVER_PATH",
        "a second binary, for @mixed-versions scenarios",
        "the other engine on PATH",
    ),
    (
        "VALKEY_BDD_MODULE",
        "a module every server loads (a path; relative to the working directory); `valkey-bdd run --module` wins over it",
        "unset",
    ),
    (
        "MODULE_PATH",
        "the same, as the Python test framework names it",
        "unset",
    ),
    (
        "VALKEY_BDD_MODULE_ARGS",
        "the arguments of that module",
        "none",
    ),
    (
        "VALKEY_BDD_JUNIT",
        "write a JUnit XML report to this path",
        "unset",
    ),
    (
        "VALKEY_BDD_JSON",
        "write a Cucumber JSON report to this path (--json)",
        "unset",
    ),
    (
        "VALKEY_BDD_REPORT",
        "write an HTML report of the run to this path (--report)",
        "unset",
    ),
    (
        "VALKEY_BDD_DURATIONS",
        "the file recording each scenario's last duration, so that the longest start first; off or 0: none",
        "valkey-bdd-durations.tsv in the cargo target directory",
    ),
    (
        "VALKEY_BDD_SLOW_NOTICE",
        "seconds after which a running scenario is named (off a terminal)",
        "5",
    ),
    (
        "VALKEY_BDD_PORT_BASE",
        "first port of the port block",
        "16000",
    ),
    (
        "VALKEY_BDD_TMPDIR",
        "where scenario directories are made (an existing folder)",
        TMP_DEFAULT,
    ),
    (
        "VALKEY_BDD_WRAPPER",
        "valgrind: run every server under memcheck",
        "unset",
    ),
    (
        "VALKEY_BDD_STEPS",
        "more step libraries (*.steps files or folders, :-separated)",
        "those beside and above the features",
    ),
    (
        "VALKEY_BDD_STRICT",
        "1: an unmet capability tag fails the run instead of skipping",
        "unset",
    ),
    (
        "VALKEY_BDD_NO_TESTS",
        "a run that selects no scenario: fail (exit status 4), warn or pass (--no-tests)",
        "fail",
    ),
    (
        "VALKEY_BDD_ROLES",
        "the one implementation of a role that runs, role=implementation,... (--role)",
        "unset: every implementation",
    ),
    (
        "VALKEY_BDD_COMBINATIONS",
        "which combinations of the roles' implementations run: all, each (every implementation at least once) or one (--combinations)",
        "all",
    ),
    (
        "VALKEY_BDD_EXTERNAL",
        "run against a server you started: redis://host:port, rediss://..., cluster:redis://host:port",
        "unset",
    ),
    (
        "VALKEY_BDD_EXTERNAL_FLUSH",
        "1: the harness may FLUSHALL the external server",
        "unset: a non-empty one is refused",
    ),
    (
        "VALKEY_BDD_MATRIX",
        "name=path,...: run the suite once per binary",
        "unset",
    ),
    (
        "VALKEY_BDD_LOG",
        "log filter for the harness's own diagnostics (tracing syntax)",
        "warn",
    ),
    (
        "VALKEY_BDD_GIT_URL",
        "the repository source builds clone",
        "valkey-io's",
    ),
    (
        "VALKEY_BDD_BLESS",
        "tests: rewrite STEPS.md instead of comparing it",
        "unset",
    ),
    (
        "VALKEY_BDD_BENCH_RUNS",
        "benchmarks: how many runs per figure",
        "per benchmark",
    ),
    (
        "VALKEY_BDD_BENCH_STEPS",
        "benchmarks: steps per scenario in `benches/steps.rs`",
        "2000",
    ),
    (
        "VALKEY_BDD_BENCH_TABLE",
        "benchmarks: the file `.ci/bench` collects each figure's table row in",
        "unset",
    ),
];

/// A setting read by the module that owns it, declared to [`validate`]
/// with `inventory::submit!`: the module that knows the value's meaning
/// checks it, and this module, at the bottom, imports none of them.
pub struct Check {
    /// The variable it reads, as [`SETTINGS`] names it (`VALKEY_BDD_PORT_BASE`).
    pub variable: &'static str,
    /// Reads it; `Err` ([`Error::Config`]) says what is wrong with it.
    pub check: fn() -> Result<()>,
}

inventory::collect!(Check);

/// Reads every setting once, so that a bad value stops the run before any
/// server starts, with every problem listed at once; a `VALKEY_BDD_*`
/// variable the harness does not know is warned about, with the closest name.
pub fn validate() -> Result<()> {
    let mut problems: Vec<String> = Vec::new();
    let mut check = |r: Result<()>| match r {
        Ok(()) => {}
        Err(Error::Config { what, hint }) => problems.push(format!("{what} ({hint})")),
        Err(e) => problems.push(e.to_string()),
    };
    check(KeepPolicy::from_env().map(drop));
    check(concurrency().map(drop));
    check(start_timeout().map(drop));
    check(command_timeout().map(drop));
    check(wait_timeout().map(drop));
    check(servo_timeout().map(drop));
    check(slow_notice().map(drop));
    check(durations_path().map(drop));
    check(cluster_pool().map(drop));
    check(strict().map(drop));
    check(NoTests::from_env().map(drop));
    check(reuse().map(drop));
    check(wrapper().map(drop));
    // The settings other modules own and declare ([`Check`]), in the order
    // of the table.
    let mut declared: Vec<&Check> = inventory::iter::<Check>.into_iter().collect();
    declared.sort_by_key(|c| SETTINGS.iter().position(|(name, _, _)| *name == c.variable));
    for declared in declared {
        check((declared.check)());
    }
    check(tmp_root_exists());
    check(run_modules().map(drop));
    check(log_filter());
    if let Some(p) = other_server_path() {
        check(executable("VALKEY_BDD_OTHER_SERVER_PATH", &p));
    }
    let known: Vec<&str> = SETTINGS.iter().map(|(n, _, _)| *n).collect();
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("VALKEY_BDD_") && !known.contains(&name) {
            let closest = known
                .iter()
                .max_by(|a, b| {
                    strsim::jaro_winkler(name, a).total_cmp(&strsim::jaro_winkler(name, b))
                })
                .copied()
                .unwrap_or("");
            // A warning, not an error: other tools may share the prefix.
            eprintln!(
                "valkey-bdd: warning: {name} is not a setting valkey-bdd knows; did you mean {closest}? (`cargo test --test cucumber -- --help` lists them all)"
            );
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Config {
        what: format!(
            "{} setting(s) cannot be used:\n  {}",
            problems.len(),
            problems.join("\n  ")
        ),
        hint: "fix or unset them; nothing was started".into(),
    })
}

fn tmp_root_exists() -> Result<()> {
    let Some(root) = std::env::var_os("VALKEY_BDD_TMPDIR").filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    let root = PathBuf::from(root);
    match std::fs::metadata(&root) {
        Ok(m) if m.is_dir() => tempfile::tempdir_in(&root)
            .map(drop)
            .map_err(|e| Error::Config {
                what: format!(
                    "VALKEY_BDD_TMPDIR={} cannot be written: {e}",
                    root.display()
                ),
                hint: "point it at a folder you can write to".into(),
            }),
        Ok(_) => Err(Error::Config {
            what: format!("VALKEY_BDD_TMPDIR={} is not a folder", root.display()),
            hint: "point it at an existing folder".into(),
        }),
        Err(e) => Err(Error::Config {
            what: format!("VALKEY_BDD_TMPDIR={} cannot be used: {e}", root.display()),
            hint: format!(
                "create the folder first, or unset VALKEY_BDD_TMPDIR to use {TMP_DEFAULT}"
            ),
        }),
    }
}

fn log_filter() -> Result<()> {
    match std::env::var("VALKEY_BDD_LOG") {
        Ok(v) if !v.is_empty() => tracing_subscriber::EnvFilter::try_new(&v)
            .map(drop)
            .map_err(|e| Error::Config {
                what: format!("VALKEY_BDD_LOG={v:?} is not a log filter: {e}"),
                hint: "use a level such as debug, or valkey_bdd=debug".into(),
            }),
        _ => Ok(()),
    }
}

fn executable(var: &str, path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(()),
        Ok(_) => Err(Error::Config {
            what: format!("{var}={} is not an executable file", path.display()),
            hint: "name a valkey-server or redis-server binary".into(),
        }),
        Err(e) => Err(Error::Config {
            what: format!("{var}={}: {e}", path.display()),
            hint: "name a valkey-server or redis-server binary".into(),
        }),
    }
}
