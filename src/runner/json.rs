//! The run's Cucumber JSON report: cucumber's own [`cucumber::writer::Json`],
//! teed beside the writer that prints the run, writes into a [`Buffer`] in
//! memory once the run is over; the runner then writes the buffer whole to
//! its path, or nothing when the run is interrupted.

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// Where cucumber's JSON writer puts the report.
#[derive(Debug, Clone, Default)]
pub struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
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

impl Buffer {
    /// The report cucumber wrote at the end of the run.
    pub fn text(&self) -> Result<String> {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if bytes.is_empty() {
            return Err(Error::Config {
                what: "cucumber wrote no JSON report: the run did not finish".into(),
                hint: "report this as a bug of valkey-bdd".into(),
            });
        }
        String::from_utf8(bytes).map_err(|e| Error::Config {
            what: format!("cucumber's JSON report is not UTF-8: {e}"),
            hint: "report this as a bug of valkey-bdd".into(),
        })
    }
}
