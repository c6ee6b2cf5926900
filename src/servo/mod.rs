//! Servos: processes of the application under test that serve the step
//! sentences of one role (`When the "producer" process publishes 3 orders`)
//! in one implementation (Python, Node, Rust, ...), over the protocol of
//! `docs/src/servos/protocol.md`: JSON-RPC 2.0, one object per line, on a
//! Unix socket the harness listens on.
//!
//! - [`roles`]: the roles file, `roles.toml`, beside the features.
//! - [`connection`]: the socket's framing, each call under a deadline.
//! - [`host`]: one servo's process, started in a process group of its own,
//!   its output in files, stopped at the scenario's end or when dropped.
//! - [`discover`]: every implementation asked, before any server starts,
//!   whether it knows the sentences the run will send it.
//!
//! Nothing here knows Gherkin or the world: the runner and the steps hand
//! it plain text.

pub mod connection;
pub mod host;
pub mod roles;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::LazyLock;

use serde_json::{Value, json};

pub use host::{Failure, Launch, Servo};
pub use roles::{Implementation, Role, Roles};

use crate::error::{Error, Result};

/// The protocol version this harness speaks.
pub const PROTOCOL: u64 = 1;
/// The environment variable holding the socket's path.
pub const ENV_SOCKET: &str = "VALKEY_BDD_SERVO";
/// The environment variable holding the servo's role.
pub const ENV_ROLE: &str = "VALKEY_BDD_ROLE";
/// The environment variable holding the servo's implementation.
pub const ENV_IMPLEMENTATION: &str = "VALKEY_BDD_IMPLEMENTATION";
/// The JSON-RPC error code of a sentence no pattern matches.
pub const NO_MATCH: i64 = -32001;

/// The one spelling of a step that names a role, `the "<role>" process
/// <rest>`, as a regular expression: the role, then the rest. The step of
/// `steps/servos.rs` registers the same text (tests/glossary.rs checks it).
pub const ROLE_PATTERN: &str = r#"^the "([^"\\]+)" process (.+)$"#;

/// The step text naming `role`, followed by `rest`.
pub fn role_sentence(role: &str, rest: &str) -> String {
    format!("the \"{role}\" process {rest}")
}

/// `the "<role>" process <rest>`: the role and the rest, when a step's text
/// names a role.
pub fn role_of(text: &str) -> Option<(&str, &str)> {
    static RE: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(ROLE_PATTERN).expect("valid regex"));
    let c = RE.captures(text)?;
    Some((c.get(1)?.as_str(), c.get(2)?.as_str()))
}

/// A role sentence of the run, where it is written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sentence {
    /// The role it names.
    pub role: String,
    /// The text after `the "<role>" process `.
    pub rest: String,
    /// `features/orders.feature:14`.
    pub place: String,
    /// The step as written (keyword and text).
    pub step: String,
}

/// A pattern a servo registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// `publishes {int} orders`.
    pub pattern: String,
    /// Its description, if it gave one.
    pub description: String,
}

/// What one implementation of a role serves.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// The role.
    pub role: String,
    /// The implementation.
    pub implementation: String,
    /// The servo's own name (library and version).
    pub name: String,
    /// Its patterns.
    pub patterns: Vec<Pattern>,
}

