//! Bringing a used server back to what it was when fresh, and proving it.
//!
//! The reset undoes what a scenario of the reusable kind can leave behind:
//! its connections (and with them blocked clients, transactions, pub/sub
//! subscriptions, tracking, pauses), keys in every database, cached scripts,
//! functions, configuration changed with `CONFIG SET`, ACL users and the
//! ACL log, statistics (the count of changes since the last save too: a
//! `SAVE`, whose file is removed), the slow log and latency history. The
//! check that follows does not trust the reset: it reads the server's state
//! again and compares it with the [`Baseline`] taken when the server was
//! fresh.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::command;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::{Server, Status};

/// How long a reset and its check may take together.
pub const RESET_DEADLINE: Duration = Duration::from_secs(5);
/// How long the check waits for killed connections to be gone.
const CLIENTS_GONE: Duration = Duration::from_secs(1);

/// What a fresh server looked like: the state a reset must restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// `CONFIG GET *`, directive → value.
    pub config: BTreeMap<String, String>,
    /// `ACL LIST`, sorted.
    pub acl: Vec<String>,
}

/// Parts of the reset to leave out: only for the test showing that an
/// unverified reset stops the server.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Skip {
    /// Leave the configuration as the scenario left it.
    pub config: bool,
    /// Leave the keys.
    pub data: bool,
    /// Leave the count of changes since the last save.
    pub save: bool,
}

impl Baseline {
    /// Reads the baseline of a fresh server.
    pub async fn of(server: &Server) -> Result<Baseline> {
        let mut replies = server
            .pipeline(&[args(&["CONFIG", "GET", "*"]), args(&["ACL", "LIST"])])
            .await?
            .into_iter();
        let mut next = || replies.next().unwrap_or(Reply::Nil);
        Ok(Baseline {
            config: config_from(server, next())?,
            acl: acl_from(server, next())?,
        })
    }
}

/// A command's arguments, owned, for [`Server::pipeline`].
fn args(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

/// What an answer in a pipeline may be: `Must` not be an error; may be an
/// "unknown command" error of an older server (`Optional`); anything, for
/// the check to judge (`Judged`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Must,
    Optional,
    Judged,
}

/// Commands sent together, each with what its answer may be.
#[derive(Default)]
struct Batch {
    commands: Vec<Vec<Vec<u8>>>,
    answers: Vec<Answer>,
}

impl Batch {
    fn push(&mut self, command: Vec<Vec<u8>>, answer: Answer) {
        self.commands.push(command);
        self.answers.push(answer);
    }

    /// Sends the batch in one round trip; the first answer that is not
    /// allowed is the error, else the replies in order.
    async fn send(self, server: &Server) -> Result<Vec<Reply>> {
        let replies = server.pipeline(&self.commands).await?;
        if replies.len() != self.commands.len() {
            return Err(Error::Expectation(format!(
                "resetting {}: {} commands sent at once got {} replies",
                server.describe(),
                self.commands.len(),
                replies.len()
            )));
        }
        for ((reply, answer), command) in replies.iter().zip(&self.answers).zip(&self.commands) {
            if let Reply::Error(e) = reply
                && *answer != Answer::Judged
                && !(*answer == Answer::Optional && e.contains("unknown"))
            {
                return Err(Error::Expectation(format!(
                    "resetting {}: `{}` answered {e}",
                    server.describe(),
                    crate::acl::redact(&command::join(command))
                )));
            }
        }
        Ok(replies)
    }
}

fn pairs(reply: Reply) -> Vec<(String, String)> {
    let text = |r: &Reply| r.text().unwrap_or_else(|| r.cell());
    match reply {
        Reply::Map(items) => items.iter().map(|(k, v)| (text(k), text(v))).collect(),
        Reply::Array(items) | Reply::Set(items) => items
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (text(&c[0]), text(&c[1])))
            .collect(),
        _ => Vec::new(),
    }
}

/// The directives of a `CONFIG GET *` reply.
fn config_from(server: &Server, reply: Reply) -> Result<BTreeMap<String, String>> {
    if let Reply::Error(e) = reply {
        return Err(Error::Expectation(format!(
            "`CONFIG GET *` of {} answered {e}",
            server.describe()
        )));
    }
    let config: BTreeMap<_, _> = pairs(reply).into_iter().collect();
    if config.is_empty() {
        return Err(Error::Expectation(format!(
            "`CONFIG GET *` of {} answered no directive",
            server.describe()
        )));
    }
    Ok(config)
}

