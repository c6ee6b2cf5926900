// What the producer and the consumer of the orders example share: the stream, and a
// connection to the server the scenario names (a servo gets the servers by name with each step).
"use strict";
const assert = require("node:assert");
const Redis = require("ioredis");

const STREAM = "orders";
/** Processed orders: the consumer's side effect, one member per order id. */
const SHIPPED = "shipped";

/** The server chosen with `connects to "<name>"`, else `default`, else `primary`. */
function pickServer(ctx) {
  let name = ctx.state.server;
  if (name === undefined && !ctx.servers.default && ctx.servers.primary) name = "primary";
  return ctx.server(name);
}

/** A client of the chosen server, made again when the choice changes. */
async function client(ctx) {
  const server = pickServer(ctx);
  const address = `${server.host}:${server.port}`;
  if (ctx.state.client && ctx.state.clientOf === address) return ctx.state.client;
  if (ctx.state.client) ctx.state.client.disconnect();
  const valkey = new Redis({
    host: server.host,
    port: server.port,
    username: ctx.username ?? undefined,
    password: ctx.password ?? undefined,
    lazyConnect: true,
    connectTimeout: 5000,
    commandTimeout: 5000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => (times > 20 ? null : 100),
  });
  valkey.on("error", () => {}); // a command's own error fails its step; reconnection noise is not one
  await valkey.connect();
  ctx.state.client = valkey;
  ctx.state.clientOf = address;
  ctx.log(`connected to ${server.name} (${address})`);
  return valkey;
}

/** Switches to the server of that name (after a failover). */
async function connectTo(ctx, name) {
  ctx.server(name); // a name the scenario does not have fails here
  ctx.state.server = name;
  await client(ctx);
}

/**
 * Waits until every replica of the scenario holds the last write: only then is it
 * acknowledged (a write on the primary alone is lost when the primary fails over).
 */
async function replicated(ctx, what) {
  const replicas = Object.values(ctx.servers).filter((s) => s.role === "replica");
  if (replicas.length === 0) return;
  const got = await (await client(ctx)).wait(replicas.length, 2000);
  if (got < replicas.length) assert.fail(`${what} reached ${got} of ${replicas.length} replicas in 2 s`);
}

/** An entry's [field, value, ...] list as an object. */
function asObject(list) {
  const o = {};
  for (let i = 0; i + 1 < list.length; i += 2) o[list[i]] = list[i + 1];
  return o;
}

const fields = (order) => Object.entries(order).map(([k, v]) => `${k}=${v}`).join(" ");

module.exports = { STREAM, SHIPPED, pickServer, client, connectTo, replicated, asObject, fields };
