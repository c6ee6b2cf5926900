// Serve valkey-bdd role steps from a Node application (servo protocol v1).
//
// A servo is a process of the application under test that runs the step sentences of one
// role (`the "producer" process publishes 3 orders`) with the application's own code. The
// harness starts it with $VALKEY_BDD_SERVO naming a Unix socket; the servo connects and
// answers JSON-RPC 2.0 requests, one JSON object per line. No dependencies.
"use strict";

const net = require("node:net");
const readline = require("node:readline");

const VERSION = "0.1.0";
const PROTOCOL = 1;
const UNKNOWN_SENTENCE = -32001;
const PROTOCOL_MISMATCH = -32002;

class ServoError extends Error {}

// Cucumber-expression parameters: the regex each matches and how its text becomes a value.
const PARAMETERS = {
  int: ["(-?\\d+)", (s) => parseInt(s, 10)],
  float: ["(-?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?)", (s) => parseFloat(s)],
  word: ["(\\S+)", (s) => s],
  string: ['"((?:[^"\\\\]|\\\\.)*)"', (s) => s.replace(/\\(.)/gs, "$1")],
  "": ["([\\s\\S]*?)", (s) => s],
};

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Compiles a pattern (`publishes {int} orders`) to an anchored regex and its converters. */
function compilePattern(pattern) {
  let source = "";
  let pos = 0;
  const converters = [];
  for (const m of pattern.matchAll(/\{([^{}]*)\}/g)) {
    if (!Object.hasOwn(PARAMETERS, m[1])) {
      const known = Object.keys(PARAMETERS).map((k) => `{${k}}`).join(", ");
      throw new ServoError(`pattern "${pattern}": unknown parameter {${m[1]}} (known: ${known})`);
    }
    const parameter = PARAMETERS[m[1]];
    source += escape(pattern.slice(pos, m.index)) + parameter[0];
    converters.push(parameter[1]);
    pos = m.index + m[0].length;
  }
  source += escape(pattern.slice(pos));
  return { regex: new RegExp(`^(?:${source})$`, "s"), converters };
}

class RpcError extends Error {
  constructor(code, message, data) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/** The steps of one role, and the loop that serves them to the harness. */
class Servo {
  constructor(name = `valkey-bdd-servo (node) ${VERSION}`) {
    this.name = name;
    this.steps = [];
    this.scenario = { name: "", feature: "", line: 0, tags: [], combination: {} };
    this.state = {};
    this.role = process.env.VALKEY_BDD_ROLE || "";
    this.implementation = process.env.VALKEY_BDD_IMPLEMENTATION || "";
  }

  /** Registers `fn(ctx, ...args)` (may be async) for a pattern. */
  step(pattern, fn, description) {
    if (typeof fn !== "function") throw new ServoError(`pattern "${pattern}": no step function given`);
    if (this.steps.some((s) => s.pattern === pattern)) {
      throw new ServoError(`pattern "${pattern}" is registered twice`);
    }
    this.steps.push({ pattern, fn, description, ...compilePattern(pattern) });
    return this;
  }

  /** The first registered step whose pattern matches the whole text, with its arguments. */
  find(text) {
    for (const step of this.steps) {
      const m = step.regex.exec(text);
      if (m) return { step, args: step.converters.map((convert, i) => convert(m[i + 1])) };
    }
    return null;
  }

  /**
   * Connects to $VALKEY_BDD_SERVO and serves until `shutdown`, then exits 0 (with
   * `{ exit: false }` the promise resolves instead). A closed connection without `shutdown`
   * exits 1.
   */
  async run({ exit = true } = {}) {
    const path = process.env.VALKEY_BDD_SERVO;
    if (!path) {
      process.stderr.write(
        "valkey-bdd-servo: VALKEY_BDD_SERVO is not set. This program serves the steps of a role " +
          "and is started by valkey-bdd (declare it in roles.toml beside your features and run " +
          "`valkey-bdd run`); it cannot run on its own.\n",
      );
      process.exit(2);
    }
    const socket = net.createConnection(path);
    try {
      await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    } catch (e) {
      process.stderr.write(`valkey-bdd-servo: cannot connect to ${path} (VALKEY_BDD_SERVO): ${e.message}\n`);
      process.exit(2);
    }
    socket.on("error", () => {}); // a reset is seen as the end of the lines below
    const clean = await this.serve(readline.createInterface({ input: socket, crlfDelay: Infinity }), (line) =>
      socket.write(line),
    );
    await new Promise((resolve) => socket.end(resolve));
    if (!clean) process.stderr.write("valkey-bdd-servo: the harness closed the connection without shutdown\n");
    if (exit || !clean) process.exit(clean ? 0 : 1);
    return clean;
  }

