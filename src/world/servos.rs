//! The scenario's servos: started on the first step routed to their role,
//! told the scenario's servers with every step, stopped at its end.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::servo::{Combination, Launch, Roles, Servo, connection::CallError};

use super::ValkeyWorld;

/// One step routed to a servo, as the steps hand it over (placeholders
/// filled in).
#[derive(Debug, Clone)]
pub struct ServoStep {
    /// The role it names.
    pub role: String,
    /// The text after `the "<role>" process `.
    pub text: String,
    /// The whole sentence.
    pub sentence: String,
    /// `Given`, `When`, `Then`, `And`, `But`.
    pub keyword: String,
    /// `features/orders.feature:14`.
    pub location: String,
    /// Its line in the feature file.
    pub line: usize,
    /// Its table's rows, if it has one.
    pub table: Option<Vec<Vec<String>>>,
    /// Its doc string, if it has one.
    pub docstring: Option<String>,
}

/// The scenario's roles and running servos.
#[derive(Debug, Default)]
pub struct Servos {
    /// The roles file of the scenario's feature.
    pub roles: Option<Arc<Roles>>,
    /// The implementation of each role this scenario runs.
    pub combination: Combination,
    /// The running servos by role.
    running: Vec<(String, Servo)>,
    /// Files a servo reads TLS material from, once written.
    tls_files: Option<Value>,
    /// The log lines servos returned with steps that passed: each step's
    /// line, and its lines prefixed by role and implementation.
    logs: Vec<(usize, Vec<String>)>,
}

impl ValkeyWorld {
    /// Sets the roles file of the scenario's feature and the implementation
    /// of each role it runs (a role it does not name runs its first).
    pub fn set_roles(&mut self, roles: Option<Arc<Roles>>, combination: Combination) {
        self.servos.roles = roles;
        self.servos.combination = combination;
    }

    /// Runs one step in the servo of its role, starting the servo first if
    /// the scenario has not yet. Fails with the servo's message, or with
    /// what went wrong with the servo (role, implementation, place, its
    /// stderr tail); a servo that broke the protocol is stopped.
    pub async fn servo_step(&mut self, step: ServoStep) -> Result<()> {
        let timeout = crate::settings::servo_timeout()?;
        let launch = self.launch_of(&step.role)?;
        if !self.servos.running.iter().any(|(r, _)| *r == step.role) {
            let servo = self.start_servo(launch.clone(), &step).await?;
            self.servos.running.push((step.role.clone(), servo));
        }
        let mut params = self.connection_params().await?;
        params["text"] = json!(step.text);
        params["sentence"] = json!(step.sentence);
        params["keyword"] = json!(step.keyword);
        params["location"] = json!(step.location);
        params["table"] = json!(step.table);
        params["docstring"] = json!(step.docstring);
        let at = format!("at {} `{} {}`", step.location, step.keyword, step.sentence);
        let i = self
            .servos
            .running
            .iter()
            .position(|(r, _)| *r == step.role)
            .expect("started above");
        let servo = &mut self.servos.running[i].1;
        if !servo.is_usable() {
            let f = servo
                .failed_now("it failed in an earlier step and was stopped", None)
                .await;
            return Err(Error::Expectation(format!("{f}\n  {at}")));
        }
        match servo.call("step", params, timeout).await {
            Ok(result) => {
                let log = step_result(&launch, &at, &result, servo)?;
                if !log.is_empty() {
                    let who = format!("[{}/{}]", launch.role, launch.implementation.name);
                    self.servos.logs.push((
                        step.line,
                        log.iter().map(|l| format!("{who} {l}")).collect(),
                    ));
                }
                Ok(())
            }
            Err(CallError::Rpc { code, message }) if code == crate::servo::NO_MATCH => {
                Err(Error::Expectation(format!(
                    "{} has no pattern for {:?} {at}: {message}",
                    launch.describe(),
                    step.text
                )))
            }
            Err(e @ CallError::Rpc { .. }) => Err(Error::Expectation(format!(
                "{} {at}: {e}\n{}",
                launch.describe(),
                servo.stderr_tail()
            ))),
            Err(e) => {
                let what = format!("{e} {at}");
                let f = servo.failed_now(&what, Some(e)).await;
                Err(Error::Expectation(with_hint(f.to_string(), &f.call)))
            }
        }
    }

