"""The Python servo, driven as the harness drives it: a real Unix socket server in the test
speaking protocol v1 to a real servo subprocess (tests/app.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent


class Harness:
    """The harness side: listens, starts the servo, sends requests, reads responses."""

    def __init__(self, script: Path = HERE / "app.py", env: Optional[Dict[str, str]] = None) -> None:
        self.dir = tempfile.TemporaryDirectory()
        os.chmod(self.dir.name, 0o700)
        self.path = os.path.join(self.dir.name, "servo.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(1)
        self.listener.settimeout(10)
        self.stdout = open(os.path.join(self.dir.name, "stdout"), "w+b")
        self.stderr = open(os.path.join(self.dir.name, "stderr"), "w+b")
        full_env = dict(os.environ, VALKEY_BDD_SERVO=self.path, VALKEY_BDD_ROLE="producer",
                        VALKEY_BDD_IMPLEMENTATION="python", PYTHONPATH=str(PACKAGE_ROOT))
        full_env.update(env or {})
        self.process = subprocess.Popen([sys.executable, str(script)], env=full_env,
                                        stdout=self.stdout, stderr=self.stderr)
        self.conn, _ = self.listener.accept()
        self.conn.settimeout(10)
        self.reader = self.conn.makefile("rb")
        self.next_id = 0

    def request(self, method: str, params: Any = None) -> Dict[str, Any]:
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        self.conn.sendall(json.dumps(message).encode() + b"\n")
        line = self.reader.readline()
        assert line.endswith(b"\n"), f"no answer to {method}; stderr: {self.stderr_text()}"
        reply = json.loads(line)
        assert reply["jsonrpc"] == "2.0" and reply["id"] == self.next_id, reply
        return reply

    def result(self, method: str, params: Any = None) -> Any:
        reply = self.request(method, params)
        assert "error" not in reply, reply
        return reply["result"]

    def step(self, text: str, **params: Any) -> Dict[str, Any]:
        body = {"text": text, "sentence": f'the "producer" process {text}', "keyword": "When",
                "location": "features/orders.feature:14", "table": None, "docstring": None,
                "servers": {}, "cluster": None, "password": None, "username": None, "tls": None}
        body.update(params)
        return self.result("step", body)

    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for f in (self.reader, self.conn, self.listener, self.stdout, self.stderr):
            f.close()
        self.dir.cleanup()


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    assert h.result("initialize", {"protocol": 1, "role": "producer", "implementation": "python"})["protocol"] == 1
    yield h
    h.close()


def test_initialize_names_the_library() -> None:
    h = Harness()
    try:
        result = h.result("initialize", {"protocol": 1, "role": "producer", "implementation": "python"})
        assert result["protocol"] == 1 and "python" in result["name"]
    finally:
        h.close()


def test_discover_lists_patterns_with_descriptions(harness: Harness) -> None:
    steps = harness.result("discover")["steps"]
    assert steps[0] == {"pattern": "adds {int} and {int}", "description": "Adds two numbers."}
    assert "greets {string} with {}" in [s["pattern"] for s in steps]


def test_match_answers_each_sentence(harness: Harness) -> None:
    matches = harness.result("match", {"sentences": ["adds 1 and -2", "adds one and 2", "eats cake",
                                                    'greets "Ann" with a smile', "measures 2.5 kg"]})["matches"]
    assert matches == ["adds {int} and {int}", None, None, "greets {string} with {}", "measures {float} {word}"]


def test_arguments_are_typed(harness: Harness) -> None:
    assert harness.step("adds 2 and -5")["log"] == ["2 + -5 = -3 (int)"]
    assert harness.step("measures 2.5 kg")["log"] == ["2.5 kg (float)"]
    assert harness.step("measures 3 m")["log"] == ["3.0 m (float)"]
    assert harness.step('greets "Ann \\"A\\" Lee" with a smile')["log"] == ['name=[Ann "A" Lee] rest=[a smile]']
    assert harness.step('greets "" with ')["log"] == ["name=[] rest=[]"]


def test_a_pattern_matches_the_whole_sentence(harness: Harness) -> None:
    assert harness.result("match", {"sentences": ["adds 1 and 2 twice", "xadds 1 and 2"]})["matches"] == [None, None]


def test_table_and_docstring_reach_the_step(harness: Harness) -> None:
    assert harness.step("reads the table", table=[["id", "qty"], ["1", "2"]])["log"] == ["id|qty", "1|2"]
    assert harness.step("reads the doc string", docstring="line 1\nline 2")["log"] == ["doc=[line 1", "line 2]"]


def test_scenario_and_servers_reach_the_step(harness: Harness) -> None:
    assert harness.result("scenario", {"name": "Orders flow", "feature": "features/orders.feature", "line": 12,
                                       "tags": ["@x"], "combination": {"producer": "python"}}) == {}
    log = harness.step("shows the scenario")["log"]
    assert log == ["Orders flow features/orders.feature:12 ['@x'] {'producer': 'python'} producer/python",
                   'When features/orders.feature:14 the "producer" process shows the scenario']
    servers = {"default": {"name": "default", "host": "127.0.0.1", "port": 40001, "tls": False, "role": "primary"},
               "replica 1": {"name": "replica 1", "host": "127.0.0.1", "port": 40002, "tls": True, "role": "replica"}}
    log = harness.step("shows the servers", servers=servers, password="pw", username="default",
                       cluster={"seeds": ["127.0.0.1:40001"]}, tls={"ca": "/ca.crt", "cert": "/c.crt", "key": "/c.key"})["log"]
    assert log == ["default 127.0.0.1:40001 tls=False role=primary", "replica 1 127.0.0.1:40002 tls=True role=replica",
                   "default=default password=pw username=default", "cluster=['127.0.0.1:40001'] ca=/ca.crt"]


def test_state_lasts_the_scenario_and_async_steps_run(harness: Harness) -> None:
    harness.step('remembers "a"')
    assert harness.step('remembers "b"')["log"] == ["seen=['a', 'b']"]
    assert harness.step("waits asynchronously")["log"] == ["waited"]


def test_a_failed_assertion_is_ok_false_with_its_message(harness: Harness) -> None:
    result = harness.step('fails with "3 orders, expected 4"')
    assert result["ok"] is False and result["message"] == "3 orders, expected 4"
    assert result["log"][0] == "before the failure"
    assert any("Traceback" in line for line in result["log"]), result["log"]


def test_an_exception_is_ok_false_with_its_traceback(harness: Harness) -> None:
    result = harness.step("raises")
    assert result["ok"] is False and result["message"] == "RuntimeError: boom"
    assert any('app.py", line' in line and "in raises" in line for line in result["log"]), result["log"]
    # the servo keeps serving after a failed step
    assert harness.step("adds 1 and 1")["ok"] is True


def test_an_unknown_sentence_is_error_32001(harness: Harness) -> None:
    reply = harness.request("step", {"text": "eats cake"})
    assert reply["error"]["code"] == -32001
    assert "eats cake" in reply["error"]["message"]
    assert "adds {int} and {int}" in reply["error"]["data"]["patterns"]


def test_stdout_stays_the_applications(harness: Harness) -> None:
    assert harness.step("prints to stdout")["ok"] is True
    harness.result("shutdown")
    assert harness.process.wait(10) == 0
    harness.stdout.seek(0)
    assert harness.stdout.read() == b"the application's own output\n"


def test_a_protocol_mismatch_is_error_32002() -> None:
    h = Harness()
    try:
        reply = h.request("initialize", {"protocol": 2, "role": "producer", "implementation": "python"})
        assert reply["error"]["code"] == -32002
        assert "version 2" in reply["error"]["message"] and "version 1" in reply["error"]["message"]
        assert reply["error"]["data"] == {"protocols": [1]}
    finally:
        h.close()


def test_shutdown_answers_then_exits_0(harness: Harness) -> None:
    assert harness.result("shutdown") == {}
    assert harness.process.wait(10) == 0
    assert harness.reader.readline() == b""  # the servo closed the socket


def test_a_lost_harness_exits_1(harness: Harness) -> None:
    harness.conn.shutdown(socket.SHUT_RDWR)
    assert harness.process.wait(10) == 1
    assert "closed the connection without shutdown" in harness.stderr_text()


def test_garbage_gets_a_parse_error_and_the_servo_goes_on(harness: Harness) -> None:
    harness.conn.sendall(b"this is not json\n")
    reply = json.loads(harness.reader.readline())
    assert reply["error"]["code"] == -32700 and reply["id"] is None
    assert harness.step("adds 1 and 2")["ok"] is True


def test_unset_socket_variable_is_a_clear_error() -> None:
    env = {k: v for k, v in os.environ.items() if k != "VALKEY_BDD_SERVO"}
    env["PYTHONPATH"] = str(PACKAGE_ROOT)
    done = subprocess.run([sys.executable, str(HERE / "app.py")], env=env, capture_output=True, timeout=10)
    assert done.returncode == 2
    assert b"VALKEY_BDD_SERVO is not set" in done.stderr and b"roles.toml" in done.stderr


def test_a_bad_pattern_is_refused_when_registered() -> None:
    sys.path.insert(0, str(PACKAGE_ROOT))
    from valkey_bdd_servo import Servo, ServoError

    servo = Servo()
    with pytest.raises(ServoError, match=r"unknown parameter \{number\}"):
        servo.step("publishes {number} orders")
    servo.step("x")(lambda ctx: None)
    with pytest.raises(ServoError, match="registered twice"):
        servo.step("x")
