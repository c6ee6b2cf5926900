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

/// Writes `text` to `path`: a temporary file beside it, renamed over it.
pub fn write_whole(path: &Path, text: &str) -> Result<()> {
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("."),
    };
    let what = || format!("writing the report {}", path.display());
    let mut tmp = tempfile::Builder::new()
        .prefix(".valkey-bdd-report")
        .tempfile_in(&dir)
        .map_err(|e| Error::io(what(), e))?;
    tmp.write_all(text.as_bytes())
        .map_err(|e| Error::io(what(), e))?;
    tmp.persist(path).map_err(|e| Error::io(what(), e.error))?;
    Ok(())
}
