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

/// Cucumber's JSON writer when a JSON report was asked for, and nothing
/// otherwise: it keeps every step of the run and serialises them all at
/// the end, which a run that wants no JSON should not pay for.
#[derive(Debug)]
pub struct IfAsked<Wr>(pub Option<Wr>);

impl<W: cucumber::World, Wr: cucumber::Writer<W>> cucumber::Writer<W> for IfAsked<Wr> {
    type Cli = Wr::Cli;

    async fn handle_event(
        &mut self,
        event: cucumber::parser::Result<cucumber::Event<cucumber::event::Cucumber<W>>>,
        cli: &Self::Cli,
    ) {
        if let Some(w) = &mut self.0 {
            w.handle_event(event, cli).await;
        }
    }
}

impl<W: cucumber::World, V, Wr: cucumber::writer::Arbitrary<W, V>> cucumber::writer::Arbitrary<W, V>
    for IfAsked<Wr>
{
    async fn write(&mut self, val: V) {
        if let Some(w) = &mut self.0 {
            w.write(val).await;
        }
    }
}

impl<Wr: cucumber::writer::Normalized> cucumber::writer::Normalized for IfAsked<Wr> {}

impl<W: cucumber::World, Wr: cucumber::writer::Stats<W>> cucumber::writer::Stats<W>
    for IfAsked<Wr>
{
    fn passed_steps(&self) -> usize {
        self.0.as_ref().map_or(0, |w| w.passed_steps())
    }
    fn skipped_steps(&self) -> usize {
        self.0.as_ref().map_or(0, |w| w.skipped_steps())
    }
    fn failed_steps(&self) -> usize {
        self.0.as_ref().map_or(0, |w| w.failed_steps())
    }
    fn retried_steps(&self) -> usize {
        self.0.as_ref().map_or(0, |w| w.retried_steps())
    }
    fn parsing_errors(&self) -> usize {
        self.0.as_ref().map_or(0, |w| w.parsing_errors())
    }
    fn hook_errors(&self) -> usize {
        self.0.as_ref().map_or(0, |w| w.hook_errors())
    }
}
