//! The Rust servo, driven as the harness drives it: a Unix socket server in the test
//! speaking protocol v1 to a real servo process. The servo is this test binary itself, run
//! again with `SERVO_CHILD=1` (the test `servo_child` then serves instead of returning).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use valkey_bdd_servo::Servo;

/// The servo process: only when the harness below starts this binary for it.
#[test]
fn servo_child() {
    if std::env::var_os("SERVO_CHILD").is_none() {
        return;
    }
    let mut servo = Servo::new(Vec::<String>::new());
    servo
        .step_described("adds {int} and {int}", Some("Adds two numbers."), |ctx, a| {
            let (x, y) = (a.int(0)?, a.int(1)?);
            ctx.log(format!("{x} + {y} = {}", x + y));
            Ok(())
        })
        .step("measures {float} {word}", |ctx, a| {
            ctx.log(format!("{:?} {}", a.float(0)?, a.text(1)?));
            Ok(())
        })
        .step("reads the table and the doc string", |ctx, _| {
            let rows: Vec<String> = ctx.table.iter().flatten().map(|r| r.join("|")).collect();
            let line = format!("{} doc=[{}]", rows.join(","), ctx.docstring.clone().unwrap_or_default());
            ctx.log(line);
            Ok(())
        })
        .step("shows the scenario and servers", |ctx, _| {
            let replica = ctx.server(Some("replica 1"))?.clone();
            let line = format!(
                "{}:{} {:?} {:?} {}/{} default={} replica={} role={:?} password={:?} cluster={:?} ca={:?}",
                ctx.scenario.feature,
                ctx.scenario.line,
                ctx.scenario.tags,
                ctx.scenario.combination,
                ctx.role,
                ctx.implementation,
                ctx.server(None)?.address(),
                replica.address(),
                replica.role,
                ctx.password,
                ctx.cluster,
                ctx.tls.as_ref().and_then(|t| t.ca.clone()),
            );
            ctx.log(line);
            Ok(())
        })
        .step("remembers {string}", |ctx, a| {
            ctx.state.push(a.text(0)?.to_owned());
            let line = format!("seen={:?}", ctx.state);
            ctx.log(line);
            Ok(())
        })
        .step("fails with {string}", |ctx, a| {
            ctx.log("before the failure");
            Err(a.text(0)?.into())
        })
        .step("panics", |_, _| panic!("boom"));
    servo.run();
}

struct Harness {
    child: Child,
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn start() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("servo.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "servo_child", "--nocapture", "--test-threads=1"])
            .env("SERVO_CHILD", "1")
            .env("VALKEY_BDD_SERVO", &path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Harness {
            child,
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
            next_id: 0,
            _dir: dir,
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let request =
            json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params});
        writeln!(self.writer, "{request}").unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let reply: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        assert_eq!(reply["id"], json!(self.next_id), "{reply}");
        reply
    }

    fn result(&mut self, method: &str, params: Value) -> Value {
        let reply = self.request(method, params);
        assert!(reply.get("error").is_none(), "{reply}");
        reply["result"].clone()
    }

    fn step(&mut self, text: &str, extra: Value) -> Value {
        let mut params = json!({"text": text, "sentence": format!("the \"producer\" process {text}"), "keyword": "When",
            "location": "features/orders.feature:14", "table": null, "docstring": null, "servers": {},
            "cluster": null, "password": null, "username": null, "tls": null});
        for (k, v) in extra.as_object().unwrap() {
            params[k] = v.clone();
        }
        self.result("step", params)
    }

    fn wait(mut self) -> i32 {
        let status = self.child.wait().unwrap();
        status.code().unwrap_or(-1)
    }
}

