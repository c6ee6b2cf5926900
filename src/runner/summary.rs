//! The run's closing lines: how many scenarios were selected, and how each
//! ended — skipped ones with their reasons, so that a skip is never hidden
//! behind a green count — then where the time went: the wall time, the time
//! spent starting servers, forming clusters and waiting, and the slowest
//! scenarios and steps.

use std::time::Duration;

use super::{Outcome, Verdict};

/// How many of the slowest scenarios and steps the summary names.
const SLOWEST: usize = 5;

/// `valkey-bdd: 54 scenarios selected: 52 passed, 0 failed, 2 skipped`,
/// then one line per skipped scenario with its reason, then the timings.
pub fn render(o: &Outcome) -> String {
    let passed = o.count(|v| matches!(v, Verdict::Passed));
    let failed = o.count(|v| matches!(v, Verdict::Failed));
    let skipped: Vec<_> = o
        .scenarios
        .iter()
        .filter_map(|s| match &s.verdict {
            Verdict::Skipped(why) => Some((s, why)),
            _ => None,
        })
        .collect();
    let mut out = format!(
        "valkey-bdd: {} scenario{} selected: {passed} passed, {failed} failed, {} skipped",
        o.selected,
        if o.selected == 1 { "" } else { "s" },
        skipped.len()
    );
    let not_run = o.selected.saturating_sub(passed + failed + skipped.len());
    if not_run > 0 {
        out.push_str(&format!(", {not_run} not run"));
    }
    for (s, why) in skipped {
        out.push_str(&format!(
            "\n  skipped \"{}\" ({}): {why}",
            s.scenario, s.place
        ));
    }
    out.push_str(&timings(o));
    out
}

/// `1.23 s` (or `45 ms` under a second).
pub fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// The timing lines; empty when nothing ran.
fn timings(o: &Outcome) -> String {
    let mut ran: Vec<_> = o
        .scenarios
        .iter()
        .filter_map(|s| s.duration.map(|d| (d, s)))
        .collect();
    if ran.is_empty() {
        return String::new();
    }
    let spent = &o.spent;
    let mut out = format!(
        "\nvalkey-bdd: wall time {}; summed over scenarios: {} starting {} server{}, \
         {} forming {} cluster{}, {} in {} wait{}",
        seconds(o.wall),
        seconds(spent.starting_servers.time),
        spent.starting_servers.count,
        if spent.starting_servers.count == 1 {
            ""
        } else {
            "s"
        },
        seconds(spent.forming_clusters.time),
        spent.forming_clusters.count,
        if spent.forming_clusters.count == 1 {
            ""
        } else {
            "s"
        },
        seconds(spent.waiting.time),
        spent.waiting.count,
        if spent.waiting.count == 1 { "" } else { "s" },
    );
    ran.sort_by_key(|r| std::cmp::Reverse(r.0));
    out.push_str("\nvalkey-bdd: slowest scenarios:");
    for (d, s) in ran.iter().take(SLOWEST) {
        out.push_str(&format!(
            "\n  {:>9}  \"{}\" ({})",
            seconds(*d),
            s.scenario,
            s.place
        ));
    }
    let mut steps: Vec<_> = o
        .scenarios
        .iter()
        .flat_map(|s| {
            s.steps.iter().filter_map(move |st| {
                let file = s.place.rsplit_once(':').map_or(s.place.as_str(), |p| p.0);
                st.duration.map(|d| (d, st, file))
            })
        })
        .collect();
    steps.sort_by_key(|s| std::cmp::Reverse(s.0));
    if !steps.is_empty() {
        out.push_str("\nvalkey-bdd: slowest steps:");
        for (d, st, file) in steps.iter().take(SLOWEST) {
            out.push_str(&format!(
                "\n  {:>9}  {} ({file}:{})",
                seconds(*d),
                st.step,
                st.line
            ));
        }
    }
    out
}
