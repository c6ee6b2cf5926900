//! Bringing a used server back to what it was when fresh, and proving it.
//!
//! The reset undoes what a scenario of the reusable kind can leave behind:
//! its connections (and with them blocked clients, transactions, pub/sub
//! subscriptions, tracking, pauses), keys in every database, cached scripts,
//! functions, configuration changed with `CONFIG SET`, ACL users and the
//! ACL log, statistics, the slow log and latency history. The check that
//! follows does not trust the reset: it reads the server's state again and
//! compares it with the [`Baseline`] taken when the server was fresh.

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
}

impl Baseline {
    /// Reads the baseline of a fresh server.
    pub async fn of(server: &Server) -> Result<Baseline> {
        Ok(Baseline {
            config: config_of(server).await?,
            acl: acl_of(server).await?,
        })
    }
}

async fn run(server: &Server, args: &[&[u8]]) -> Result<Reply> {
    let owned: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    server.command(&command::join(&owned)).await
}

/// Runs a command that must not answer an error.
async fn must(server: &Server, line: &str) -> Result<Reply> {
    match server.command(line).await? {
        Reply::Error(e) => Err(Error::Expectation(format!(
            "resetting {}: `{line}` answered {e}",
            server.describe()
        ))),
        r => Ok(r),
    }
}

/// Runs a command that older servers may not know.
async fn optional(server: &Server, line: &str) -> Result<()> {
    match server.command(line).await? {
        Reply::Error(e) if e.contains("unknown") => Ok(()),
        Reply::Error(e) => Err(Error::Expectation(format!(
            "resetting {}: `{line}` answered {e}",
            server.describe()
        ))),
        _ => Ok(()),
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

async fn config_of(server: &Server) -> Result<BTreeMap<String, String>> {
    let config: BTreeMap<_, _> = pairs(must(server, "CONFIG GET *").await?)
        .into_iter()
        .collect();
    if config.is_empty() {
        return Err(Error::Expectation(format!(
            "`CONFIG GET *` of {} answered no directive",
            server.describe()
        )));
    }
    Ok(config)
}

async fn acl_of(server: &Server) -> Result<Vec<String>> {
    match must(server, "ACL LIST").await? {
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
pub async fn reset_and_verify(server: &Server, baseline: &Baseline, skip: Skip) -> Result<()> {
    let work = async {
        reset(server, baseline, skip).await?;
        verify(server, baseline).await
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
pub(super) async fn reset(server: &Server, baseline: &Baseline, skip: Skip) -> Result<()> {
    reset_node(server, baseline, skip, true).await
}

pub(super) async fn reset_node(
    server: &Server,
    baseline: &Baseline,
    skip: Skip,
    primary: bool,
) -> Result<()> {
    if server.is_frozen() || !matches!(server.status().await, Status::Running { .. }) {
        return Err(Error::Expectation(format!(
            "{} is frozen or not running",
            server.describe()
        )));
    }
    let ours = match must(server, "CLIENT ID").await? {
        Reply::Integer(id) => id as u64,
        other => {
            return Err(Error::Expectation(format!("`CLIENT ID` answered {other}")));
        }
    };
    let list = must(server, "CLIENT LIST")
        .await?
        .text()
        .unwrap_or_default();
    for id in client_ids(&list).into_iter().filter(|id| *id != ours) {
        // Gone already is fine: the check below counts what is left.
        server.command(&format!("CLIENT KILL ID {id}")).await?;
    }
    optional(server, "CLIENT UNPAUSE").await?;
    if !skip.config {
        let now = config_of(server).await?;
        for (key, value) in &baseline.config {
            if now.get(key) != Some(value) {
                match run(
                    server,
                    &[b"CONFIG", b"SET", key.as_bytes(), value.as_bytes()],
                )
                .await?
                {
                    Reply::Error(e) => {
                        return Err(Error::Expectation(format!(
                            "`CONFIG SET {key}` back to {value:?} answered {e}"
                        )));
                    }
                    _ => continue,
                }
            }
        }
    }
    if !skip.data && primary {
        must(server, "FLUSHALL").await?;
    }
    optional(server, "SCRIPT FLUSH").await?;
    if primary {
        optional(server, "FUNCTION FLUSH").await?;
    }
    let acl = acl_of(server).await?;
    if acl != baseline.acl {
        let wanted: BTreeMap<String, Vec<String>> =
            baseline.acl.iter().filter_map(|l| acl_rules(l)).collect();
        for line in acl.iter().filter(|l| !baseline.acl.contains(l)) {
            let Some((name, _)) = acl_rules(line) else {
                continue;
            };
            let reply = match wanted.get(&name) {
                None => run(server, &[b"ACL", b"DELUSER", name.as_bytes()]).await?,
                Some(rules) => {
                    let mut args: Vec<&[u8]> = vec![b"ACL", b"SETUSER", name.as_bytes(), b"reset"];
                    args.extend(rules.iter().map(|r| r.as_bytes()));
                    run(server, &args).await?
                }
            };
            if let Reply::Error(e) = reply {
                return Err(Error::Expectation(format!(
                    "putting ACL user {name:?} back answered {e}"
                )));
            }
        }
    }
    optional(server, "ACL LOG RESET").await?;
    must(server, "CONFIG RESETSTAT").await?;
    optional(server, "SLOWLOG RESET").await?;
    optional(server, "LATENCY RESET").await?;
    Ok(())
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
    let bad = |what: String| Err(Error::Expectation(format!("{}: {what}", server.describe())));
    let config = config_of(server).await?;
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
    let acl = acl_of(server).await?;
    if acl != baseline.acl {
        return bad(format!(
            "its ACL users differ from when it was fresh: {acl:?}"
        ));
    }
    let info = must(server, "INFO").await?.text().unwrap_or_default();
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
    if let Reply::Array(f) = must(server, "FUNCTION LIST").await.unwrap_or(Reply::Nil)
        && !f.is_empty()
    {
        return bad("it still has functions".into());
    }
    match must(server, "PUBSUB NUMPAT").await? {
        Reply::Integer(0) => {}
        other => return bad(format!("PUBSUB NUMPAT is {other}")),
    }
    if let Some(channels) = must(server, "PUBSUB CHANNELS").await?.items()
        && !channels.is_empty()
    {
        return bad(format!("clients still subscribe to {channels:?}"));
    }
    let ours = must(server, "CLIENT ID").await?;
    let deadline = tokio::time::Instant::now() + CLIENTS_GONE;
    loop {
        let list = must(server, "CLIENT LIST")
            .await?
            .text()
            .unwrap_or_default();
        let others: Vec<&str> = list
            .lines()
            .filter(|l| !l.starts_with(&format!("id={} ", ours.cell())))
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
