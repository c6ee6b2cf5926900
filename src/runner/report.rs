//! Reports written whole or not at all: a report is made once the run is
//! over, written to a temporary file beside its path and renamed over it.
//! An interrupted or killed run leaves no half-written report.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Makes the report's folder now, so that a bad path stops the run before
/// anything starts.
pub fn prepare(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
    }
    Ok(())
}

/// Writes `text` to `path`: a temporary file beside it, renamed over it,
/// readable as the umask allows.
pub fn write_whole(path: &Path, text: &str) -> Result<()> {
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("."),
    };
    let what = || format!("writing the report {}", path.display());
    // A report is for sharing: made as any new file is (0666 less the
    // umask), not private as a temporary file is by default.
    let mut tmp = tempfile::Builder::new()
        .prefix(".valkey-bdd-report")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(&dir)
        .map_err(|e| Error::io(what(), e))?;
    tmp.write_all(text.as_bytes())
        .map_err(|e| Error::io(what(), e))?;
    tmp.persist(path).map_err(|e| Error::io(what(), e.error))?;
    Ok(())
}

/// The report files a run was asked for: their folders are made before
/// anything starts, the files once the run is over.
#[derive(Debug)]
pub struct Reports {
    junit: Option<PathBuf>,
    json_path: Option<PathBuf>,
    html: Option<PathBuf>,
    /// Where cucumber's JSON writer puts the Cucumber JSON meanwhile.
    pub json: super::json::Buffer,
}

impl Reports {
    /// Whether a Cucumber JSON report was asked for.
    pub fn wants_json(&self) -> bool {
        self.json_path.is_some()
    }

    /// Checks the paths now: a bad one stops the run before anything starts.
    pub fn prepare(
        junit: Option<PathBuf>,
        json: Option<PathBuf>,
        html: Option<PathBuf>,
    ) -> Result<Reports> {
        for path in [&junit, &json, &html].into_iter().flatten() {
            prepare(path)?;
        }
        Ok(Reports {
            junit,
            json_path: json,
            html,
            json: super::json::Buffer::default(),
        })
    }

    /// The first report asked for (`None`: none is).
    pub fn first(&self) -> Option<&Path> {
        [&self.html, &self.junit, &self.json_path]
            .into_iter()
            .flatten()
            .next()
            .map(PathBuf::as_path)
    }

    /// Writes each report asked for, whole; `binary` names the server binary.
    pub fn write(&self, o: &super::Outcome, binary: &str) -> Result<()> {
        self.write_with(o, binary, None)
    }

    /// [`Reports::write`] with this Cucumber JSON instead of the run's own
    /// (the JSON of every process of a nextest run).
    pub fn write_with(&self, o: &super::Outcome, binary: &str, json: Option<&str>) -> Result<()> {
        if let Some(path) = &self.junit {
            write_whole(path, &super::junit::to_xml(&super::junit::of(o))?)?;
            eprintln!("valkey-bdd: JUnit report written to {}", path.display());
        }
        if let Some(path) = &self.json_path {
            let text = match json {
                Some(text) => text.to_string(),
                None => self.json.text()?,
            };
            let features = o.scenarios.iter().filter_map(|s| s.key.0.as_deref());
            write_whole(path, &super::rooted::restore(&text, features))?;
            eprintln!("valkey-bdd: Cucumber JSON written to {}", path.display());
        }
        if let Some(path) = &self.html {
            write_whole(path, &super::html::render(o, binary)?)?;
            eprintln!("valkey-bdd: HTML report written to {}", path.display());
        }
        Ok(())
    }
}
