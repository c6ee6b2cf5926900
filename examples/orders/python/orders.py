"""What the producer and the consumer of the orders example share: the stream, and a
connection to the server the scenario names (a servo gets the servers by name with each step)."""

from __future__ import annotations

from typing import Dict, Optional

import valkey

from valkey_bdd_servo import Context, Server

STREAM = "orders"
#: Processed orders: the consumer's side effect, one member per order id.
SHIPPED = "shipped"


def pick_server(ctx: Context) -> Server:
    """The server chosen with `connects to "<name>"`, else `default`, else `primary`."""
    name = ctx.state.get("server")
    if name is None and "default" not in ctx.servers and "primary" in ctx.servers:
        name = "primary"
    return ctx.server(name)


def client(ctx: Context) -> valkey.Valkey:
    """A client of the chosen server, made again when the choice changes."""
    server = pick_server(ctx)
    current: Optional[valkey.Valkey] = ctx.state.get("client")
    if current is not None and ctx.state.get("client_of") == server.address:
        return current
    if current is not None:
        current.close()
    ctx.state["client"] = valkey.Valkey(
        host=server.host,
        port=server.port,
        username=ctx.username,
        password=ctx.password,
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=5,
    )
    ctx.state["client_of"] = server.address
    ctx.log(f"connected to {server.name} ({server.address})")
    return ctx.state["client"]


def connect_to(ctx: Context, name: str) -> None:
    """Switches to the server of that name (after a failover)."""
    ctx.server(name)  # a name the scenario does not have fails here
    ctx.state["server"] = name
    client(ctx)


def replicated(ctx: Context, what: str) -> None:
    """Waits until every replica of the scenario holds the last write: only then is it
    acknowledged (a write on the primary alone is lost when the primary fails over)."""
    replicas = [s for s in ctx.servers.values() if s.role == "replica"]
    if not replicas:
        return
    got = client(ctx).wait(len(replicas), 2000)
    if got < len(replicas):
        raise AssertionError(f"{what} reached {got} of {len(replicas)} replicas in 2 s")


def fields(entry: Dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in entry.items())
