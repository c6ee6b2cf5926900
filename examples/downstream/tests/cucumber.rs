//! The whole valkey-bdd vocabulary, plus one step of this crate's own.

use cucumber::{given, then};
use valkey_bdd::steps::ServerRef;
use valkey_bdd::{Error, Reply, ValkeyWorld};

/// What this crate's steps remember during a scenario.
#[derive(Default)]
struct Users {
    stored: Vec<String>,
}

/// Stores a user the way the application does.
#[given(regex = r#"^the user "([^"]+)" born in (\d+) is stored$"#)]
async fn user_is_stored(w: &mut ValkeyWorld, name: String, born: u32) -> valkey_bdd::Result<()> {
    let key = valkey_bdd_downstream_example::user_key(&name);
    let reply = w
        .run(None, &format!("HSET {key} name \"{name}\" born {born}"))
        .await?
        .clone();
    if reply.error().is_some() {
        return Err(Error::Expectation(format!(
            "storing {name} answered {reply}"
        )));
    }
    w.state::<Users>().stored.push(name);
    Ok(())
}

/// Checks that every user stored in this scenario is in the database.
#[then(regex = r"^every stored user can be read back$")]
async fn users_read_back(w: &mut ValkeyWorld) -> valkey_bdd::Result<()> {
    let names = w.state::<Users>().stored.clone();
    for name in names {
        let key = valkey_bdd_downstream_example::user_key(&name);
        match w.run(None, &format!("HGET {key} name")).await? {
            Reply::Bulk(b) if *b == name.as_bytes() => {}
            other => return Err(Error::Expectation(format!("{key} name is {other}"))),
        }
    }
    Ok(())
}

/// Counts the users on a server the sentence names (`the primary`,
/// `replica 1`, ...): the library's `{server}` parameter in a step of ours.
#[then(expr = "{server} holds {int} user(s)")]
async fn holds_users(w: &mut ValkeyWorld, server: ServerRef, n: usize) -> valkey_bdd::Result<()> {
    let server = w.resolve(&server).await?;
    let found = match server.command("KEYS user:*").await? {
        Reply::Array(keys) => keys.len(),
        other => return Err(Error::Expectation(format!("KEYS answered {other}"))),
    };
    if found == n {
        return Ok(());
    }
    Err(Error::Expectation(format!(
        "{} holds {found} user(s), expected {n}",
        server.describe()
    )))
}

#[tokio::main]
async fn main() {
    valkey_bdd::run("tests/features").await;
}