    /// The role's servo as the scenario's combination chooses it.
    fn launch_of(&self, role: &str) -> Result<Launch> {
        let roles = self.servos.roles.as_ref().ok_or_else(|| Error::Config {
            what: format!(
                "the step names the role \"{role}\", and no roles file ({}) lies beside this feature or above it",
                crate::servo::roles::FILE_NAME
            ),
            hint: "declare the role in roles.toml in the features' folder (docs/src/servos/protocol.md: \"The roles file\")".into(),
        })?;
        let declared = roles.role(role).ok_or_else(|| Error::Config {
            what: format!(
                "no role \"{role}\" in {} (it declares {})",
                crate::servo::relative(&roles.file),
                roles.names()
            ),
            hint: "declare it, or correct its name".into(),
        })?;
        let implementation = self
            .servos
            .combination
            .get(role)
            .cloned()
            .unwrap_or_else(|| declared.implementations[0].name.clone());
        Launch::of(roles, role, &implementation).ok_or_else(|| Error::Config {
            what: format!("the role \"{role}\" has no implementation \"{implementation}\""),
            hint: "the combination names an implementation of the roles file".into(),
        })
    }

    async fn start_servo(&mut self, launch: Launch, step: &ServoStep) -> Result<Servo> {
        let dir = self.dir()?.join("servos");
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let at = format!("at {} `{} {}`", step.location, step.keyword, step.sentence);
        let mut servo = Servo::start(launch, &dir)
            .await
            .map_err(|f| Error::Expectation(format!("{f}\n  {at}")))?;
        let info = self.scenario.clone();
        let params = json!({
            "name": info.scenario,
            "feature": info.feature_path.as_deref().map(crate::servo::relative),
            "line": info.line,
            "tags": info.tags,
            "combination": self.servos.combination,
        });
        if let Err(e) = servo
            .call("scenario", params, crate::servo::host::SETUP_DEADLINE)
            .await
        {
            let f = servo
                .failed_now(&format!("the scenario call failed: {e}"), Some(e))
                .await;
            return Err(Error::Expectation(format!("{f}\n  {at}")));
        }
        Ok(servo)
    }

    /// What a servo's client needs to reach the scenario's servers.
    async fn connection_params(&mut self) -> Result<Value> {
        let servers: Vec<(String, Arc<crate::server::Server>)> = self
            .servers
            .iter()
            .map(|(n, s)| (n.clone(), s.clone()))
            .collect();
        let roles = futures::future::join_all(servers.iter().map(|(_, s)| async {
            let info = tokio::time::timeout(
                Duration::from_secs(1),
                crate::info::Info::fetch(s, "replication"),
            )
            .await;
            match info {
                Ok(Ok(info)) => match info.get("role") {
                    Some("slave") => json!("replica"),
                    Some("master") => json!("primary"),
                    _ => Value::Null,
                },
                _ => Value::Null,
            }
        }))
        .await;
        let mut map = serde_json::Map::new();
        let mut password = Value::Null;
        let mut username = Value::Null;
        let mut tls = false;
        for ((name, s), role) in servers.iter().zip(roles) {
            tls |= s.tls().is_some();
            if let Some(c) = s.client_credentials() {
                password = json!(c.password);
                username = json!(c.user.unwrap_or_else(|| "default".into()));
            }
            map.insert(
                name.clone(),
                json!({"name": name, "host": s.host(), "port": s.port(),
                       "tls": s.tls().is_some(), "role": role}),
            );
        }
        let cluster = self.cluster.as_ref().map(|c| {
            let seeds: Vec<String> = c
                .nodes()
                .iter()
                .map(|n| format!("{}:{}", n.host(), n.port()))
                .collect();
            json!({ "seeds": seeds })
        });
        let tls = if tls { self.tls_files()? } else { Value::Null };
        Ok(json!({
            "servers": map,
            "cluster": cluster,
            "password": password,
            "username": username,
            "tls": tls,
        }))
    }

