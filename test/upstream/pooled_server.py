"""Starts `pooled serve` (the built CLI, bin/pooled.js) as a child process for the upstream checks.

The server is the product exactly as a user runs it: the same command line, HTTP on loopback, /ready polled
before use. Nothing here imports the product; the checks talk to it over HTTP only.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Iterator, Sequence

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PooledServer:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.url = url
        self.process = process
        self.log_path = log_path

    def post(self, route: str, body: dict, timeout: float = 600) -> dict:
        request = urllib.request.Request(
            self.url + route, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def get(self, route: str, timeout: float = 60) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + route, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


@contextlib.contextmanager
def pooled_server(model: str | os.PathLike[str], *args: str, startup_timeout: float = 300) -> Iterator[PooledServer]:
    """`pooled serve --model MODEL ARGS...` on a free loopback port; yields once /ready answers 200."""
    port = free_port()
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"pooled-upstream-{port}.log"
    command: Sequence[str] = [
        "node", str(REPO / "bin" / "pooled.js"), "serve", "--model", str(model), "--port", str(port),
        "--log-level", "warn", *args,
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = PooledServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"pooled serve exited with {process.returncode}:\n{log_path.read_text()}")
            with contextlib.suppress(OSError):
                if server.get("/ready", timeout=5)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"pooled serve not ready after {startup_timeout} s:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
