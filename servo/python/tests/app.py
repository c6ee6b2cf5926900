"""A servo the tests start as a subprocess: one step per behaviour they check."""

import asyncio
import os
import sys

from valkey_bdd_servo import Context, Servo

servo = Servo()


@servo.step("adds {int} and {int}")
def add(ctx: Context, a: int, b: int) -> None:
    """Adds two numbers."""
    ctx.log(f"{a} + {b} = {a + b} ({type(a).__name__})")


@servo.step("measures {float} {word}")
def measure(ctx: Context, value: float, unit: str) -> None:
    ctx.log(f"{value!r} {unit} ({type(value).__name__})")


@servo.step("greets {string} with {}")
def greet(ctx: Context, name: str, rest: str) -> None:
    ctx.log(f"name=[{name}] rest=[{rest}]")


@servo.step("reads the table")
def table(ctx: Context) -> None:
    for row in ctx.table or []:
        ctx.log("|".join(row))


@servo.step("reads the doc string")
def docstring(ctx: Context) -> None:
    ctx.log(f"doc=[{ctx.docstring}]")


@servo.step("shows the scenario")
def scenario(ctx: Context) -> None:
    s = ctx.scenario
    ctx.log(f"{s.name} {s.feature}:{s.line} {s.tags} {s.combination} {ctx.role}/{ctx.implementation}")
    ctx.log(f"{ctx.keyword} {ctx.location} {ctx.sentence}")


@servo.step("shows the servers")
def servers(ctx: Context) -> None:
    for name, server in sorted(ctx.servers.items()):
        ctx.log(f"{name} {server.address} tls={server.tls} role={server.role}")
    ctx.log(f"default={ctx.server().name} password={ctx.password} username={ctx.username}")
    ctx.log(f"cluster={ctx.cluster.seeds if ctx.cluster else None} ca={ctx.tls.ca if ctx.tls else None}")


@servo.step("remembers {string}")
def remember(ctx: Context, value: str) -> None:
    ctx.state.setdefault("seen", []).append(value)
    ctx.log(f"seen={ctx.state['seen']}")


@servo.step("waits asynchronously")
async def wait(ctx: Context) -> None:
    await asyncio.sleep(0.01)
    ctx.log("waited")


@servo.step("fails with {string}")
def fail(ctx: Context, why: str) -> None:
    ctx.log("before the failure")
    assert False, why


@servo.step("raises")
def raises(ctx: Context) -> None:
    raise RuntimeError("boom")


@servo.step("prints to stdout")
def prints(ctx: Context) -> None:
    print("the application's own output")
    sys.stdout.flush()
    ctx.log(f"pid {os.getpid()}")


servo.run()
