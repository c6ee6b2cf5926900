//! Serve valkey-bdd role steps from a Rust application (servo protocol v1).
//!
//! A *servo* is a process of the application under test that runs the step sentences of
//! one role (`the "producer" process publishes 3 orders`) with the application's own code.
//! The harness starts it with `$VALKEY_BDD_SERVO` naming a Unix socket; the servo connects
//! and answers JSON-RPC 2.0 requests, one JSON object per line.
//!
//! ```no_run
//! use valkey_bdd_servo::Servo;
//!
//! let mut servo = Servo::new(0u32); // the state kept for the scenario
//! servo.step("publishes {int} orders", |ctx, args| {
//!     let n = args.int(0)?;
//!     *ctx.state += n as u32;
//!     ctx.log(format!("publishing {n} to {}", ctx.server(None)?.address()));
//!     Ok(())
//! });
//! servo.run(); // serves until shutdown, then exits 0
//! ```

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Value, json};

/// The protocol version this library speaks.
pub const PROTOCOL: u64 = 1;
/// The JSON-RPC error code of a step sentence no pattern matches.
pub const UNKNOWN_SENTENCE: i64 = -32001;
/// The JSON-RPC error code of an `initialize` asking for a version this library does not speak.
pub const PROTOCOL_MISMATCH: i64 = -32002;

/// Why a step failed: any error converts into it (`Err("why".into())`, `?`).
pub type StepError = Box<dyn std::error::Error + Send + Sync>;

type StepFn<S> = Box<dyn FnMut(&mut Context<'_, S>, &Args) -> Result<(), StepError>>;

/// A server of the scenario, as the harness started it.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// The name the scenario uses for it (`default`, `replica 1`).
    pub name: String,
    /// Its address (loopback).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Whether it speaks TLS only.
    pub tls: bool,
    /// `primary`, `replica`, or none.
    pub role: Option<String>,
}

impl Server {
    /// `host:port`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The TLS files a client of the scenario's servers uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tls {
    /// The CA certificate's path.
    pub ca: Option<String>,
    /// The client certificate's path.
    pub cert: Option<String>,
    /// The client key's path.
    pub key: Option<String>,
}

/// The scenario this servo was started for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scenario {
    /// Its name, with its combination.
    pub name: String,
    /// Its feature file.
    pub feature: String,
    /// Its line in the feature file.
    pub line: u64,
    /// Its tags (`@x`).
    pub tags: Vec<String>,
    /// Role → implementation of this run of the scenario.
    pub combination: BTreeMap<String, String>,
}

/// What a step function gets: the step, the scenario's servers, a log and the state.
#[derive(Debug)]
pub struct Context<'s, S> {
    /// The sentence without `the "<role>" process `: what the patterns match.
    pub text: String,
    /// The whole sentence.
    pub sentence: String,
    /// `Given`, `When`, ...
    pub keyword: String,
    /// `features/orders.feature:14`.
    pub location: String,
    /// The step's table: rows of cells.
    pub table: Option<Vec<Vec<String>>>,
    /// The step's doc string.
    pub docstring: Option<String>,
    /// Every server of the scenario, by the name the scenario uses.
    pub servers: BTreeMap<String, Server>,
    /// The cluster's seed nodes (`host:port`), in a cluster scenario.
    pub cluster: Option<Vec<String>>,
    /// The password the servers want.
    pub password: Option<String>,
    /// The user to authenticate as.
    pub username: Option<String>,
    /// The TLS files, when the servers speak TLS.
    pub tls: Option<Tls>,
    /// The scenario.
    pub scenario: Scenario,
    /// The role this servo serves.
    pub role: String,
    /// The implementation this servo is.
    pub implementation: String,
    /// Kept for the whole scenario (the servo runs one scenario).
    pub state: &'s mut S,
    lines: Vec<String>,
}

