"""Serve valkey-bdd role steps from a Python application (servo protocol v1).

A *servo* is a process of the application under test that runs the step sentences of one
role (``the "producer" process publishes 3 orders``) with the application's own code. The
harness starts it with ``$VALKEY_BDD_SERVO`` naming a Unix socket; the servo connects and
answers JSON-RPC 2.0 requests, one JSON object per line (the protocol page describes them).

    from valkey_bdd_servo import Servo, Context

    servo = Servo()

    @servo.step("publishes {int} orders")
    def publish(ctx: Context, n: int) -> None:
        ctx.log(f"publishing {n}")

    servo.run()
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import traceback
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Pattern, Tuple

__all__ = ["Servo", "Context", "Server", "Cluster", "Tls", "Scenario", "ServoError", "PROTOCOL"]
__version__ = "0.1.0"

#: The protocol version this library speaks.
PROTOCOL = 1
#: JSON-RPC error codes of the protocol.
UNKNOWN_SENTENCE = -32001
PROTOCOL_MISMATCH = -32002

StepFunction = Callable[..., Any]


class ServoError(Exception):
    """A mistake in how the servo is set up or started (a bad pattern, no socket)."""


# NamedTuples and a plain class, not dataclasses: importing dataclasses (and inspect with
# it) would add much of the library's own share of a servo's start.
class Server(NamedTuple):
    """A server of the scenario, as the harness started it."""

    name: str
    host: str
    port: int
    tls: bool = False
    role: Optional[str] = None

    @property
    def address(self) -> str:
        """``host:port``."""
        return f"{self.host}:{self.port}"


class Cluster(NamedTuple):
    """The cluster of the scenario: its seed nodes as ``host:port``."""

    seeds: List[str]


class Tls(NamedTuple):
    """The TLS files a client of the scenario's servers uses (paths)."""

    ca: Optional[str] = None
    cert: Optional[str] = None
    key: Optional[str] = None


class Scenario(NamedTuple):
    """The scenario this servo was started for."""

    name: str
    feature: str
    line: int
    tags: List[str]
    #: role -> implementation of this run of the scenario
    combination: Dict[str, str]


class Context:
    """What a step function gets: the step, the scenario's servers and a log."""

    #: The sentence without ``the "<role>" process ``: what the patterns match.
    text: str
    sentence: str
    keyword: str
    #: ``features/orders.feature:14``
    location: str
    #: Rows of cells.
    table: Optional[List[List[str]]]
    docstring: Optional[str]
    #: Every server of the scenario, by the name the scenario uses.
    servers: Dict[str, Server]
    cluster: Optional[Cluster]
    password: Optional[str]
    username: Optional[str]
    tls: Optional[Tls]
    scenario: Scenario
    role: str
    implementation: str
    #: Kept for the whole scenario (the servo runs one scenario): a place for clients, ids.
    state: Dict[str, Any]
    #: The step's log so far.
    lines: List[str]

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)
        self.lines = []

    def log(self, line: str) -> None:
        """Adds a line to the step's log, shown under the step in the reports."""
        self.lines.extend(str(line).splitlines() or [""])

    def server(self, name: Optional[str] = None) -> Server:
        """The server of that name; without a name ``default``, else the only one."""
        if name is None:
            if "default" in self.servers:
                return self.servers["default"]
            if len(self.servers) == 1:
                return next(iter(self.servers.values()))
            raise LookupError(f"which server? the scenario has {sorted(self.servers)}")
        try:
            return self.servers[name]
        except KeyError:
            raise LookupError(f"no server {name!r}: the scenario has {sorted(self.servers)}") from None


# Cucumber-expression parameters: the regex each matches and how its text becomes a value.
_PARAMETERS: Dict[str, Tuple[str, Callable[[str], Any]]] = {
    "int": (r"(-?\d+)", int),
    "float": (r"(-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)", float),
    "word": (r"(\S+)", str),
    "string": (r'"((?:[^"\\]|\\.)*)"', lambda s: re.sub(r"\\(.)", r"\1", s)),
    "": (r"(.*?)", str),
}


