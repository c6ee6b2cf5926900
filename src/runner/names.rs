//! The names of remembered values, checked when the files are read: a
//! `${placeholder}` or a `remember … as "name"` whose name breaks the rule
//! would otherwise be refused only once a server runs, or, in a comparison,
//! make the step an unknown sentence.
//!
//! The rule: a name is a word of letters, digits and `_`, not starting with
//! a digit (`size_before`); `${port:cache}`, `${client.bob.id}` and
//! `${x+1}` keep their own forms. (A built-in name remembered, `now`, is
//! refused when the step runs: the must-fail corpus has that twin.)

use cucumber::gherkin;
use regex::Regex;

/// The rule, as the messages say it.
pub const RULE: &str =
    "a remembered value's name is a word of letters, digits and _, not starting with a digit";

/// Whether `name` is a word: letters, digits, `_`, not starting with a digit.
pub fn is_word(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What is wrong with the names a step uses — its `${...}` placeholders
/// (text, doc string, table) and the name it remembers or reads a value
/// by — one message each; empty when nothing is. A name holding a step
/// library's `{parameter}` is left for when the parameter has its value.
pub fn problems(step: &gherkin::Step) -> Vec<String> {
    let mut out = Vec::new();
    let texts = std::iter::once(step.value.as_str())
        .chain(step.docstring.as_deref())
        .chain(
            step.table
                .iter()
                .flat_map(|t| t.rows.iter().flatten())
                .map(String::as_str),
        );
    for text in texts {
        out.extend(
            placeholders(text)
                .into_iter()
                .filter_map(placeholder_problem),
        );
    }
    static NAMED: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r#"^I remember .* as "([^"]*)"$|the remembered "([^"]*)""#).expect("valid regex")
    });
    for c in NAMED.captures_iter(&step.value) {
        let Some(name) = c.get(1).or_else(|| c.get(2)).map(|m| m.as_str()) else {
            continue;
        };
        if !name.contains('{') && !is_word(name) {
            out.push(format!(
                "\"{name}\" cannot be the name of a remembered value: {RULE} (\"{}\")",
                suggestion(name)
            ));
        }
    }
    out
}

/// The `${...}` placeholders of a text (not the `$${...}` that stand for
/// themselves), with what is between the braces.
fn placeholders(text: &str) -> Vec<&str> {
    static PLACEHOLDER: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"\$?\$\{([^}]*)\}").expect("valid regex"));
    PLACEHOLDER
        .captures_iter(text)
        .filter(|c| !c[0].starts_with("$$"))
        .map(|c| c.get(1).expect("group").as_str())
        .collect()
}

fn placeholder_problem(inside: &str) -> Option<String> {
    static ARITHMETIC: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"^(.+?)\s*[+-]\s*\d+$").expect("valid regex"));
    let name = inside.trim();
    let name = ARITHMETIC
        .captures(name)
        .map_or(name, |c| c.get(1).expect("group").as_str().trim());
    let own_form = ["host:", "port:", "url:"]
        .iter()
        .any(|p| name.starts_with(p))
        || name.starts_with("client.") && (name.ends_with(".id") || name.ends_with(".name"));
    if own_form || name.contains('{') || is_word(name) {
        return None;
    }
    Some(format!(
        "${{{inside}}}: \"{name}\" is not a name: {RULE} (${{{}}})",
        suggestion(name)
    ))
}

/// The name as a word: every other character becomes `_`.
fn suggestion(name: &str) -> String {
    let word: String = name
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if word.starts_with(|c: char| c.is_ascii_digit()) || word.is_empty() {
        format!("_{word}")
    } else {
        word
    }
}
