//! Which commands leave something behind on a server someone deployed,
//! read from that server's own `COMMAND` table (flags and ACL categories),
//! fetched once when the run connects.
//!
//! A command the server marks `admin`, `@admin` or `@dangerous`, or one
//! flagged `write` that names no key (server-wide state), has lasting
//! effects, unless it only reads or only touches the connection (a short
//! list below), or the harness undoes it at the scenario's end
//! ([`super::state`]): functions (`FUNCTION DUMP`, then `FUNCTION RESTORE`
//! of exactly that), the script cache when the server cached none of its
//! own (`SCRIPT FLUSH`), a client pause (`CLIENT UNPAUSE`), keys in the
//! run's own databases. A command the server does not know has none: the
//! server refuses it.

use std::collections::HashMap;

use super::External;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::reply::Reply;

/// What the server says of one command (or subcommand).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Meta {
    /// `write`, `admin`, `readonly`, ... (lower case).
    flags: Vec<String>,
    /// `@admin`, `@dangerous`, ... (lower case).
    categories: Vec<String>,
    /// Whether it names keys (a first key, or key specs).
    keys: bool,
    /// Whether it has subcommands (`CONFIG`, `CLIENT`, ...).
    container: bool,
}

/// The server's `COMMAND` reply, by lower-case name: `get`, `config|set`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandTable {
    entries: HashMap<String, Meta>,
}

impl CommandTable {
    /// Reads the table with `COMMAND`; a refusal is an error saying why the
    /// harness needs it.
    pub async fn read(client: &mut Client, target: &str) -> Result<CommandTable> {
        match client.run("COMMAND").await? {
            Reply::Error(e) => Err(Error::Config {
                what: format!("the external server {target} refused `COMMAND`: {e}"),
                hint: "the harness reads from `COMMAND` which commands have lasting effects: allow it to the user of VALKEY_BDD_EXTERNAL (+command)".into(),
            }),
            reply => Ok(CommandTable::from_reply(&reply)),
        }
    }

    /// The table of a `COMMAND` reply (RESP2 or RESP3).
    pub fn from_reply(reply: &Reply) -> CommandTable {
        let mut table = CommandTable::default();
        for entry in items(reply) {
            table.add(entry);
        }
        table
    }

    fn add(&mut self, entry: &Reply) {
        // name, arity, flags, first key, last key, step, ACL categories,
        // tips, key specs, subcommands.
        let fields = items(entry);
        let Some(name) = fields.first().and_then(|n| n.text()) else {
            return;
        };
        let words = |i: usize| -> Vec<String> {
            fields.get(i).map_or(Vec::new(), |r| {
                items(r)
                    .iter()
                    .filter_map(|w| w.text())
                    .map(|w| w.to_ascii_lowercase())
                    .collect()
            })
        };
        let first_key = matches!(fields.get(3), Some(Reply::Integer(n)) if *n > 0);
        let key_specs = fields.get(8).is_some_and(|r| !items(r).is_empty());
        let subcommands = fields.get(9).map(items).unwrap_or_default();
        self.entries.insert(
            name.to_ascii_lowercase(),
            Meta {
                flags: words(2),
                categories: words(6),
                keys: first_key || key_specs,
                container: !subcommands.is_empty(),
            },
        );
        for sub in subcommands {
            self.add(sub);
        }
    }

    /// How many commands (subcommands included) the table holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry of a command line's words: `config|set` for `CONFIG SET`,
    /// with the name as written in messages.
    fn lookup(&self, words: &[String]) -> Option<(String, &Meta)> {
        let first = words.first()?.to_ascii_lowercase();
        let meta = self.entries.get(&first)?;
        if meta.container
            && let Some(second) = words.get(1)
        {
            let key = format!("{first}|{}", second.to_ascii_lowercase());
            if let Some(sub) = self.entries.get(&key) {
                return Some((key.replace('|', " ").to_ascii_uppercase(), sub));
            }
        }
        Some((first.to_ascii_uppercase(), meta))
    }
}

fn items(reply: &Reply) -> &[Reply] {
    match reply {
        Reply::Array(items) | Reply::Set(items) => items,
        _ => &[],
    }
}

/// Commands the server marks admin or dangerous that only read, or touch
/// only the connection that sends them, or keys of the run's database.
const HARMLESS: &[&str] = &[
    "ACL CAT",
    "ACL DRYRUN",
    "ACL GETUSER",
    "ACL LIST",
    "ACL LOG",
    "ACL USERS",
    "ACL WHOAMI",
    "CLIENT LIST",
    "CLIENT NO-EVICT",
    "CLUSTER COUNT-FAILURE-REPORTS",
    "CLUSTER REPLICAS",
    "CLUSTER SLAVES",
    "CONFIG GET",
    "INFO",
    "KEYS",
    "LASTSAVE",
    "LATENCY DOCTOR",
    "LATENCY GRAPH",
    "LATENCY HISTOGRAM",
    "LATENCY HISTORY",
    "LATENCY LATEST",
    "MODULE LIST",
    "MONITOR",
    "PFDEBUG",
    "PFSELFTEST",
    "RESTORE",
    "ROLE",
    "SLOWLOG GET",
    "SLOWLOG LEN",
    "SORT",
    "SORT_RO",
];