/// Starts every implementation of every role that `sentences` name (or of
/// every role, when `all_roles`), asks each for its patterns and whether it
/// matches each sentence of its role, and stops it. A sentence naming a
/// role the file does not declare, or that some implementation does not
/// match, fails with its place and the nearest patterns; a servo that fails
/// to start or answer fails with its stderr.
pub async fn discover(
    roles: &Roles,
    sentences: &[Sentence],
    all_roles: bool,
    dir: &Path,
) -> Result<Vec<Discovered>> {
    let undeclared: Vec<String> = sentences
        .iter()
        .filter(|s| roles.role(&s.role).is_none())
        .map(|s| {
            format!(
                "  {}  {}\n    no role \"{}\" in {} (it declares {})",
                s.place,
                s.step,
                s.role,
                relative(&roles.file),
                roles.names()
            )
        })
        .collect();
    if !undeclared.is_empty() {
        return Err(Error::Unknown {
            what: format!(
                "{} step(s) name a role the roles file does not declare:\n{}",
                undeclared.len(),
                undeclared.join("\n")
            ),
            hint: format!(
                "declare the role in {} ([roles.<name>] with an implementation), or correct its name",
                relative(&roles.file)
            ),
        });
    }
    let used: BTreeSet<&str> = sentences.iter().map(|s| s.role.as_str()).collect();
    let launches: Vec<Launch> = roles
        .roles
        .values()
        .filter(|r| all_roles || used.contains(r.name.as_str()))
        .flat_map(|r| {
            r.implementations.iter().map(|i| Launch {
                role: r.name.clone(),
                implementation: i.clone(),
                cwd: roles.dir.clone(),
            })
        })
        .collect();
    let results = futures::future::join_all(launches.into_iter().map(|launch| {
        let mine: Vec<&Sentence> = sentences.iter().filter(|s| s.role == launch.role).collect();
        ask(launch, mine, dir)
    }))
    .await;
    let mut failures = Vec::new();
    let mut unknown = Vec::new();
    let mut out = Vec::new();
    for r in results {
        match r {
            Err(f) => failures.push(f.message),
            Ok((d, missing)) => {
                unknown.extend(missing);
                out.push(d);
            }
        }
    }
    if !failures.is_empty() {
        return Err(Error::Config {
            what: format!(
                "{} servo(s) could not be asked for their sentences (before any server started):\n{}",
                failures.len(),
                failures.join("\n")
            ),
            hint: format!(
                "run the command of the roles file ({}) by hand with {ENV_SOCKET} set; docs/src/servos/protocol.md: \"Transport and framing\" says what a servo does",
                relative(&roles.file)
            ),
        });
    }
    if !unknown.is_empty() {
        return Err(Error::Unknown {
            what: format!(
                "{} role step(s) match no sentence of their servo:\n{}",
                unknown.len(),
                unknown.join("\n")
            ),
            hint: "`valkey-bdd steps` lists every role's sentences; register the pattern in the servo of each implementation, or correct the step".into(),
        });
    }
    Ok(out)
}

/// One implementation's patterns, and the sentences of its role that it
/// does not match (as message entries).
async fn ask(
    launch: Launch,
    sentences: Vec<&Sentence>,
    dir: &Path,
) -> std::result::Result<(Discovered, Vec<String>), Failure> {
    let mut servo = Servo::start(launch.clone(), dir).await?;
    let result = talk(&mut servo, &sentences).await;
    let result = match result {
        Ok(r) => Ok(r),
        Err((what, e)) => Err(servo.failed_now(&what, e).await),
    };
    servo.stop().await;
    let (patterns, matches) = result?;
    let mut missing = Vec::new();
    let texts = distinct(&sentences);
    let unmatched: BTreeSet<&str> = texts
        .iter()
        .zip(&matches)
        .filter(|(_, m)| m.is_none())
        .map(|(t, _)| *t)
        .collect();
    for s in sentences
        .iter()
        .filter(|s| unmatched.contains(s.rest.as_str()))
    {
        missing.push(format!(
            "  {}  {}\n    {} has no pattern for {:?}; nearest:\n{}",
            s.place,
            s.step,
            launch.describe(),
            s.rest,
            nearest(&s.rest, &patterns)
        ));
    }
    Ok((
        Discovered {
            role: launch.role.clone(),
            implementation: launch.implementation.name.clone(),
            name: servo.name.clone(),
            patterns,
        },
        missing,
    ))
}

type Talk = std::result::Result<
    (Vec<Pattern>, Vec<Option<String>>),
    (String, Option<connection::CallError>),
>;

