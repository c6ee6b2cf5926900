//! Modules built by cargo: a scenario names the crate of a module
//! (a `cdylib`), and the harness builds it — once per run, whatever the
//! number of scenarios asking — and loads the library it made.
//!
//! `cargo test` does not build a workspace's `cdylib`s, so a module's own
//! features would otherwise run against a stale or missing library.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};

type Built = Arc<tokio::sync::OnceCell<std::result::Result<PathBuf, String>>>;

fn builds() -> &'static Mutex<HashMap<String, Built>> {
    static BUILDS: OnceLock<Mutex<HashMap<String, Built>>> = OnceLock::new();
    BUILDS.get_or_init(Default::default)
}

/// The path of the shared library of the `cdylib` crate `package`, built
/// with `cargo build -p <package>` (the cargo running the tests, `$CARGO`,
/// else `cargo` on `PATH`) on first use.
pub async fn cdylib(package: &str) -> Result<PathBuf> {
    let cell = builds()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(package.to_string())
        .or_default()
        .clone();
    cell.get_or_init(|| build(package.to_string()))
        .await
        .clone()
        .map_err(|why| Error::Config {
            what: format!("could not build the module crate {package:?}: {why}"),
            hint: "run `cargo build -p <crate>` to see the whole output; a module crate needs crate-type = [\"cdylib\"]".into(),
        })
}

async fn build(package: String) -> std::result::Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = tokio::process::Command::new(cargo)
        .args(["build", "--quiet", "--message-format=json", "-p", &package])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let messages: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    if !out.status.success() {
        let errors: Vec<String> = messages
            .iter()
            .filter(|m| m["reason"] == "compiler-message" && m["message"]["level"] == "error")
            .filter_map(|m| m["message"]["rendered"].as_str().map(str::to_string))
            .take(3)
            .collect();
        return Err(format!(
            "cargo build -p {package} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            errors.join("\n")
        ));
    }
    // The artifact message of the package's cdylib lists its files.
    let target_name = package.replace('-', "_");
    messages
        .iter()
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| {
            m["target"]["name"].as_str() == Some(target_name.as_str())
                && m["target"]["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "so"))
        .ok_or_else(|| {
            format!("cargo built {package}, but named no .so among its artifacts: is it a cdylib?")
        })
}

/// A module to load into a server: its shared library and its arguments,
/// as one `loadmodule` directive.
///
/// ```no_run
/// # async fn demo() -> valkey_bdd::Result<()> {
/// use valkey_bdd::modules::ModuleLoad;
/// use valkey_bdd::{Server, ServerSpec};
/// // A relative path is taken from the working directory.
/// let bloom = ModuleLoad::at_path("target/release/libvalkey_bloom.so", "").await?;
/// let server = Server::start(ServerSpec::new("bloom").load(&bloom)).await?;
/// # server.stop().await }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleLoad {
    path: PathBuf,
    args: String,
}

impl ModuleLoad {
    /// The module at `path`, with its arguments. A relative path is taken
    /// from the working directory (where `cargo test` runs: the package's
    /// root); a path where there is no file fails, naming the path tried.
    pub async fn at_path(path: impl AsRef<Path>, args: &str) -> Result<ModuleLoad> {
        let path = absolute(path.as_ref());
        match tokio::fs::metadata(&path).await {
            Ok(m) if m.is_file() => Ok(ModuleLoad::new(path, args)),
            Ok(_) => Err(not_a_module(&path, "it is not a file")),
            Err(e) => Err(not_a_module(&path, &e.to_string())),
        }
    }

    /// The module of a `cdylib` crate of the workspace, built first (see
    /// [`cdylib`]), with its arguments.
    pub async fn of_crate(package: &str, args: &str) -> Result<ModuleLoad> {
        Ok(ModuleLoad::new(absolute(&cdylib(package).await?), args))
    }

    /// A module whose path is known to be absolute and to exist.
    fn new(path: PathBuf, args: &str) -> ModuleLoad {
        ModuleLoad {
            path,
            args: args.trim().to_string(),
        }
    }

