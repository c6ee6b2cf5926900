//! Combinations: a scenario that names a role with several implementations
//! runs once per combination of the implementations of the roles it names,
//! each a scenario of its own, named `Orders flow [consumer=node,
//! producer=python]` and tagged `@role:consumer=node @role:producer=python`.
//!
//! The scenarios are multiplied as the features are read, before any
//! criterion applies: a combination is a scenario like any other for the
//! filters, `--name`, `--tags`, `--exact`, shards, `--list`, the summary
//! and every report. Its tags carry the combination to the world, which
//! starts each role's servo in the implementation named.
//!
//! Two options choose among the combinations:
//! - `--role producer=python` (repeatable; or `VALKEY_BDD_ROLES=
//!   "producer=python,consumer=node"`) keeps one implementation of a role;
//! - `--combinations all|each|one` (or `VALKEY_BDD_COMBINATIONS`): every
//!   combination (the default); as few as run each implementation at least
//!   once; or one, each role's first implementation in its roles file.
//!
//! Names do not depend on either option: a role with several
//! implementations is always in the name, so that a test named by
//! `--list` is found again by `--exact` whatever the options.

use std::collections::BTreeMap;

use cucumber::gherkin;

use crate::error::{Error, Result};
use crate::servo::{self, Combination, Roles};

/// The environment variable choosing implementations of roles.
pub const ENV_ROLES: &str = "VALKEY_BDD_ROLES";
/// The environment variable choosing how many combinations run.
pub const ENV_COMBINATIONS: &str = "VALKEY_BDD_COMBINATIONS";

/// The tag each role of a combination adds: `@role:producer=python`.
pub const TAG: &str = "role";

inventory::submit! {
    crate::settings::Check {
        variable: ENV_ROLES,
        check: || match std::env::var(ENV_ROLES) {
            Ok(spec) if !spec.trim().is_empty() => parse_picks(&spec, ENV_ROLES).map(drop),
            _ => Ok(()),
        },
    }
}

inventory::submit! {
    crate::settings::Check {
        variable: ENV_COMBINATIONS,
        check: || match std::env::var(ENV_COMBINATIONS) {
            Ok(v) if !v.trim().is_empty() => Mode::parse(&v, ENV_COMBINATIONS).map(drop),
            _ => Ok(()),
        },
    }
}

/// How many combinations of a scenario run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Every combination.
    #[default]
    All,
    /// As few as run each implementation of each role at least once.
    Each,
    /// One: each role's first implementation (or the one `--role` keeps).
    One,
}

impl Mode {
    /// `all`, `each` or `one`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::All => "all",
            Mode::Each => "each",
            Mode::One => "one",
        }
    }

    /// Reads `all`, `each` or `one`; `from` names where the value came from.
    pub fn parse(value: &str, from: &str) -> Result<Mode> {
        match value.trim() {
            "all" => Ok(Mode::All),
            "each" => Ok(Mode::Each),
            "one" => Ok(Mode::One),
            other => Err(Error::Config {
                what: format!("{from} is {other:?}, not all, each or one"),
                hint: "all runs every combination of the roles' implementations, each runs every implementation at least once, one runs each role's first implementation".into(),
            }),
        }
    }
}

/// What the run asks of the combinations.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    /// How many run.
    pub mode: Mode,
    /// The implementation kept for a role, by role.
    pub picks: BTreeMap<String, String>,
    /// Where the picks came from, for messages: `--role`, `VALKEY_BDD_ROLES`.
    pub from: String,
}

impl Choice {
    /// The command line's `--role` values and `--combinations`, else the
    /// environment's.
    pub fn new(roles: &[String], mode: Option<&str>) -> Result<Choice> {
        let mode = match mode {
            Some(m) => Mode::parse(m, "--combinations")?,
            None => match std::env::var(ENV_COMBINATIONS) {
                Ok(v) if !v.trim().is_empty() => Mode::parse(&v, ENV_COMBINATIONS)?,
                _ => Mode::All,
            },
        };
        let (pairs, from) = if roles.is_empty() {
            match std::env::var(ENV_ROLES) {
                Ok(v) if !v.trim().is_empty() => (parse_picks(&v, ENV_ROLES)?, ENV_ROLES),
                _ => (Vec::new(), "--role"),
            }
        } else {
            let mut pairs = Vec::new();
            for r in roles {
                pairs.extend(parse_picks(r, "--role")?);
            }
            (pairs, "--role")
        };
        let mut picks = BTreeMap::new();
        for (role, implementation) in pairs {
            if let Some(before) = picks.insert(role.clone(), implementation.clone())
                && before != implementation
            {
                return Err(Error::Config {
                    what: format!(
                        "{from} keeps two implementations of the role \"{role}\": {before} and {implementation}"
                    ),
                    hint: "keep one implementation per role; to run several, leave the role out and let --combinations choose".into(),
                });
            }
        }
        Ok(Choice {
            mode,
            picks,
            from: from.into(),
        })
    }