def compile_pattern(pattern: str) -> Tuple[Pattern[str], List[Callable[[str], Any]]]:
    """Compiles a pattern (``publishes {int} orders``) to a regex and its converters."""
    regex, converters, pos = "", [], 0
    for m in re.finditer(r"\{([^{}]*)\}", pattern):
        name = m.group(1)
        if name not in _PARAMETERS:
            known = ", ".join("{" + k + "}" for k in _PARAMETERS)
            raise ServoError(f"pattern {pattern!r}: unknown parameter {{{name}}} (known: {known})")
        regex += re.escape(pattern[pos : m.start()]) + _PARAMETERS[name][0]
        converters.append(_PARAMETERS[name][1])
        pos = m.end()
    regex += re.escape(pattern[pos:])
    return re.compile(regex, re.DOTALL), converters


class _Step(NamedTuple):
    pattern: str
    regex: Pattern[str]
    converters: List[Callable[[str], Any]]
    function: StepFunction
    description: Optional[str]


class _RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


class Servo:
    """The steps of one role, and the loop that serves them to the harness."""

    def __init__(self, name: str = f"valkey-bdd-servo (python) {__version__}") -> None:
        self.name = name
        self.steps: List[_Step] = []
        self.scenario = Scenario("", "", 0, [], {})
        self.state: Dict[str, Any] = {}
        self.role = os.environ.get("VALKEY_BDD_ROLE", "")
        self.implementation = os.environ.get("VALKEY_BDD_IMPLEMENTATION", "")
        self._loop: Any = None  # an asyncio loop, made for the first async step

    def step(self, pattern: str, description: Optional[str] = None) -> Callable[[StepFunction], StepFunction]:
        """Registers the decorated function (``def f(ctx, *args)``, or ``async def``) for a pattern."""
        regex, converters = compile_pattern(pattern)
        if any(s.pattern == pattern for s in self.steps):
            raise ServoError(f"pattern {pattern!r} is registered twice")

        def register(function: StepFunction) -> StepFunction:
            doc = description or " ".join((function.__doc__ or "").split()) or None
            self.steps.append(_Step(pattern, regex, converters, function, doc))
            return function

        return register

    def find(self, text: str) -> Optional[Tuple[_Step, List[Any]]]:
        """The first registered step whose pattern matches the whole text, with its arguments."""
        for s in self.steps:
            m = s.regex.fullmatch(text)
            if m:
                return s, [convert(v) for convert, v in zip(s.converters, m.groups())]
        return None

    # --- the loop -------------------------------------------------------------------------

    def run(self, exit: bool = True) -> None:
        """Connects to ``$VALKEY_BDD_SERVO`` and serves until ``shutdown``, then exits 0.

        With ``exit=False`` it returns instead of exiting. A closed connection without
        ``shutdown`` (the harness is gone) exits 1.
        """
        path = os.environ.get("VALKEY_BDD_SERVO")
        if not path:
            print(
                "valkey-bdd-servo: VALKEY_BDD_SERVO is not set. This program serves the steps of a "
                "role and is started by valkey-bdd (declare it in roles.toml beside your features "
                "and run `valkey-bdd run`); it cannot run on its own.",
                file=sys.stderr,
            )
            raise SystemExit(2)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except OSError as e:
            print(f"valkey-bdd-servo: cannot connect to {path} (VALKEY_BDD_SERVO): {e}", file=sys.stderr)
            raise SystemExit(2) from None
        clean = self.serve(sock.makefile("rb"), sock.makefile("wb"))
        sock.close()
        if self._loop is not None:
            self._loop.close()
        if not clean:
            print("valkey-bdd-servo: the harness closed the connection without shutdown", file=sys.stderr)
        if exit or not clean:
            sys.stdout.flush()
            raise SystemExit(0 if clean else 1)

    def serve(self, reader: Any, writer: Any) -> bool:
        """Answers requests read from ``reader`` until ``shutdown`` (True) or end of input (False)."""
        for raw in reader:
            try:
                request = json.loads(raw)
            except ValueError as e:
                self._send(writer, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": f"parse error: {e}"}})
                continue
            if not isinstance(request, dict) or "method" not in request:
                continue  # a response or notification: the protocol has none for a servo yet
            rid, method = request.get("id"), request.get("method")
            params = request.get("params") or {}
            try:
                result = self._dispatch(str(method), params)
                reply: Dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "result": result}
            except _RpcError as e:
                error: Dict[str, Any] = {"code": e.code, "message": e.message}
                if e.data is not None:
                    error["data"] = e.data
                reply = {"jsonrpc": "2.0", "id": rid, "error": error}
            self._send(writer, reply)
            if method == "shutdown":
                return True
        return False

    @staticmethod
    def _send(writer: Any, message: Dict[str, Any]) -> None:
        writer.write(json.dumps(message).encode() + b"\n")
        writer.flush()

    def _dispatch(self, method: str, params: Dict[str, Any]) -> Any:
        if method == "initialize":
            asked = params.get("protocol")
            if asked != PROTOCOL:
                raise _RpcError(
                    PROTOCOL_MISMATCH,
                    f"protocol mismatch: the harness asks for version {asked}, this servo ({self.name}) speaks version {PROTOCOL}",
                    {"protocols": [PROTOCOL]},
                )
            self.role = params.get("role", self.role)
            self.implementation = params.get("implementation", self.implementation)
            return {"protocol": PROTOCOL, "name": self.name}
        if method == "discover":
            return {"steps": [{"pattern": s.pattern, **({"description": s.description} if s.description else {})} for s in self.steps]}
        if method == "match":
            found = [self.find(str(t)) for t in params.get("sentences", [])]
            return {"matches": [f[0].pattern if f else None for f in found]}
        if method == "scenario":
            self.scenario = Scenario(
                name=params.get("name", ""),
                feature=params.get("feature", ""),
                line=int(params.get("line") or 0),
                tags=list(params.get("tags") or []),
                combination=dict(params.get("combination") or {}),
            )
            return {}
        if method == "step":
            return self._step(params)
        if method == "shutdown":
            return {}
        raise _RpcError(-32601, f"unknown method {method!r}")

    def _step(self, p: Dict[str, Any]) -> Dict[str, Any]:
        text = str(p.get("text", ""))
        found = self.find(text)
        if found is None:
            raise _RpcError(
                UNKNOWN_SENTENCE,
                f"no step of the {self.role!r} servo matches {text!r}",
                {"patterns": [s.pattern for s in self.steps]},
            )
        step, args = found
        servers = {
            name: Server(s.get("name", name), s["host"], int(s["port"]), bool(s.get("tls")), s.get("role"))
            for name, s in (p.get("servers") or {}).items()
        }
        cluster, tls = p.get("cluster"), p.get("tls")
        ctx = Context(
            text=text,
            sentence=p.get("sentence", text),
            keyword=p.get("keyword", ""),
            location=p.get("location", ""),
            table=p.get("table"),
            docstring=p.get("docstring"),
            servers=servers,
            cluster=Cluster(list(cluster.get("seeds") or [])) if cluster else None,
            password=p.get("password"),
            username=p.get("username"),
            tls=Tls(tls.get("ca"), tls.get("cert"), tls.get("key")) if tls else None,
            scenario=self.scenario,
            role=self.role,
            implementation=self.implementation,
            state=self.state,
        )
        try:
            result = step.function(ctx, *args)
            if hasattr(result, "__await__"):
                if self._loop is None:
                    import asyncio  # only for async steps: it is slow to import

                    self._loop = asyncio.new_event_loop()
                self._loop.run_until_complete(result)
        except Exception as e:  # noqa: BLE001 - every failure of the user's code is the step's
            # `assert x, "why"` says why; any other exception says what it is, too.
            if isinstance(e, AssertionError) and str(e):
                message = str(e)
            else:
                message = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            ctx.lines.extend(traceback.format_exc().rstrip("\n").splitlines())
            return {"ok": False, "message": message, "log": ctx.lines}
        return {"ok": True, "log": ctx.lines}