/// The lines of an `ACL LIST` reply, sorted.
fn acl_from(server: &Server, reply: Reply) -> Result<Vec<String>> {
    match reply {
        r @ (Reply::Array(_) | Reply::Set(_)) => {
            let mut lines = r.items().unwrap_or_default();
            lines.sort();
            Ok(lines)
        }
        other => Err(Error::Expectation(format!(
            "`ACL LIST` of {} answered {other}",
            server.describe()
        ))),
    }
}

/// The words of an `ACL LIST` line after `user <name>`, selectors
/// (`(~k* +get)`) kept whole.
fn acl_rules(line: &str) -> Option<(String, Vec<String>)> {
    let rest = line.strip_prefix("user ")?;
    let (name, rules) = rest.split_once(' ').unwrap_or((rest, ""));
    let mut out: Vec<String> = Vec::new();
    let mut depth = 0usize;
    for word in rules.split(' ').filter(|w| !w.is_empty()) {
        if depth > 0 {
            let last = out.last_mut().expect("an open selector");
            last.push(' ');
            last.push_str(word);
        } else {
            out.push(word.to_string());
        }
        depth += word.matches('(').count();
        depth = depth.saturating_sub(word.matches(')').count());
    }
    Some((name.to_string(), out))
}

/// `id=` of every line of `CLIENT LIST` but the replication links
/// (`flags=S`: a replica's connection; `flags=M`: the link to the primary),
/// which a cluster's nodes keep.
#[cfg(test)]
fn client_ids(list: &str) -> Vec<u64> {
    list.lines()
        .filter(|l| !is_replication_link(l))
        .filter_map(|l| {
            l.split(' ')
                .find_map(|f| f.strip_prefix("id="))
                .and_then(|v| v.parse().ok())
        })
        .collect()
}

fn is_replication_link(line: &str) -> bool {
    line.split(' ')
        .find_map(|f| f.strip_prefix("flags="))
        .is_some_and(|f| f.contains('S') || f.contains('M'))
}

fn info_field(info: &str, key: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}

/// Resets the server and verifies the result, within [`RESET_DEADLINE`].
///
/// Two round trips: the other connections killed and the configuration and
/// ACL users read; then what differs put back, the rest of the reset and the
/// whole check sent at once (the check's commands run after the reset's, on
/// the same connection, so they see its result). A third only while killed
/// connections are still listed.
pub async fn reset_and_verify(server: &Server, baseline: &Baseline, skip: Skip) -> Result<()> {
    let work = async {
        let replies = reset_then(server, baseline, skip, true, verify_commands()).await?;
        judge(server, baseline, true, replies).await
    };
    match tokio::time::timeout(RESET_DEADLINE, work).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout {
            what: format!("the reset of {}", server.describe()),
            waited: RESET_DEADLINE,
            last: "it did not finish".into(),
            hint: "a busy server (a long script) cannot be reused".into(),
        }),
    }
}

/// Resets one server: `primary` is false for a cluster's replicas, which
/// follow their primary's flush and functions instead of being told.
pub(super) async fn reset_node(
    server: &Server,
    baseline: &Baseline,
    skip: Skip,
    primary: bool,
) -> Result<()> {
    reset_then(server, baseline, skip, primary, Vec::new())
        .await
        .map(drop)
}

