// The consumer of the orders example (Node, ioredis): it reads orders from the stream
// `orders` in a consumer group, ships each (adds its id to the set `shipped`) and
// acknowledges it. Run by valkey-bdd as the servo of the role `consumer` (roles.toml);
// `consumer.js --worker <name>` is a consumer that takes one order and dies without
// acknowledging it, started by a step.
"use strict";
const assert = require("node:assert");
const { spawn } = require("node:child_process");
const Redis = require("ioredis");
const { Servo } = require("valkey-bdd-servo");
const { STREAM, SHIPPED, pickServer, client, connectTo, replicated, asObject, fields } = require("./orders");

const DEADLINE_MS = 10000;
const servo = new Servo();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function group(ctx) {
  if (!ctx.state.group) throw new Error('no group yet: the consumer first `joins the group "<group>" as "<name>"`');
  return [ctx.state.group, ctx.state.name];
}

/** Ships the order, then acknowledges it; acknowledged means on every replica too. */
async function handle(ctx, entry, order) {
  const valkey = await client(ctx);
  const [name] = group(ctx);
  await valkey.sadd(SHIPPED, order.id);
  await valkey.xack(STREAM, name, entry);
  await replicated(ctx, `the acknowledgement of order ${order.id}`);
  (ctx.state.handled ||= []).push(Number(order.id));
  ctx.log(`handled order ${order.id} (${entry}: ${fields(order)})`);
}

async function read(ctx, n, start) {
  const [name, me] = group(ctx);
  const block = start === "0" ? [] : ["BLOCK", 500];
  const reply = await (await client(ctx)).xreadgroup("GROUP", name, me, "COUNT", n, ...block, "STREAMS", STREAM, start);
  return (reply || []).flatMap(([, entries]) => entries.filter(([, f]) => f).map(([entry, f]) => [entry, asObject(f)]));
}

async function handleN(ctx, n) {
  let done = 0;
  const deadline = Date.now() + DEADLINE_MS;
  for (const [entry, order] of await read(ctx, n, "0")) {
    await handle(ctx, entry, order);
    done += 1;
  }
  while (done < n) {
    if (Date.now() > deadline) assert.fail(`handled ${done} of ${n} orders in ${DEADLINE_MS / 1000} s: no more came`);
    for (const [entry, order] of await read(ctx, n - done, ">")) {
      await handle(ctx, entry, order);
      done += 1;
    }
  }
}

async function claim(ctx, n, idle) {
  const [name, me] = group(ctx);
  let done = 0;
  const deadline = Date.now() + DEADLINE_MS;
  while (done < n) {
    if (Date.now() > deadline) assert.fail(`claimed ${done} of ${n} orders idle for ${idle} ms in ${DEADLINE_MS / 1000} s`);
    const [, entries] = await (await client(ctx)).xautoclaim(STREAM, name, me, idle, "0-0", "COUNT", n - done);
    for (const [entry, f] of entries) {
      ctx.log(`claimed ${entry}`);
      await handle(ctx, entry, asObject(f));
      done += 1;
    }
    if (done < n) await sleep(50);
  }
}

async function pending(ctx) {
  const [name] = group(ctx);
  const [count, , , consumers] = await (await client(ctx)).xpending(STREAM, name);
  return { count, consumers: Object.fromEntries((consumers || []).map(([c, k]) => [c, Number(k)])) };
}

