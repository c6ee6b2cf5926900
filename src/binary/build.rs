//! Building `valkey-server` from source, with TLS, into
//! `<dest>/<version>/` — the layout `SERVER_VERSION` reads; `dest` is the
//! user cache's `binaries` ([`crate::binary::user_cache`]) unless told.
//!
//! The source is, in this order: `VALKEY_SOURCE` (a source tree, copied
//! first so that it stays clean, or a `.tar.gz`/`.tar.xz` tarball), else
//! valkey-io's repository cloned at the tag `<version>`
//! (`VALKEY_BDD_GIT_URL` changes the URL). Concurrent processes building the
//! same version build it once: the others wait for the first (a lock held
//! through a Linux abstract socket, released by the kernel whatever happens
//! to its holder, so nothing is left on disk). Every build's log is kept in
//! the user cache's `build-logs/<version>-<time>.log`; a failed build shows
//! its tail and names it.

use std::os::linux::net::SocketAddrExt as _;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use crate::error::{Error, Result};

/// A local source tree or tarball to build from.
pub const ENV_SOURCE: &str = "VALKEY_SOURCE";
/// The repository cloned when there is no local source.
pub const ENV_GIT_URL: &str = "VALKEY_BDD_GIT_URL";
/// valkey-io's repository.
pub const DEFAULT_GIT_URL: &str = "https://github.com/valkey-io/valkey.git";
/// How long a process waits for another one's build of the same version.
const WAIT_FOR_OTHER: Duration = Duration::from_secs(30 * 60);
/// How many log lines a failed build shows.
const LOG_TAIL: usize = 30;

/// Where the source comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A source tree on disk.
    Tree(PathBuf),
    /// A source tarball (`.tar.gz`, `.tar.xz`, ...).
    Tarball(PathBuf),
    /// A git repository and the tag to check out.
    Git {
        /// The repository's URL.
        url: String,
        /// The tag (the version).
        tag: String,
    },
}

impl Source {
    /// `VALKEY_SOURCE` when set, else the repository at the tag `version`.
    pub fn from_env(version: &str) -> Source {
        match std::env::var_os(ENV_SOURCE).filter(|v| !v.is_empty()) {
            Some(p) => Source::local(PathBuf::from(p)),
            None => Source::Git {
                url: std::env::var(ENV_GIT_URL)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| DEFAULT_GIT_URL.to_string()),
                tag: version.to_string(),
            },
        }
    }

    /// A tree or a tarball, by what `path` is.
    pub fn local(path: PathBuf) -> Source {
        if path.is_dir() {
            Source::Tree(path)
        } else {
            Source::Tarball(path)
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Tree(p) => write!(f, "the source tree {}", p.display()),
            Source::Tarball(p) => write!(f, "the tarball {}", p.display()),
            Source::Git { url, tag } => write!(f, "{url} at tag {tag}"),
        }
    }
}

/// A build to make.
#[derive(Debug, Clone)]
pub struct Build {
    /// The version, as `SERVER_VERSION` names it (`8.1.1`).
    pub version: String,
    /// Where the source comes from.
    pub source: Source,
    /// The root of the binaries (the user cache's `binaries`).
    pub dest: PathBuf,
    /// Where the build's log is kept (the user cache's `build-logs`).
    pub logs: PathBuf,
    /// `make -j` jobs.
    pub jobs: usize,
    /// Whether to print progress on standard error.
    pub progress: bool,
}

impl Build {
    /// A build of `version` from [`Source::from_env`] into the user cache
    /// (`~/.cache/valkey-bdd/binaries`, its log in `build-logs` beside), or
    /// into `.build/binaries` when there is no user cache (neither
    /// `XDG_CACHE_HOME` nor `HOME` is set).
    pub fn new(version: impl Into<String>) -> Build {
        let version = version.into();
        let cache = crate::binary::user_cache();
        let dest = cache
            .as_ref()
            .map_or_else(|| PathBuf::from(".build/binaries"), |c| c.join("binaries"));
        Build {
            source: Source::from_env(&version),
            version,
            logs: cache.map_or_else(|| dest.join("build-logs"), |c| c.join("build-logs")),
            dest,
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            progress: true,
        }
    }

    /// Where the binary goes.
    pub fn target(&self) -> PathBuf {
        self.dest.join(&self.version).join("valkey-server")
    }

