//! The application's own processes: a step naming a role declared in
//! `roles.toml` (`When the "producer" process publishes 3 orders`) runs in
//! that role's servo, a process of the application that serves the role's
//! sentences in its own language (docs/src/servos/protocol.md). An `And` or
//! `But` right after such a step keeps its role when no other sentence
//! matches it.
//!
//! The servo gets the text after `process`, the step's table and doc string
//! (`${...}` placeholders filled in), its place, and the scenario's servers
//! (addresses, password, TLS files, cluster seeds); the step fails with the
//! servo's message and the log lines it returned.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use crate::error::Result;
use crate::world::{ServoStep, ValkeyWorld};

/// Runs the sentence after `process` in the servo of the role: the servo's
/// own code (in the implementation the scenario's combination chooses)
/// does what it says and checks what it expects; its failure fails the step.
/// The servo starts on the scenario's first step of its role and stops at
/// the scenario's end.
#[given(regex = r#"^the "([^"\\]+)" process (.+)$"#)]
#[when(regex = r#"^the "([^"\\]+)" process (.+)$"#)]
#[then(regex = r#"^the "([^"\\]+)" process (.+)$"#)]
async fn role_step(
    w: &mut ValkeyWorld,
    role: String,
    text: String,
    #[step] s: &Step,
) -> Result<()> {
    let text = w.expand(&text).await?;
    let table = match &s.table {
        Some(t) => {
            let mut rows = Vec::with_capacity(t.rows.len());
            for row in &t.rows {
                let mut cells = Vec::with_capacity(row.len());
                for cell in row {
                    cells.push(w.expand(cell).await?);
                }
                rows.push(cells);
            }
            Some(rows)
        }
        None => None,
    };
    let docstring = match &s.docstring {
        Some(d) => Some(w.expand(d.trim_matches('\n')).await?),
        None => None,
    };
    let location = format!(
        "{}:{}",
        w.scenario()
            .feature_path
            .as_deref()
            .map_or_else(|| "?".into(), crate::servo::relative),
        s.position.line
    );
    w.servo_step(ServoStep {
        sentence: crate::servo::role_sentence(&role, &text),
        role,
        text,
        keyword: s.keyword.trim().to_string(),
        location,
        line: s.position.line,
        table,
        docstring,
    })
    .await
}