  /** Answers requests from an async iterable of lines until `shutdown` (true) or their end (false). */
  async serve(lines, write) {
    for await (const raw of lines) {
      let request;
      try {
        request = JSON.parse(raw);
      } catch (e) {
        write(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: `parse error: ${e.message}` } }) + "\n");
        continue;
      }
      if (request === null || typeof request !== "object" || !("method" in request)) continue;
      let reply;
      try {
        const result = await this.dispatch(String(request.method), request.params || {});
        reply = { jsonrpc: "2.0", id: request.id ?? null, result };
      } catch (e) {
        if (!(e instanceof RpcError)) throw e;
        const error = { code: e.code, message: e.message };
        if (e.data !== undefined) error.data = e.data;
        reply = { jsonrpc: "2.0", id: request.id ?? null, error };
      }
      write(JSON.stringify(reply) + "\n");
      if (request.method === "shutdown") return true;
    }
    return false;
  }

  async dispatch(method, params) {
    switch (method) {
      case "initialize":
        if (params.protocol !== PROTOCOL) {
          throw new RpcError(
            PROTOCOL_MISMATCH,
            `protocol mismatch: the harness asks for version ${params.protocol}, this servo (${this.name}) speaks version ${PROTOCOL}`,
            { protocols: [PROTOCOL] },
          );
        }
        this.role = params.role ?? this.role;
        this.implementation = params.implementation ?? this.implementation;
        return { protocol: PROTOCOL, name: this.name };
      case "discover":
        return {
          steps: this.steps.map((s) => (s.description ? { pattern: s.pattern, description: s.description } : { pattern: s.pattern })),
        };
      case "match":
        return { matches: (params.sentences || []).map((t) => this.find(String(t))?.step.pattern ?? null) };
      case "scenario":
        this.scenario = {
          name: params.name ?? "",
          feature: params.feature ?? "",
          line: params.line ?? 0,
          tags: params.tags ?? [],
          combination: params.combination ?? {},
        };
        return {};
      case "step":
        return this.runStep(params);
      case "shutdown":
        return {};
      default:
        throw new RpcError(-32601, `unknown method "${method}"`);
    }
  }

  async runStep(p) {
    const text = String(p.text ?? "");
    const found = this.find(text);
    if (!found) {
      throw new RpcError(UNKNOWN_SENTENCE, `no step of the "${this.role}" servo matches "${text}"`, {
        patterns: this.steps.map((s) => s.pattern),
      });
    }
    const lines = [];
    const servers = {};
    for (const [name, s] of Object.entries(p.servers || {})) {
      servers[name] = { name: s.name ?? name, host: s.host, port: s.port, tls: !!s.tls, role: s.role ?? null };
    }
    const ctx = {
      text,
      sentence: p.sentence ?? text,
      keyword: p.keyword ?? "",
      location: p.location ?? "",
      table: p.table ?? null,
      docstring: p.docstring ?? null,
      servers,
      cluster: p.cluster ?? null,
      password: p.password ?? null,
      username: p.username ?? null,
      tls: p.tls ?? null,
      scenario: this.scenario,
      role: this.role,
      implementation: this.implementation,
      state: this.state,
      log: (line) => lines.push(...String(line).split("\n")),
      server(name) {
        if (name === undefined) {
          if (servers.default) return servers.default;
          const all = Object.values(servers);
          if (all.length === 1) return all[0];
          throw new Error(`which server? the scenario has ${JSON.stringify(Object.keys(servers).sort())}`);
        }
        if (!servers[name]) throw new Error(`no server "${name}": the scenario has ${JSON.stringify(Object.keys(servers).sort())}`);
        return servers[name];
      },
    };
    try {
      await found.step.fn(ctx, ...found.args);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      // node:assert's AssertionError says why on its own; any other error says what it is, too.
      const message = error.code === "ERR_ASSERTION" ? error.message : `${error.name}: ${error.message}`;
      lines.push(...String(error.stack || message).split("\n"));
      return { ok: false, message, log: lines };
    }
    return { ok: true, log: lines };
  }
}

module.exports = { Servo, ServoError, compilePattern, PROTOCOL, VERSION };