    /// Checks that every pick names a role some roles file of the run
    /// declares, with that implementation.
    pub fn check(&self, files: &[&Roles]) -> Result<()> {
        for (role, implementation) in &self.picks {
            let declaring: Vec<&&Roles> = files.iter().filter(|r| r.role(role).is_some()).collect();
            if declaring.is_empty() {
                let known: Vec<String> = files.iter().map(|r| r.names()).collect();
                return Err(Error::Config {
                    what: format!(
                        "{} {role}={implementation}: no roles file of this run declares the role \"{role}\"{}",
                        self.from,
                        if known.is_empty() {
                            " (no feature of the run has a roles file)".to_string()
                        } else {
                            format!(" (they declare {})", known.join("; "))
                        }
                    ),
                    hint:
                        "name a role of the roles.toml beside the features, as role=implementation"
                            .into(),
                });
            }
            for r in declaring {
                let declared = &r.roles[role];
                if declared.implementation(implementation).is_none() {
                    return Err(Error::Config {
                        what: format!(
                            "{} {role}={implementation}: the role \"{role}\" of {} has no implementation \"{implementation}\" (it has {})",
                            self.from,
                            servo::relative(&r.file),
                            implementations_of(declared)
                        ),
                        hint: "name one of the role's implementations as the roles file spells it"
                            .into(),
                    });
                }
            }
        }
        Ok(())
    }
}

fn implementations_of(role: &servo::Role) -> String {
    role.implementations
        .iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `role=implementation` pairs separated by commas.
pub fn parse_picks(spec: &str, from: &str) -> Result<Vec<(String, String)>> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((role, implementation))
                if !role.trim().is_empty() && !implementation.trim().is_empty() =>
            {
                Ok((role.trim().to_string(), implementation.trim().to_string()))
            }
            _ => Err(Error::Config {
                what: format!("{from} {pair:?} is not role=implementation"),
                hint: "write the role and the implementation its roles file names, such as producer=python (several separated by commas)".into(),
            }),
        })
        .collect()
}

