// The producer of the orders example (Node, ioredis): it publishes orders to the stream
// `orders`. Run by valkey-bdd as the servo of the role `producer` (roles.toml).
"use strict";
const { Servo } = require("valkey-bdd-servo");
const { STREAM, client, connectTo, replicated } = require("./orders");

const servo = new Servo();

async function publish(ctx, orders) {
  const valkey = await client(ctx);
  for (const order of orders) {
    const id = ctx.state.nextId ?? 1;
    ctx.state.nextId = id + 1;
    const entry = await valkey.xadd(STREAM, "*", "id", String(id), ...Object.entries(order).flat());
    await replicated(ctx, `order ${id}`);
    ctx.log(`published order ${id} as ${entry}`);
  }
}

const widgets = (n) => Array.from({ length: n }, () => ({ item: "widget", qty: "1" }));

servo.step("publishes {int} orders", (ctx, n) => publish(ctx, widgets(n)), "Publishes n orders of one item each, numbered from 1 on.");
servo.step("publishes 1 order", (ctx) => publish(ctx, widgets(1)), "Publishes one order of one item.");
servo.step(
  "publishes the orders:",
  (ctx) => {
    if (!ctx.table || ctx.table.length < 2) throw new Error("the step needs a table: a row of field names, then one row per order");
    const [header, ...rows] = ctx.table;
    return publish(ctx, rows.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i]]))));
  },
  "Publishes one order per row of the table; its first row names the fields.",
);
servo.step("connects to {string}", (ctx, name) => connectTo(ctx, name), "Publishes to the server of that name from now on (after a failover).");

servo.run();
