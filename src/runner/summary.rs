//! The run's closing lines: how many scenarios were selected, and how each
//! ended — skipped ones with their reasons, so that a skip is never hidden
//! behind a green count.

use super::{Outcome, Verdict};

/// `valkey-bdd: 54 scenarios selected: 52 passed, 0 failed, 2 skipped`,
/// then one line per skipped scenario with its reason.
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
    out
}
