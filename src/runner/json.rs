//! The run's Cucumber JSON report: cucumber's own [`cucumber::writer::Json`],
//! teed beside the writer that prints the run, writes into a [`Buffer`] in
//! memory once the run is over; the runner then writes the buffer whole to
//! its path, or nothing when the run is interrupted.
//!
//! What cucumber writes lacks fields that the Cucumber project's own schemas
//! require (`@cucumber/cucumber-json-converter`: a feature's `id`, `line`
//! and `description`, a scenario's `description`, a hook's `match`) and has
//! some they refuse (a step's `hidden`, `embeddings`): [`Buffer::text`]
//! mends it into the format cucumber-ruby writes, which every consumer
//! reads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cucumber::gherkin;
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// Where cucumber's JSON writer puts the report.
#[derive(Debug, Clone, Default)]
pub struct Buffer {
    bytes: Arc<Mutex<Vec<u8>>>,
    /// What the JSON needs of each feature file and cucumber leaves out.
    features: Arc<Mutex<Vec<Known>>>,
}

/// A feature as its file says it: what the report's entries lack.
#[derive(Debug)]
struct Known {
    path: String,
    line: usize,
    description: String,
    /// Each scenario's description, by its line.
    scenarios: HashMap<usize, String>,
}

impl Buffer {
    /// Tells the report the features of the run, whose lines and
    /// descriptions cucumber's JSON leaves out.
    pub fn describe(&self, features: &[gherkin::Feature]) {
        let text = |d: &Option<String>| d.as_deref().unwrap_or_default().trim().to_string();
        let known = features
            .iter()
            .map(|f| Known {
                path: f
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                line: f.position.line,
                description: text(&f.description),
                scenarios: f
                    .scenarios
                    .iter()
                    .chain(f.rules.iter().flat_map(|r| &r.scenarios))
                    .map(|s| (s.position.line, text(&s.description)))
                    .collect(),
            })
            .collect();
        *self.features.lock().unwrap_or_else(|p| p.into_inner()) = known;
    }

    /// Cucumber's report mended into the shape the Cucumber schemas require.
    fn mend(&self, report: &mut Value) {
        let known = self.features.lock().unwrap_or_else(|p| p.into_inner());
        for feature in report.as_array_mut().into_iter().flatten() {
            let Some(f) = feature.as_object_mut() else {
                continue;
            };
            let uri = f
                .get("uri")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            // cucumber writes the path relative to the crate: the file's
            // own path ends with it.
            let file = known
                .iter()
                .find(|k| !uri.is_empty() && k.path.ends_with(&uri));
            let id = heck::ToKebabCase::to_kebab_case(
                f.get("name").and_then(Value::as_str).unwrap_or_default(),
            );
            f.insert("id".into(), json!(id));
            f.insert("uri".into(), json!(uri));
            f.insert("line".into(), json!(file.map_or(1, |k| k.line)));
            f.insert(
                "description".into(),
                json!(file.map_or("", |k| k.description.as_str())),
            );
            let elements = f.get_mut("elements").and_then(Value::as_array_mut);
            for element in elements.into_iter().flatten() {
                let Some(e) = element.as_object_mut() else {
                    continue;
                };
                let line = e.get("line").and_then(Value::as_u64).unwrap_or_default();
                let description = file
                    .and_then(|k| k.scenarios.get(&(line as usize)))
                    .map_or("", String::as_str);
                e.insert("description".into(), json!(description));
                for hooks in ["before", "after"] {
                    let hooks = e.get_mut(hooks).and_then(Value::as_array_mut);
                    for hook in hooks.into_iter().flatten().filter_map(Value::as_object_mut) {
                        hook.remove("embeddings");
                        hook.insert("match".into(), json!({ "location": "valkey-bdd" }));
                    }
                }
                let steps = e.get_mut("steps").and_then(Value::as_array_mut);
                for step in steps.into_iter().flatten().filter_map(Value::as_object_mut) {
                    step.remove("hidden");
                    step.remove("embeddings");
                    // The schemas know no `ambiguous`: such a step failed.
                    if let Some(status) = step.get_mut("result").and_then(|r| r.get_mut("status"))
                        && status == "ambiguous"
                    {
                        *status = json!("failed");
                    }
                }
            }
        }
    }
}

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes
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
    /// The report cucumber wrote at the end of the run, mended into the
    /// shape of the Cucumber schemas.
    pub fn text(&self) -> Result<String> {
        let bytes = self.bytes.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if bytes.is_empty() {
            return Err(Error::Config {
                what: "cucumber wrote no JSON report: the run did not finish".into(),
                hint: "report this as a bug of valkey-bdd".into(),
            });
        }
        let mut report: Value = serde_json::from_slice(&bytes).map_err(|e| Error::Config {
            what: format!("cucumber's JSON report does not parse: {e}"),
            hint: "report this as a bug of valkey-bdd".into(),
        })?;
        self.mend(&mut report);
        serde_json::to_string_pretty(&report).map_err(|e| Error::Config {
            what: format!("the Cucumber JSON report cannot be written: {e}"),
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
