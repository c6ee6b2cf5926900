//! What gherkin accepts but its writer cannot have meant, found in the raw
//! text of a feature file or step library before gherkin parses it, each at
//! the line where it is:
//!
//! - bytes that are not UTF-8 (line, column and byte offset);
//! - a table row with more or fewer cells than the table's first row
//!   (gherkin cuts a longer row to the first row's width, so an extra
//!   expected value was never compared), and a row not closed by `|`;
//! - a doc string opened and never closed (gherkin names the end of the
//!   file);
//! - a line that starts with a near miss of a keyword and a colon
//!   (`Scenaro:`, `Sceanrio Outline:`, `Exmaples:`, `Backgorund:`, `Rlue:`,
//!   in a step library `Stpe:`): gherkin reads it as description text, so
//!   the steps under a misspelt `Scenario:` belong to nothing and never run;
//! - in a step library, a `Scenario:` block, which would be read as a
//!   `Step:`.
//!
//! A near miss is a word or two followed by a colon at the start of a line,
//! within a small edit distance of a keyword, starting with the keyword's
//! letter (a plural such as `Rules:` or `Steps:` is prose). A keyword
//! spelled with other capitals (`scenario:`) is one only when steps or a
//! table follow it. Files in another `# language:` are not checked for near
//! misses (their keywords are not English).

use std::path::Path;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `.feature` file.
    Feature,
    /// A `.steps` step library (`Step:` blocks).
    Library,
}

/// The keywords that open a block, as English gherkin spells them, longest
/// first (a line is read as the first one it starts with).
const BLOCKS: &[&str] = &[
    "Scenario Template",
    "Scenario Outline",
    "Business Need",
    "Background",
    "Scenarios",
    "Examples",
    "Scenario",
    "Example",
    "Feature",
    "Ability",
    "Rule",
];

/// What starts a step.
const STEP_WORDS: &[&str] = &["Given ", "When ", "Then ", "And ", "But ", "* "];

/// Where a line stands, which decides how gherkin reads a table row or a
/// doc string delimiter there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Under `Feature:` or `Rule:`: every line up to the next block is
    /// description, step-like or not.
    Prose,
    /// Under `Scenario:`, `Background:` or `Step:`, before its first step.
    Head,
    /// Among steps: a `|` line is a table row, `"""` opens a doc string.
    Steps,
    /// Under `Examples:`: a `|` line is a table row.
    Examples,
}

/// Reads a file as text; bytes that are not UTF-8 are named by line,
/// column and byte offset.
pub fn read(file: &Path) -> Result<String, String> {
    let place = super::relative(file);
    let bytes = std::fs::read(file).map_err(|e| format!("  {place}: cannot be read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let len = e.utf8_error().error_len().unwrap_or(1);
        let bytes = e.as_bytes();
        let before = &bytes[..at];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
        let bad: Vec<String> = bytes[at..]
            .iter()
            .take(len)
            .map(|b| format!("0x{b:02X}"))
            .collect();
        format!(
            "  {place}:{line}:{column}: is not UTF-8: the byte {} at byte offset {at} is not a character\n    the line reads: {}\n    hint: save the file as UTF-8 (`iconv -f latin1 -t utf-8` converts a Latin-1 file)",
            bad.join(" "),
            String::from_utf8_lossy(&bytes[start..])
                .lines()
                .next()
                .unwrap_or("")
                .trim()
        )
    })
}

