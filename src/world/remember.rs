//! The values a scenario remembers, and the one placeholder syntax that
//! fills them in: `${name}`.
//!
//! Every sentence that takes text — a command, an expected value, a table
//! cell, a doc string, a program's command line — goes through
//! [`ValkeyWorld::expand`]. A placeholder is one of:
//!
//! - a value the scenario remembered (`I remember the reply as "size"` →
//!   `${size}`);
//! - `${now}` / `${now_ms}`: the Unix time in seconds / milliseconds;
//! - `${host}`, `${port}`, `${url}` of the default server, `${port:cache}`
//!   of server "cache" (the same for `host` and `url`), `${dir}`: the
//!   scenario's directory; `${cwd}`: the directory the run started in, for
//!   paths a server must be given whole (`MODULE LOAD ${cwd}/m.so`: a
//!   server resolves a relative path from its own directory);
//! - `${client.bob.id}` (its `CLIENT ID`) and `${client.bob.name}` (its
//!   name on the server);
//! - any of these plus or minus an integer when it is an integer:
//!   `${now+5}`, `${size-1}`.
//!
//! `$${x}` is the text `${x}` itself. A name the scenario does not know
//! fails the step, listing the names it knows.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::world::DEFAULT_SERVER;

use super::ValkeyWorld;

/// The directory the run works in, as `${cwd}` gives it.
fn working_directory() -> Result<String> {
    std::env::current_dir()
        .map(|d| d.display().to_string())
        .map_err(|e| Error::Config {
            what: format!("${{cwd}}: cannot read the working directory: {e}"),
            hint: "run valkey-bdd from a directory that still exists".into(),
        })
}

/// The names `${...}` knows without being told, as the errors list them.
const BUILT_INS: &str = "now, now_ms, host, port, url (`:name` for another server: ${port:cache}), dir, cwd, \
                         client.<name>.id, client.<name>.name";

impl ValkeyWorld {
    /// Remembers a value under `name` for `${name}`; remembering a name again
    /// replaces its value. A name must be a word (letters, digits, `_`) that
    /// is not a built-in one.
    pub fn remember(&mut self, name: &str, value: impl Into<String>) -> Result<()> {
        let is_word = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_word {
            return Err(Error::Config {
                what: format!("{name:?} cannot be the name of a remembered value"),
                hint:
                    "use a word of letters, digits and _, starting with a letter: \"size_before\""
                        .into(),
            });
        }
        if matches!(
            name,
            "now" | "now_ms" | "host" | "port" | "url" | "dir" | "cwd" | "client"
        ) {
            return Err(Error::Config {
                what: format!("\"{name}\" is a built-in placeholder; it cannot be remembered"),
                hint: format!("choose another name; the built-ins are {BUILT_INS}"),
            });
        }
        self.remembered.insert(name.to_string(), value.into());
        Ok(())
    }

