//! ACL users, and keeping the harness's own connections authorised while a
//! scenario locks the default user out.

use std::hash::{BuildHasher as _, Hasher as _};

use crate::client::Credentials;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::Server;

/// The user the harness creates for its own connections when a scenario
/// disables the default user.
pub const HARNESS_USER: &str = "valkey-bdd";

/// Creates (or changes) users with `ACL SETUSER <user> <rules>`, the rules
/// written as in `valkey-cli` (`on >secret ~app:* +@read`). An error reply
/// fails with the rule that was refused.
pub async fn set_users(server: &Server, users: &[(String, String)]) -> Result<()> {
    for (user, rules) in users {
        let mut args = vec![
            b"ACL".to_vec(),
            b"SETUSER".to_vec(),
            user.as_bytes().to_vec(),
        ];
        args.extend(crate::command::split(rules)?);
        let mut c = server.client().await?;
        match c.run_args(&args).await? {
            Reply::Status(s) if s == "OK" => {}
            Reply::Error(e) => {
                return Err(Error::Expectation(format!(
                    "{} refused the ACL rules of user {user:?} ({rules}): {e}\n  hint: see the ACL rules of the Valkey documentation (ACL SETUSER)",
                    server.describe()
                )));
            }
            other => {
                return Err(Error::Expectation(format!(
                    "ACL SETUSER {user} answered {other}, expected OK"
                )));
            }
        }
    }
    Ok(())
}

/// Disables the default user (`ACL SETUSER default off`). The harness first
/// creates [`HARNESS_USER`] with every permission and a random password and
/// uses it from then on, so that it can still check and stop the server;
/// `ACL USERS` therefore lists it.
pub async fn disable_default_user(server: &Server) -> Result<()> {
    let password = random_password();
    set_users(
        server,
        &[(
            HARNESS_USER.to_string(),
            format!("on >{password} ~* &* +@all"),
        )],
    )
    .await?;
    server.set_admin_credentials(Some(Credentials {
        user: Some(HARNESS_USER.to_string()),
        password,
    }));
    set_users(server, &[("default".to_string(), "off".to_string())]).await
}

/// 128 random bits, in hex, from the standard library's randomly seeded
/// hasher.
fn random_password() -> String {
    let half = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}
