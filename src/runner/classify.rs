//! Which scenarios may take and return a reused server, decided from their
//! sentences, conservatively.
//!
//! A step may leave behind what a reset cannot undo: a restarted server
//! re-reads its configuration file, a killed or frozen one is not the
//! server it was, a module's state outlives `FLUSHALL`, a replica keeps
//! reconnecting, `DEBUG` reaches inside the server, files written with
//! `SAVE` stay. So a scenario is reusable only when every one of its steps
//! (background included)
//! - is one of valkey-bdd's own sentences that changes nothing of the kind
//!   (the list below says which do), or a sentence the run declared safe
//!   ([`crate::Runner::reuse_safe_steps`]) — a sentence the harness does not
//!   know (a downstream crate's own step, a step library's) opts out;
//! - runs no command that writes files, changes replication, loads
//!   modules, pauses clients or reaches inside the server (`DEBUG`), and no
//!   `CONFIG SET` of a directive that names files, ports or passwords.
//!
//! The same reading of sentences decides which scenarios run against an
//! external server ([`crate::external::why_not`]).

use std::sync::OnceLock;

use cucumber::gherkin;
use regex::{Regex, RegexSet};

/// valkey-bdd's own sentences that opt a scenario out, with why.
const LASTING_SENTENCES: &[(&str, &str)] = &[
    (
        r"^I (?:stop|kill|restart|start) ",
        "stops, kills or restarts a server",
    ),
    (r"^I (?:freeze|thaw) ", "freezes a server"),
    (r" dies$", "crashes a server"),
    (r"^I try to start ", "starts a server expected to fail"),
    (r"^the server fails to start", "reads a failed start"),
    (r"TLS|certificate", "uses TLS"),
    (r"unix socket|plaintext TCP", "uses a unix socket"),
    (r"\bmodule\b", "loads a module"),
    (r"^process |\bprocess \x22", "runs a program of the user's"),
    (
        r"ACL users|default user of|the password|connects? to .* (?:as|with|without|over)",
        "changes users or credentials",
    ),
    (
        r"^a primary |^a chain of | replicates \S|promoted to primary",
        "sets up replication",
    ),
    (
        r"starts migrating|^slots \d+ to \d+ (?:move|migrate)|^I fail over|becomes a primary of the cluster|new empty shard|rebalanced|removed from the cluster|atomic slot migration",
        "changes the cluster's slot map or roles",
    ),
];

/// `CLUSTER` subcommands that only read.
const READING_CLUSTER_COMMANDS: &[&str] = &[
    "INFO",
    "NODES",
    "SHARDS",
    "SLOTS",
    "KEYSLOT",
    "MYID",
    "MYSHARDID",
    "COUNTKEYSINSLOT",
    "GETKEYSINSLOT",
    "LINKS",
    "COUNT-FAILURE-REPORTS",
];

/// Commands (first words, upper case) whose effects a reset cannot undo.
const LASTING_COMMANDS: &[&str] = &[
    "DEBUG",
    "SHUTDOWN",
    "MODULE",
    "REPLICAOF",
    "SLAVEOF",
    "FAILOVER",
    "SYNC",
    "PSYNC",
    "SAVE",
    "BGSAVE",
    "BGREWRITEAOF",
    "CONFIG REWRITE",
    "ACL SAVE",
    "ACL LOAD",
    "CLIENT PAUSE",
    "CLUSTER",
    "MONITOR",
];

/// `CONFIG SET` directives (prefixes) that name files, listeners, passwords
/// or persistence: the reset could set them back, but not what they did.
const LASTING_DIRECTIVES: &[&str] = &[
    "dir",
    "dbfilename",
    "append",
    "save",
    "logfile",
    "port",
    "bind",
    "tls-",
    "unixsocket",
    "aclfile",
    "requirepass",
    "masterauth",
    "masteruser",
    "primaryauth",
    "primaryuser",
    "replicaof",
    "slaveof",
    "cluster-",
    "enable-",
];

