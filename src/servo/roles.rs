//! The roles file (`roles.toml`): each role of the application under test
//! and how to start each of its implementations.
//!
//! ```toml
//! [roles.producer]
//! python = "python3 app/producer.py"
//! node = "node app/producer.js"
//!
//! [roles.consumer]
//! python = { command = "python3 app/consumer.py", env = { LOG_LEVEL = "debug" } }
//! ```
//!
//! Commands run through `sh -c` with the file's directory as their working
//! directory. Everything wrong is reported with `file:line`: a key the file
//! does not know, a role without implementations, a command that is not a
//! string, a name a sentence or a scenario name could not carry.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The file name looked for beside the features.
pub const FILE_NAME: &str = "roles.toml";

/// How to start one implementation of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Implementation {
    /// Its name (`python`).
    pub name: String,
    /// The command line, run by `sh -c`.
    pub command: String,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// The line of the roles file that declares it.
    pub line: usize,
}

/// One role and its implementations, in the order the file lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Its name (`producer`).
    pub name: String,
    /// Its implementations, the first one being the default.
    pub implementations: Vec<Implementation>,
    /// The line of its table.
    pub line: usize,
}

impl Role {
    /// The implementation called `name`.
    pub fn implementation(&self, name: &str) -> Option<&Implementation> {
        self.implementations.iter().find(|i| i.name == name)
    }
}

/// A parsed roles file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    /// The file it was read from.
    pub file: PathBuf,
    /// Where its commands run: the file's directory.
    pub dir: PathBuf,
    /// The roles, by name.
    pub roles: BTreeMap<String, Role>,
}