    /// The run's authority and a client certificate, written once into the
    /// scenario's directory (0600) for servos to read.
    fn tls_files(&mut self) -> Result<Value> {
        if let Some(v) = &self.servos.tls_files {
            return Ok(v.clone());
        }
        let material = crate::tls::material()?;
        let client = material.client(crate::tls::DEFAULT_CLIENT_NAME)?;
        let dir = self.dir()?.join("servos");
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let write = |name: &str, text: &str| -> Result<String> {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            let path = dir.join(name);
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
            f.write_all(text.as_bytes())
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
            Ok(path.display().to_string())
        };
        let v = json!({
            "ca": write("ca.crt", &material.ca)?,
            "cert": write("client.crt", &client.cert)?,
            "key": write("client.key", &client.key)?,
        });
        self.servos.tls_files = Some(v.clone());
        Ok(v)
    }

    /// The log lines servos returned with the steps that passed, by the
    /// step's line, each prefixed by `[role/implementation]`.
    pub fn servo_logs(&self) -> &[(usize, Vec<String>)] {
        &self.servos.logs
    }

    /// Stops every servo of the scenario; for a failed scenario, says where
    /// their output is and what they logged with the steps that passed.
    pub(super) async fn stop_servos(&mut self, failed: bool, report: &mut Vec<String>) {
        if failed && !self.servos.logs.is_empty() {
            let file = self
                .scenario
                .feature_path
                .as_deref()
                .map_or_else(|| "?".into(), crate::servo::relative);
            let mut text = "── what the servos logged with the steps that passed:".to_string();
            for (line, lines) in &self.servos.logs {
                for l in lines {
                    text.push_str(&format!("\n   {file}:{line} {l}"));
                }
            }
            report.push(crate::acl::redact(&text).into_owned());
        }
        let running = std::mem::take(&mut self.servos.running);
        let stops = running.into_iter().map(|(_, mut servo)| async move {
            servo.stop().await;
            if failed {
                Some(format!(
                    "── {} — output in {} and {}",
                    servo.launch().describe(),
                    servo.stdout_path().display(),
                    servo.stderr_path().display()
                ))
            } else {
                None
            }
        });
        report.extend(futures::future::join_all(stops).await.into_iter().flatten());
    }
}

/// `{"ok": true}` passes; `{"ok": false, "message"}` fails with the
/// message and the step's log; anything else is a servo's bug.
fn step_result(launch: &Launch, at: &str, result: &Value, servo: &Servo) -> Result<Vec<String>> {
    let log: Vec<String> = result
        .get("log")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
                .collect()
        })
        .unwrap_or_default();
    match result.get("ok").and_then(Value::as_bool) {
        Some(true) => Ok(log),
        Some(false) => {
            let message = result
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("(no message)");
            let mut out = format!("{} failed the step {at}:\n  {message}", launch.describe());
            if !log.is_empty() {
                out.push_str("\n  its log for the step:");
                for line in &log {
                    out.push_str(&format!("\n    {line}"));
                }
            }
            Err(Error::Expectation(crate::acl::redact(&out).into_owned()))
        }
        None => Err(Error::Expectation(format!(
            "{} {at}: it answered the step with {result}, which has no \"ok\": true or false\n{}",
            launch.describe(),
            servo.stderr_tail()
        ))),
    }
}

/// What to do about a servo that broke the protocol.
fn with_hint(message: String, call: &Option<CallError>) -> String {
    let hint = match call {
        Some(CallError::Timeout(_)) => {
            "a step that takes longer needs VALKEY_BDD_SERVO_TIMEOUT (seconds); else look at what the servo was doing"
        }
        Some(CallError::Garbage(_)) => {
            "the servo's protocol socket carries JSON-RPC only: print to stdout or stderr, which the harness keeps in files"
        }
        Some(CallError::Closed) => {
            "the servo exited or closed its socket mid-step: its stderr says why"
        }
        _ => "docs/src/servos/protocol.md: \"Methods (harness → servo)\" says what a servo answers",
    };
    format!("{message}\n  hint: {hint}")
}