/// `DEBUG` subcommands that only read, or only wait.
const HARMLESS_DEBUG: &[&str] = &[
    "DIGEST",
    "DIGEST-VALUE",
    "HELP",
    "LISTPACK",
    "OBJECT",
    "PROTOCOL",
    "QUICKLIST",
    "SLEEP",
    "STRINGMATCH-LEN",
];

/// Commands that reach databases other than the connection's own.
const OTHER_DATABASES: &[&str] = &["SELECT", "SWAPDB", "MOVE", "FLUSHALL", "RESET", "MIGRATE"];

/// Why running `line` against `external` would leave something behind that
/// the harness cannot undo, if it would: the words after "which".
pub fn lasting(line: &str, external: &External) -> Option<String> {
    let words: Vec<String> = match crate::command::split(line) {
        Ok(args) => args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
        Err(_) => line.split_whitespace().map(str::to_string).collect(),
    };
    let (name, meta) = external.commands.lookup(&words)?;
    let arg = |i: usize| words.get(i).map(|w| w.to_ascii_uppercase());
    let copies_to_another_db = name == "COPY" && words.iter().any(|w| w.eq_ignore_ascii_case("DB"));
    if (OTHER_DATABASES.contains(&name.as_str()) || copies_to_another_db)
        && !external.owns_every_database()
    {
        return Some(format!(
            "names a database other than its own, and the server's own keys are in {}: set {}=1 to let the harness flush them",
            external.their_databases(),
            super::ENV_FLUSH
        ));
    }
    match name.as_str() {
        "FUNCTION LOAD" | "FUNCTION DELETE" | "FUNCTION FLUSH" | "FUNCTION RESTORE" => {
            return (!external.functions).then(|| {
                "changes the server's functions, and it refuses `FUNCTION DUMP`, which would let the harness put them back".to_string()
            });
        }
        "SCRIPT LOAD" | "SCRIPT FLUSH" | "EVAL" | "EVAL_RO" => {
            return (external.cached_scripts > 0).then(|| {
                format!(
                    "changes the script cache, and the server caches scripts of its own (number_of_cached_scripts:{}): only `SCRIPT FLUSH` drops a script, and it would drop theirs too",
                    external.cached_scripts
                )
            });
        }
        // Undone: `CLIENT UNPAUSE` at the scenario's end; the run's database
        // is its own.
        "CLIENT PAUSE" | "CLIENT UNPAUSE" | "FLUSHDB" => return None,
        "ACL LOG" if arg(2).as_deref() == Some("RESET") => {
            return Some("empties the server's ACL log, which the harness cannot undo".into());
        }
        "DEBUG" if HARMLESS_DEBUG.contains(&arg(1).unwrap_or_default().as_str()) => return None,
        n if n != "DEBUG" && HARMLESS.contains(&n) => return None,
        _ => {}
    }
    let mut marks: Vec<&str> = ["@admin", "@dangerous"]
        .into_iter()
        .filter(|c| meta.categories.iter().any(|m| m == c))
        .collect();
    if marks.is_empty() && meta.flags.iter().any(|f| f == "admin") {
        marks.push("admin");
    }
    if !marks.is_empty() {
        return Some(format!(
            "the server marks {}, and the harness cannot undo it",
            marks.join(" ")
        ));
    }
    if meta.flags.iter().any(|f| f == "write") && !meta.keys {
        return Some(
            "the server marks it `write` with no key: it changes the server beyond its keys, which the harness cannot undo".into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    fn entry(name: &str, flags: &[&str], first: i64, cats: &[&str], subs: Vec<Reply>) -> Reply {
        Reply::Array(vec![
            bulk(name),
            Reply::Integer(-2),
            Reply::Set(flags.iter().map(|f| Reply::Status(f.to_string())).collect()),
            Reply::Integer(first),
            Reply::Integer(first),
            Reply::Integer(first.signum()),
            Reply::Set(cats.iter().map(|c| Reply::Status(c.to_string())).collect()),
            Reply::Array(vec![]),
            Reply::Array(vec![]),
            Reply::Array(subs),
        ])
    }

    #[test]
    fn the_table_reads_flags_categories_keys_and_subcommands() {
        let reply = Reply::Array(vec![
            entry(
                "get",
                &["readonly", "fast"],
                1,
                &["@read", "@string"],
                vec![],
            ),
            entry(
                "slowlog",
                &[],
                0,
                &["@slow"],
                vec![entry(
                    "slowlog|reset",
                    &["admin", "loading"],
                    0,
                    &["@admin", "@slow", "@dangerous"],
                    vec![],
                )],
            ),
        ]);
        let table = CommandTable::from_reply(&reply);
        assert_eq!(table.len(), 3);
        let (name, meta) = table.lookup(&["slowlog".into(), "Reset".into()]).unwrap();
        assert_eq!(name, "SLOWLOG RESET");
        assert_eq!(meta.categories, ["@admin", "@slow", "@dangerous"]);
        assert!(!meta.keys);
        let (name, meta) = table.lookup(&["GET".into(), "k".into()]).unwrap();
        assert_eq!(name, "GET");
        assert!(meta.keys && !meta.container);
        // A subcommand the server does not list is the container's.
        assert_eq!(
            table.lookup(&["SLOWLOG".into(), "NOPE".into()]).unwrap().0,
            "SLOWLOG"
        );
        assert!(table.lookup(&["NOSUCH".into()]).is_none());
    }
}
