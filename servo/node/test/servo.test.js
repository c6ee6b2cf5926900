// The Node servo, driven as the harness drives it: a real Unix socket server in the test
// speaking protocol v1 to a real servo subprocess (test/app.js).
"use strict";
const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { spawn, spawnSync } = require("node:child_process");
const { Servo, ServoError } = require("..");

const APP = path.join(__dirname, "..", "fixtures", "app.js");

class Harness {
  static async start(script = APP) {
    const h = new Harness();
    h.dir = fs.mkdtempSync(path.join(os.tmpdir(), "servo-test-"));
    fs.chmodSync(h.dir, 0o700);
    h.socketPath = path.join(h.dir, "servo.sock");
    h.server = net.createServer();
    const accepted = new Promise((resolve) => h.server.once("connection", resolve));
    await new Promise((resolve) => h.server.listen(h.socketPath, resolve));
    h.stdout = "";
    h.stderr = "";
    h.child = spawn(process.execPath, [script], {
      env: { ...process.env, VALKEY_BDD_SERVO: h.socketPath, VALKEY_BDD_ROLE: "producer", VALKEY_BDD_IMPLEMENTATION: "node" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    h.child.stdout.on("data", (d) => (h.stdout += d));
    h.child.stderr.on("data", (d) => (h.stderr += d));
    h.exited = new Promise((resolve) => h.child.once("close", (code) => resolve(code)));
    h.conn = await withDeadline(accepted, "the servo to connect", h);
    h.buffer = "";
    h.waiting = [];
    h.lines = [];
    h.closed = false;
    h.conn.on("data", (d) => {
      h.buffer += d;
      let i;
      while ((i = h.buffer.indexOf("\n")) >= 0) {
        h.lines.push(h.buffer.slice(0, i + 1));
        h.buffer = h.buffer.slice(i + 1);
      }
      h.flush();
    });
    h.conn.on("end", () => {
      h.closed = true;
      h.flush();
    });
    h.conn.on("error", () => {});
    h.nextId = 0;
    return h;
  }

  flush() {
    while (this.waiting.length && (this.lines.length || this.closed)) this.waiting.shift()(this.lines.shift() ?? null);
  }

  /** The next line the servo sends (null at the end of the connection). */
  readLine() {
    const p = new Promise((resolve) => this.waiting.push(resolve));
    this.flush();
    return withDeadline(p, "a line from the servo", this);
  }

  async request(method, params = {}) {
    this.nextId += 1;
    this.conn.write(JSON.stringify({ jsonrpc: "2.0", id: this.nextId, method, params }) + "\n");
    const line = await this.readLine();
    assert.ok(line, `no answer to ${method}; stderr: ${this.stderr}`);
    const reply = JSON.parse(line);
    assert.strictEqual(reply.jsonrpc, "2.0");
    assert.strictEqual(reply.id, this.nextId);
    return reply;
  }

  async result(method, params) {
    const reply = await this.request(method, params);
    assert.ok(!reply.error, JSON.stringify(reply));
    return reply.result;
  }

  step(text, params = {}) {
    return this.result("step", {
      text, sentence: `the "producer" process ${text}`, keyword: "When", location: "features/orders.feature:14",
      table: null, docstring: null, servers: {}, cluster: null, password: null, username: null, tls: null, ...params,
    });
  }

  async close() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
    this.conn.destroy();
    await new Promise((resolve) => this.server.close(resolve));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function withDeadline(promise, what, h) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within 10 s; stderr: ${h && h.stderr}`)), 10000);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

async function initialized(fn) {
  const h = await Harness.start();
  try {
    const result = await h.result("initialize", { protocol: 1, role: "producer", implementation: "node" });
    assert.strictEqual(result.protocol, 1);
    assert.match(result.name, /node/);
    await fn(h);
  } finally {
    await h.close();
  }
}

test("discover lists patterns with descriptions", () =>
  initialized(async (h) => {
    const { steps } = await h.result("discover");
    assert.deepStrictEqual(steps[0], { pattern: "adds {int} and {int}", description: "Adds two numbers." });
    assert.ok(steps.some((s) => s.pattern === "greets {string} with {}"));
  }));

test("match answers each sentence, whole sentences only", () =>
  initialized(async (h) => {
    const { matches } = await h.result("match", {
      sentences: ["adds 1 and -2", "adds one and 2", "eats cake", 'greets "Ann" with a smile', "measures 2.5 kg", "adds 1 and 2 twice"],
    });
    assert.deepStrictEqual(matches, ["adds {int} and {int}", null, null, "greets {string} with {}", "measures {float} {word}", null]);
  }));

test("arguments are typed", () =>
  initialized(async (h) => {
    assert.deepStrictEqual((await h.step("adds 2 and -5")).log, ["2 + -5 = -3 (number)"]);
    assert.deepStrictEqual((await h.step("measures 2.5 kg")).log, ["2.5 kg (number)"]);
    assert.deepStrictEqual((await h.step('greets "Ann \\"A\\" Lee" with a smile')).log, ['name=[Ann "A" Lee] rest=[a smile]']);
    assert.deepStrictEqual((await h.step('greets "" with ')).log, ["name=[] rest=[]"]);
  }));

test("tables and doc strings reach the step", () =>
  initialized(async (h) => {
    assert.deepStrictEqual((await h.step("reads the table", { table: [["id", "qty"], ["1", "2"]] })).log, ["id|qty", "1|2"]);
    assert.deepStrictEqual((await h.step("reads the doc string", { docstring: "line 1\nline 2" })).log, ["doc=[line 1", "line 2]"]);
  }));

test("the scenario and its servers reach the step", () =>
  initialized(async (h) => {
    assert.deepStrictEqual(
      await h.result("scenario", { name: "Orders flow", feature: "features/orders.feature", line: 12, tags: ["@x"], combination: { producer: "node" } }),
      {},
    );
    assert.deepStrictEqual((await h.step("shows the scenario")).log, [
      'Orders flow features/orders.feature:12 ["@x"] {"producer":"node"} producer/node',
      'When features/orders.feature:14 the "producer" process shows the scenario',
    ]);
    const servers = {
      default: { name: "default", host: "127.0.0.1", port: 40001, tls: false, role: "primary" },
      "replica 1": { name: "replica 1", host: "127.0.0.1", port: 40002, tls: true, role: "replica" },
    };
    const result = await h.step("shows the servers", {
      servers, password: "pw", username: "default", cluster: { seeds: ["127.0.0.1:40001"] }, tls: { ca: "/ca.crt", cert: "/c.crt", key: "/c.key" },
    });
    assert.deepStrictEqual(result.log, [
      "default 127.0.0.1:40001 tls=false role=primary",
      "replica 1 127.0.0.1:40002 tls=true role=replica",
      "default=default password=pw username=default",
      'cluster=["127.0.0.1:40001"] ca=/ca.crt',
    ]);
  }));

test("state lasts the scenario and async steps run", () =>
  initialized(async (h) => {
    await h.step('remembers "a"');
    assert.deepStrictEqual((await h.step('remembers "b"')).log, ['seen=["a","b"]']);
    assert.deepStrictEqual((await h.step("waits asynchronously")).log, ["waited"]);
  }));

test("a failed assertion is ok:false with its message", () =>
  initialized(async (h) => {
    const result = await h.step('fails with "3 orders, expected 4"');
    assert.strictEqual(result.ok, false);
    assert.strictEqual(result.message, "3 orders, expected 4");
    assert.strictEqual(result.log[0], "before the failure");
    assert.ok(result.log.some((l) => l.includes("app.js:")), result.log.join("\n"));
  }));

test("an exception is ok:false with its stack, and the servo goes on", () =>
  initialized(async (h) => {
    const result = await h.step("raises");
    assert.strictEqual(result.ok, false);
    assert.strictEqual(result.message, "TypeError: boom");
    assert.ok(result.log.some((l) => /at .*app\.js:\d+/.test(l)), result.log.join("\n"));
    assert.strictEqual((await h.step("adds 1 and 1")).ok, true);
  }));

test("an unknown sentence is error -32001", () =>
  initialized(async (h) => {
    const reply = await h.request("step", { text: "eats cake" });
    assert.strictEqual(reply.error.code, -32001);
    assert.match(reply.error.message, /eats cake/);
    assert.ok(reply.error.data.patterns.includes("adds {int} and {int}"));
  }));

test("garbage gets a parse error and the servo goes on", () =>
  initialized(async (h) => {
    h.conn.write("this is not json\n");
    const reply = JSON.parse(await h.readLine());
    assert.strictEqual(reply.error.code, -32700);
    assert.strictEqual(reply.id, null);
    assert.strictEqual((await h.step("adds 1 and 2")).ok, true);
  }));

test("a protocol mismatch is error -32002", async () => {
  const h = await Harness.start();
  try {
    const reply = await h.request("initialize", { protocol: 2, role: "producer", implementation: "node" });
    assert.strictEqual(reply.error.code, -32002);
    assert.match(reply.error.message, /version 2/);
    assert.match(reply.error.message, /version 1/);
    assert.deepStrictEqual(reply.error.data, { protocols: [1] });
  } finally {
    await h.close();
  }
});

test("shutdown answers, closes the socket and exits 0; stdout stays the application's", () =>
  initialized(async (h) => {
    assert.strictEqual((await h.step("prints to stdout")).ok, true);
    assert.deepStrictEqual(await h.result("shutdown"), {});
    assert.strictEqual(await withDeadline(h.exited, "exit", h), 0);
    assert.strictEqual(await h.readLine(), null);
    assert.strictEqual(h.stdout, "the application's own output\n");
  }));

test("a lost harness exits 1", () =>
  initialized(async (h) => {
    h.conn.end();
    assert.strictEqual(await withDeadline(h.exited, "exit", h), 1);
    assert.match(h.stderr, /closed the connection without shutdown/);
  }));

test("an unset socket variable is a clear error", () => {
  const env = { ...process.env };
  delete env.VALKEY_BDD_SERVO;
  const done = spawnSync(process.execPath, [APP], { env, encoding: "utf8", timeout: 10000 });
  assert.strictEqual(done.status, 2);
  assert.match(done.stderr, /VALKEY_BDD_SERVO is not set/);
  assert.match(done.stderr, /roles\.toml/);
});

test("a bad pattern is refused when registered", () => {
  const servo = new Servo();
  assert.throws(() => servo.step("publishes {number} orders", () => {}), (e) => e instanceof ServoError && /unknown parameter \{number\}/.test(e.message));
  servo.step("x", () => {});
  assert.throws(() => servo.step("x", () => {}), /registered twice/);
});
