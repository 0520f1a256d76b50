"""schemathesis against `pooled serve`'s own /openapi.json: every operation fuzzed with valid and invalid requests,
bounded in examples and time. Zero 5xx, zero responses outside the published schemas (status codes, content
types, headers, bodies), invalid requests rejected with a 4xx, routes behind --api-key refusing requests without it;
then the server is still healthy and embeds as before.

The server runs with --api-key, so the document carries the bearer security scheme and the 401 responses, and
schemathesis sends the key (and checks, with ignored_auth, that leaving it out is refused).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixture_models import HIDDEN, generate_matryoshka_fixture
from pooled_server import pooled_server

API_KEY = "schemathesis-key"
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
])
# Bounded for a shared 2-core machine: at most this many cases per operation and this many seconds of fuzzing.
MAX_EXAMPLES = int(os.environ.get("POOLED_SCHEMATHESIS_EXAMPLES", "25"))
MAX_TIME = int(os.environ.get("POOLED_SCHEMATHESIS_SECONDS", "60"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    model = generate_matryoshka_fixture(tmp_path_factory.mktemp("openapi") / "model")
    with pooled_server(model, "--api-key", API_KEY, "--max-model-len", "64", "--served-model-name", "fixture") as s:
        yield s


def _get(server, route: str, headers: dict | None = None) -> tuple[int, bytes]:
    import urllib.request
    request = urllib.request.Request(server.url + route, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _embed(server) -> dict:
    import urllib.request
    request = urllib.request.Request(
        server.url + "/v1/embeddings",
        data=json.dumps({"input": ["still serving", "after the fuzzing"]}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_schemathesis_finds_no_server_error_or_schema_break(server, tmp_path: Path):
    auth = {"Authorization": f"Bearer {API_KEY}"}
    status, body = _get(server, "/openapi.json", auth)
    assert status == 200, body
    document = json.loads(body)
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    before = _embed(server)

    st = Path(sys.executable).with_name("st")
    report_dir = tmp_path / "report"
    command = [
        str(st), "run", f"{server.url}/openapi.json",
        "--header", f"Authorization: Bearer {API_KEY}",
        "--checks", CHECKS,
        "--max-examples", str(MAX_EXAMPLES),
        "--max-time", str(MAX_TIME),
        "--workers", "2",
        "--seed", os.environ.get("POOLED_SCHEMATHESIS_SEED", "20261207"),
        "--suppress-health-check", "all",
        "--output-sanitize", "false",
        "--report", "json",
        "--report-dir", str(report_dir),
    ]
    # cwd: schemathesis keeps a cache folder (.schemathesis/) in its working directory, kept out of the checkout.
    run = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=MAX_TIME + 120, env={**os.environ, "NO_COLOR": "1"}
    )
    output = run.stdout + run.stderr
    reports = sorted(report_dir.glob("*.json"))
    assert reports, f"schemathesis wrote no report (exit {run.returncode}):\n{output}"
    report = json.loads(reports[-1].read_text())
    assert report["operations"]["tested"] == len([op for path in document["paths"].values() for op in path]), output
    assert report["failures"] == [], output
    assert report["errors"] == [], output
    assert report["test_cases"]["generated"] > 0
    assert run.returncode == 0, output

    # Healthy after: liveness, and the same request embeds to the same vectors.
    assert _get(server, "/health")[0] == 200
    after = _embed(server)
    assert len(after["data"]) == 2 and len(after["data"][0]["embedding"]) == HIDDEN
    assert [d["embedding"] for d in after["data"]] == [d["embedding"] for d in before["data"]]
    log = server.log_path.read_text()
    assert '"level":50' not in log, f"the server logged errors during the run:\n{log[-4000:]}"


def test_openapi_document_needs_the_key(server):
    assert _get(server, "/openapi.json")[0] == 401
    assert _get(server, "/docs")[0] == 401
    status, html = _get(server, "/docs", {"Authorization": f"Bearer {API_KEY}"})
    assert status == 200 and b"swagger-ui" in html.lower()
