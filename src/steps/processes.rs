//! The user's own programs: an application or worker started beside the
//! servers, told where they are, checked by what it prints, the port it
//! opens and how it exits.
//!
//! In a command line, `${host}`, `${port}` and `${url}` name the default
//! server (`${port:cache}` names server "cache"; `${url}` is `redis://…`,
//! `rediss://…` for TLS or `unix://…`), `${dir}` the scenario's directory and
//! `${free_port}` a port leased for the program; every other `${...}`
//! placeholder (remembered values, `${now}`) works too. The older spelling
//! without `$` (`{port}`, `{free_port}`) still works. Its environment has
//! `VALKEY_HOST`, `VALKEY_PORT` and `VALKEY_URL` of the default server, and
//! `FREE_PORT` when the command asks for one.
//!
//! Secure by default: servers need the run's password. A program gets it in
//! its environment, not on its command line (which every local user can
//! read): `VALKEY_URL` carries it (`redis://default:<password>@127.0.0.1:16001`) and
//! `REDISCLI_AUTH` holds it, so `valkey-cli -p {port}` and `valkey-cli -u
//! {url}` get in; `{url}` itself has no password.

use std::os::unix::process::ExitStatusExt as _;

use cucumber::{given, then, when};

use super::CommandLine;
use crate::error::{Error, Result};
use crate::process::ProcessSpec;
use crate::world::{DEFAULT_SERVER, ValkeyWorld};

/// Replaces the placeholders of a command line: `${...}` as everywhere
/// ([`ValkeyWorld::expand`]), then the older `{...}` spelling.
/// `${free_port}` becomes `{free_port}`, which the program's start fills in
/// with the port it leases.
async fn expand(w: &mut ValkeyWorld, line: &str) -> Result<String> {
    let line = w
        .expand(&line.replace("${free_port}", "$${free_port}"))
        .await?;
    let line = line.replace("${free_port}", "{free_port}");
    let line = line.as_str();
    let re = regex::Regex::new(r"\{(host|port|url)(?::([^}]+))?\}").expect("valid regex");
    let mut out = String::new();
    let mut last = 0;
    for c in re.captures_iter(line) {
        let whole = c.get(0).expect("group 0");
        let server = w.server(Some(c.get(2).map_or(DEFAULT_SERVER, |m| m.as_str())))?;
        let value = match &c[1] {
            "host" => server.host().to_string(),
            "port" => server.port().to_string(),
            _ => server.url(),
        };
        out.push_str(&line[last..whole.start()]);
        out.push_str(&value);
        last = whole.end();
    }
    out.push_str(&line[last..]);
    if out.contains("{dir}") {
        let dir = w.dir()?;
        out = out.replace("{dir}", &dir.display().to_string());
    }
    Ok(out)
}

/// Starts one of your programs (through `sh -c`), with the placeholders of
/// the command line filled in (see above). It runs until it exits, is
/// stopped, or the scenario ends.
#[given(expr = "process {string} runs {command}")]
#[when(expr = "process {string} runs {command}")]
async fn runs(w: &mut ValkeyWorld, name: String, command: CommandLine) -> Result<()> {
    let line = expand(w, command.line()).await?;
    let mut spec = ProcessSpec::new(&name, line.clone());
    if line.contains("{free_port}") {
        spec = spec.with_port();
    }
    if let Ok(server) = w.server(None) {
        spec = spec.server(server);
    }
    w.start_process(spec, &name).await
}

/// Checkpoint: waits until the program has printed a line containing the
/// text (standard output or error).
#[given(expr = "process {string} prints {string}")]
#[when(expr = "process {string} prints {string}")]
#[then(expr = "process {string} prints {string}")]
async fn prints(w: &mut ValkeyWorld, name: String, text: String) -> Result<()> {
    let text = w.expand(&text).await?;
    let timeout = crate::settings::wait_timeout()?;
    w.process(&name)?.wait_line(&text, timeout).await
}

/// Checkpoint: waits until the program accepts connections on its
/// `{free_port}`.
#[given(expr = "process {string} listens on its port")]
#[when(expr = "process {string} listens on its port")]
async fn listens(w: &mut ValkeyWorld, name: String) -> Result<()> {
    let timeout = crate::settings::wait_timeout()?;
    w.process(&name)?.wait_port(timeout).await
}

/// Waits for the program to exit and checks its exit code.
#[then(expr = "process {string} exits with code {int}")]
async fn exits_with(w: &mut ValkeyWorld, name: String, code: i32) -> Result<()> {
    let timeout = crate::settings::wait_timeout()?;
    let p = w.process(&name)?;
    let status = p.wait_exit(timeout).await?;
    if status.code() == Some(code) {
        return Ok(());
    }
    Err(Error::Expectation(format!(
        "process \"{name}\" {}, expected exit code {code}; its output:\n{}",
        crate::process::describe(status),
        p.output_tail(usize::MAX)
    )))
}

/// Checks what the program printed so far (any line containing the text).
#[then(expr = "the output of process {string} contains {string}")]
async fn output_contains(w: &mut ValkeyWorld, name: String, text: String) -> Result<()> {
    let text = w.expand(&text).await?;
    let p = w.process(&name)?;
    if p.output().iter().any(|l| l.contains(&text)) {
        return Ok(());
    }
    Err(Error::Expectation(format!(
        "the output of process \"{name}\" does not contain {text:?}; it is:\n{}",
        p.output_tail(usize::MAX)
    )))
}

/// Stops the program: SIGTERM to its process group, SIGKILL after 5 s.
#[when(expr = "I stop process {string}")]
async fn stop(w: &mut ValkeyWorld, name: String) -> Result<()> {
    w.process(&name)?.stop().await.map(drop)
}

/// Kills the program (SIGKILL to its process group).
#[when(expr = "I kill process {string}")]
async fn kill(w: &mut ValkeyWorld, name: String) -> Result<()> {
    w.process(&name)?.kill().await.map(drop)
}

/// Checks that the program has ended by a signal (`SIGTERM`, `SIGKILL`).
#[then(expr = "process {string} was killed by {word}")]
async fn killed_by(w: &mut ValkeyWorld, name: String, signal: String) -> Result<()> {
    let p = w.process(&name)?;
    match p.poll_exit() {
        Some(s)
            if s.signal().is_some_and(|n| {
                nix::sys::signal::Signal::try_from(n).is_ok_and(|sig| sig.as_str() == signal)
            }) =>
        {
            Ok(())
        }
        Some(s) => Err(Error::Expectation(format!(
            "process \"{name}\" {}, expected it to be killed by {signal}",
            crate::process::describe(s)
        ))),
        None => Err(Error::Expectation(format!(
            "process \"{name}\" is still running"
        ))),
    }
}
