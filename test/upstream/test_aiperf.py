"""The real AIPerf (pinned in requirements-aiperf.txt, its own venv) against `pooled serve`, and `pooled profile`
against the same server with the same load: AIPerf finishes with zero errors and its artifacts parse, and ours
have AIPerf's file names, layout and fields, checked against what AIPerf wrote in the same run and read back by
AIPerf's own record model and data loader (aiperf_read_run.py).

Bounded for a shared 2-core CI machine: a 2-layer width-32 model, 16 requests per run, 180 s per AIPerf run.
Rankings: AIPerf's `--endpoint-type hf_tei_rankings` against /rerank on a cross-encoder (the ms-marco-MiniLM
layout, shrunk the same way), 8 requests of a query and 3 passages, and `pooled profile` with the same flags.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest

from aiperf_tool import PINNED_VERSION, aiperf_profile, aiperf_read_run
from fixture_models import generate_fixture
from pooled_server import REPO, pooled_server

MODEL = "fixture-bge"
REQUESTS = 16
CONCURRENCY = 2
ISL = 16
BATCH = 2
FILES = ["profile_export_aiperf.json", "profile_export_aiperf.csv", "profile_export.jsonl", "inputs.json"]

# Fields of AIPerf's aggregate JSON that have no meaning for pooled profile, each with why. Every other field
# AIPerf writes must be in ours: a new AIPerf pin that adds one fails here until it is added or listed.
NOT_APPLICABLE = {
    "aiperf_version": "ours says generator: pooled profile",
    "telemetry_data": "GPU telemetry (DCGM); the server's /metrics are scraped instead (server_metrics)",
    "output_sequence_length": "embeddings have no output tokens (AIPerf writes 0s)",
    "credit_to_start_latency": "AIPerf's internal credit hand-off between its processes",
    "effective_latency": "AIPerf's coordinated-omission-aware latency, only differs from request_latency under a rate",
}
NOT_APPLICABLE_PREFIXES = {
    "http_req_": "aiohttp trace timings (DNS, connect, TTFB); the server's x-*-time headers split the latency instead",
    "effective_": "AIPerf's concurrency/throughput time series for LLM prefill/decode",
    "active_": "AIPerf's prefill/decode throughput while requests are active",
    "tokens_in_flight": "LLM decode state",
}


def not_applicable(field: str) -> bool:
    return field in NOT_APPLICABLE or any(field.startswith(prefix) for prefix in NOT_APPLICABLE_PREFIXES)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_fixture(tmp_path_factory.mktemp("aiperf") / "model")


@pytest.fixture(scope="module")
def server(model: Path):
    with pooled_server(model, "--served-model-name", MODEL) as s:
        yield s


def load_args(server, model: Path) -> list[str]:
    return [
        "--model", MODEL, "--url", server.url, "--endpoint-type", "embeddings", "--tokenizer", str(model),
        "--concurrency", str(CONCURRENCY), "--request-count", str(REQUESTS),
    ]


def synthetic_args() -> list[str]:
    return ["--synthetic-input-tokens-mean", str(ISL), "--synthetic-input-tokens-stddev", "0", "--batch-size-text", str(BATCH)]


def pooled_profile(args: list[str], artifact_dir: Path) -> None:
    subprocess.run(
        ["node", str(REPO / "bin" / "pooled.js"), "profile", *args, "--artifact-dir", str(artifact_dir), "--ui-type", "none"],
        cwd=REPO, check=True, capture_output=True, timeout=180,
    )


@pytest.fixture(scope="module")
def aiperf_synthetic(server, model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("aiperf-synthetic")
    aiperf_profile([*load_args(server, model), *synthetic_args()], out)
    return out


@pytest.fixture(scope="module")
def pooled_synthetic(server, model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pooled-synthetic")
    pooled_profile([*load_args(server, model), *synthetic_args()], out)
    return out


def read_aggregate(run: Path) -> dict:
    return json.loads((run / "profile_export_aiperf.json").read_text())


def read_jsonl(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "profile_export.jsonl").read_text().splitlines() if line.strip()]


def csv_sections(run: Path) -> list[list[list[str]]]:
    """The CSV's blank-line separated sections, each a list of rows."""
    sections: list[list[list[str]]] = [[]]
    for row in csv.reader(io.StringIO((run / "profile_export_aiperf.csv").read_text())):
        if row:
            sections[-1].append(row)
        elif sections[-1]:
            sections.append([])
    return [s for s in sections if s]