    /// Builds, unless the binary is there already (built by an earlier run
    /// or, meanwhile, by another process). Returns its path.
    pub async fn run(&self) -> Result<PathBuf> {
        let target = self.target();
        if target.exists() {
            return Ok(target);
        }
        validate_version(&self.version)?;
        let _lock = self.lock().await?;
        if target.exists() {
            self.say(&format!(
                "valkey-bdd: valkey {} was built by another process meanwhile",
                self.version
            ));
            return Ok(target);
        }
        std::fs::create_dir_all(&self.dest)
            .map_err(|e| Error::io(format!("creating {}", self.dest.display()), e))?;
        let work = tempfile::Builder::new()
            .prefix(&format!("build-{}-", self.version))
            .tempdir_in(&self.dest)
            .map_err(|e| {
                Error::io(
                    format!("creating a build directory in {}", self.dest.display()),
                    e,
                )
            })?;
        let log_path = self.new_log()?;
        let started = Instant::now();
        self.say(&format!(
            "valkey-bdd: building valkey {} from {} (make -j{} BUILD_TLS=yes); log: {}",
            self.version,
            self.source,
            self.jobs,
            log_path.display()
        ));
        let tree = self.build_in(work.path(), &log_path).await?;
        self.install(&tree, &log_path).await?;
        self.say(&format!(
            "valkey-bdd: built valkey {} in {:.0?}: {}",
            self.version,
            started.elapsed(),
            target.display()
        ));
        Ok(target)
    }