    /// The value remembered under `name`; a name never remembered fails
    /// with the names that were.
    pub fn remembered(&self, name: &str) -> Result<&str> {
        self.remembered
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| Error::Unknown {
                what: format!(
                    "this scenario has remembered nothing as \"{name}\"; it remembered {}",
                    self.remembered_names()
                ),
                hint: format!("remember it first: When I remember the reply as \"{name}\""),
            })
    }

    fn remembered_names(&self) -> String {
        if self.remembered.is_empty() {
            "nothing".to_string()
        } else {
            self.remembered
                .keys()
                .map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>()
                .join(", ")
        }
    }

    /// Fills in the `${...}` placeholders of a text (see the module's
    /// documentation). Every sentence that takes text calls this.
    ///
    /// ```no_run
    /// # async fn f(w: &mut valkey_bdd::ValkeyWorld) -> valkey_bdd::Result<()> {
    /// w.remember("size", "3")?;
    /// assert_eq!(w.expand("LRANGE q 0 ${size-1}").await?, "LRANGE q 0 2");
    /// # Ok(()) }
    /// ```
    pub async fn expand(&mut self, text: &str) -> Result<String> {
        if !text.contains("${") {
            return Ok(text.to_string());
        }
        static PLACEHOLDER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(r"\$?\$\{([^}]*)\}").expect("valid regex")
        });
        let re = &*PLACEHOLDER;
        let found: Vec<(std::ops::Range<usize>, bool, String)> = re
            .captures_iter(text)
            .map(|c| {
                let whole = c.get(0).expect("whole match");
                (
                    whole.range(),
                    whole.as_str().starts_with("$$"),
                    c[1].to_string(),
                )
            })
            .collect();
        let mut out = String::new();
        let mut last = 0;
        for (range, escaped, name) in found {
            out.push_str(&text[last..range.start]);
            if escaped {
                out.push_str(&text[range.start + 1..range.end]);
            } else {
                out.push_str(&self.placeholder(&name).await?);
            }
            last = range.end;
        }
        out.push_str(&text[last..]);
        Ok(out)
    }

    /// The value of one placeholder, `name` being what is between `${` and
    /// `}`.
    pub async fn placeholder(&mut self, name: &str) -> Result<String> {
        let name = name.trim();
        if let Some(value) = self.lookup(name).await? {
            return Ok(value);
        }
        let arithmetic = regex::Regex::new(r"^(.+?)\s*([+-])\s*(\d+)$").expect("valid regex");
        if let Some(c) = arithmetic.captures(name) {
            let base_name = c[1].trim();
            if let Some(base) = self.lookup(base_name).await? {
                let n: i64 = base.trim().parse().map_err(|_| Error::Config {
                    what: format!(
                        "${{{name}}}: \"{base_name}\" is {base:?}, not an integer, so nothing can be added to it"
                    ),
                    hint: "arithmetic works on integers only: ${now+5}, ${size-1}".into(),
                })?;
                let k: i64 = c[3].parse().map_err(|_| Error::Config {
                    what: format!("${{{name}}}: {} is too large", &c[3]),
                    hint: "add or subtract a smaller integer".into(),
                })?;
                let result = if &c[2] == "+" {
                    n.checked_add(k)
                } else {
                    n.checked_sub(k)
                };
                return result.map(|r| r.to_string()).ok_or_else(|| Error::Config {
                    what: format!("${{{name}}} overflows a 64-bit integer ({n} {} {k})", &c[2]),
                    hint: "use smaller numbers".into(),
                });
            }
        }
        Err(Error::Unknown {
            what: format!(
                "${{{name}}} is not a value this scenario knows; it remembered {}",
                self.remembered_names()
            ),
            hint: format!(
                "remember it first (When I remember the reply as \"{name}\"), or use a built-in: {BUILT_INS}; \
                 $${{...}} is the text ${{...}} itself"
            ),
        })
    }

    /// The value of a name without arithmetic; `None` when nothing has that
    /// name.
    async fn lookup(&mut self, name: &str) -> Result<Option<String>> {
        if let Some(v) = self.remembered.get(name) {
            return Ok(Some(v.clone()));
        }
        let since_epoch = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
        };
        match name {
            "now" => return Ok(Some(since_epoch().as_secs().to_string())),
            "now_ms" => return Ok(Some(since_epoch().as_millis().to_string())),
            "dir" => return Ok(Some(self.dir()?.display().to_string())),
            "cwd" => return Ok(Some(working_directory()?)),
            _ => {}
        }
        let (what, server) = name.split_once(':').unwrap_or((name, DEFAULT_SERVER));
        if matches!(what, "host" | "port" | "url") {
            let server = self.server(Some(server))?;
            return Ok(Some(match what {
                "host" => server.host().to_string(),
                "port" => server.port().to_string(),
                _ => server.url(),
            }));
        }
        if let ["client", client, field @ ("id" | "name")] =
            name.split('.').collect::<Vec<_>>().as_slice()
        {
            if !self.clients.contains_key(*client) {
                return Err(Error::Unknown {
                    what: format!(
                        "${{{name}}}: this scenario has no client called \"{client}\"; it has {}",
                        if self.clients.is_empty() {
                            "none".to_string()
                        } else {
                            self.clients
                                .keys()
                                .map(|k| format!("\"{k}\""))
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ),
                    hint: format!(
                        "connect it first: Given client \"{client}\" is connected to the server"
                    ),
                });
            }
            return Ok(Some(if *field == "id" {
                self.client_id(client).await?.to_string()
            } else {
                crate::actors::server_side_name(client)
            }));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn placeholders_fill_in_remembered_values_with_arithmetic() {
        let mut w = ValkeyWorld::new();
        w.remember("size", "3").unwrap();
        assert_eq!(
            w.expand("LRANGE q ${size-1} ${size + 2} ${size}")
                .await
                .unwrap(),
            "LRANGE q 2 5 3"
        );
        assert_eq!(w.expand("ECHO $${size}").await.unwrap(), "ECHO ${size}");
        let now: u64 = w.expand("${now}").await.unwrap().parse().unwrap();
        let later: u64 = w.expand("${now+5}").await.unwrap().parse().unwrap();
        assert!(later >= now + 5 && later <= now + 6);
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            w.expand("MODULE LOAD ${cwd}/m.so").await.unwrap(),
            format!("MODULE LOAD {}/m.so", cwd.display())
        );
    }

    #[tokio::test]
    async fn an_unknown_name_fails_with_the_names_there_are() {
        let mut w = ValkeyWorld::new();
        w.remember("before", "1").unwrap();
        w.remember("word", "abc").unwrap();
        let e = w.expand("GET ${after}").await.unwrap_err().to_string();
        assert!(
            e.contains("${after} is not a value this scenario knows"),
            "{e}"
        );
        assert!(e.contains("\"before\", \"word\""), "{e}");
        assert!(e.contains("now, now_ms"), "{e}");
        let e = w.expand("${word+1}").await.unwrap_err().to_string();
        assert!(e.contains("not an integer"), "{e}");
        let e = w.expand("${port}").await.unwrap_err().to_string();
        assert!(e.contains("no default server"), "{e}");
    }

    #[test]
    fn built_in_and_odd_names_cannot_be_remembered() {
        let mut w = ValkeyWorld::new();
        assert!(w.remember("now", "1").is_err());
        assert!(w.remember("cwd", "1").is_err());
        assert!(w.remember("my size", "1").is_err());
        assert!(w.remember("a-b", "1").is_err());
        assert!(w.remember("size_2", "1").is_ok());
    }
}