def test_the_pinned_aiperf_is_the_one_installed():
    from aiperf_tool import VENV

    done = subprocess.run([str(VENV / "bin" / "aiperf"), "--version"], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == PINNED_VERSION


def test_aiperf_synthetic_inputs_zero_errors_and_artifacts_parse(aiperf_synthetic: Path):
    aggregate = read_aggregate(aiperf_synthetic)
    assert aggregate["aiperf_version"] == PINNED_VERSION
    assert aggregate["error_summary"] == [] and aggregate["request_count"]["avg"] == REQUESTS
    assert aggregate.get("error_request_count", {"avg": 0})["avg"] == 0
    assert aggregate["request_latency"]["count"] == REQUESTS and aggregate["request_throughput"]["avg"] > 0
    records = read_jsonl(aiperf_synthetic)
    assert len(records) == REQUESTS and all(r.get("error") is None for r in records)
    sections = csv_sections(aiperf_synthetic)
    assert sections[0][0][0] == "Metric" and any(row[0] == "Request Latency (ms)" for row in sections[0])
    inputs = json.loads((aiperf_synthetic / "inputs.json").read_text())
    bodies = [p for entry in inputs["data"] for p in entry["payloads"]]
    assert bodies and all(b["model"] == MODEL and len(b["input"]) == BATCH for b in bodies)
    read = aiperf_read_run(aiperf_synthetic)
    assert read["num_records"] == REQUESTS and read["num_errors"] == 0


def test_aiperf_input_file_zero_errors(server, model, tmp_path: Path):
    texts = ["What is the capital of France?", "Paris is the capital of France.", "ok", "a somewhat longer sentence " * 6]
    input_file = tmp_path / "inputs.jsonl"
    lines = [{"text": t} for t in texts] + [{"texts": texts[:3]}]
    input_file.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "run"
    aiperf_profile(
        [*load_args(server, model)[:-2], "--request-count", "8", "--input-file", str(input_file), "--custom-dataset-type", "single_turn"],
        out,
    )
    aggregate = read_aggregate(out)
    assert aggregate["error_summary"] == [] and aggregate["request_count"]["avg"] == 8
    records = read_jsonl(out)
    assert len(records) == 8 and all(r.get("error") is None for r in records)
    sent = {text for entry in json.loads((out / "inputs.json").read_text())["data"] for p in entry["payloads"] for text in p["input"]}
    assert sent == set(texts), "AIPerf sent the file's texts"
    # The same file through pooled profile: same format, same server.
    ours = tmp_path / "pooled"
    pooled_profile([*load_args(server, model)[:-2], "--request-count", "8", "--input-file", str(input_file)], ours)
    assert read_aggregate(ours)["error_summary"] == []
    assert aiperf_read_run(ours)["num_records"] == 8


def test_same_files_in_both_folders(aiperf_synthetic: Path, pooled_synthetic: Path):
    for name in FILES:
        assert (aiperf_synthetic / name).is_file(), f"AIPerf {PINNED_VERSION} no longer writes {name}"
        assert (pooled_synthetic / name).is_file(), f"pooled profile does not write {name}"


def test_aggregate_json_has_aiperf_fields_with_aiperf_shapes(aiperf_synthetic: Path, pooled_synthetic: Path):
    theirs, ours = read_aggregate(aiperf_synthetic), read_aggregate(pooled_synthetic)
    missing = sorted(f for f in theirs if f not in ours and not not_applicable(f))
    assert missing == [], f"fields AIPerf writes and pooled profile does not: {missing}"
    assert ours["schema_version"] == theirs["schema_version"]
    for field, value in theirs.items():
        if not_applicable(field) or not isinstance(value, dict) or "unit" not in value:
            continue
        assert ours[field]["unit"] == value["unit"], field
        assert sorted(ours[field]) == sorted(value), f"{field}: statistics {sorted(ours[field])} vs AIPerf's {sorted(value)}"
    for field in ("request_count", "request_error_rate", "completed_request_count"):
        assert ours[field]["avg"] == theirs[field]["avg"], field
    # input_config in AIPerf's v2 layout: the fields AIPerf's data loader reads, with the same values for the same load.
    a, b = theirs["input_config"], ours["input_config"]
    assert b["models"]["items"][0]["name"] == a["models"]["items"][0]["name"] == MODEL
    assert b["endpoint"]["type"] == a["endpoint"]["type"] == "embeddings"
    assert b["endpoint"]["urls"] == a["endpoint"]["urls"]
    profiling = [next(p for p in c["phases"] if p["name"] == "profiling") for c in (a, b)]
    for key in ("kind", "type", "requests", "concurrency"):
        assert profiling[1][key] == profiling[0][key], key
    assert b["tokenizer"]["name"] == a["tokenizer"]["name"]
    assert sorted(ours["run_info"]) == sorted(theirs["run_info"])


def test_csv_has_aiperf_layout(aiperf_synthetic: Path, pooled_synthetic: Path):
    theirs, ours = csv_sections(aiperf_synthetic), csv_sections(pooled_synthetic)
    assert ours[0][0] == theirs[0][0], "statistics header"
    assert ours[1][0] == theirs[1][0] == ["Metric", "Value"]
    for section in (0, 1):
        their_names = {row[0] for row in theirs[section][1:]}
        our_names = {row[0] for row in ours[section][1:]}
        shared = {"Request Latency (ms)", "Input Sequence Length (tokens)"} if section == 0 else {
            "Request Throughput (requests/sec)", "Request Count", "Benchmark Duration (sec)",
            "Total Input Sequence Length (tokens)", "Request Error Rate (%)", "Completed Requests (Success + Error)",
        }
        assert shared <= their_names, f"AIPerf {PINNED_VERSION} renamed rows: {shared - their_names}"
        assert shared <= our_names, f"rows pooled names differently: {shared - our_names}"


def test_jsonl_records_have_aiperf_metadata_and_aiperf_reads_ours(aiperf_synthetic: Path, pooled_synthetic: Path):
    theirs, ours = read_jsonl(aiperf_synthetic), read_jsonl(pooled_synthetic)
    assert len(ours) == REQUESTS
    their_keys = set(theirs[0]["metadata"])
    core = {"session_num", "x_request_id", "x_correlation_id", "conversation_id", "turn_index", "request_start_ns",
            "request_ack_ns", "request_end_ns", "worker_id", "record_processor_id", "benchmark_phase", "phase_name",
            "phase_kind", "was_cancelled"}
    assert core <= their_keys, f"AIPerf {PINNED_VERSION} dropped metadata {core - their_keys}"
    for record in ours:
        assert core <= set(record["metadata"]), core - set(record["metadata"])
        for name in ("request_latency", "input_sequence_length"):
            assert record["metrics"][name]["unit"] == theirs[0]["metrics"][name]["unit"]
        # What AIPerf cannot tell: the latency split from the server's stage-time headers.
        parts = [record["metrics"][n]["value"] for n in ("network_http_time", "tokenization_time", "queue_time", "compute_time")]
        assert abs(sum(parts) - record["metrics"]["request_latency"]["value"]) < 1e-6
    read = aiperf_read_run(pooled_synthetic)
    assert read["num_records"] == REQUESTS and read["num_errors"] == 0 and read["num_request_rows"] == REQUESTS
    assert read["metadata"] == {
        "model": MODEL, "concurrency": CONCURRENCY, "request_count": REQUESTS, "endpoint_type": "embeddings", "was_cancelled": False,
    }
    assert {"request_latency", "compute_time", "queue_time"} <= set(read["request_columns"])


def test_inputs_json_has_aiperf_layout(aiperf_synthetic: Path, pooled_synthetic: Path):
    theirs = json.loads((aiperf_synthetic / "inputs.json").read_text())
    ours = json.loads((pooled_synthetic / "inputs.json").read_text())
    assert sorted(ours) == sorted(theirs) == ["data"]
    assert sorted(ours["data"][0]) == sorted(theirs["data"][0])
    assert sorted(ours["data"][0]["payloads"][0]) == sorted(theirs["data"][0]["payloads"][0])


# --- rankings: AIPerf's hf_tei_rankings against /rerank on a cross-encoder ----------------------------------------

RANK_MODEL = "fixture-ms-marco"
RANK_REQUESTS = 8
RANK_PASSAGES = 3
RANK_PASSAGE_TOKENS = 12
RANK_QUERY_TOKENS = 5


@pytest.fixture(scope="module")
def rank_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_fixture(tmp_path_factory.mktemp("aiperf-rank") / "model", "ms-marco-minilm")


@pytest.fixture(scope="module")
def rank_server(rank_model: Path):
    with pooled_server(rank_model, "--served-model-name", RANK_MODEL) as s:
        yield s


def rankings_args(server, model: Path) -> list[str]:
    """The same command line for both tools: AIPerf's endpoint type and rankings flags."""
    return [
        "--model", RANK_MODEL, "--url", server.url, "--endpoint-type", "hf_tei_rankings", "--tokenizer", str(model),
        "--concurrency", str(CONCURRENCY), "--request-count", str(RANK_REQUESTS),
        "--rankings-passages-mean", str(RANK_PASSAGES), "--rankings-passages-stddev", "0",
        "--rankings-passages-prompt-token-mean", str(RANK_PASSAGE_TOKENS),
        "--rankings-query-prompt-token-mean", str(RANK_QUERY_TOKENS),
    ]


@pytest.fixture(scope="module")
def aiperf_rankings(rank_server, rank_model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("aiperf-rankings")
    aiperf_profile(rankings_args(rank_server, rank_model), out)
    return out


@pytest.fixture(scope="module")
def pooled_rankings(rank_server, rank_model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pooled-rankings")
    pooled_profile(rankings_args(rank_server, rank_model), out)
    return out


def rankings_bodies(run: Path) -> list[dict]:
    return [p for entry in json.loads((run / "inputs.json").read_text())["data"] for p in entry["payloads"]]


def test_aiperf_rankings_zero_errors_and_artifacts_parse(aiperf_rankings: Path):
    aggregate = read_aggregate(aiperf_rankings)
    assert aggregate["error_summary"] == [] and aggregate["request_count"]["avg"] == RANK_REQUESTS
    assert aggregate.get("error_request_count", {"avg": 0})["avg"] == 0
    assert aggregate["input_config"]["endpoint"]["type"] == "hf_tei_rankings"
    records = read_jsonl(aiperf_rankings)
    assert len(records) == RANK_REQUESTS and all(r.get("error") is None for r in records)
    bodies = rankings_bodies(aiperf_rankings)
    assert bodies and all(sorted(b) == ["query", "texts"] and len(b["texts"]) == RANK_PASSAGES for b in bodies)
    read = aiperf_read_run(aiperf_rankings)
    assert read["num_records"] == RANK_REQUESTS and read["num_errors"] == 0
    assert read["metadata"]["endpoint_type"] == "hf_tei_rankings"


def test_pooled_rankings_match_aiperf(aiperf_rankings: Path, pooled_rankings: Path):
    for name in FILES:
        assert (aiperf_rankings / name).is_file(), f"AIPerf {PINNED_VERSION} wrote no {name} for rankings"
        assert (pooled_rankings / name).is_file(), f"pooled profile wrote no {name} for rankings"
    theirs, ours = read_aggregate(aiperf_rankings), read_aggregate(pooled_rankings)
    missing = sorted(f for f in theirs if f not in ours and not not_applicable(f))
    assert missing == [], f"fields AIPerf writes for rankings and pooled profile does not: {missing}"
    assert ours["error_summary"] == [] and ours["request_count"]["avg"] == theirs["request_count"]["avg"] == RANK_REQUESTS
    assert ours["request_latency"]["unit"] == theirs["request_latency"]["unit"]
    assert sorted(ours["request_latency"]) == sorted(theirs["request_latency"])
    a, b = theirs["input_config"], ours["input_config"]
    assert b["endpoint"]["type"] == a["endpoint"]["type"] == "hf_tei_rankings"
    # AIPerf writes the rankings flags given as {mean} (stddev when given); ours writes both.
    for key, value in (("passages", RANK_PASSAGES), ("passage_tokens", RANK_PASSAGE_TOKENS), ("query_tokens", RANK_QUERY_TOKENS)):
        assert a["datasets"][0]["rankings"][key]["mean"] == b["datasets"][0]["rankings"][key]["mean"] == value, key
    # Every profiled request ranked all its passages; the batch size is the passage count.
    records = read_jsonl(pooled_rankings)
    assert len(records) == RANK_REQUESTS
    for record in records:
        assert record.get("error") is None
        assert record["metrics"]["batch_size"]["value"] == RANK_PASSAGES
        assert record["metrics"]["input_sequence_length"]["value"] == RANK_QUERY_TOKENS + RANK_PASSAGES * RANK_PASSAGE_TOKENS
    # inputs.json: the same layout and the same TEI body, {query, texts} with the passages.
    their_inputs = json.loads((aiperf_rankings / "inputs.json").read_text())
    our_inputs = json.loads((pooled_rankings / "inputs.json").read_text())
    assert sorted(our_inputs) == sorted(their_inputs) == ["data"]
    assert sorted(our_inputs["data"][0]) == sorted(their_inputs["data"][0])
    ours_bodies, their_bodies = rankings_bodies(pooled_rankings), rankings_bodies(aiperf_rankings)
    assert {tuple(sorted(body)) for body in ours_bodies} == {tuple(sorted(body)) for body in their_bodies} == {("query", "texts")}
    assert {len(body["texts"]) for body in ours_bodies} == {len(body["texts"]) for body in their_bodies} == {RANK_PASSAGES}
    read = aiperf_read_run(pooled_rankings)
    assert read["num_records"] == RANK_REQUESTS and read["num_errors"] == 0 and read["num_request_rows"] == RANK_REQUESTS
    assert read["metadata"] == {
        "model": RANK_MODEL, "concurrency": CONCURRENCY, "request_count": RANK_REQUESTS,
        "endpoint_type": "hf_tei_rankings", "was_cancelled": False,
    }
