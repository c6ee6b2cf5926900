//! Where `valkey-server` comes from, and what it is.
//!
//! The search order is the one module authors know from RFC 17, plus the usual
//! fallbacks: an explicit path → `VALKEY_SERVER_PATH` →
//! `<root>/$SERVER_VERSION/valkey-server` for every root of built binaries
//! ([`binaries_dirs`]: the current directory's, the crate's and the cargo
//! workspace's `.build/binaries`, then the user cache) → `PATH`
//! (`valkey-server`, then `redis-server`). A `SERVER_VERSION` found in none
//! of the roots is built from source into the user cache. What a binary is
//! (engine and version) is probed once with `--version` and cached for the
//! whole process.

use std::collections::HashMap;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result, Searched};

pub mod build;

/// The environment variable naming a server binary explicitly.
pub const ENV_SERVER_PATH: &str = "VALKEY_SERVER_PATH";
/// The environment variable naming a version of the roots of built binaries.
pub const ENV_SERVER_VERSION: &str = "SERVER_VERSION";
/// Where the user's cache is (`$XDG_CACHE_HOME/valkey-bdd`), else `$HOME/.cache`.
pub const ENV_XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";

/// Which server implementation a binary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Engine {
    /// Valkey (`valkey-server`).
    Valkey,
    /// Redis OSS (`redis-server`), accepted as a second engine.
    Redis,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Valkey => "valkey",
            Engine::Redis => "redis",
        })
    }
}

/// A server binary that was found and probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerBinary {
    /// Absolute path of the executable.
    pub path: PathBuf,
    /// Which rule of the search found it (for the run's banner).
    pub found_by: String,
    /// Valkey or Redis.
    pub engine: Engine,
    /// The version it reports, as `(major, minor, patch)`.
    pub version: (u32, u32, u32),
}

impl ServerBinary {
    /// Finds the binary to use: `explicit` when given, else the search order
    /// described in the module documentation, then probes it (once per path).
    ///
    /// When `SERVER_VERSION` names a version built in none of the roots of
    /// [`binaries_dirs`] (and nothing earlier in the search order applies),
    /// it is built from source into the user cache first ([`crate::build`]);
    /// concurrent callers wait for that one build. A failed build says every
    /// place the version was looked for.
    pub async fn resolve(explicit: Option<&Path>) -> Result<Arc<ServerBinary>> {
        if let Some((version, looked)) = version_to_build(explicit) {
            let build = build::Build::new(version.clone());
            if build.progress {
                eprintln!(
                    "valkey-bdd: {ENV_SERVER_VERSION}={version} is built in none of:\n{}\nvalkey-bdd: building it into {}",
                    searched_lines(&looked),
                    build.dest.display()
                );
            }
            build
                .run()
                .await
                .map_err(|e| not_built(&version, &looked, &build.dest, e))?;
        }
        let (path, found_by) = locate(explicit)?;
        probe(&path, found_by).await
    }

    /// The version as `major.minor.patch`.
    pub fn version_string(&self) -> String {
        let (a, b, c) = self.version;
        format!("{a}.{b}.{c}")
    }
}

impl fmt::Display for ServerBinary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} {}, found by {})",
            self.path.display(),
            self.engine,
            self.version_string(),
            self.found_by
        )
    }
}

/// Two binaries of different versions, for scenarios mixing them: the main
/// one and the one of `VALKEY_BDD_OTHER_SERVER_PATH` (else the other engine
/// on `PATH`), ordered `(older, newer)`. `Err` says why there is no such pair.
pub async fn older_and_newer() -> std::result::Result<(Arc<ServerBinary>, Arc<ServerBinary>), String>
{
    let main = ServerBinary::resolve(None)
        .await
        .map_err(|e| e.to_string())?;
    let other_path = match crate::settings::other_server_path() {
        Some(p) => p,
        None => {
            let other = match main.engine {
                Engine::Valkey => "redis-server",
                Engine::Redis => "valkey-server",
            };
            let path_var = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path_var)
                .map(|d| d.join(other))
                .find(|p| check_executable(p).is_ok())
                .ok_or_else(|| {
                    format!(
                        "it needs a second server binary: set VALKEY_BDD_OTHER_SERVER_PATH, or put {other} on PATH"
                    )
                })?
        }
    };
    let other = probe(
        &absolute(&other_path),
        "VALKEY_BDD_OTHER_SERVER_PATH or PATH".into(),
    )
    .await
    .map_err(|e| e.to_string())?;
    match main.version.cmp(&other.version) {
        std::cmp::Ordering::Less => Ok((main, other)),
        std::cmp::Ordering::Greater => Ok((other, main)),
        std::cmp::Ordering::Equal => Err(format!(
            "its two server binaries ({} and {}) are the same version {}",
            main.path.display(),
            other.path.display(),
            main.version_string()
        )),
    }
}

