//! The unknown-step check: every step of the files a run reads must match a
//! sentence, before any server starts; a near miss names the closest ones.

use super::select::Gate;
use crate::error::{Error, Result};
use crate::glossary;
use cucumber::gherkin;

/// Reports the steps of every scenario the run reads (selected or not: a
/// typo anywhere is caught before any server starts) that match no
/// sentence, with the closest known sentences.
pub fn check_steps(gate: &Gate) -> Result<()> {
    let steps = glossary::registered();
    // A background's steps come with every scenario of its file: each step
    // of a file is checked once (by line and text, in a set per file).
    let mut seen: std::collections::HashMap<
        &std::path::Path,
        std::collections::HashSet<(usize, &str)>,
    > = std::collections::HashMap::new();
    let mut unknown = Vec::new();
    let mut unused = Vec::new();
    let mut misnamed = Vec::new();
    for c in &gate.candidates {
        let seen = seen.entry(c.path.as_path()).or_default();
        for step in &c.steps {
            if !seen.insert((step.position.line, step.value.as_str())) {
                continue;
            }
            let call = gate.calls.get(&(c.path.clone(), step.position.line));
            let inner = format!("{}{}", step.keyword, step.value);
            // The user's own step, when a definition wrote this one.
            let mut entry = match call {
                Some(call) => format!(
                    "  {}:{}  {}\n    calls \"{}\" ({}), whose step {} becomes\n      {inner}",
                    super::relative(&c.path),
                    step.position.line,
                    call.step,
                    call.sentence,
                    call.defined_at,
                    call.place_of(&inner).unwrap_or("?"),
                ),
                None => format!(
                    "  {}:{}  {inner}",
                    super::relative(&c.path),
                    step.position.line,
                ),
            };
            if crate::servo::role_of(&step.value).is_some() {
                // The role's servos say whether they know it
                // (super::servos::check).
                continue;
            }
            let names = super::names::problems(step);
            if !names.is_empty() {
                for problem in names {
                    entry.push_str(&format!("\n    {problem}"));
                }
                misnamed.push(entry);
                continue;
            }
            let keyword = keyword_of(step);
            if glossary::is_known(keyword, &step.value) {
                if let Some(what) = unused_block(keyword, step) {
                    unused.push(format!(
                        "  {}:{}  {}{}\n    {what}",
                        super::relative(&c.path),
                        step.position.line,
                        step.keyword,
                        step.value
                    ));
                }
                continue;
            }
            if let Some(call) = call {
                let args = call.arguments_of(&inner);
                entry.push_str(&if args.is_empty() {
                    "\n    which matches no sentence".to_string()
                } else {
                    format!(
                        "\n    which matches no sentence: the argument {} does not fit there",
                        args.join(" or ")
                    )
                });
            }
            if let Some(other) = steps
                .iter()
                .find(|s| s.keyword != keyword && s.regex.is_match(&step.value))
            {
                entry.push_str(&format!(
                    "\n    this sentence is a {0} step: write it after {0} (an And or But takes the keyword of the step before it)",
                    other.keyword
                ));
            } else {
                entry.push_str(&format!(
                    "\n    closest known sentences:\n{}",
                    closest(keyword, &step.value, steps, &gate.defined)
                ));
            }
            unknown.push(entry);
        }
    }
    if !misnamed.is_empty() {
        return Err(Error::Unknown {
            what: format!(
                "{} step(s) name a remembered value against the rule:\n{}",
                misnamed.len(),
                misnamed.join("\n")
            ),
            hint: format!(
                "{}: write ${{size_before}}, When I remember the reply as \"size_before\" (docs/src/writing-features.md: \"Writing features\")",
                super::names::RULE
            ),
        });
    }
    if unknown.is_empty() && !unused.is_empty() {
        return Err(Error::Parse {
            what: format!(
                "{} step(s) carry a table or doc string that their sentence does not take:\n{}",
                unused.len(),
                unused.join("\n")
            ),
            hint: "a table or doc string goes under a sentence that ends in `:` (STEPS.md); indent it under the step that takes it, or remove it".into(),
        });
    }
    if unknown.is_empty() {
        return Ok(());
    }
    Err(Error::Unknown {
        what: format!(
            "{} step(s) match no step definition:\n{}",
            unknown.len(),
            unknown.join("\n")
        ),
        hint: "STEPS.md lists every sentence valkey-bdd knows (`valkey-bdd steps` adds the step libraries'); define new ones in a *.steps file, or in Rust with #[given]/#[when]/#[then] on ValkeyWorld".into(),
    })
}

