"""Reads one artifact folder with AIPerf's own code, under the AIPerf venv's Python; prints one JSON line.

Every profile_export.jsonl line is validated as AIPerf's MetricRecordInfo (the model its exporters write and its
`aiperf plot` data loader parses), and the folder is loaded by that data loader (aiperf.plot.core.data_loader),
which is what AIPerf's plotting and dashboard tools do with a run. Used on AIPerf's folders and on pooled's.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from aiperf.common.models.record_models import MetricRecordInfo
from aiperf.plot.core.data_loader import DataLoader


def main(run_dir: Path) -> None:
    lines = [line for line in (run_dir / "profile_export.jsonl").read_text().splitlines() if line.strip()]
    records = [MetricRecordInfo.model_validate_json(line) for line in lines]
    run = DataLoader().load_run(run_dir)
    requests = run.requests
    print(json.dumps({
        "num_records": len(records),
        "num_errors": sum(1 for r in records if r.error is not None),
        "metric_tags": sorted({tag for r in records for tag in r.metrics}),
        "metadata": {
            "model": run.metadata.model,
            "concurrency": run.metadata.concurrency,
            "request_count": run.metadata.request_count,
            "endpoint_type": run.metadata.endpoint_type,
            "was_cancelled": run.metadata.was_cancelled,
        },
        "num_request_rows": 0 if requests is None else len(requests),
        "request_columns": [] if requests is None else sorted(str(c) for c in requests.columns),
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