/// Every binary the harness knows of: the main one, the second one
/// (`VALKEY_BDD_OTHER_SERVER_PATH` or the other engine on `PATH`), and every
/// `<version>/valkey-server` of the roots of [`binaries_dirs`].
pub async fn known() -> Vec<Arc<ServerBinary>> {
    let mut paths: Vec<(PathBuf, String)> = Vec::new();
    if let Ok(main) = locate(None) {
        paths.push(main);
    }
    if let Some(p) = crate::settings::other_server_path() {
        paths.push((absolute(&p), "VALKEY_BDD_OTHER_SERVER_PATH".into()));
    }
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    for name in ["valkey-server", "redis-server"] {
        if let Some(p) = std::env::split_paths(&path_var)
            .map(|d| d.join(name))
            .find(|p| check_executable(p).is_ok())
        {
            paths.push((p, "PATH".into()));
        }
    }
    for (label, root) in binaries_dirs() {
        let Ok(dirs) = std::fs::read_dir(&root) else {
            continue;
        };
        let mut built: Vec<PathBuf> = dirs
            .flatten()
            .map(|d| d.path().join("valkey-server"))
            .filter(|p| check_executable(p).is_ok())
            .collect();
        built.sort();
        paths.extend(built.into_iter().map(|p| (p, label.clone())));
    }
    let mut out: Vec<Arc<ServerBinary>> = Vec::new();
    for (path, found_by) in paths {
        if out.iter().any(|b| b.path == path) {
            continue;
        }
        if let Ok(b) = probe(&path, found_by).await {
            out.push(b);
        }
    }
    out
}