impl<S> Context<'_, S> {
    /// Adds a line (or several) to the step's log, shown under the step in the reports.
    pub fn log(&mut self, line: impl AsRef<str>) {
        self.lines
            .extend(line.as_ref().split('\n').map(str::to_owned));
    }

    /// The server of that name; without a name `default`, else the only server.
    pub fn server(&self, name: Option<&str>) -> Result<&Server, StepError> {
        let names = || self.servers.keys().cloned().collect::<Vec<_>>();
        match name {
            Some(n) => self
                .servers
                .get(n)
                .ok_or_else(|| format!("no server {n:?}: the scenario has {:?}", names()).into()),
            None if self.servers.contains_key("default") => Ok(&self.servers["default"]),
            None if self.servers.len() == 1 => Ok(self.servers.values().next().unwrap()),
            None => Err(format!("which server? the scenario has {:?}", names()).into()),
        }
    }
}

/// One typed argument of a matched pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `{int}`.
    Int(i64),
    /// `{float}`.
    Float(f64),
    /// `{word}`, `{string}` (without its quotes), `{}`.
    Text(String),
}

/// The arguments of a matched pattern, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Args(pub Vec<Arg>);

impl Args {
    fn get(&self, i: usize) -> Result<&Arg, StepError> {
        self.0
            .get(i)
            .ok_or_else(|| format!("the pattern has no argument {i}").into())
    }
    /// The `i`th argument, an `{int}`.
    pub fn int(&self, i: usize) -> Result<i64, StepError> {
        match self.get(i)? {
            Arg::Int(n) => Ok(*n),
            other => Err(format!("argument {i} is {other:?}, not an {{int}}").into()),
        }
    }
    /// The `i`th argument, a `{float}` (or an `{int}`).
    pub fn float(&self, i: usize) -> Result<f64, StepError> {
        match self.get(i)? {
            Arg::Float(x) => Ok(*x),
            Arg::Int(n) => Ok(*n as f64),
            other => Err(format!("argument {i} is {other:?}, not a {{float}}").into()),
        }
    }
    /// The `i`th argument, a `{word}`, `{string}` or `{}`.
    pub fn text(&self, i: usize) -> Result<&str, StepError> {
        match self.get(i)? {
            Arg::Text(s) => Ok(s),
            other => Err(format!("argument {i} is {other:?}, not text").into()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Param {
    Int,
    Float,
    Word,
    String,
    Any,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Param(Param),
}

/// A compiled pattern: `publishes {int} orders`.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    parts: Vec<Part>,
}

impl Pattern {
    /// Compiles a pattern; an unknown `{name}` is an error naming the known ones.
    pub fn new(source: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find('{') {
            let Some(len) = rest[open..].find('}') else {
                break;
            };
            let param = match &rest[open + 1..open + len] {
                "int" => Param::Int,
                "float" => Param::Float,
                "word" => Param::Word,
                "string" => Param::String,
                "" => Param::Any,
                other => {
                    return Err(format!(
                        "pattern {source:?}: unknown parameter {{{other}}} (known: {{int}}, {{float}}, {{word}}, {{string}}, {{}})"
                    ));
                }
            };
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            parts.push(Part::Param(param));
            rest = &rest[open + len + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Pattern {
            source: source.to_owned(),
            parts,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The typed arguments when the pattern matches the whole text.
    pub fn matches(&self, text: &str) -> Option<Args> {
        let mut args = Vec::new();
        match_parts(&self.parts, text, &mut args).then_some(Args(args))
    }
}

/// Backtracking match: each parameter tries its possible lengths, the longest first (`{}`
/// the shortest first), as the equivalent regex would.
fn match_parts(parts: &[Part], text: &str, args: &mut Vec<Arg>) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return text.is_empty();
    };
    match first {
        Part::Literal(l) => text
            .strip_prefix(l.as_str())
            .is_some_and(|t| match_parts(rest, t, args)),
        Part::Param(p) => {
            let mut ends: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .skip(1)
                .chain([text.len()])
                .collect();
            if *p == Param::Any {
                ends.insert(0, 0);
            } else {
                ends.reverse();
            }
            for end in ends {
                if let Some(arg) = convert(*p, &text[..end]) {
                    args.push(arg);
                    if match_parts(rest, &text[end..], args) {
                        return true;
                    }
                    args.pop();
                }
            }
            false
        }
    }
}

fn convert(p: Param, s: &str) -> Option<Arg> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match p {
        Param::Int => {
            digits(s.strip_prefix('-').unwrap_or(s)).then(|| s.parse().ok().map(Arg::Int))?
        }
        Param::Float => {
            let body = s.strip_prefix('-').unwrap_or(s);
            let (mantissa, exponent) = match body.find(['e', 'E']) {
                Some(i) => (&body[..i], Some(&body[i + 1..])),
                None => (body, None),
            };
            let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
            let mantissa_ok =
                digits(whole) || (whole.is_empty() && digits(fraction) && mantissa.contains('.'));
            let fraction_ok = fraction.is_empty() || digits(fraction);
            let exponent_ok =
                exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
            (mantissa_ok && fraction_ok && exponent_ok).then(|| s.parse().ok().map(Arg::Float))?
        }
        Param::Word => {
            (!s.is_empty() && !s.contains(char::is_whitespace)).then(|| Arg::Text(s.to_owned()))
        }
        Param::String => {
            let inner = s.strip_prefix('"')?.strip_suffix('"')?;
            let (mut out, mut chars) = (String::new(), inner.chars());
            while let Some(c) = chars.next() {
                match c {
                    '"' => return None,
                    '\\' => out.push(chars.next()?),
                    c => out.push(c),
                }
            }
            Some(Arg::Text(out))
        }
        Param::Any => Some(Arg::Text(s.to_owned())),
    }
}

struct Step<S> {
    pattern: Pattern,
    description: Option<String>,
    function: StepFn<S>,
}

/// The steps of one role, and the loop that serves them to the harness.
pub struct Servo<S> {
    name: String,
    steps: Vec<Step<S>>,
    state: S,
    scenario: Scenario,
    role: String,
    implementation: String,
}

struct RpcError(i64, String, Option<Value>);

impl<S> Servo<S> {
    /// A servo whose steps share `state` for the scenario.
    pub fn new(state: S) -> Self {
        Servo {
            name: format!("valkey-bdd-servo (rust) {}", env!("CARGO_PKG_VERSION")),
            steps: Vec::new(),
            state,
            scenario: Scenario::default(),
            role: std::env::var("VALKEY_BDD_ROLE").unwrap_or_default(),
            implementation: std::env::var("VALKEY_BDD_IMPLEMENTATION").unwrap_or_default(),
        }
    }

    /// Registers a step for a pattern. A bad pattern, or one registered twice, panics:
    /// it is a mistake in the program, found when it starts.
    pub fn step<F>(&mut self, pattern: &str, function: F) -> &mut Self
    where
        F: FnMut(&mut Context<'_, S>, &Args) -> Result<(), StepError> + 'static,
    {
        self.step_described(pattern, None, function)
    }

    /// Registers a step with a description `valkey-bdd steps` shows.
    pub fn step_described<F>(
        &mut self,
        pattern: &str,
        description: Option<&str>,
        function: F,
    ) -> &mut Self
    where
        F: FnMut(&mut Context<'_, S>, &Args) -> Result<(), StepError> + 'static,
    {
        let compiled = Pattern::new(pattern).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            self.steps.iter().all(|s| s.pattern.source != pattern),
            "pattern {pattern:?} is registered twice"
        );
        self.steps.push(Step {
            pattern: compiled,
            description: description.map(str::to_owned),
            function: Box::new(function),
        });
        self
    }

    /// Connects to `$VALKEY_BDD_SERVO` and serves until `shutdown`, then exits 0; exits 1
    /// when the harness closes the connection first, 2 when there is no socket to connect to.
    pub fn run(self) -> ! {
        let Ok(path) = std::env::var("VALKEY_BDD_SERVO") else {
            eprintln!(
                "valkey-bdd-servo: VALKEY_BDD_SERVO is not set. This program serves the steps of a role and is \
                 started by valkey-bdd (declare it in roles.toml beside your features and run `valkey-bdd run`); \
                 it cannot run on its own."
            );
            std::process::exit(2);
        };
        match self.serve_at(&path) {
            Ok(true) => std::process::exit(0),
            Ok(false) => {
                eprintln!("valkey-bdd-servo: the harness closed the connection without shutdown");
                std::process::exit(1)
            }
            Err(e) => {
                eprintln!("valkey-bdd-servo: {path} (VALKEY_BDD_SERVO): {e}");
                std::process::exit(2)
            }
        }
    }

    /// Connects to the socket at `path` and serves: `Ok(true)` after `shutdown`, `Ok(false)`
    /// when the connection ended first.
    pub fn serve_at(mut self, path: &str) -> std::io::Result<bool> {
        let stream = UnixStream::connect(path)?;
        let reader = BufReader::new(stream.try_clone()?);
        self.serve(reader, stream)
    }

    /// Answers the requests of `reader` on `writer` until `shutdown` (`Ok(true)`) or the end
    /// of the input (`Ok(false)`).
    pub fn serve(&mut self, reader: impl BufRead, mut writer: impl Write) -> std::io::Result<bool> {
        for line in reader.lines() {
            let line = line?;
            let reply = match serde_json::from_str::<Value>(&line) {
                Err(e) => {
                    json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": format!("parse error: {e}")}})
                }
                Ok(request) => {
                    let Some(method) = request.get("method").and_then(Value::as_str) else {
                        continue;
                    };
                    let id = request.get("id").cloned().unwrap_or(Value::Null);
                    let params = request.get("params").cloned().unwrap_or(Value::Null);
                    let shutdown = method == "shutdown";
                    let reply = match self.dispatch(method, &params) {
                        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
                        Err(RpcError(code, message, data)) => {
                            let mut error = json!({"code": code, "message": message});
                            if let Some(data) = data {
                                error["data"] = data;
                            }
                            json!({"jsonrpc": "2.0", "id": id, "error": error})
                        }
                    };
                    if shutdown {
                        writeln!(writer, "{reply}")?;
                        writer.flush()?;
                        return Ok(true);
                    }
                    reply
                }
            };
            writeln!(writer, "{reply}")?;
            writer.flush()?;
        }
        Ok(false)
    }

    fn find(&self, text: &str) -> Option<(usize, Args)> {
        self.steps
            .iter()
            .enumerate()
            .find_map(|(i, s)| s.pattern.matches(text).map(|a| (i, a)))
    }

    fn dispatch(&mut self, method: &str, p: &Value) -> Result<Value, RpcError> {
        let text = |key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned);
        match method {
            "initialize" => {
                let asked = p.get("protocol").cloned().unwrap_or(Value::Null);
                if asked.as_u64() != Some(PROTOCOL) {
                    return Err(RpcError(
                        PROTOCOL_MISMATCH,
                        format!(
                            "protocol mismatch: the harness asks for version {asked}, this servo ({}) speaks version {PROTOCOL}",
                            self.name
                        ),
                        Some(json!({"protocols": [PROTOCOL]})),
                    ));
                }
                self.role = text("role").unwrap_or_else(|| self.role.clone());
                self.implementation =
                    text("implementation").unwrap_or_else(|| self.implementation.clone());
                Ok(json!({"protocol": PROTOCOL, "name": self.name}))
            }
            "discover" => Ok(
                json!({"steps": self.steps.iter().map(|s| match &s.description {
                Some(d) => json!({"pattern": s.pattern.source, "description": d}),
                None => json!({"pattern": s.pattern.source}),
            }).collect::<Vec<_>>()}),
            ),
            "match" => {
                let sentences = p
                    .get("sentences")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let matches: Vec<Value> = sentences
                    .iter()
                    .map(|t| match self.find(t.as_str().unwrap_or_default()) {
                        Some((i, _)) => json!(self.steps[i].pattern.source),
                        None => Value::Null,
                    })
                    .collect();
                Ok(json!({ "matches": matches }))
            }
            "scenario" => {
                self.scenario = Scenario {
                    name: text("name").unwrap_or_default(),
                    feature: text("feature").unwrap_or_default(),
                    line: p.get("line").and_then(Value::as_u64).unwrap_or_default(),
                    tags: strings(p.get("tags")),
                    combination: p
                        .get("combination")
                        .and_then(Value::as_object)
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| {
                                    (k.clone(), v.as_str().unwrap_or_default().to_owned())
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                Ok(json!({}))
            }
            "step" => self.run_step(p),
            "shutdown" => Ok(json!({})),
            other => Err(RpcError(-32601, format!("unknown method {other:?}"), None)),
        }
    }

    fn run_step(&mut self, p: &Value) -> Result<Value, RpcError> {
        let text = |key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned);
        let sentence = text("text").unwrap_or_default();
        let Some((index, args)) = self.find(&sentence) else {
            let patterns: Vec<&str> = self.steps.iter().map(|s| s.pattern.as_str()).collect();
            return Err(RpcError(
                UNKNOWN_SENTENCE,
                format!("no step of the {:?} servo matches {sentence:?}", self.role),
                Some(json!({ "patterns": patterns })),
            ));
        };
        let servers = p
            .get("servers")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(name, s)| {
                        let server = Server {
                            name: s
                                .get("name")
                                .and_then(Value::as_str)
                                .unwrap_or(name)
                                .to_owned(),
                            host: s
                                .get("host")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            port: s.get("port").and_then(Value::as_u64).unwrap_or_default() as u16,
                            tls: s.get("tls").and_then(Value::as_bool).unwrap_or_default(),
                            role: s.get("role").and_then(Value::as_str).map(str::to_owned),
                        };
                        (name.clone(), server)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let tls = p.get("tls").filter(|t| t.is_object()).map(|t| Tls {
            ca: t.get("ca").and_then(Value::as_str).map(str::to_owned),
            cert: t.get("cert").and_then(Value::as_str).map(str::to_owned),
            key: t.get("key").and_then(Value::as_str).map(str::to_owned),
        });
        let table = p
            .get("table")
            .and_then(Value::as_array)
            .map(|rows| rows.iter().map(|r| strings(Some(r))).collect());
        let mut ctx = Context {
            sentence: text("sentence").unwrap_or_else(|| sentence.clone()),
            text: sentence,
            keyword: text("keyword").unwrap_or_default(),
            location: text("location").unwrap_or_default(),
            table,
            docstring: text("docstring"),
            servers,
            cluster: p
                .get("cluster")
                .filter(|c| c.is_object())
                .map(|c| strings(c.get("seeds"))),
            password: text("password"),
            username: text("username"),
            tls,
            scenario: self.scenario.clone(),
            role: self.role.clone(),
            implementation: self.implementation.clone(),
            state: &mut self.state,
            lines: Vec::new(),
        };
        let function = &mut self.steps[index].function;
        let outcome = catch_unwind(AssertUnwindSafe(|| function(&mut ctx, &args)));
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(panic) => Some(format!(
                "panicked: {}",
                panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)")
            )),
        };
        Ok(match failure {
            None => json!({"ok": true, "log": ctx.lines}),
            Some(message) => json!({"ok": false, "message": message, "log": ctx.lines}),
        })
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pattern: &str, text: &str) -> Option<Vec<Arg>> {
        Pattern::new(pattern).unwrap().matches(text).map(|a| a.0)
    }

    #[test]
    fn patterns_match_whole_sentences_with_typed_arguments() {
        use Arg::*;
        assert_eq!(
            args("adds {int} and {int}", "adds 2 and -5"),
            Some(vec![Int(2), Int(-5)])
        );
        assert_eq!(args("adds {int} and {int}", "adds 2 and 5 twice"), None);
        assert_eq!(args("adds {int} and {int}", "adds two and 5"), None);
        assert_eq!(
            args("measures {float} {word}", "measures 2.5 kg"),
            Some(vec![Float(2.5), Text("kg".into())])
        );
        assert_eq!(
            args("measures {float} {word}", "measures -.5e3 m"),
            Some(vec![Float(-500.0), Text("m".into())])
        );
        assert_eq!(args("measures {float} {word}", "measures inf m"), None);
        assert_eq!(
            args(
                "greets {string} with {}",
                r#"greets "Ann \"A\" Lee" with a smile"#
            ),
            Some(vec![Text(r#"Ann "A" Lee"#.into()), Text("a smile".into())])
        );
        assert_eq!(args("greets {string}", r#"greets "a" and "b""#), None);
        assert_eq!(
            args("{} then {}", "a then b then c"),
            Some(vec![Text("a".into()), Text("b then c".into())])
        );
        assert_eq!(
            args("héllo {word}", "héllo wörld"),
            Some(vec![Text("wörld".into())])
        );
        assert!(
            Pattern::new("publishes {number} orders")
                .unwrap_err()
                .contains("unknown parameter {number}")
        );
    }
}