/// The problems of a file's text, each `  place:line: what` with the line
/// as written and what to do; empty when there are none.
pub fn check(place: &str, text: &str, kind: Kind) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let english = language(text).is_none_or(|l| l == "en");
    let mut problems = Vec::new();
    let mut state = State::Prose;
    // The open table: its first row's line and width.
    let mut table: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < lines.len() {
        let n = i + 1;
        let t = lines[i].trim();
        i += 1;
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if t.starts_with('|') && matches!(state, State::Steps | State::Examples) {
            match (cells(t), table) {
                (None, _) => problems.push(format!(
                    "  {place}:{n}: this table row is not closed\n    the line reads: {t}\n    hint: a table row starts and ends with |; inside a cell write \\| for a bar"
                )),
                (Some(w), None) => table = Some((n, w)),
                (Some(w), Some((first, width))) if w != width => problems.push(format!(
                    "  {place}:{n}: this table row has {w} cell(s), the table's first row (line {first}) has {width}\n    the line reads: {t}\n    hint: every row of a table has as many cells as its first row; a cell with a bar in it writes \\|"
                )),
                _ => {}
            }
            continue;
        }
        table = None;
        if state == State::Steps && (t.starts_with("\"\"\"") || t.starts_with("```")) {
            // Gherkin ends a doc string at the next delimiter, wherever it is.
            let delimiter = &t[..3];
            if t[3..].contains(delimiter) {
                continue;
            }
            match lines[i..].iter().position(|l| l.contains(delimiter)) {
                Some(k) => i += k + 1,
                None => {
                    problems.push(format!(
                        "  {place}:{n}: this doc string is never closed\n    the line reads: {t}\n    hint: end it with a line of {delimiter}, indented as the opening one"
                    ));
                    break;
                }
            }
            continue;
        }
        if let Some(block) = header(t, kind) {
            if kind == Kind::Library && block == "Scenario" {
                problems.push(format!(
                    "  {place}:{n}: a step library holds `Step:` blocks, not `Scenario:`\n    the line reads: {t}\n    hint: a scenario belongs in a .feature file; to define a sentence here, write `Step: <the sentence>`"
                ));
            }
            state = match block {
                "Feature" | "Business Need" | "Ability" | "Rule" => State::Prose,
                "Examples" | "Scenarios" => State::Examples,
                _ => State::Head,
            };
            continue;
        }
        if STEP_WORDS.iter().any(|w| t.starts_with(w)) {
            if state != State::Prose {
                state = State::Steps;
            }
            continue;
        }
        if english && let Some(problem) = near_miss(t, kind, &lines[i..]) {
            problems.push(format!("  {place}:{n}: {problem}\n    the line reads: {t}"));
        }
    }
    problems
}

/// The block keyword a line opens (`Scenario` for `Scenario: x`): the
/// keyword and its colon, as gherkin reads them.
fn header(t: &str, kind: Kind) -> Option<&'static str> {
    let library = (kind == Kind::Library).then_some("Step");
    BLOCKS
        .iter()
        .copied()
        .chain(library)
        .find(|k| t.strip_prefix(k).is_some_and(|rest| rest.starts_with(':')))
}

/// The number of cells of a table row, `None` when it is not closed by a
/// bar (a comment may follow the last one, as gherkin allows).
fn cells(t: &str) -> Option<usize> {
    let mut bars = 0;
    let mut last = 0;
    let mut chars = t.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '|' => {
                bars += 1;
                last = at;
            }
            _ => {}
        }
    }
    let rest = t[last + 1..].trim();
    (bars >= 2 && (rest.is_empty() || rest.starts_with('#'))).then(|| bars - 1)
}

/// The `# language:` a file declares, if any.
fn language(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with('#'))
        .find_map(|l| {
            let rest = l.strip_prefix('#')?.trim();
            rest.strip_prefix("language")?
                .trim()
                .strip_prefix(':')
                .map(str::trim)
        })
}

