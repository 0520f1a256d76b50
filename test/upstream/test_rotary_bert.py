"""Rotary BERT (NomicBERT, GTE NewModel) vs transformers' own ports of them (transformers 5.25 models/nomic_bert and
models/gte, which load the original checkpoint layout through conversion_mapping.py: Wqkv / qkv_proj chunked into q, k,
v; up_gate_proj chunked into up, gate). The models' published remote code (nomic-ai modeling_hf_nomic_bert.py,
Alibaba-NLP/new-impl modeling.py) is not on PyPI (no `contrastors` package there), so it cannot run offline; transformers'
ports are the upstream that can. Where they differ from the remote code we follow the remote code and say so:
GTE's rope_scaling {type: "ntk"} has no transformers rope type, so its inverse frequencies are set here from
new-impl's NTKScalingRotaryEmbedding (base * factor, then / factor^(2/d)).

Our float64 reference (test/upstream/rotary_bert_oracle.ts writes a tiny random checkpoint in the real layout and its
last hidden states for a ragged batch) vs transformers in float64: 1 - cos <= 1e-12 per token row, and max abs error.
Our native cpu backend in float32 (MEAN-pooled rows, from the same oracle run) vs transformers in float32, mean-pooled
the way sentence-transformers' Pooling module does: 1 - cos <= 1e-9 per row.
"""
from __future__ import annotations

import json
import subprocess
import types

import numpy as np
import pytest

from oracle import REPO, report

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

FLOAT64_BOUND = 1e-12
# float32 on both sides (our native cpu engine vs transformers as shipped, bar the inverse frequencies, set from the
# remote code's formula for GTE's NTK): the project's float32 bar, as test_transformers_classes.py holds BERT / Qwen3 to.
# Measured max 1 - cos: see the report lines (docs/upstream.md).
FLOAT32_BOUND = 1e-9
SEQUENCES = [[1, 5, 7, 9, 2, 11, 40, 63, 0, 3], [3, 4], [8] * 17 + [60, 61]]


def _float64_rotary(model, inverse_frequencies: torch.Tensor) -> None:
    """LlamaRotaryEmbedding (which both ports reuse) evaluates inv_freq and the angles in float32 whatever the model
    dtype (modeling_llama.py LlamaRotaryEmbedding.forward: `inv_freq_expanded.float() @ position_ids_expanded.float()`
    under autocast disabled). Same formula in float64, so a float64 model is float64 throughout."""

    def rope(self, x, position_ids):
        freqs = position_ids[..., None].to(torch.float64) * self.inv_freq.to(torch.float64)
        emb = torch.cat((freqs, freqs), dim=-1)
        return (emb.cos() * self.attention_scaling).to(x.dtype), (emb.sin() * self.attention_scaling).to(x.dtype)

    found = 0
    for module in model.modules():
        if type(module).__name__.endswith("RotaryEmbedding"):
            module.inv_freq = inverse_frequencies
            module.forward = types.MethodType(rope, module)
            found += 1
    assert found > 0


def _reference(family: str, out, ntk: str | None):
    command = ["node", "--import", "tsx", "test/upstream/rotary_bert_oracle.ts", family, str(out), json.dumps(SEQUENCES)]
    if ntk is not None:
        command.append(ntk)
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    data = json.loads((out / "reference.json").read_text())
    return json.loads((out / "config.json").read_text()), np.array(data["hidden"]).reshape(-1, data["hiddenSize"]), np.array(data["nativeMean"])


def _nomic_model(folder, raw, dtype=torch.float64):
    # NomicBertConfig field names of transformers 5 from the released (GPT2Config-style) names.
    config = transformers.NomicBertConfig(
        vocab_size=raw["vocab_size"], hidden_size=raw["n_embd"], num_hidden_layers=raw["n_layer"],
        num_attention_heads=raw["n_head"], intermediate_size=raw["n_inner"], hidden_act="silu",
        layer_norm_eps=raw["layer_norm_epsilon"], type_vocab_size=raw["type_vocab_size"],
        max_position_embeddings=raw["n_positions"], rope_parameters={"rope_type": "default", "rope_theta": float(raw["rotary_emb_base"])},
    )
    model = _load(transformers.NomicBertModel, folder, config, dtype)
    d = raw["n_embd"] // raw["n_head"]
    # NomicBertRotaryEmbedding._compute_inv_freq (modeling_hf_nomic_bert.py l.1331): 1 / base^(2i / d).
    if dtype == torch.float64:
        _float64_rotary(model, 1.0 / (float(raw["rotary_emb_base"]) ** (torch.arange(0, d, 2, dtype=torch.float64) / d)))
    return model


