"""The producer of the orders example (Python, the `valkey` client): it publishes orders to
the stream `orders`. Run by valkey-bdd as the servo of the role `producer` (roles.toml)."""

from __future__ import annotations

from typing import Dict, List

from orders import STREAM, client, connect_to, replicated
from valkey_bdd_servo import Context, Servo

servo = Servo()


def publish(ctx: Context, orders: List[Dict[str, str]]) -> None:
    valkey = client(ctx)
    for order in orders:
        order_id = ctx.state.get("next_id", 1)
        ctx.state["next_id"] = order_id + 1
        entry = valkey.xadd(STREAM, {"id": str(order_id), **order})
        replicated(ctx, f"order {order_id}")
        ctx.log(f"published order {order_id} as {entry}")


@servo.step("publishes {int} orders")
def publish_n(ctx: Context, n: int) -> None:
    """Publishes n orders of one item each, numbered from 1 on."""
    publish(ctx, [{"item": "widget", "qty": "1"} for _ in range(n)])


@servo.step("publishes 1 order")
def publish_one(ctx: Context) -> None:
    """Publishes one order of one item."""
    publish(ctx, [{"item": "widget", "qty": "1"}])


@servo.step("publishes the orders:")
def publish_table(ctx: Context) -> None:
    """Publishes one order per row of the table; its first row names the fields."""
    if not ctx.table or len(ctx.table) < 2:
        raise AssertionError("the step needs a table: a row of field names, then one row per order")
    header, *rows = ctx.table
    publish(ctx, [dict(zip(header, row)) for row in rows])


@servo.step("connects to {string}")
def connect(ctx: Context, name: str) -> None:
    """Publishes to the server of that name from now on (after a failover)."""
    connect_to(ctx, name)


if __name__ == "__main__":
    servo.run()