#[test]
fn a_servo_serves_a_scenario_and_exits_0_at_shutdown() {
    let mut h = Harness::start();
    let init = h.result(
        "initialize",
        json!({"protocol": 1, "role": "producer", "implementation": "rust"}),
    );
    assert_eq!(init["protocol"], 1);
    assert!(init["name"].as_str().unwrap().contains("rust"));

    let steps = h.result("discover", json!({}))["steps"].clone();
    assert_eq!(
        steps[0],
        json!({"pattern": "adds {int} and {int}", "description": "Adds two numbers."})
    );
    let matches = h.result(
        "match",
        json!({"sentences": ["adds 1 and -2", "adds one and 2", "eats cake"]}),
    );
    assert_eq!(
        matches["matches"],
        json!(["adds {int} and {int}", null, null])
    );

    h.result(
        "scenario",
        json!({"name": "Orders", "feature": "features/orders.feature", "line": 12, "tags": ["@x"],
               "combination": {"producer": "rust"}}),
    );
    assert_eq!(
        h.step("adds 2 and -5", json!({})),
        json!({"ok": true, "log": ["2 + -5 = -3"]})
    );
    assert_eq!(
        h.step("measures 2.5 kg", json!({}))["log"],
        json!(["2.5 kg"])
    );
    let log = h.step(
        "reads the table and the doc string",
        json!({"table": [["id", "qty"], ["1", "2"]], "docstring": "a\nb"}),
    );
    assert_eq!(log["log"], json!(["id|qty,1|2 doc=[a", "b]"]));
    let servers = json!({
        "default": {"name": "default", "host": "127.0.0.1", "port": 40001, "tls": false, "role": "primary"},
        "replica 1": {"name": "replica 1", "host": "127.0.0.1", "port": 40002, "tls": false, "role": "replica"}});
    let log = h.step(
        "shows the scenario and servers",
        json!({"servers": servers, "password": "pw", "cluster": {"seeds": ["127.0.0.1:40001"]}, "tls": {"ca": "/ca.crt"}}),
    );
    assert_eq!(
        log["log"][0],
        "features/orders.feature:12 [\"@x\"] {\"producer\": \"rust\"} producer/rust default=127.0.0.1:40001 \
         replica=127.0.0.1:40002 role=Some(\"replica\") password=Some(\"pw\") cluster=Some([\"127.0.0.1:40001\"]) ca=Some(\"/ca.crt\")"
    );
    h.step("remembers \"a\"", json!({}));
    assert_eq!(
        h.step("remembers \"b\"", json!({}))["log"],
        json!(["seen=[\"a\", \"b\"]"])
    );

    let failed = h.step("fails with \"3 orders, expected 4\"", json!({}));
    assert_eq!(
        failed,
        json!({"ok": false, "message": "3 orders, expected 4", "log": ["before the failure"]})
    );
    let panicked = h.step("panics", json!({}));
    assert_eq!(
        (&panicked["ok"], &panicked["message"]),
        (&json!(false), &json!("panicked: boom"))
    );
    let unknown = h.request("step", json!({"text": "eats cake"}));
    assert_eq!(unknown["error"]["code"], -32001, "{unknown}");
    assert!(
        unknown["error"]["data"]["patterns"]
            .as_array()
            .unwrap()
            .contains(&json!("panics"))
    );

    assert_eq!(h.result("shutdown", json!({})), json!({}));
    let mut rest = String::new();
    assert_eq!(
        h.reader.read_line(&mut rest).unwrap(),
        0,
        "the servo closes the socket"
    );
    assert_eq!(h.wait(), 0);
}

#[test]
fn a_protocol_mismatch_is_error_32002_and_a_lost_harness_exit_1() {
    let mut h = Harness::start();
    let reply = h.request(
        "initialize",
        json!({"protocol": 2, "role": "producer", "implementation": "rust"}),
    );
    assert_eq!(reply["error"]["code"], -32002, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("version 2") && message.contains("version 1"),
        "{message}"
    );
    h.writer.shutdown(std::net::Shutdown::Both).unwrap();
    let mut stderr = h.child.stderr.take().unwrap();
    assert_eq!(h.wait(), 1);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
    assert!(
        text.contains("closed the connection without shutdown"),
        "{text}"
    );
}