/// A registered sentence, at the same index as in
/// [`crate::glossary::registered`]: whether it is one of valkey-bdd's own.
struct Known {
    ours: bool,
}

fn known() -> &'static [Known] {
    static KNOWN: OnceLock<Vec<Known>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        crate::glossary::registered()
            .iter()
            .map(|s| Known {
                ours: is_ours(s.path),
            })
            .collect()
    })
}

/// Why `text` is one of [`LASTING_SENTENCES`] (the first that matches), in
/// one pass of a set of their patterns.
fn lasting(text: &str) -> Option<&'static str> {
    static LASTING: OnceLock<RegexSet> = OnceLock::new();
    let set = LASTING.get_or_init(|| {
        RegexSet::new(LASTING_SENTENCES.iter().map(|(re, _)| re)).expect("valid regexes")
    });
    let first = set.matches(text).into_iter().next()?;
    Some(LASTING_SENTENCES[first].1)
}

/// Whether a step's source file is one of valkey-bdd's `src/steps/`: the
/// library's path prefix is this file's, as the compiler saw it.
fn is_ours(path: &str) -> bool {
    const HERE: &str = file!();
    let prefix = HERE
        .strip_suffix("src/runner/classify.rs")
        .unwrap_or_default();
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with("src/steps/"))
}

fn keyword_of(step: &gherkin::Step) -> &'static str {
    match step.ty {
        gherkin::StepType::Given => "Given",
        gherkin::StepType::When => "When",
        gherkin::StepType::Then => "Then",
    }
}

/// Why a scenario with these steps (background first) may not take a
/// reused server; `None` when it may. `declared` are the sentences the run
/// declared safe besides valkey-bdd's own.
pub fn why_not(steps: &[gherkin::Step], declared: &[Regex]) -> Option<String> {
    for step in steps {
        let text = step.value.as_str();
        let said = |why: &str| Some(format!("step \"{text}\" {why}"));
        let keyword = keyword_of(step);
        // One pass of the keyword's regex set, not every sentence's regex
        // one after another: this runs for every step of every scenario.
        let matching: Vec<&Known> = crate::glossary::matching(keyword, text)
            .into_iter()
            .map(|i| &known()[i])
            .collect();
        let declared_safe = declared.iter().any(|d| d.is_match(text));
        if !declared_safe && (matching.is_empty() || matching.iter().any(|k| !k.ours)) {
            return said(
                "is not one of valkey-bdd's own sentences (declare it safe with Runner::reuse_safe_steps)",
            );
        }
        if let Some(why) = lasting(text) {
            return said(why);
        }
        for command in commands_of(step) {
            if let Some(why) = lasting_command(&command) {
                return said(&format!("runs `{}`, which {why}", command.trim()));
            }
        }
    }
    None
}

/// Why a scenario that may take reused servers may still not take a reused
/// cluster; `None` when it may. A cluster's reset cannot give back what its
/// forming left: replication offsets (which later writes moved on) and the
/// statistics of its first syncs (`sync_full`, `total_forks`, which the
/// reset's `CONFIG RESETSTAT` zeroes). A scenario reading `INFO` fields or
/// `ROLE` could see them differ from a freshly formed cluster's, so it forms
/// its own. `CLUSTER INFO` fields are the cluster's view, which the check
/// compares with the formed one: they do not opt out.
pub fn why_not_cluster(steps: &[gherkin::Step]) -> Option<String> {
    for step in steps {
        let text = step.value.as_str();
        if text.contains("INFO field") && !text.contains("CLUSTER INFO field") {
            return Some(format!(
                "step \"{text}\" reads an INFO field, which a reused cluster's reset cannot give back as formed"
            ));
        }
        for command in commands_of(step) {
            let first = command
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            if first == "INFO" || first == "ROLE" {
                return Some(format!(
                    "step \"{text}\" runs `{}`, whose offsets and statistics a reused cluster's reset cannot give back as formed",
                    command.trim()
                ));
            }
        }
    }
    None
}

