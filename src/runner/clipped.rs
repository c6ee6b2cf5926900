//! Cucumber's events with long values clipped ([`crate::shown`]) before any
//! writer sees them: the console echo of a step holding a 50 MB literal, its
//! doc string and table cells, and the message of a failed step or hook. The
//! whole step stays in its feature file, at the line the event names.

use std::path::Path;

use cucumber::event::{Cucumber, Feature, Hook, Rule, Scenario, Step, StepError};
use cucumber::{Event, gherkin, parser};

use crate::shown::{self, Whole};

/// `event` with its long values clipped; an event with none is returned as
/// it is, without a copy.
pub fn clipped<W>(event: parser::Result<Event<Cucumber<W>>>) -> parser::Result<Event<Cucumber<W>>> {
    let Ok(event) = event else {
        return event;
    };
    Ok(event.map(|value| match value {
        Cucumber::Feature(f, Feature::Scenario(sc, mut r)) => {
            r.event = scenario_event(f.path.as_deref(), r.event);
            Cucumber::Feature(f, Feature::Scenario(sc, r))
        }
        Cucumber::Feature(f, Feature::Rule(rule, Rule::Scenario(sc, mut r))) => {
            r.event = scenario_event(f.path.as_deref(), r.event);
            Cucumber::Feature(f, Feature::Rule(rule, Rule::Scenario(sc, r)))
        }
        other => other,
    }))
}

fn scenario_event<W>(path: Option<&Path>, ev: Scenario<W>) -> Scenario<W> {
    match ev {
        Scenario::Step(step, ev) => {
            let (step, ev) = step_event(path, step, ev);
            Scenario::Step(step, ev)
        }
        Scenario::Background(step, ev) => {
            let (step, ev) = step_event(path, step, ev);
            Scenario::Background(step, ev)
        }
        Scenario::Hook(which, Hook::Failed(world, info)) => {
            Scenario::Hook(which, Hook::Failed(world, message(info, &Whole::Nowhere)))
        }
        other => other,
    }
}

fn step_event<W>(
    path: Option<&Path>,
    step: cucumber::event::Source<gherkin::Step>,
    ev: Step<W>,
) -> (cucumber::event::Source<gherkin::Step>, Step<W>) {
    let place = Whole::At(format!(
        "{}:{}",
        path.map_or("the feature file".into(), crate::runner::relative),
        step.position.line
    ));
    let clipped_step = clip_step(&step, &place);
    let ev = match ev {
        Step::Failed(captures, loc, world, err) => {
            let err = match err {
                StepError::Panic(info) => StepError::Panic(message(info, &Whole::Nowhere)),
                other => other,
            };
            // A clipped step's text no longer holds what was captured.
            let captures = if clipped_step.is_some() {
                None
            } else {
                captures
            };
            Step::Failed(captures, loc, world, err)
        }
        Step::Passed(_, loc) if clipped_step.is_some() => Step::Passed(no_captures(), loc),
        other => other,
    };
    match clipped_step {
        Some(s) => (cucumber::event::Source::new(s), ev),
        None => (step, ev),
    }
}

/// The step with its text, doc string and table cells clipped; `None` when
/// nothing in it is long.
fn clip_step(step: &gherkin::Step, place: &Whole) -> Option<gherkin::Step> {
    let long = |s: &str| matches!(shown::clip(s, place), std::borrow::Cow::Owned(_));
    let any_long = long(&step.value)
        || step.docstring.as_deref().is_some_and(long)
        || step
            .table
            .iter()
            .flat_map(|t| t.rows.iter().flatten())
            .any(|c| long(c));
    if !any_long {
        return None;
    }
    let cut = |s: &str| shown::clip(s, place).into_owned();
    Some(gherkin::Step {
        keyword: step.keyword.clone(),
        ty: step.ty,
        value: cut(&step.value),
        docstring: step.docstring.as_deref().map(cut),
        table: step.table.as_ref().map(|t| gherkin::Table {
            rows: t
                .rows
                .iter()
                .map(|row| row.iter().map(|c| cut(c)).collect())
                .collect(),
            span: t.span,
            position: t.position,
        }),
        span: step.span,
        position: step.position,
    })
}

/// Capture locations that mark nothing: the text they indexed was clipped.
fn no_captures() -> regex::CaptureLocations {
    static EMPTY: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    EMPTY
        .get_or_init(|| regex::Regex::new("").expect("an empty regex"))
        .capture_locations()
}

/// A failure message longer than this (bytes) is clipped as a value is.
/// A message is made of parts — what failed, the value (clipped where it is
/// shown), the servers' log tails, a memory checker's report — each worth
/// reading whole: the value's limits of lines and kilobytes would cut the
/// log tails and the report's middle, so a message is clipped only when it is
/// huge (a value no step clipped).
const MESSAGE_BYTES: usize = 256 * 1024;

/// A panic's message, clipped when huge.
fn message(info: cucumber::event::Info, whole: &Whole) -> cucumber::event::Info {
    let text = crate::runner::record::panic_text(&info);
    if text.len() <= MESSAGE_BYTES {
        return info;
    }
    match shown::clip(&text, whole) {
        std::borrow::Cow::Borrowed(_) => info,
        std::borrow::Cow::Owned(short) => std::sync::Arc::new(short),
    }
}
