"""The consumer of the orders example (Python, the `valkey` client): it reads orders from the
stream `orders` in a consumer group, ships each (adds its id to the set `shipped`) and
acknowledges it. Run by valkey-bdd as the servo of the role `consumer` (roles.toml);
`consumer.py --worker <name>` is a consumer that takes one order and dies without
acknowledging it, started by a step."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Dict, List, Tuple

import valkey as valkey_client

from orders import SHIPPED, STREAM, client, connect_to, fields, pick_server, replicated
from valkey_bdd_servo import Context, Servo

servo = Servo()
DEADLINE = 10.0


def group(ctx: Context) -> Tuple[str, str]:
    if "group" not in ctx.state:
        raise AssertionError('no group yet: the consumer first `joins the group "<group>" as "<name>"`')
    return ctx.state["group"], ctx.state["name"]


def handle(ctx: Context, entry: str, order: Dict[str, str]) -> None:
    """Ships the order, then acknowledges it; acknowledged means on every replica too."""
    valkey = client(ctx)
    name, _ = group(ctx)
    valkey.sadd(SHIPPED, order["id"])
    valkey.xack(STREAM, name, entry)
    replicated(ctx, f"the acknowledgement of order {order['id']}")
    ctx.state.setdefault("handled", []).append(int(order["id"]))
    ctx.log(f"handled order {order['id']} ({entry}: {fields(order)})")


@servo.step("joins the group {string} as {string}")
def join(ctx: Context, name: str, consumer: str) -> None:
    """Creates the consumer group (from the stream's start) unless it exists, and reads as `consumer`."""
    try:
        client(ctx).xgroup_create(STREAM, name, id="0", mkstream=True)
    except valkey_client.ResponseError as e:
        if "BUSYGROUP" not in str(e):
            raise
    ctx.state["group"], ctx.state["name"] = name, consumer


def read(ctx: Context, n: int, start: str) -> List[Tuple[str, Dict[str, str]]]:
    name, me = group(ctx)
    reply = client(ctx).xreadgroup(name, me, {STREAM: start}, count=n, block=None if start == "0" else 500)
    return [(entry, order) for _, entries in reply or [] for entry, order in entries if order]


@servo.step("handles {int} orders")
def handle_n(ctx: Context, n: int) -> None:
    """Reads, ships and acknowledges n orders: first its own unacknowledged ones, then new ones."""
    done, deadline = 0, time.monotonic() + DEADLINE
    for entry, order in read(ctx, n, "0"):
        handle(ctx, entry, order)
        done += 1
    while done < n:
        if time.monotonic() > deadline:
            raise AssertionError(f"handled {done} of {n} orders in {DEADLINE:.0f} s: no more came")
        for entry, order in read(ctx, n - done, ">"):
            handle(ctx, entry, order)
            done += 1


@servo.step("handles 1 order")
def handle_one(ctx: Context) -> None:
    """Reads, ships and acknowledges one order."""
    handle_n(ctx, 1)


@servo.step("claims {int} orders left idle for {int} ms")
def claim(ctx: Context, n: int, idle: int) -> None:
    """Takes over orders another consumer read and never acknowledged (XAUTOCLAIM), and handles them."""
    name, me = group(ctx)
    done, deadline = 0, time.monotonic() + DEADLINE
    while done < n:
        if time.monotonic() > deadline:
            raise AssertionError(f"claimed {done} of {n} orders idle for {idle} ms in {DEADLINE:.0f} s")
        _, entries, *_ = client(ctx).xautoclaim(STREAM, name, me, idle, "0-0", count=n - done)
        for entry, order in entries:
            ctx.log(f"claimed {entry}")
            handle(ctx, entry, order)
            done += 1
        if done < n:
            time.sleep(0.05)


@servo.step("claims 1 order left idle for {int} ms")
def claim_one(ctx: Context, idle: int) -> None:
    """Takes over one order another consumer never acknowledged, and handles it."""
    claim(ctx, 1, idle)


@servo.step("starts a consumer {string} that takes an order and dies")
def crash(ctx: Context, name: str) -> None:
    """Runs `consumer.py --worker <name>`: a process that reads one order in the group and
    exits without acknowledging it, as a consumer that crashes does."""
    group_name, _ = group(ctx)
    server = pick_server(ctx)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALKEY_BDD_")}
    env.update(ORDERS_HOST=server.host, ORDERS_PORT=str(server.port), ORDERS_GROUP=group_name,
               ORDERS_USERNAME=ctx.username or "", ORDERS_PASSWORD=ctx.password or "")
    done = subprocess.run([sys.executable, __file__, "--worker", name], env=env, capture_output=True,
                          text=True, timeout=DEADLINE)
    for line in (done.stdout + done.stderr).splitlines():
        ctx.log(f"{name}: {line}")
    if done.returncode != 1 or "took order" not in done.stdout:
        raise AssertionError(f'the consumer "{name}" exited with {done.returncode} without taking an order')


@servo.step("sees {int} orders pending for {string}")
def pending_for(ctx: Context, n: int, consumer: str) -> None:
    """Checks how many orders the group delivered to that consumer and it never acknowledged."""
    name, _ = group(ctx)
    summary = client(ctx).xpending(STREAM, name)
    got = {c["name"]: int(c["pending"]) for c in summary["consumers"]}.get(consumer, 0)
    if got != n:
        raise AssertionError(f'"{consumer}" has {got} orders pending, not {n} (all pending: {summary})')


@servo.step("sees 1 order pending for {string}")
def pending_one_for(ctx: Context, consumer: str) -> None:
    """Checks that the group delivered one order to that consumer and it never acknowledged it."""
    pending_for(ctx, 1, consumer)


@servo.step("sees no order pending")
def none_pending(ctx: Context) -> None:
    """Checks that the group has no order delivered and unacknowledged."""
    name, _ = group(ctx)
    summary = client(ctx).xpending(STREAM, name)
    if summary["pending"]:
        raise AssertionError(f"{summary['pending']} orders are pending: {summary}")


@servo.step("has handled the orders {int} to {int}")
def handled(ctx: Context, first: int, last: int) -> None:
    """Checks the orders this consumer handled: each of first..last once, and no other."""
    got = sorted(ctx.state.get("handled", []))
    want = list(range(first, last + 1))
    if got != want:
        raise AssertionError(f"handled the orders {got}, not {want}")


@servo.step("connects to {string}")
def connect(ctx: Context, name: str) -> None:
    """Consumes from the server of that name from now on (after a failover)."""
    connect_to(ctx, name)


def worker(name: str) -> None:
    env = os.environ
    valkey = valkey_client.Valkey(host=env["ORDERS_HOST"], port=int(env["ORDERS_PORT"]),
                                  username=env["ORDERS_USERNAME"] or None, password=env["ORDERS_PASSWORD"] or None,
                                  decode_responses=True, socket_timeout=10)
    reply = valkey.xreadgroup(env["ORDERS_GROUP"], name, {STREAM: ">"}, count=1, block=5000)
    for _, entries in reply or []:
        for entry, order in entries:
            print(f"took order {order['id']} ({entry}), dying before acknowledging it", flush=True)
            os._exit(1)  # a crash: no XACK, no clean close
    print("no order came in 5 s", flush=True)
    sys.exit(3)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2])
    else:
        servo.run()