impl Roles {
    /// Reads and checks a roles file.
    pub fn load(file: &Path) -> Result<Roles> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::io(format!("reading the roles file {}", file.display()), e))?;
        Roles::parse(file, &text)
    }

    /// Parses the text of a roles file read from `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Roles> {
        let place = |span: Option<Range<usize>>| match span {
            Some(s) => format!("{}:{}", file.display(), line_of(text, s.start)),
            None => file.display().to_string(),
        };
        let bad = |span: Option<Range<usize>>, what: String| Error::Config {
            what: format!("{}: {what}", place(span)),
            hint: HINT.into(),
        };
        let raw: Raw = toml::from_str(text)
            .map_err(|e| bad(e.span(), e.message().trim().replace('\n', " ")))?;
        let Some(roles_table) = raw.roles else {
            return Err(bad(
                None,
                "declares no role: it has no [roles.<name>] table".into(),
            ));
        };
        let mut roles = BTreeMap::new();
        for (name, table) in roles_table.into_inner() {
            let role_line = line_of(text, table.span().start);
            check_name(&name, "role")
                .map_err(|why| bad(Some(table.span()), format!("the role {name:?} {why}")))?;
            let mut implementations = Vec::new();
            let table_span = table.span();
            for (impl_name, value) in table.into_inner() {
                let span = value.span();
                check_name(&impl_name, "implementation").map_err(|why| {
                    bad(
                        Some(span.clone()),
                        format!("the implementation {impl_name:?} of role {name:?} {why}"),
                    )
                })?;
                let (command, env) = implementation_of(value.into_inner()).map_err(|why| {
                    bad(
                        Some(span.clone()),
                        format!("implementation {impl_name:?} of role {name:?}: {why}"),
                    )
                })?;
                implementations.push((
                    span.start,
                    Implementation {
                        name: impl_name,
                        command,
                        env,
                        line: line_of(text, span.start),
                    },
                ));
            }
            if implementations.is_empty() {
                return Err(bad(
                    Some(table_span),
                    format!(
                        "the role {name:?} has no implementation: add a line such as python = \"python3 app/{name}.py\""
                    ),
                ));
            }
            // The file's order: the first one is the default.
            implementations.sort_by_key(|(start, _)| *start);
            roles.insert(
                name.clone(),
                Role {
                    name,
                    implementations: implementations.into_iter().map(|(_, i)| i).collect(),
                    line: role_line,
                },
            );
        }
        if roles.is_empty() {
            return Err(bad(None, "declares no role: [roles] is empty".into()));
        }
        let dir = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(Roles {
            file: file.to_path_buf(),
            dir,
            roles,
        })
    }

    /// The role called `name`.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name)
    }

    /// The declared roles' names, for messages: `"consumer", "producer"`.
    pub fn names(&self) -> String {
        self.roles
            .keys()
            .map(|r| format!("\"{r}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

const HINT: &str = "a roles file holds [roles.<role>] tables of <implementation> = \"<command>\" or <implementation> = { command = \"...\", env = { NAME = \"value\" } } (docs/src/servos/protocol.md: \"The roles file\")";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    roles: Option<toml::Spanned<BTreeMap<String, RawRole>>>,
}

/// A role's table: implementation name → command or table, with spans.
type RawRole = toml::Spanned<BTreeMap<String, toml::Spanned<toml::Value>>>;

/// A command string, or a table with `command` and `env`.
fn implementation_of(
    value: toml::Value,
) -> std::result::Result<(String, Vec<(String, String)>), String> {
    match value {
        toml::Value::String(command) if !command.trim().is_empty() => Ok((command, Vec::new())),
        toml::Value::String(_) => Err("the command is empty".into()),
        toml::Value::Table(mut table) => {
            let command = match table.remove("command") {
                Some(toml::Value::String(c)) if !c.trim().is_empty() => c,
                Some(toml::Value::String(_)) => return Err("the command is empty".into()),
                Some(other) => {
                    return Err(format!("command is a {}, not a string", other.type_str()));
                }
                None => return Err("the table has no command = \"...\"".into()),
            };
            let mut env = Vec::new();
            match table.remove("env") {
                None => {}
                Some(toml::Value::Table(vars)) => {
                    for (k, v) in vars {
                        match v {
                            toml::Value::String(v) => env.push((k, v)),
                            other => {
                                return Err(format!(
                                    "env.{k} is a {}, not a string",
                                    other.type_str()
                                ));
                            }
                        }
                    }
                }
                Some(other) => {
                    return Err(format!(
                        "env is a {}, not a table of strings",
                        other.type_str()
                    ));
                }
            }
            if let Some(key) = table.keys().next() {
                return Err(format!(
                    "unknown key {key:?} (an implementation's table has command and env)"
                ));
            }
            Ok((command, env))
        }
        other => Err(format!(
            "the command is a {}, not a string",
            other.type_str()
        )),
    }
}

/// Names appear in sentences (`the "producer" process`) and in scenario
/// names (`[producer=python]`): no quotes, brackets, `=`, `,` or spaces.
fn check_name(name: &str, what: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err(format!("is empty: name the {what}"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "holds {c:?}: a {what} name is letters, digits, -, _ and ."
        ));
    }
    Ok(())
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Roles> {
        Roles::parse(Path::new("features/roles.toml"), text)
    }

    fn error(text: &str) -> String {
        parse(text).expect_err("an error").to_string()
    }

    #[test]
    fn reads_commands_and_tables_in_file_order() {
        let roles = parse(
            "[roles.producer]\nnode = \"node p.js\"\npython = \"python3 p.py\"\n\n[roles.consumer]\npython = { command = \"python3 c.py\", env = { LOG = \"debug\" } }\n",
        )
        .unwrap();
        let p = roles.role("producer").unwrap();
        let names: Vec<&str> = p.implementations.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["node", "python"], "the file's order, not sorted");
        assert_eq!(p.implementations[1].line, 3);
        let c = roles.role("consumer").unwrap();
        assert_eq!(c.implementations[0].command, "python3 c.py");
        assert_eq!(c.implementations[0].env, [("LOG".into(), "debug".into())]);
        assert_eq!(roles.dir, Path::new("features"));
    }

    #[test]
    fn unknown_top_level_key_names_its_line() {
        let e = error("[roles.a]\npython = \"x\"\n[servos]\nb = 1\n");
        assert!(e.contains("features/roles.toml:3"), "{e}");
        assert!(e.contains("servos"), "{e}");
    }

    #[test]
    fn empty_role_is_an_error_with_its_line() {
        let e = error("[roles.a]\npython = \"x\"\n\n[roles.empty]\n");
        assert!(e.contains("features/roles.toml:4"), "{e}");
        assert!(e.contains("\"empty\" has no implementation"), "{e}");
    }

    #[test]
    fn command_that_is_not_a_string() {
        let e = error("[roles.a]\npython = 3\n");
        assert!(e.contains("features/roles.toml:2"), "{e}");
        assert!(e.contains("is a integer, not a string"), "{e}");
        let e = error("[roles.a]\npython = { command = [\"x\"] }\n");
        assert!(e.contains("command is a array, not a string"), "{e}");
        let e = error("[roles.a]\npython = { command = \"x\", cwd = \"y\" }\n");
        assert!(e.contains("unknown key \"cwd\""), "{e}");
    }

    #[test]
    fn names_that_a_sentence_cannot_carry() {
        let e = error("[roles.\"my role\"]\npython = \"x\"\n");
        assert!(e.contains("holds ' '"), "{e}");
        let e = error("[roles.a]\n\"py=3\" = \"x\"\n");
        assert!(e.contains("holds '='"), "{e}");
    }

    #[test]
    fn no_roles_at_all() {
        assert!(error("").contains("declares no role"));
        assert!(error("[roles]\n").contains("declares no role"));
    }

    #[test]
    fn toml_syntax_error_names_its_line() {
        let e = error("[roles.a]\npython = \"x\n");
        assert!(e.contains("features/roles.toml:2"), "{e}");
    }
}