/// Resets one server, then sends `then` in the same round trip as the
/// reset's last commands and returns their replies.
async fn reset_then(
    server: &Server,
    baseline: &Baseline,
    skip: Skip,
    primary: bool,
    then: Vec<Vec<Vec<u8>>>,
) -> Result<Vec<Reply>> {
    if server.is_frozen() || !matches!(server.status().await, Status::Running { .. }) {
        return Err(Error::Expectation(format!(
            "{} is frozen or not running",
            server.describe()
        )));
    }
    // Every connection but the harness's own and the replication links (a
    // cluster's nodes keep theirs): with them go blocked clients,
    // transactions, subscriptions, tracking, MONITOR. Gone already is fine:
    // the check counts what is left.
    let mut first = Batch::default();
    first.push(
        args(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]),
        Answer::Must,
    );
    first.push(
        args(&["CLIENT", "KILL", "TYPE", "pubsub", "SKIPME", "yes"]),
        Answer::Must,
    );
    first.push(args(&["CLIENT", "UNPAUSE"]), Answer::Optional);
    first.push(args(&["ACL", "LIST"]), Answer::Must);
    if !skip.config {
        first.push(args(&["CONFIG", "GET", "*"]), Answer::Must);
    }
    let mut replies = first.send(server).await?.into_iter().skip(3);
    let acl = acl_from(server, replies.next().unwrap_or(Reply::Nil))?;

    let mut second = Batch::default();
    if !skip.config {
        let now = config_from(server, replies.next().unwrap_or(Reply::Nil))?;
        for (key, value) in &baseline.config {
            if now.get(key) != Some(value) {
                second.push(
                    vec![
                        b"CONFIG".to_vec(),
                        b"SET".to_vec(),
                        key.as_bytes().to_vec(),
                        value.as_bytes().to_vec(),
                    ],
                    Answer::Must,
                );
            }
        }
    }
    if !skip.data && primary {
        second.push(args(&["FLUSHALL"]), Answer::Must);
    }
    second.push(args(&["SCRIPT", "FLUSH"]), Answer::Optional);
    if primary {
        second.push(args(&["FUNCTION", "FLUSH"]), Answer::Optional);
    }
    if acl != baseline.acl {
        let wanted: BTreeMap<String, Vec<String>> =
            baseline.acl.iter().filter_map(|l| acl_rules(l)).collect();
        for line in acl.iter().filter(|l| !baseline.acl.contains(l)) {
            let Some((name, _)) = acl_rules(line) else {
                continue;
            };
            let mut command = vec![b"ACL".to_vec()];
            match wanted.get(&name) {
                None => command.extend([b"DELUSER".to_vec(), name.into_bytes()]),
                Some(rules) => {
                    command.extend([b"SETUSER".to_vec(), name.into_bytes(), b"reset".to_vec()]);
                    command.extend(rules.iter().map(|r| r.as_bytes().to_vec()));
                }
            }
            second.push(command, Answer::Must);
        }
    }
    second.push(args(&["ACL", "LOG", "RESET"]), Answer::Optional);
    let save = primary && !skip.save;
    if save {
        // The count of changes since the last save (`INFO`'s
        // `rdb_changes_since_last_save`) is 0 on a fresh server, and only a
        // save sets it back; a replica's follows its primary's flush.
        second.push(args(&["SAVE"]), Answer::Must);
    }
    second.push(args(&["SLOWLOG", "RESET"]), Answer::Optional);
    second.push(args(&["LATENCY", "RESET"]), Answer::Optional);
    // Last, so that the reset's own commands are not counted either.
    second.push(args(&["CONFIG", "RESETSTAT"]), Answer::Must);
    let reset = second.commands.len();
    for command in then {
        second.push(command, Answer::Judged);
    }
    let replies = second.send(server).await?;
    if save {
        remove_snapshot(server, baseline).await?;
    }
    Ok(replies.into_iter().skip(reset).collect())
}

/// Saves a replica that has caught up with its primary's flush, so that it
/// too counts no change since its last save, as when fresh.
pub(super) async fn save_replica(server: &Server, baseline: &Baseline) -> Result<()> {
    let mut batch = Batch::default();
    batch.push(args(&["SAVE"]), Answer::Must);
    batch.push(args(&["CONFIG", "RESETSTAT"]), Answer::Must);
    batch.send(server).await?;
    remove_snapshot(server, baseline).await
}

/// Removes the snapshot the reset's `SAVE` wrote: a fresh server's folder
/// holds none.
async fn remove_snapshot(server: &Server, baseline: &Baseline) -> Result<()> {
    let (Some(dir), Some(file)) = (
        baseline.config.get("dir"),
        baseline.config.get("dbfilename"),
    ) else {
        return Ok(());
    };
    match tokio::fs::remove_file(std::path::Path::new(dir).join(file)).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Expectation(format!(
            "resetting {}: the snapshot its reset wrote in {dir} cannot be removed: {e}",
            server.describe()
        ))),
        _ => Ok(()),
    }
}

/// What the check reads, in this order: see [`judge`].
fn verify_commands() -> Vec<Vec<Vec<u8>>> {
    vec![
        args(&["CONFIG", "GET", "*"]),
        args(&["ACL", "LIST"]),
        args(&["INFO"]),
        args(&["FUNCTION", "LIST"]),
        args(&["PUBSUB", "NUMPAT"]),
        args(&["PUBSUB", "CHANNELS"]),
        args(&["CLIENT", "ID"]),
        args(&["CLIENT", "LIST"]),
    ]
}

/// Reads the server's state again and compares it with the baseline; the
/// first difference is the error.
pub async fn verify(server: &Server, baseline: &Baseline) -> Result<()> {
    verify_node(server, baseline, true).await
}

/// [`verify`] for a server that is alone (`standalone`: a primary without
/// replicas) or a cluster's node, whose role and replication links are the
/// cluster's check.
pub(super) async fn verify_node(
    server: &Server,
    baseline: &Baseline,
    standalone: bool,
) -> Result<()> {
    let replies = server.pipeline(&verify_commands()).await?;
    judge(server, baseline, standalone, replies).await
}