/// Why a command's effects could outlive a reset, if they could.
pub fn lasting_command(command: &str) -> Option<&'static str> {
    let upper = command.trim().to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    if words.first() == Some(&"CLUSTER")
        && words
            .get(1)
            .is_some_and(|w| READING_CLUSTER_COMMANDS.contains(w))
    {
        return None;
    }
    if upper.starts_with("${") {
        return Some("is a remembered value, unknown until the scenario runs");
    }
    if let Some(c) = LASTING_COMMANDS
        .iter()
        .find(|c| upper == **c || upper.starts_with(&format!("{c} ")))
    {
        return Some(match *c {
            "DEBUG" => "reaches inside the server",
            "MODULE" => "loads or unloads modules",
            "CLUSTER" => "changes the cluster",
            "CLIENT PAUSE" => "pauses clients",
            "MONITOR" => "watches every command",
            "SHUTDOWN" => "stops the server",
            _ if c.contains("SAVE") || c.contains("REWRITE") || c.contains("LOAD") => {
                "writes or reads the server's files"
            }
            _ => "changes replication",
        });
    }
    if words.len() >= 2 && words[0] == "CONFIG" && words[1] == "SET" {
        let lasting = words[2..].iter().step_by(2).any(|d| {
            let d = d
                .trim_matches(|c| c == '"' || c == '\'')
                .to_ascii_lowercase();
            LASTING_DIRECTIVES.iter().any(|p| d.starts_with(p))
        });
        if lasting {
            return Some("changes files, listeners, passwords or persistence");
        }
    }
    None
}

use crate::external::commands_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lasting_commands_are_named() {
        for (c, lasting) in [
            ("SET k v", false),
            ("CONFIG SET maxmemory 1mb", false),
            ("config set maxmemory 1mb dir /tmp", true),
            ("CONFIG SET appendonly yes", true),
            ("DEBUG SLEEP 0", true),
            ("debug", true),
            ("DEBUGGER", false),
            ("BGSAVE", true),
            ("CLIENT PAUSE 100", true),
            ("CLIENT LIST", false),
            ("CLUSTER KEYSLOT k", false),
            ("cluster nodes", false),
            ("CLUSTER FAILOVER", true),
            ("CLUSTER SETSLOT 1 NODE x", true),
            ("${cmd}", true),
        ] {
            assert_eq!(lasting_command(c).is_some(), lasting, "{c}");
        }
    }

    fn steps(text: &str) -> Vec<gherkin::Step> {
        let feature = format!("Feature: f\n  Scenario: s\n{text}");
        let f = gherkin::Feature::parse(&feature, gherkin::GherkinEnv::default()).unwrap();
        f.scenarios[0].steps.clone()
    }

    #[test]
    fn reading_info_or_role_keeps_a_scenario_off_reused_clusters() {
        for (text, opts_out) in [
            (
                "    Given a cluster of 3 shards\n    When I run `SET k v`\n",
                false,
            ),
            (
                "    Given a cluster of 3 shards\n    Then the CLUSTER INFO field \"cluster_state\" of node 1 becomes \"ok\"\n",
                false,
            ),
            (
                "    Given a cluster of 3 shards\n    Then the INFO field \"sync_full\" of node 1 is \"1\"\n",
                true,
            ),
            (
                "    Given a cluster of 3 shards\n    When I run `info replication` on node 1\n",
                true,
            ),
            (
                "    Given a cluster of 3 shards\n    When I run `ROLE` on node 4\n",
                true,
            ),
        ] {
            assert_eq!(why_not_cluster(&steps(text)).is_some(), opts_out, "{text}");
        }
    }

    #[test]
    fn library_steps_are_ours() {
        let ours = crate::glossary::registered()
            .iter()
            .filter(|s| is_ours(s.path))
            .count();
        assert!(
            ours > 100,
            "only {ours} steps recognised as valkey-bdd's own"
        );
        assert!(!is_ours("tests/cucumber.rs"));
        assert!(!is_ours("src/runner/library.rs"));
    }
}
