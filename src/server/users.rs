//! ACL users of a server: `ACL SETUSER`, and the default user turned off
//! with the harness keeping a user of its own ([`crate::acl`]).

use super::Server;
use crate::acl::{HARNESS_USER, run_password, run_password_rule};
use crate::client::Credentials;
use crate::error::{Error, Result};
use crate::reply::Reply;

impl Server {
    /// Creates (or changes) users with `ACL SETUSER <user> <rules>`, the rules
    /// written as in `valkey-cli` (`on >secret ~app:* +@read`). An error reply
    /// fails with the rule that was refused.
    pub async fn set_users(&self, users: &[(String, String)]) -> Result<()> {
        for (user, rules) in users {
            let mut args = vec![
                b"ACL".to_vec(),
                b"SETUSER".to_vec(),
                user.as_bytes().to_vec(),
            ];
            args.extend(crate::command::split(rules)?);
            let mut c = self.client().await?;
            match c.run_args(&args).await? {
                Reply::Status(s) if s == "OK" => {}
                Reply::Error(e) => {
                    return Err(Error::Expectation(format!(
                        "{} refused the ACL rules of user {user:?} ({rules}): {e}\n  hint: see the ACL rules of the Valkey documentation (ACL SETUSER)",
                        self.describe()
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
    /// creates [`HARNESS_USER`] with every permission and the run's password
    /// (sent as its hash) and uses it from then on, so that it can still check
    /// and stop the server; `ACL USERS` therefore lists it. Programs given the
    /// server's URL no longer have a password that works: they connect
    /// unauthenticated, and are refused, as the scenario means.
    pub async fn disable_default_user(&self) -> Result<()> {
        self.set_users(&[(
            HARNESS_USER.to_string(),
            format!("on {} ~* &* +@all", run_password_rule()),
        )])
        .await?;
        self.set_admin_credentials(Some(Credentials {
            user: Some(HARNESS_USER.to_string()),
            password: run_password().to_string(),
        }));
        self.set_guarded(false);
        self.set_users(&[("default".to_string(), "off".to_string())])
            .await
    }
}