/// `consumer=node, producer=python`: what a scenario's name carries.
pub fn label(combination: &Combination) -> String {
    combination
        .iter()
        .map(|(role, implementation)| format!("{role}={implementation}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The label a scenario's name ends with (`Orders flow [consumer=node,
/// producer=python]` → `consumer=node, producer=python`); empty when it
/// carries none. With its line, it tells the combinations of one scenario
/// apart.
pub fn label_of(name: &str) -> &str {
    let Some((_, inner)) = name.strip_suffix(']').and_then(|n| n.rsplit_once(" [")) else {
        return "";
    };
    let pairs = inner.split(", ").all(|pair| {
        pair.split_once('=')
            .is_some_and(|(r, i)| !r.is_empty() && !i.is_empty())
    });
    if pairs { inner } else { "" }
}

/// The implementation of each role a scenario runs, from its
/// `@role:<role>=<implementation>` tags (every role it names, one
/// implementation or several; the last tag of a role wins).
pub fn combination_of_tags(tags: &[String]) -> Combination {
    tags.iter()
        .filter_map(|t| t.strip_prefix(TAG)?.strip_prefix(':')?.split_once('='))
        .map(|(r, i)| (r.to_string(), i.to_string()))
        .collect()
}

/// Replaces each scenario of `feature` that names a role with several
/// implementations by one scenario per combination the choice keeps.
/// Every scenario that names roles gets a `@role:<role>=<implementation>`
/// tag for each. A role the roles file does not declare is left for the
/// check of role sentences to report.
pub fn multiply(feature: &mut gherkin::Feature, roles: &Roles, choice: &Choice) -> Result<()> {
    let background = named_roles(feature.background.iter().flat_map(|b| b.steps.iter()));
    let place = |s: &gherkin::Scenario| {
        format!(
            "{}:{}",
            feature.path.as_deref().map_or("?".into(), super::relative),
            s.position.line
        )
    };
    let mut plain = Vec::with_capacity(feature.scenarios.len());
    for s in std::mem::take(&mut feature.scenarios) {
        let at = place(&s);
        plain.extend(expand(s, &background, roles, choice, &at)?);
    }
    feature.scenarios = plain;
    for i in 0..feature.rules.len() {
        let mut names = background.clone();
        names.extend(named_roles(
            feature.rules[i]
                .background
                .iter()
                .flat_map(|b| b.steps.iter()),
        ));
        let mut out = Vec::new();
        for s in std::mem::take(&mut feature.rules[i].scenarios) {
            let at = place(&s);
            out.extend(expand(s, &names, roles, choice, &at)?);
        }
        feature.rules[i].scenarios = out;
    }
    Ok(())
}

fn named_roles<'a>(steps: impl Iterator<Item = &'a gherkin::Step>) -> Vec<String> {
    steps
        .filter_map(|s| servo::role_of(&s.value).map(|(r, _)| r.to_string()))
        .collect()
}

fn expand(
    scenario: gherkin::Scenario,
    inherited: &[String],
    roles: &Roles,
    choice: &Choice,
    place: &str,
) -> Result<Vec<gherkin::Scenario>> {
    let mut named: Vec<String> = inherited.to_vec();
    named.extend(named_roles(scenario.steps.iter()));
    named.sort();
    named.dedup();
    // Each declared role the scenario names, with the implementations it
    // may run: all, or the one the choice keeps.
    let mut lists: Vec<(String, Vec<String>, bool)> = Vec::new();
    for role in named {
        let Some(declared) = roles.role(&role) else {
            continue;
        };
        let all: Vec<String> = declared
            .implementations
            .iter()
            .map(|i| i.name.clone())
            .collect();
        let varies = all.len() > 1;
        let kept = match choice.picks.get(&role) {
            Some(pick) if all.contains(pick) => vec![pick.clone()],
            Some(pick) => {
                return Err(Error::Config {
                    what: format!(
                        "{place}: {} {role}={pick}: the role \"{role}\" of {} has no implementation \"{pick}\" (it has {})",
                        choice.from,
                        servo::relative(&roles.file),
                        all.join(", ")
                    ),
                    hint: "name one of the role's implementations as the roles file spells it"
                        .into(),
                });
            }
            None => all,
        };
        lists.push((role, kept, varies));
    }
    if lists.is_empty() {
        return Ok(vec![scenario]);
    }
    let combinations = combine(&lists, choice.mode);
    let varies = lists.iter().any(|(_, _, v)| *v);
    Ok(combinations
        .into_iter()
        .map(|combination| {
            let mut s = scenario.clone();
            for (role, implementation) in &combination {
                s.tags.push(format!("{TAG}:{role}={implementation}"));
            }
            if varies {
                let shown: Combination = combination
                    .into_iter()
                    .filter(|(role, _)| lists.iter().any(|(r, _, v)| r == role && *v))
                    .collect();
                s.name = format!("{} [{}]", s.name, label(&shown));
            }
            s
        })
        .collect())
}

/// The combinations of the roles' lists the mode keeps, in order: the
/// first role's implementations vary slowest.
fn combine(lists: &[(String, Vec<String>, bool)], mode: Mode) -> Vec<Combination> {
    let pick = |i: usize| -> Combination {
        lists
            .iter()
            .map(|(role, list, _)| (role.clone(), list[i % list.len()].clone()))
            .collect()
    };
    match mode {
        Mode::One => vec![pick(0)],
        Mode::Each => {
            let n = lists.iter().map(|(_, l, _)| l.len()).max().unwrap_or(1);
            (0..n).map(pick).collect()
        }
        Mode::All => {
            let mut out = vec![Combination::new()];
            for (role, list, _) in lists {
                out = out
                    .into_iter()
                    .flat_map(|c| {
                        list.iter().map(move |i| {
                            let mut c = c.clone();
                            c.insert(role.clone(), i.clone());
                            c
                        })
                    })
                    .collect();
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles() -> Roles {
        Roles::parse(
            std::path::Path::new("roles.toml"),
            "[roles.producer]\npython = \"p\"\nnode = \"n\"\n[roles.consumer]\npython = \"p\"\nnode = \"n\"\nrust = \"r\"\n[roles.auditor]\npython = \"p\"\n",
        )
        .unwrap()
    }

    fn feature(text: &str) -> gherkin::Feature {
        gherkin::Feature::parse(text, gherkin::GherkinEnv::default()).unwrap()
    }

    const FEATURE: &str = "Feature: F\n  Scenario: Orders flow\n    When the \"producer\" process publishes 3 orders\n    Then the \"consumer\" process receives 3 orders\n    And the \"auditor\" process saw them\n  Scenario: Plain\n    When I run `PING`\n";

    fn names(f: &gherkin::Feature) -> Vec<String> {
        f.scenarios.iter().map(|s| s.name.clone()).collect()
    }

    #[test]
    fn every_combination_of_roles_with_several_implementations() {
        let mut f = feature(FEATURE);
        multiply(&mut f, &roles(), &Choice::default()).unwrap();
        let n = names(&f);
        assert_eq!(n.len(), 7, "{n:?}");
        assert_eq!(n[0], "Orders flow [consumer=python, producer=python]");
        assert_eq!(n[1], "Orders flow [consumer=python, producer=node]");
        assert_eq!(n[5], "Orders flow [consumer=rust, producer=node]");
        assert_eq!(n[6], "Plain");
        // One role implemented once is tagged, not named.
        assert!(
            f.scenarios[0]
                .tags
                .contains(&"role:auditor=python".to_string())
        );
        assert!(
            f.scenarios[1]
                .tags
                .contains(&"role:producer=node".to_string())
        );
        assert!(f.scenarios[6].tags.is_empty());
        let c = combination_of_tags(&f.scenarios[1].tags);
        assert_eq!(label(&c), "auditor=python, consumer=python, producer=node");
        assert!(
            f.scenarios
                .iter()
                .all(|s| s.position.line == f.scenarios[0].position.line || s.name == "Plain")
        );
    }

    #[test]
    fn each_and_one_and_picks_keep_fewer_with_the_same_names() {
        let mut f = feature(FEATURE);
        let each = Choice {
            mode: Mode::Each,
            ..Choice::default()
        };
        multiply(&mut f, &roles(), &each).unwrap();
        assert_eq!(
            names(&f)[..3],
            [
                "Orders flow [consumer=python, producer=python]",
                "Orders flow [consumer=node, producer=node]",
                "Orders flow [consumer=rust, producer=python]"
            ]
        );
        let mut f = feature(FEATURE);
        let mut one = Choice {
            mode: Mode::One,
            ..Choice::default()
        };
        one.picks.insert("producer".into(), "python".into());
        multiply(&mut f, &roles(), &one).unwrap();
        assert_eq!(
            names(&f),
            ["Orders flow [consumer=python, producer=python]", "Plain"]
        );
        let mut bad = Choice::default();
        bad.picks.insert("producer".into(), "java".into());
        let err = multiply(&mut feature(FEATURE), &roles(), &bad)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no implementation \"java\" (it has python, node)"),
            "{err}"
        );
    }

    #[test]
    fn a_name_carries_its_combination() {
        assert_eq!(
            label_of("Orders flow [consumer=node, producer=python]"),
            "consumer=node, producer=python"
        );
        assert_eq!(label_of("Orders flow"), "");
        assert_eq!(label_of("Lists [a, b]"), "");
        assert_eq!(label_of("Lists [a=, b]"), "");
    }

    #[test]
    fn picks_are_read_and_checked() {
        assert_eq!(
            parse_picks("producer=python, consumer=node", "--role").unwrap(),
            [
                ("producer".to_string(), "python".to_string()),
                ("consumer".into(), "node".into())
            ]
        );
        assert!(parse_picks("producer", "--role").is_err());
        assert!(Mode::parse("some", "--combinations").is_err());
        let r = roles();
        let mut c = Choice::default();
        c.picks.insert("writer".into(), "python".into());
        let err = c.check(&[&r]).unwrap_err().to_string();
        assert!(
            err.contains("no roles file of this run declares the role \"writer\""),
            "{err}"
        );
        let err = c.check(&[]).unwrap_err().to_string();
        assert!(
            err.contains("no feature of the run has a roles file"),
            "{err}"
        );
    }
}