servo.step(
  "joins the group {string} as {string}",
  async (ctx, name, consumer) => {
    try {
      await (await client(ctx)).xgroup("CREATE", STREAM, name, "0", "MKSTREAM");
    } catch (e) {
      if (!String(e.message).includes("BUSYGROUP")) throw e;
    }
    ctx.state.group = name;
    ctx.state.name = consumer;
  },
  "Creates the consumer group (from the stream's start) unless it exists, and reads as `consumer`.",
);
servo.step("handles {int} orders", handleN, "Reads, ships and acknowledges n orders: first its own unacknowledged ones, then new ones.");
servo.step("handles 1 order", (ctx) => handleN(ctx, 1), "Reads, ships and acknowledges one order.");
servo.step("claims {int} orders left idle for {int} ms", claim, "Takes over orders another consumer read and never acknowledged (XAUTOCLAIM), and handles them.");
servo.step("claims 1 order left idle for {int} ms", (ctx, idle) => claim(ctx, 1, idle), "Takes over one order another consumer never acknowledged, and handles it.");
servo.step(
  "starts a consumer {string} that takes an order and dies",
  async (ctx, name) => {
    const [groupName] = group(ctx);
    const server = pickServer(ctx);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VALKEY_BDD_")));
    Object.assign(env, {
      ORDERS_HOST: server.host, ORDERS_PORT: String(server.port), ORDERS_GROUP: groupName,
      ORDERS_USERNAME: ctx.username ?? "", ORDERS_PASSWORD: ctx.password ?? "",
    });
    const child = spawn(process.execPath, [__filename, "--worker", name], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), DEADLINE_MS);
    const code = await new Promise((resolve) => child.on("close", resolve));
    clearTimeout(timer);
    for (const line of output.trimEnd().split("\n")) ctx.log(`${name}: ${line}`);
    if (code !== 1 || !output.includes("took order")) assert.fail(`the consumer "${name}" exited with ${code} without taking an order`);
  },
  "Runs `consumer.js --worker <name>`: a process that reads one order in the group and exits without acknowledging it, as a consumer that crashes does.",
);
async function pendingFor(ctx, n, consumer) {
  const p = await pending(ctx);
  const got = p.consumers[consumer] ?? 0;
  if (got !== n) assert.fail(`"${consumer}" has ${got} orders pending, not ${n} (all pending: ${JSON.stringify(p)})`);
}

servo.step(
  "sees {int} orders pending for {string}",
  pendingFor,
  "Checks how many orders the group delivered to that consumer and it never acknowledged.",
);
servo.step(
  "sees 1 order pending for {string}",
  (ctx, consumer) => pendingFor(ctx, 1, consumer),
  "Checks that the group delivered one order to that consumer and it never acknowledged it.",
);
servo.step(
  "sees no order pending",
  async (ctx) => {
    const p = await pending(ctx);
    if (p.count) assert.fail(`${p.count} orders are pending: ${JSON.stringify(p)}`);
  },
  "Checks that the group has no order delivered and unacknowledged.",
);
servo.step(
  "has handled the orders {int} to {int}",
  (ctx, first, last) => {
    const got = [...(ctx.state.handled || [])].sort((a, b) => a - b);
    const want = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    if (JSON.stringify(got) !== JSON.stringify(want)) assert.fail(`handled the orders [${got.join(", ")}], not [${want.join(", ")}]`);
  },
  "Checks the orders this consumer handled: each of first..last once, and no other.",
);
servo.step("connects to {string}", (ctx, name) => connectTo(ctx, name), "Consumes from the server of that name from now on (after a failover).");

async function worker(name) {
  const env = process.env;
  const valkey = new Redis({
    host: env.ORDERS_HOST, port: Number(env.ORDERS_PORT), username: env.ORDERS_USERNAME || undefined,
    password: env.ORDERS_PASSWORD || undefined, maxRetriesPerRequest: 1,
  });
  const reply = await valkey.xreadgroup("GROUP", env.ORDERS_GROUP, name, "COUNT", 1, "BLOCK", 5000, "STREAMS", STREAM, ">");
  for (const [, entries] of reply || []) {
    for (const [entry, f] of entries) {
      process.stdout.write(`took order ${asObject(f).id} (${entry}), dying before acknowledging it\n`, () => process.exit(1));
      return; // a crash: no XACK, no clean close
    }
  }
  process.stdout.write("no order came in 5 s\n", () => process.exit(3));
}

if (process.argv[2] === "--worker") worker(process.argv[3]);
else servo.run();
