"""What a servo costs, measured from the harness's side of the socket (servo protocol v1):
- start: from spawning the servo to its answer to `initialize` (process start, the
  language's runtime, the library, connecting);
- step: one `step` request's round trip for a step that does nothing — the protocol's and
  the library's cost on top of the servo's own work (median and p99).
Targets (issue 27): <= 150 ms per start, <= 1 ms per step.

    python3 servo/bench/bench.py [--starts 20] [--steps 2000]

Standard library only; Node must be on PATH for the Node rows.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
SERVOS = {
    "python": [sys.executable, os.path.join(HERE, "noop.py")],
    "node": ["node", os.path.join(HERE, "noop.js")],
}


def p(values: List[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class Session:
    def __init__(self, command: List[str], directory: str) -> None:
        path = os.path.join(directory, "servo.sock")
        if os.path.exists(path):
            os.unlink(path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1)
        listener.settimeout(10)
        env = dict(os.environ, VALKEY_BDD_SERVO=path, VALKEY_BDD_ROLE="bench", VALKEY_BDD_IMPLEMENTATION="x",
                   PYTHONPATH=os.path.join(HERE, "..", "python"))
        self.started = time.perf_counter()
        self.process = subprocess.Popen(command, env=env)
        self.conn, _ = listener.accept()
        listener.close()
        self.reader = self.conn.makefile("rb")
        self.id = 0

    def request(self, method: str, params: Dict) -> Dict:
        self.id += 1
        self.conn.sendall(json.dumps({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params}).encode() + b"\n")
        reply = json.loads(self.reader.readline())
        assert "result" in reply, reply
        return reply["result"]

    def close(self) -> None:
        self.request("shutdown", {})
        assert self.process.wait(5) == 0
        self.reader.close()
        self.conn.close()


def step_params(n: int) -> Dict:
    return {"text": f"does nothing with {n}", "sentence": f'the "bench" process does nothing with {n}',
            "keyword": "When", "location": "bench.feature:1", "table": None, "docstring": None,
            "servers": {"default": {"name": "default", "host": "127.0.0.1", "port": 6379, "tls": False, "role": "primary"}},
            "cluster": None, "password": "pw", "username": "default", "tls": None}


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--starts", type=int, default=20)
    args.add_argument("--steps", type=int, default=2000)
    opts = args.parse_args()
    print(f"{'servo':8} {'start median':>13} {'start p99':>10} {'step median':>12} {'step p99':>9}")
    with tempfile.TemporaryDirectory() as directory:
        os.chmod(directory, 0o700)
        for name, command in SERVOS.items():
            starts = []
            for _ in range(opts.starts):
                s = Session(command, directory)
                s.request("initialize", {"protocol": 1, "role": "bench", "implementation": name})
                starts.append((time.perf_counter() - s.started) * 1000)
                s.close()
            s = Session(command, directory)
            s.request("initialize", {"protocol": 1, "role": "bench", "implementation": name})
            for i in range(100):  # warm-up
                s.request("step", step_params(i))
            steps = []
            for i in range(opts.steps):
                t = time.perf_counter()
                result = s.request("step", step_params(i))
                steps.append((time.perf_counter() - t) * 1000)
                assert result["ok"], result
            s.close()
            print(f"{name:8} {statistics.median(starts):10.1f} ms {p(starts, 0.99):7.1f} ms "
                  f"{statistics.median(steps):9.3f} ms {p(steps, 0.99):6.3f} ms")


if __name__ == "__main__":
    main()