def _gte_model(folder, raw, dtype=torch.float64):
    config = transformers.GteConfig(
        vocab_size=raw["vocab_size"], hidden_size=raw["hidden_size"], num_hidden_layers=raw["num_hidden_layers"],
        num_attention_heads=raw["num_attention_heads"], intermediate_size=raw["intermediate_size"], hidden_act=raw["hidden_act"],
        layer_norm_eps=raw["layer_norm_eps"], type_vocab_size=raw["type_vocab_size"], hidden_dropout_prob=0.0,
        max_position_embeddings=raw["max_position_embeddings"], rope_parameters={"rope_type": "default", "rope_theta": float(raw["rope_theta"])},
    )
    model = _load(transformers.GteModel, folder, config, dtype)
    d = raw["hidden_size"] // raw["num_attention_heads"]
    base = float(raw["rope_theta"])
    scaling = raw.get("rope_scaling")
    steps = torch.arange(0, d, 2, dtype=torch.float64) / d
    if scaling is None:
        inverse = 1.0 / (base ** steps)  # new-impl RotaryEmbedding.__init__
    else:
        # new-impl NTKScalingRotaryEmbedding._set_cos_sin_cache, mixed_b None: base * factor, then / factor^(2/d).
        factor = float(scaling["factor"])
        inverse = 1.0 / ((base * factor) ** steps) / factor ** (2 / d)
    if dtype == torch.float64:
        _float64_rotary(model, inverse)
    else:
        # As shipped (float32 angles), only the frequencies replaced: transformers has no NTK rope type for GTE.
        _set_inverse_frequencies(model, inverse.to(torch.float32))
    return model


def _set_inverse_frequencies(model, inverse_frequencies: torch.Tensor) -> None:
    found = 0
    for module in model.modules():
        if type(module).__name__.endswith("RotaryEmbedding"):
            module.inv_freq = inverse_frequencies
            found += 1
    assert found > 0


def _load(model_class, folder, config, dtype):
    model, info = model_class.from_pretrained(folder, config=config, dtype=dtype, attn_implementation="eager", output_loading_info=True)
    assert not info["missing_keys"], info
    assert not info["mismatched_keys"], info
    assert not info["unexpected_keys"], info
    return model.eval()


@pytest.mark.parametrize(("family", "ntk"), [("nomic_bert", None), ("gte", "2"), ("gte", "none")])
def test_float64_reference_matches_transformers(family, ntk, tmp_path):
    raw, ours, _ = _reference(family, tmp_path / "model", ntk)
    model = (_nomic_model if family == "nomic_bert" else _gte_model)(tmp_path / "model", raw)
    rows = []
    with torch.no_grad():
        for ids in SEQUENCES:  # one sequence at a time: no padding, positions 0..n-1
            input_ids = torch.tensor([ids], dtype=torch.long)
            rows.append(model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).last_hidden_state[0].numpy())
    theirs = np.concatenate(rows)
    cos = np.sum(ours * theirs, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    distances = 1.0 - cos
    report(f"{family} (ntk {ntk}) float64 reference vs transformers", rows=len(theirs), max_1_minus_cos=distances.max(),
           max_abs=np.abs(ours - theirs).max(), bound=FLOAT64_BOUND)
    assert distances.max() <= FLOAT64_BOUND, distances


@pytest.mark.parametrize(("family", "ntk"), [("nomic_bert", None), ("gte", "2")])
def test_float32_native_matches_transformers(family, ntk, tmp_path):
    raw, _, native = _reference(family, tmp_path / "model", ntk)
    model = (_nomic_model if family == "nomic_bert" else _gte_model)(tmp_path / "model", raw, torch.float32)
    rows = []
    with torch.no_grad():
        for ids in SEQUENCES:  # sentence-transformers Pooling, mean over the sequence's tokens (no padding here)
            input_ids = torch.tensor([ids], dtype=torch.long)
            hidden = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).last_hidden_state[0]
            rows.append(hidden.to(torch.float64).mean(dim=0).numpy())
    theirs = np.stack(rows)
    cos = np.sum(native * theirs, axis=1) / (np.linalg.norm(native, axis=1) * np.linalg.norm(theirs, axis=1))
    distances = 1.0 - cos
    report(f"{family} (ntk {ntk}) float32 native cpu vs transformers float32", rows=len(theirs), max_1_minus_cos=distances.max(),
           max_abs=np.abs(native - theirs).max(), bound=FLOAT32_BOUND)
    assert distances.max() <= FLOAT32_BOUND, distances