async fn talk(servo: &mut Servo, sentences: &[&Sentence]) -> Talk {
    let answer = servo
        .call("discover", json!({}), host::SETUP_DEADLINE)
        .await
        .map_err(|e| (format!("discover failed: {e}"), Some(e)))?;
    let patterns = patterns_of(&answer).ok_or_else(|| {
        (
            format!("discover answered {answer}, not {{\"steps\": [{{\"pattern\": ...}}]}}"),
            None,
        )
    })?;
    let texts = distinct(sentences);
    if texts.is_empty() {
        return Ok((patterns, Vec::new()));
    }
    let answer = servo
        .call("match", json!({ "sentences": texts }), host::SETUP_DEADLINE)
        .await
        .map_err(|e| (format!("match failed: {e}"), Some(e)))?;
    let matches: Option<Vec<Option<String>>> = answer
        .get("matches")
        .and_then(Value::as_array)
        .filter(|m| m.len() == texts.len())
        .map(|m| m.iter().map(|v| v.as_str().map(String::from)).collect());
    let matches = matches.ok_or_else(|| {
        (
            format!(
                "match answered {answer} for {} sentence(s): a \"matches\" list of as many patterns or nulls was expected",
                texts.len()
            ),
            None,
        )
    })?;
    Ok((patterns, matches))
}

/// The distinct texts of `sentences`, in a stable order.
fn distinct<'a>(sentences: &[&'a Sentence]) -> Vec<&'a str> {
    let set: BTreeSet<&str> = sentences.iter().map(|s| s.rest.as_str()).collect();
    set.into_iter().collect()
}

fn patterns_of(answer: &Value) -> Option<Vec<Pattern>> {
    answer
        .get("steps")?
        .as_array()?
        .iter()
        .map(|s| {
            Some(Pattern {
                pattern: s.get("pattern")?.as_str()?.to_string(),
                description: s
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            })
        })
        .collect()
}

/// The three patterns closest to `text`, one a line, or a note that there
/// are none.
pub fn nearest(text: &str, patterns: &[Pattern]) -> String {
    if patterns.is_empty() {
        return "      (it registered no pattern)".into();
    }
    let mut scored: Vec<(f64, &str)> = patterns
        .iter()
        .map(|p| {
            (
                strsim::normalized_levenshtein(&as_template(text), &p.pattern),
                p.pattern.as_str(),
            )
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored
        .into_iter()
        .take(3)
        .map(|(_, p)| format!("      {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Values of a sentence as the parameters a pattern shows, so that a typo
/// is measured against patterns, not against the values it carries.
fn as_template(text: &str) -> String {
    static RULES: LazyLock<Vec<(regex::Regex, &'static str)>> = LazyLock::new(|| {
        [
            (r#""[^"]*""#, "{string}"),
            (r"-?\b\d+\.\d+\b", "{float}"),
            (r"-?\b\d+\b", "{int}"),
        ]
        .into_iter()
        .map(|(p, to)| (regex::Regex::new(p).expect("valid regex"), to))
        .collect()
    });
    let mut out = text.to_string();
    for (re, to) in RULES.iter() {
        out = re.replace_all(&out, *to).into_owned();
    }
    out
}

/// A path as the user typed it: relative to the current directory when it
/// lies below it.
pub fn relative(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// The combination a scenario runs: each role it names with an
/// implementation.
pub type Combination = BTreeMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_step_is_recognised() {
        assert_eq!(
            role_of(r#"the "producer" process publishes 3 orders"#),
            Some(("producer", "publishes 3 orders"))
        );
        assert_eq!(role_of(r#"process "worker" prints "x""#), None);
        assert_eq!(role_of(r#"the "producer" process"#), None);
    }

    #[test]
    fn nearest_patterns_come_first() {
        let p = |s: &str| Pattern {
            pattern: s.into(),
            description: String::new(),
        };
        let shown = nearest(
            "publishes 3 order",
            &[p("eats {string}"), p("publishes {int} orders"), p("waits")],
        );
        assert!(
            shown.trim_start().starts_with("publishes {int} orders"),
            "{shown}"
        );
    }
}
