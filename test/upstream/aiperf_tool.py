"""The pinned AIPerf (requirements-aiperf.txt) as the checks and bench:aiperf-parity call it: the `aiperf` command
of its own venv, run as a child process, and aiperf_read_run.py run by that venv's Python to read artifacts with
AIPerf's own models. Nothing here imports aiperf: it lives in another environment.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Sequence

HERE = Path(__file__).resolve().parent
VENV = Path(os.environ.get("POOLED_AIPERF_VENV", HERE / ".venv-aiperf"))
PINNED_VERSION = "0.13.0"


def aiperf_profile(args: Sequence[str], artifact_dir: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`aiperf profile ARGS --artifact-dir DIR --ui-type none`; raises with AIPerf's output when it fails."""
    command = [str(VENV / "bin" / "aiperf"), "profile", *args, "--artifact-dir", str(artifact_dir), "--ui-type", "none"]
    # AIPerf 0.13.0 in offline mode looks every tokenizer name up as a hub-cache snapshot (Tokenizer.
    # _from_pretrained_local -> snapshot_download(local_files_only=True)), so a tokenizer *folder* fails with
    # HFValidationError. Online mode loads a folder from disk (resolve_alias treats an existing directory as local)
    # and fetches nothing, so the offline switches that run.sh exports are taken out for AIPerf only.
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["TOKENIZERS_PARALLELISM"] = "false"
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"aiperf exited with {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def aiperf_read_run(run_dir: Path, timeout: float = 120) -> dict:
    """What AIPerf's own code makes of an artifact folder (see aiperf_read_run.py)."""
    done = subprocess.run(
        [str(VENV / "bin" / "python"), str(HERE / "aiperf_read_run.py"), str(run_dir)],
        capture_output=True, text=True, timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"aiperf_read_run.py failed on {run_dir}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