    /// The modules named for the whole run (`valkey-bdd run --module`, or
    /// `VALKEY_BDD_MODULE` / `MODULE_PATH` with `VALKEY_BDD_MODULE_ARGS`);
    /// see [`crate::settings::run_modules`].
    pub fn of_run() -> Result<Vec<ModuleLoad>> {
        Ok(crate::settings::run_modules()?
            .into_iter()
            .map(|(path, args)| ModuleLoad::new(path, &args))
            .collect())
    }

    /// The shared library, as an absolute path.
    pub fn library(&self) -> &Path {
        &self.path
    }

    /// The arguments, as one line (empty: none).
    pub fn args(&self) -> &str {
        &self.args
    }

    /// The value of its `loadmodule` directive: the path, then the arguments.
    pub fn directive(&self) -> String {
        format!("{} {}", self.path.display(), self.args)
            .trim_end()
            .to_string()
    }

    /// Adds its `loadmodule` directive to `config`, unless a `loadmodule`
    /// there loads its library already, under this path or another (`./x.so`
    /// and `../dir/x.so`, a symbolic link and its target): a server that
    /// loads one file twice aborts.
    pub fn add_to(&self, config: &mut Vec<(String, String)>) {
        let loaded = config
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("loadmodule") && self.loaded_by(v));
        if !loaded {
            config.push(("loadmodule".into(), self.directive()));
        }
    }

    /// Whether a `loadmodule` directive's value loads this library: the
    /// same file (device and inode), however its path is spelled. A path
    /// that names no file is not this library.
    pub fn loaded_by(&self, directive: &str) -> bool {
        directive
            .split_whitespace()
            .next()
            .is_some_and(|path| same_file(Path::new(path), &self.path))
    }

    /// Whether `other` loads the same file as this one, whatever the
    /// spelling of either path.
    pub fn same_library(&self, other: &ModuleLoad) -> bool {
        same_file(&self.path, &other.path)
    }
}

/// Whether two paths name one file. A quick `stat` of each, which does not
/// wait on anything but the local file system; a path that cannot be read
/// is the same only as its own spelling.
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    a == b || same_file::is_same_file(a, b).unwrap_or(false)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn not_a_module(path: &Path, why: &str) -> Error {
    let cwd = std::env::current_dir().map_or_else(|_| "?".into(), |d| d.display().to_string());
    Error::Config {
        what: format!("no module at {}: {why}", path.display()),
        hint: format!(
            "a relative module path is taken from the working directory ({cwd}); build the module first, or name the path from there"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::ModuleLoad;

    #[tokio::test]
    async fn a_missing_module_names_the_path_tried() {
        let err = ModuleLoad::at_path("no/such/libmod.so", "")
            .await
            .unwrap_err();
        let cwd = std::env::current_dir().unwrap();
        let text = err.to_string();
        assert!(
            text.contains(&cwd.join("no/such/libmod.so").display().to_string()),
            "{text}"
        );
        assert!(text.contains("working directory"), "{text}");
    }

    #[tokio::test]
    async fn the_directive_is_the_absolute_path_then_the_arguments() {
        let m = ModuleLoad::at_path("Cargo.toml", " step 5 ").await.unwrap();
        let path = std::env::current_dir().unwrap().join("Cargo.toml");
        assert_eq!(m.directive(), format!("{} step 5", path.display()));
        assert!(m.loaded_by(&format!("{} other args", path.display())));
        assert!(!m.loaded_by("/elsewhere/Cargo.toml"));
    }

    #[tokio::test]
    async fn one_file_under_two_paths_is_loaded_once() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("libmod.so");
        std::fs::write(&real, "").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let link = dir.path().join("sub/link.so");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let m = ModuleLoad::at_path(&real, "").await.unwrap();
        let dotted = dir.path().join("sub/../libmod.so");
        for other in [&link, &dotted] {
            assert!(
                m.loaded_by(&format!("{} arg", other.display())),
                "{other:?}"
            );
            let other = ModuleLoad::at_path(other, "").await.unwrap();
            assert!(m.same_library(&other));
            let mut config = Vec::new();
            m.add_to(&mut config);
            other.add_to(&mut config);
            assert_eq!(config.len(), 1, "{config:?}");
        }
    }
}