/// Why a known step's table or doc string would be ignored: every
/// sentence of valkey-bdd's own vocabulary that takes one ends in `:`, and
/// a step matching only others' would never read it. Sentences of other
/// crates are not judged (their convention is theirs).
fn unused_block(keyword: &str, step: &gherkin::Step) -> Option<String> {
    let block = match (&step.table, &step.docstring) {
        (Some(_), _) => "a table",
        (None, Some(_)) => "a doc string",
        (None, None) => return None,
    };
    let steps = glossary::registered();
    let matching = glossary::matching(keyword, &step.value);
    let own = |i: &usize| std::path::Path::new(steps[*i].path).starts_with(own_folder());
    let takes = |i: &usize| {
        steps[*i]
            .regex
            .as_str()
            .trim_end_matches('$')
            .ends_with(':')
    };
    (!matching.is_empty() && matching.iter().all(own) && !matching.iter().any(takes)).then(|| {
        format!("this sentence takes no table or doc string: {block} under it would never be read")
    })
}

/// The folder of valkey-bdd's own step definitions, as the compiler named
/// it: that of the step behind `Given a server`.
fn own_folder() -> &'static str {
    static FOLDER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        glossary::registered()
            .iter()
            .find(|s| s.keyword == "Given" && s.regex.is_match("a server"))
            .and_then(|s| std::path::Path::new(s.path).parent())
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    });
    &FOLDER
}

fn keyword_of(step: &gherkin::Step) -> &'static str {
    match step.ty {
        gherkin::StepType::Given => "Given",
        gherkin::StepType::When => "When",
        gherkin::StepType::Then => "Then",
    }
}

/// The three known sentences closest to `text`: the built-in ones and the
/// step libraries' (`defined`, usable with any keyword).
pub(super) fn closest(
    keyword: &str,
    text: &str,
    steps: &[glossary::RegisteredStep],
    defined: &[String],
) -> String {
    let text = &as_template(text);
    let defined = defined.iter().map(|sentence| {
        (
            strsim::normalized_levenshtein(text, &as_template(sentence)) + 0.02,
            format!("      {keyword} {sentence}   (a step library's)"),
        )
    });
    let mut scored: Vec<(f64, String)> = steps
        .iter()
        .map(|s| {
            let sentence = glossary::sentence_of(&s.regex);
            // Sentences of the step's own keyword win a near tie.
            let bonus = if s.keyword == keyword { 0.02 } else { 0.0 };
            (
                strsim::normalized_levenshtein(text, &sentence) + bonus,
                format!("      {} {sentence}", s.keyword),
            )
        })
        .chain(defined)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored
        .into_iter()
        .take(3)
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A step's text with its values replaced by the parameters a sentence
/// shows (`{command}`, `{string}`, `{server}`, `{int}`), so that a typo is
/// measured against sentences, not against the values it carries.
fn as_template(text: &str) -> String {
    static RULES: std::sync::LazyLock<Vec<(regex::Regex, &'static str)>> = std::sync::LazyLock::new(
        || {
            [
                (r"`[^`]*`", "{command}"),
                (r#"(?:server |the node that owns )"[^"]*""#, "{server}"),
                (r#""[^"]*""#, "{string}"),
                (
                    r"\b(?:the server|the primary of shard \d+|the replica of shard \d+|the primary|the replica|replica \d+|node \d+)\b",
                    "{server}",
                ),
                (r"\b\d+\b", "{int}"),
            ]
            .into_iter()
            .map(|(pattern, to)| (regex::Regex::new(pattern).expect("valid regex"), to))
            .collect()
        },
    );
    let mut out = text.to_string();
    for (re, to) in RULES.iter() {
        out = re.replace_all(&out, *to).into_owned();
    }
    out
}
