"""Helpers shared by the upstream-oracle checks (test_real_weights.py, test_transformers_classes.py).

Our side is reached over HTTP only (pooled_server.py); the other side is Hugging Face's own code.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pytest

from pooled_server import REPO, PooledServer, pooled_server

HERE = Path(__file__).resolve().parent
# POOLED_UPSTREAM_FULL=1: the slow backends (reference, webgpu) get every text and the graded pairs too.
FULL = os.environ.get("POOLED_UPSTREAM_FULL") == "1"
REQUIRE_WEBGPU = os.environ.get("POOLED_REQUIRE_WEBGPU") == "1"
# Inputs per /v1/embeddings request: several requests keep the server's batches mixed in length.
REQUEST_CHUNK = 48


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def embed(server: PooledServer, texts: Sequence[str], **extra: object) -> np.ndarray:
    """Our vectors for `texts` from POST /v1/embeddings, in input order, as float64 rows."""
    rows: list[list[float]] = []
    for start in range(0, len(texts), REQUEST_CHUNK):
        body = {"input": list(texts[start : start + REQUEST_CHUNK]), **extra}
        data = server.post("/v1/embeddings", body)["data"]
        assert [d["index"] for d in data] == list(range(len(data)))
        rows.extend(d["embedding"] for d in data)
    return np.asarray(rows, dtype=np.float64)


def cosine_distance(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """1 - cos per row, in float64 (both sides upcast first: the fp32 rounding of the inputs is the floor)."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return 1.0 - cos


def report(name: str, **values: object) -> None:
    """Prints a measured value (visible with `-s` or in the captured output of a failure) and appends it to
    $POOLED_UPSTREAM_REPORT when set: the numbers docs/upstream.md quotes come from this."""
    line = json.dumps({"check": name, **values}, default=float)
    print(f"\nMEASURED {line}")
    path = os.environ.get("POOLED_UPSTREAM_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


@contextlib.contextmanager
def backend_server(model: str | os.PathLike[str], *args: str) -> Iterator[PooledServer]:
    """`pooled_server`, except that a WebGPU server which cannot find an adapter skips the test (fails it when
    POOLED_REQUIRE_WEBGPU=1): lavapipe or a GPU driver is a system package the machine may lack."""
    webgpu = "webgpu" in args
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(pooled_server(model, *args))
        except RuntimeError as error:
            if webgpu and "no WebGPU adapter" in str(error) and not REQUIRE_WEBGPU:
                pytest.skip("WebGPU unavailable on this machine (Dawn found no adapter: install mesa-vulkan-drivers "
                            "and libvulkan1 for lavapipe); set POOLED_REQUIRE_WEBGPU=1 to make this a failure")
            raise
        yield server


__all__ = ["FULL", "HERE", "REPO", "REQUIRE_WEBGPU", "backend_server", "cosine_distance", "embed", "read_jsonl", "report"]