/// The first known binary that has atomic slot migration (Valkey 9.0 and
/// later), or why there is none.
pub async fn with_atomic_slot_migration() -> std::result::Result<Arc<ServerBinary>, String> {
    let known = known().await;
    known
        .iter()
        .find(|b| b.engine == Engine::Valkey && b.version >= (9, 0, 0))
        .cloned()
        .ok_or_else(|| {
            format!(
                "it needs a Valkey 9.0 or later binary (atomic slot migration); the known binaries are {}; \
                 `bash .ci/install-server` puts one in .build/binaries/",
                known
                    .iter()
                    .map(|b| format!("{} {}", b.engine, b.version_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// The `SERVER_VERSION` to build before the search, with every place it was
/// looked for, if the search would otherwise come to it and not find it.
fn version_to_build(explicit: Option<&Path>) -> Option<(String, Vec<Searched>)> {
    if explicit.is_some()
        || main_override()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
        || std::env::var_os(ENV_SERVER_PATH).is_some_and(|v| !v.is_empty())
    {
        return None;
    }
    let version = std::env::var(ENV_SERVER_VERSION)
        .ok()
        .filter(|v| !v.is_empty())?;
    match find_version(&version, |k| std::env::var_os(k)) {
        Ok(_) => None,
        Err(looked) => Some((version, looked)),
    }
}

/// The error of an automatic build that failed, with the places the version
/// was looked for before it was built.
fn not_built(version: &str, looked: &[Searched], dest: &Path, e: Error) -> Error {
    let places = format!(
        "  {ENV_SERVER_VERSION}={version} was looked for in:\n{}\n  and, found in none, built into {}",
        searched_lines(looked),
        dest.display()
    );
    let also = format!(
        "or put a valkey-server {version} in one of the places above, or set {ENV_SERVER_PATH}"
    );
    match e {
        Error::Build {
            version,
            what,
            tail,
            hint,
        } => Error::Build {
            version,
            what: format!("{what}\n{places}"),
            tail,
            hint: format!("{hint}; {also}"),
        },
        other => Error::Config {
            what: format!("{ENV_SERVER_VERSION}={version} cannot be built: {other}\n{places}"),
            hint: format!("build it with `valkey-bdd build {version}`, {also}"),
        },
    }
}

fn searched_lines(searched: &[Searched]) -> String {
    searched
        .iter()
        .map(|s| format!("    - {}: {} ({})", s.rule, s.path.display(), s.why))
        .collect::<Vec<_>>()
        .join("\n")
}

/// valkey-bdd's directory of the user's cache: `$XDG_CACHE_HOME/valkey-bdd`,
/// else `$HOME/.cache/valkey-bdd`; `None` when neither is set.
pub fn user_cache() -> Option<PathBuf> {
    user_cache_with(|k| std::env::var_os(k))
}

fn user_cache_with(env: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    set(ENV_XDG_CACHE_HOME)
        .filter(|p| p.is_absolute())
        .or_else(|| set("HOME").map(|h| h.join(".cache")))
        .map(|c| c.join("valkey-bdd"))
}

/// The roots of built binaries (`<root>/<version>/valkey-server`), in the
/// order `SERVER_VERSION` looks in them, each with what it is: the current
/// directory's `.build/binaries`, the crate's (`CARGO_MANIFEST_DIR`, set by
/// cargo), the cargo workspace's (the nearest directory above the crate
/// whose `Cargo.toml` has a `[workspace]` table), then the user cache's
/// `binaries` ([`user_cache`]), where automatic builds go.
pub fn binaries_dirs() -> Vec<(String, PathBuf)> {
    binaries_dirs_with(|k| std::env::var_os(k))
}

fn binaries_dirs_with(env: impl Fn(&str) -> Option<std::ffi::OsString>) -> Vec<(String, PathBuf)> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let krate = env("CARGO_MANIFEST_DIR")
        .filter(|v| !v.is_empty())
        .map(|d| absolute(Path::new(&d)));
    let workspace = workspace_root(krate.as_deref().unwrap_or(&cwd));
    let mut bases = vec![("the current directory".to_string(), cwd)];
    bases.extend(krate.map(|d| ("the crate (CARGO_MANIFEST_DIR)".to_string(), d)));
    bases.extend(workspace.map(|d| ("the cargo workspace".to_string(), d)));
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    for (label, base) in bases {
        let key = std::fs::canonicalize(&base).unwrap_or_else(|_| base.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        out.push((
            format!("{label}'s .build"),
            base.join(".build").join("binaries"),
        ));
    }
    if let Some(cache) = user_cache_with(env) {
        out.push(("the user cache".to_string(), cache.join("binaries")));
    }
    out
}

/// The nearest directory from `start` up whose `Cargo.toml` declares a
/// workspace (as cargo finds a member's workspace).
fn workspace_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        manifest
            .lines()
            .map(str::trim)
            .any(|l| l == "[workspace]" || l.starts_with("[workspace."))
            .then(|| dir.to_path_buf())
    })
}

/// `<root>/<version>/valkey-server` of the first root of
/// [`binaries_dirs`] that has it, with what the root is; else every place
/// looked at and why it did not qualify.
fn find_version(
    version: &str,
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> std::result::Result<(PathBuf, String), Vec<Searched>> {
    let rule = format!("{ENV_SERVER_VERSION}={version}");
    let mut looked = Vec::new();
    let has_cache = user_cache_with(&env).is_some();
    for (label, root) in binaries_dirs_with(&env) {
        let path = root.join(version).join("valkey-server");
        match check_executable(&path) {
            Ok(()) => return Ok((path, label)),
            Err(why) => looked.push(Searched {
                rule: format!("{rule} in {label}"),
                path,
                why,
            }),
        }
    }
    if !has_cache {
        looked.push(Searched {
            rule: format!("{rule} in the user cache"),
            path: PathBuf::from("~/.cache/valkey-bdd/binaries"),
            why: format!("neither {ENV_XDG_CACHE_HOME} nor HOME is set"),
        });
    }
    Err(looked)
}

/// The binary a run was told to use ([`crate::Runner::server_binary`], a
/// matrix column), ahead of the search order.
fn main_override() -> &'static std::sync::RwLock<Option<(PathBuf, String)>> {
    static OVERRIDE: OnceLock<std::sync::RwLock<Option<(PathBuf, String)>>> = OnceLock::new();
    OVERRIDE.get_or_init(Default::default)
}

/// Makes `path` the main binary of this process until it is set again
/// (`None`: back to the search order). `label` says who chose it.
pub fn set_main(path: Option<(PathBuf, String)>) {
    *main_override().write().unwrap_or_else(|p| p.into_inner()) =
        path.map(|(p, label)| (absolute(&p), label));
}

/// Applies the search order and returns the first usable path and the rule
/// that found it, or every place looked at.
pub fn locate(explicit: Option<&Path>) -> Result<(PathBuf, String)> {
    if explicit.is_none()
        && let Some((path, label)) = main_override()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    {
        return match check_executable(&path) {
            Ok(()) => Ok((path, label)),
            Err(why) => Err(Error::BinaryUnusable {
                path,
                why,
                hint: "give the path of a valkey-server (or redis-server) executable".into(),
            }),
        };
    }
    locate_with(explicit, |key| std::env::var_os(key))
}

/// [`locate`] with the environment given as a lookup function, so that the
/// search can be checked without touching the process environment.
pub fn locate_with(
    explicit: Option<&Path>,
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<(PathBuf, String)> {
    if let Some(path) = explicit {
        let path = absolute(path);
        return match check_executable(&path) {
            Ok(()) => Ok((path, "explicit path".into())),
            Err(why) => Err(Error::BinaryUnusable {
                path,
                why,
                hint: "give the path of a valkey-server (or redis-server) executable".into(),
            }),
        };
    }
    let mut searched = Vec::new();
    if let Some(p) = env(ENV_SERVER_PATH).filter(|p| !p.is_empty()) {
        let path = absolute(Path::new(&p));
        match check_executable(&path) {
            Ok(()) => return Ok((path, ENV_SERVER_PATH.into())),
            // A variable set on purpose that points nowhere is a mistake, not a
            // reason to quietly use another binary.
            Err(why) => {
                return Err(Error::BinaryUnusable {
                    path,
                    why,
                    hint: format!("fix or unset {ENV_SERVER_PATH}"),
                });
            }
        }
    } else {
        searched.push(Searched {
            rule: ENV_SERVER_PATH.into(),
            path: PathBuf::from("(unset)"),
            why: "not set".into(),
        });
    }
    if let Some(v) = env(ENV_SERVER_VERSION).filter(|v| !v.is_empty()) {
        let v = v.to_string_lossy().into_owned();
        match find_version(&v, &env) {
            Ok((path, label)) => return Ok((path, format!("{ENV_SERVER_VERSION}={v} in {label}"))),
            Err(looked) => searched.extend(looked),
        }
    } else {
        searched.push(Searched {
            rule: ENV_SERVER_VERSION.into(),
            path: PathBuf::from(".build/binaries/$SERVER_VERSION/valkey-server"),
            why: "SERVER_VERSION not set".into(),
        });
    }
    let path_var = env("PATH").unwrap_or_default();
    for name in ["valkey-server", "redis-server"] {
        let mut found = false;
        for dir in std::env::split_paths(&path_var) {
            let candidate = dir.join(name);
            if check_executable(&candidate).is_ok() {
                return Ok((candidate, "PATH".into()));
            }
            found |= candidate.exists();
        }
        searched.push(Searched {
            rule: "PATH".into(),
            path: PathBuf::from(name),
            why: if found {
                "present but not executable".into()
            } else {
                "not in any PATH directory".into()
            },
        });
    }
    Err(Error::BinaryNotFound { searched })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn check_executable(path: &Path) -> std::result::Result<(), String> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("does not exist".into()),
        Err(e) => Err(format!("cannot be read: {e}")),
        Ok(m) if !m.is_file() => Err("is not a file".into()),
        Ok(m) if m.permissions().mode() & 0o111 == 0 => Err(format!(
            "is not executable (mode {:o})",
            m.permissions().mode() & 0o777
        )),
        Ok(_) => Ok(()),
    }
}

type Cache = Mutex<HashMap<PathBuf, Arc<ServerBinary>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Runs `<path> --version` once per path and parses what it says.
async fn probe(path: &Path, found_by: String) -> Result<Arc<ServerBinary>> {
    if let Some(hit) = cache().lock().expect("binary cache poisoned").get(path) {
        return Ok(hit.clone());
    }
    let unusable = |why: String| {
        Error::BinaryUnusable {
        path: path.to_path_buf(),
        why,
        hint: "check that it runs: `<path> --version` must print \"Valkey server v=...\" or \"Redis server v=...\"".into(),
    }
    };
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::process::Command::new(path)
            .arg("--version")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| unusable("`--version` did not answer within 10s".into()))?
    .map_err(|e| unusable(format!("cannot run `--version`: {e}")))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (engine, version) = parse_version(&text).ok_or_else(|| {
        unusable(format!(
            "`--version` printed {:?}, which names neither Valkey nor Redis",
            text.trim()
        ))
    })?;
    let binary = Arc::new(ServerBinary {
        path: path.to_path_buf(),
        found_by,
        engine,
        version,
    });
    cache()
        .lock()
        .expect("binary cache poisoned")
        .insert(path.to_path_buf(), binary.clone());
    Ok(binary)
}

/// Capabilities found by running a binary, cached per binary and question.
type CapabilityCache = Mutex<HashMap<(PathBuf, String), bool>>;

fn capability_cache() -> &'static CapabilityCache {
    static CACHE: OnceLock<CapabilityCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

impl ServerBinary {
    /// Whether the binary was built with TLS. Asked once per binary: it is
    /// started on certificate files that do not exist, which a TLS build
    /// refuses ("Failed to load certificate") and a build without TLS
    /// cannot even try ("Failed finding TLS support").
    pub async fn supports_tls(&self) -> bool {
        let port = match crate::ports::lease() {
            Ok(l) => l,
            Err(_) => return false,
        };
        let missing = "/nonexistent/valkey-bdd-probe";
        let args = [
            "--port".to_string(),
            "0".into(),
            "--tls-port".into(),
            port.port().to_string(),
            "--tls-cert-file".into(),
            missing.into(),
            "--tls-key-file".into(),
            missing.into(),
            "--tls-ca-cert-file".into(),
            missing.into(),
        ];
        self.ask("tls", &args, |out| {
            out.contains("Failed to load certificate") || out.contains("Failed to configure TLS")
        })
        .await
    }

    /// Whether `DEBUG` is available to scenarios: servers older than 7.0
    /// always have it; newer ones when they know `enable-debug-command`,
    /// which the harness sets to `local`.
    pub async fn supports_debug(&self) -> bool {
        (self.engine == Engine::Redis && self.version < (7, 0, 0))
            || self.knows_directive("enable-debug-command").await
    }

    /// Whether the binary knows a configuration directive (such as
    /// `tls-auth-clients-user`). Asked once per binary and name, without
    /// starting a server: the directive is followed by one that no server
    /// knows, and the configuration error names the first unknown one.
    pub async fn knows_directive(&self, name: &str) -> bool {
        let sentinel = "valkey-bdd-no-such-directive";
        let args = [
            format!("--{name}"),
            // A value most directives take; a wrong one also stops at this
            // line, which counts as unknown, so pick names with care.
            directive_probe_value(name).to_string(),
            format!("--{sentinel}"),
            "yes".into(),
        ];
        self.ask(&format!("directive {name}"), &args, |out| {
            out.contains(sentinel)
        })
        .await
    }

    /// Runs the binary with `args` (at most 10 s) and caches `judge` of what
    /// it printed.
    async fn ask(&self, question: &str, args: &[String], judge: impl Fn(&str) -> bool) -> bool {
        let key = (self.path.clone(), question.to_string());
        if let Some(hit) = capability_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return *hit;
        }
        let out = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            tokio::process::Command::new(&self.path)
                .args(args)
                .current_dir(std::env::temp_dir())
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output(),
        )
        .await;
        let answer = match out {
            Ok(Ok(out)) => {
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                judge(&text)
            }
            _ => false,
        };
        tracing::debug!(binary = %self.path.display(), question, answer, "capability probed");
        capability_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, answer);
        answer
    }
}

/// A value a directive accepts, for [`ServerBinary::knows_directive`].
fn directive_probe_value(name: &str) -> &'static str {
    match name {
        "tls-auth-clients-user" => "off",
        "enable-debug-command" => "local",
        _ => "no",
    }
}

/// Parses `Valkey server v=8.0.1 sha=...` (or `Redis server v=7.0.15 ...`).
pub fn parse_version(text: &str) -> Option<(Engine, (u32, u32, u32))> {
    let engine = if text.starts_with("Valkey") {
        Engine::Valkey
    } else if text.starts_with("Redis") {
        Engine::Redis
    } else {
        return None;
    };
    let v = text.split_whitespace().find_map(|w| w.strip_prefix("v="))?;
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some((engine, (major, minor, patch)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_engines() {
        assert_eq!(
            parse_version("Valkey server v=8.0.1 sha=00000000:0 malloc=jemalloc-5.3.0"),
            Some((Engine::Valkey, (8, 0, 1)))
        );
        assert_eq!(
            parse_version("Redis server v=7.0.15 sha=00000000:0"),
            Some((Engine::Redis, (7, 0, 15)))
        );
        assert_eq!(parse_version("KeyDB 6"), None);
    }
}
