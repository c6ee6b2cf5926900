//! Reports written whole or not at all: the writer fills a buffer in memory,
//! and the file appears, by a rename, only once the run is over. An
//! interrupted or killed run leaves no half-written report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// A report being written.
#[derive(Debug)]
pub struct Pending {
    path: PathBuf,
    buffer: Arc<Mutex<Vec<u8>>>,
}

/// The writer side of a [`Pending`] report.
#[derive(Debug, Clone)]
pub struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Pending {
    /// A report that will be written to `path`; checks now that its folder
    /// can be made, so a bad path stops the run before anything starts.
    pub fn new(path: &Path) -> Result<Pending> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
        }
        Ok(Pending {
            path: path.to_path_buf(),
            buffer: Arc::default(),
        })
    }

    /// Where the writer puts the report.
    pub fn sink(&self) -> Sink {
        Sink(self.buffer.clone())
    }

    /// Writes the report: a temporary file beside it, renamed over it.
    pub fn finish(self) -> Result<()> {
        let dir = match self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(p) => p.to_path_buf(),
            None => PathBuf::from("."),
        };
        let what = || format!("writing the report {}", self.path.display());
        let mut tmp = tempfile::Builder::new()
            .prefix(".valkey-bdd-report")
            .tempfile_in(&dir)
            .map_err(|e| Error::io(what(), e))?;
        let bytes = std::mem::take(&mut *self.buffer.lock().unwrap_or_else(|p| p.into_inner()));
        tmp.write_all(&bytes).map_err(|e| Error::io(what(), e))?;
        tmp.persist(&self.path)
            .map_err(|e| Error::io(what(), e.error))?;
        Ok(())
    }
}