    /// Creates this build's log, `<logs>/<version>-<UTC time>.log`, which
    /// outlives the build directory.
    fn new_log(&self) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.logs)
            .map_err(|e| Error::io(format!("creating {}", self.logs.display()), e))?;
        let stamp = utc_stamp(std::time::SystemTime::now());
        for n in 0u32.. {
            let name = match n {
                0 => format!("{}-{stamp}.log", self.version),
                n => format!("{}-{stamp}-{n}.log", self.version),
            };
            let path = self.logs.join(name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(format!("creating {}", path.display()), e)),
            }
        }
        unreachable!("a free log name among 2^32")
    }

    fn say(&self, what: &str) {
        if self.progress {
            eprintln!("{what}");
        }
    }

    /// Holds the build lock of this version, waiting for another holder.
    async fn lock(&self) -> Result<UnixListener> {
        let name = format!("valkey-bdd/build/{}/{}", self.dest.display(), self.version);
        let addr = SocketAddr::from_abstract_name(name.as_bytes())
            .map_err(|e| Error::io("naming the build lock", e))?;
        let started = Instant::now();
        let mut told = false;
        loop {
            if let Ok(l) = UnixListener::bind_addr(&addr) {
                return Ok(l);
            }
            if !told {
                self.say(&format!(
                    "valkey-bdd: another process is building valkey {}; waiting for it",
                    self.version
                ));
                told = true;
            }
            if started.elapsed() > WAIT_FOR_OTHER {
                return Err(Error::Timeout {
                    what: format!("another process to finish building valkey {}", self.version),
                    waited: started.elapsed(),
                    last: "it still holds the build lock".into(),
                    hint: "is a build stuck? find the other cargo or valkey-bdd process".into(),
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Gets the source into `work/src` and builds it there; returns the tree.
    async fn build_in(&self, work: &Path, log_path: &Path) -> Result<PathBuf> {
        let mut log = tokio::fs::File::create(log_path)
            .await
            .map_err(|e| Error::io(format!("creating {}", log_path.display()), e))?;
        let tree = work.join("src");
        match &self.source {
            Source::Tree(p) => {
                let mut cmd = tokio::process::Command::new("cp");
                cmd.arg("-a").arg(p).arg(&tree);
                self.step("copying the source tree", cmd, &mut log, log_path)
                    .await?;
            }
            Source::Tarball(p) => {
                std::fs::create_dir_all(&tree)
                    .map_err(|e| Error::io(format!("creating {}", tree.display()), e))?;
                let mut cmd = tokio::process::Command::new("tar");
                cmd.arg("-xf")
                    .arg(p)
                    .arg("--strip-components=1")
                    .arg("-C")
                    .arg(&tree);
                self.step("unpacking the tarball", cmd, &mut log, log_path)
                    .await?;
            }
            Source::Git { url, tag } => {
                let mut cmd = tokio::process::Command::new("git");
                cmd.args(["clone", "--quiet", "--depth", "1", "--branch", tag, url])
                    .arg(&tree);
                self.step(&format!("cloning {url} at {tag}"), cmd, &mut log, log_path)
                    .await?;
            }
        }
        let mut cmd = tokio::process::Command::new("make");
        cmd.arg(format!("-j{}", self.jobs))
            .arg("BUILD_TLS=yes")
            .current_dir(&tree);
        self.step("make", cmd, &mut log, log_path).await?;
        Ok(tree)
    }

    /// Runs one command of the build, its output appended to the log, with
    /// a progress line every 10 s.
    async fn step(
        &self,
        what: &str,
        mut cmd: tokio::process::Command,
        log: &mut tokio::fs::File,
        log_path: &Path,
    ) -> Result<()> {
        let _ = log.write_all(format!("==> {what}\n").as_bytes()).await;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| Error::Build {
            version: self.version.clone(),
            what: format!("{what}: cannot start it: {e}"),
            tail: format!("  log {}", log_path.display()),
            hint:
                "install it (Debian: `apt-get install build-essential git libssl-dev pkg-config`)"
                    .into(),
        })?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(pipe).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let started = Instant::now();
        let mut compiled = 0usize;
        let mut last_said = Instant::now();
        while let Some(line) = rx.recv().await {
            let _ = log.write_all(line.as_bytes()).await;
            let _ = log.write_all(b"\n").await;
            if line.contains("CC") || line.contains("gcc ") || line.contains("LINK") {
                compiled += 1;
            }
            if last_said.elapsed() >= Duration::from_secs(10) {
                self.say(&format!(
                    "valkey-bdd: building valkey {}: {what}, {:.0?}, {compiled} files compiled",
                    self.version,
                    started.elapsed()
                ));
                last_said = Instant::now();
            }
        }
        let status = child
            .wait()
            .await
            .map_err(|e| Error::io(format!("waiting for {what}"), e))?;
        let _ = log.flush().await;
        if status.success() {
            return Ok(());
        }
        Err(Error::Build {
            version: self.version.clone(),
            what: format!("{what} {}", crate::spawn::describe(status)),
            tail: format!(
                "  log {}, last lines:\n{}",
                log_path.display(),
                crate::error::indent(&crate::logfile::tail(log_path, LOG_TAIL))
            ),
            hint: match &self.source {
                Source::Git { .. } if what != "make" => format!(
                    "no network, or no such tag? set {ENV_SOURCE} to a source tree or tarball, or {ENV_GIT_URL} to a mirror"
                ),
                Source::Tarball(p) if what != "make" => format!(
                    "is {} a source tarball tar can read? a .tar.xz needs xz (Debian: `apt-get install xz-utils`)",
                    p.display()
                ),
                _ => "a missing compiler or library (libssl-dev for TLS) shows in the lines above"
                    .into(),
            },
        })
    }

    /// Copies the built programs into the version's directory, each through
    /// a temporary name so that no half-written binary is ever found.
    async fn install(&self, tree: &Path, log_path: &Path) -> Result<()> {
        let dir = self.dest.join(&self.version);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let built = tree.join("src/valkey-server");
        let probe = tokio::process::Command::new(&built)
            .arg("--version")
            .output()
            .await
            .map_err(|e| Error::io(format!("running {} --version", built.display()), e))?;
        let says = String::from_utf8_lossy(&probe.stdout).to_string();
        let version =
            crate::binary::parse_version(&says).map(|(_, (a, b, c))| format!("{a}.{b}.{c}"));
        if version.as_deref() != Some(self.version.as_str()) {
            return Err(Error::Build {
                version: self.version.clone(),
                what: format!("the source built a server that says {:?}", says.trim()),
                tail: format!("  log {}", log_path.display()),
                hint: format!(
                    "{} is not the source of valkey {}",
                    self.source, self.version
                ),
            });
        }
        for name in ["valkey-server", "valkey-cli"] {
            let from = tree.join("src").join(name);
            if !from.exists() {
                continue;
            }
            let tmp = dir.join(format!(".{name}.partial"));
            std::fs::copy(&from, &tmp)
                .and_then(|_| std::fs::rename(&tmp, dir.join(name)))
                .map_err(|e| Error::io(format!("installing {name} into {}", dir.display()), e))?;
        }
        Ok(())
    }
}

/// `time` in UTC as `20261202T071530Z`, for file names.
pub fn utc_stamp(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// A version is a directory name and a git tag: digits and dots (and a
/// suffix such as `-rc1`), nothing that could climb out of `.build`.
fn validate_version(version: &str) -> Result<()> {
    let ok = !version.is_empty()
        && version.chars().next().is_some_and(|c| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::Config {
            what: format!("{version:?} is not a version such as 8.1.1"),
            hint: "name a released version (a tag of valkey-io's repository)".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn stamps_are_utc_dates() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            utc_stamp(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            "20231114T221320Z"
        );
        assert_eq!(
            utc_stamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "20000229T000000Z"
        );
    }
}