/// Why a line that is neither a block, a step nor a table row reads as a
/// misspelt keyword; `after` is the text below it.
fn near_miss(t: &str, kind: Kind, after: &[&str]) -> Option<String> {
    static HEAD: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^([A-Za-z]+(?: [A-Za-z]+){0,2})(\s*):").expect("valid regex")
    });
    let c = HEAD.captures(t)?;
    let head = &c[1];
    let library = (kind == Kind::Library).then_some("Step");
    let keywords = BLOCKS.iter().copied().chain(library);
    if let Some(k) = keywords.clone().find(|k| *k == head) {
        // `Scenario :`: the keyword is there, but gherkin wants its colon
        // right after it.
        return Some(format!(
            "`{k}` is followed by a space before its colon, so gherkin reads the line as description text\n    hint: write `{k}:`"
        ));
    }
    let lower = head.to_lowercase();
    let (keyword, distance) = keywords
        .map(|k| (k, strsim::damerau_levenshtein(&lower, &k.to_lowercase())))
        .min_by_key(|(_, d)| *d)?;
    let kw = keyword.to_lowercase();
    let near = if distance == 0 {
        // Other capitals: a keyword only when steps or a table follow.
        after
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .is_some_and(|l| l.starts_with('|') || STEP_WORDS.iter().any(|w| l.starts_with(w)))
    } else if lower.chars().next() != kw.chars().next() || lower == format!("{kw}s") {
        false
    } else if kw.len() <= 4 {
        // `Rule` and `Step` are near English words (`Role:`, `Stop:`): only
        // a letter dropped or two swapped is a typo of them.
        distance == 1 && lower.len() <= kw.len() && {
            let (mut a, mut b): (Vec<char>, Vec<char>) =
                (lower.chars().collect(), kw.chars().collect());
            a.sort_unstable();
            b.sort_unstable();
            lower.len() < kw.len() || a == b
        }
    } else {
        distance <= (kw.len() / 4).max(1)
    };
    if !near {
        return None;
    }
    let consequence = match keyword {
        "Scenario" | "Example" | "Scenario Outline" | "Scenario Template" | "Background"
        | "Step" => "the steps under it belong to no block and never run",
        "Examples" | "Scenarios" => "the table under it gives the outline no examples",
        "Rule" => "the scenarios under it are not in a rule",
        _ => "the text under it is not what it seems",
    };
    Some(format!(
        "`{head}:` looks like a misspelt `{keyword}:`: gherkin reads the line as description text, so {consequence}\n    hint: write `{keyword}:`; if the line is prose, reword it so that it does not start with a word and a colon"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        check("f.feature", text, Kind::Feature)
    }

    #[test]
    fn near_misses_are_named_and_prose_is_not() {
        for (line, keyword) in [
            ("Scenaro: x", "`Scenario:`"),
            ("Sceanrio Outline: x", "`Scenario Outline:`"),
            ("Exmaples:", "`Examples:`"),
            ("Backgorund:", "`Background:`"),
            ("Rlue: x", "`Rule:`"),
            ("Featrue: x", "`Feature:`"),
            ("Scenario Tempalte: x", "`Scenario Template:`"),
        ] {
            let p = problems(&format!("Feature: f\n  {line}\n    Given a server\n"));
            assert_eq!(p.len(), 1, "{line}: {p:?}");
            assert!(
                p[0].starts_with("  f.feature:2: ") && p[0].contains(keyword),
                "{p:?}"
            );
        }
        for line in [
            "Rules: each key expires",
            "Role: admin",
            "Steps: below",
            "Samples: two",
            "Note: fine",
            "Example 1: fine",
            "Fails with: expected (integer) 0",
            "As a user: I want",
            "example: a key with a TTL",
        ] {
            let p = problems(&format!(
                "Feature: f\n  {line}\n\n  Scenario: s\n    Given a server\n"
            ));
            assert!(p.is_empty(), "{line}: {p:?}");
        }
        let p = problems("Feature: f\n  scenario: s\n    Given a server\n");
        assert!(p[0].contains("`Scenario:`"), "{p:?}");
        let p = check(
            "l.steps",
            "Stpe: a thing\n  When I run `PING`\n",
            Kind::Library,
        );
        assert!(p[0].contains("`Step:`"), "{p:?}");
        let p = problems("# language: fr\nFonctionnalité: f\n  Scenaro: x\n");
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn ragged_tables_and_open_doc_strings_name_their_line() {
        let p = problems(
            "Feature: f\n  Scenario: s\n    Then the reply is the list:\n      | a |\n\n      | b | c |\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(
                "  f.feature:6: this table row has 2 cell(s), the table's first row (line 4) has 1"
            ),
            "{p:?}"
        );
        let p = problems(
            "Feature: f\n  Scenario: s\n    Given x:\n      | a | b |\n      | c |\n    Then y\n",
        );
        assert!(p[0].starts_with("  f.feature:5: "), "{p:?}");
        let p = problems(
            "Feature: f\n  Scenario: s\n    Given x:\n      | a \\| b | c | # note\n      | d | e |\n",
        );
        assert!(p.is_empty(), "{p:?}");
        let p = problems("Feature: f\n  Scenario: s\n    Given x:\n      | a\n");
        assert!(p[0].contains(":4: this table row is not closed"), "{p:?}");
        let p = problems(
            "Feature: f\n  Scenario: s\n    Given x:\n      \"\"\"\n      text\n    Then y\n",
        );
        assert!(
            p[0].starts_with("  f.feature:4: this doc string is never closed"),
            "{p:?}"
        );
        let p = problems(
            "Feature: f\n  Scenario: s\n    Given x:\n      ```\n      | a |\n      | b | c |\n      ```\n    Then y\n",
        );
        assert!(p.is_empty(), "a doc string's text is not a table: {p:?}");
        let p = problems("Feature: f\n  | a |\n  | b | c |\n  Scenario: s\n    Given x\n");
        assert!(p.is_empty(), "a feature's description is prose: {p:?}");
    }

    #[test]
    fn a_scenario_in_a_step_library_is_named() {
        let p = check(
            "l.steps",
            "Step: a\n  When I run `PING`\n\nScenario: b\n  When I run `PING`\n",
            Kind::Library,
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("  l.steps:4: a step library holds `Step:` blocks"),
            "{p:?}"
        );
    }
}