/// Judges the replies to [`verify_commands`]; waits (up to
/// [`CLIENTS_GONE`]) only for killed connections still listed.
async fn judge(
    server: &Server,
    baseline: &Baseline,
    standalone: bool,
    replies: Vec<Reply>,
) -> Result<()> {
    let bad = |what: String| Err(Error::Expectation(format!("{}: {what}", server.describe())));
    if replies.len() != 8 {
        return bad(format!(
            "the check's 8 commands got {} replies",
            replies.len()
        ));
    }
    let mut replies = replies.into_iter();
    let mut next = || replies.next().unwrap_or(Reply::Nil);
    let must = |what: &str, reply: Reply| match reply {
        Reply::Error(e) => Err(Error::Expectation(format!(
            "checking {}: `{what}` answered {e}",
            server.describe()
        ))),
        r => Ok(r),
    };
    let config = config_from(server, next())?;
    if config != baseline.config {
        let differs: Vec<String> = config
            .iter()
            .filter(|(k, v)| baseline.config.get(*k) != Some(*v))
            .map(|(k, v)| format!("{k}={v:?}"))
            .chain(
                baseline
                    .config
                    .keys()
                    .filter(|k| !config.contains_key(*k))
                    .map(|k| format!("{k} missing")),
            )
            .collect();
        return bad(format!(
            "its configuration differs from when it was fresh: {}",
            differs.join(", ")
        ));
    }
    let acl = acl_from(server, next())?;
    if acl != baseline.acl {
        return bad(format!(
            "its ACL users differ from when it was fresh: {acl:?}"
        ));
    }
    let info = must("INFO", next())?.text().unwrap_or_default();
    if let Some(db) = info
        .lines()
        .find(|l| l.starts_with("db") && !l.contains("keys=0,"))
    {
        return bad(format!("a database holds keys: {db}"));
    }
    let alone = [
        ("role", "master"),
        ("connected_slaves", "0"),
        // What the check itself ran since `CONFIG RESETSTAT`.
        ("total_commands_processed", "0"),
    ];
    for (field, want) in alone.iter().filter(|_| standalone).copied().chain([
        ("loading", "0"),
        ("rdb_changes_since_last_save", "0"),
        ("rdb_bgsave_in_progress", "0"),
        ("aof_rewrite_in_progress", "0"),
        ("blocked_clients", "0"),
        ("number_of_cached_scripts", "0"),
    ]) {
        // A field an older server does not have is not checked.
        if let Some(v) = info_field(&info, field)
            && v != want
            && !(field == "total_commands_processed" && v.parse::<u64>().is_ok_and(|n| n < 10))
        {
            return bad(format!("INFO {field} is {v}, not {want}"));
        }
    }
    // An older server without functions answers an error: nothing to check.
    if let Reply::Array(f) = next()
        && !f.is_empty()
    {
        return bad("it still has functions".into());
    }
    match must("PUBSUB NUMPAT", next())? {
        Reply::Integer(0) => {}
        other => return bad(format!("PUBSUB NUMPAT is {other}")),
    }
    if let Some(channels) = must("PUBSUB CHANNELS", next())?.items()
        && !channels.is_empty()
    {
        return bad(format!("clients still subscribe to {channels:?}"));
    }
    let ours = format!("id={} ", must("CLIENT ID", next())?.cell());
    let mut list = must("CLIENT LIST", next())?.text().unwrap_or_default();
    let deadline = tokio::time::Instant::now() + CLIENTS_GONE;
    loop {
        let others: Vec<&str> = list
            .lines()
            .filter(|l| !l.starts_with(&ours))
            .filter(|l| standalone || !is_replication_link(l))
            .collect();
        if others.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return bad(format!(
                "other clients are still connected: {}",
                others.join(" | ")
            ));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
        list = must("CLIENT LIST", server.command("CLIENT LIST").await?)?
            .text()
            .unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acl_lines_split_into_rules_with_selectors_whole() {
        let (name, rules) =
            acl_rules("user app on #abc ~app:* resetchannels -@all +get (~x* +set)").unwrap();
        assert_eq!(name, "app");
        assert_eq!(
            rules,
            [
                "on",
                "#abc",
                "~app:*",
                "resetchannels",
                "-@all",
                "+get",
                "(~x* +set)"
            ]
        );
        assert_eq!(
            client_ids("id=3 addr=a fd=8\nid=12 addr=b fd=9\n"),
            vec![3, 12]
        );
    }
}
