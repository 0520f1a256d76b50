"""Architectures without obtainable weights: our seeded generator (`npm run fixtures`, test/fixtures/generate.ts) writes
a shrunk checkpoint in the real layout (random weights, real tokenizer and sentence-transformers metadata); transformers'
own class (BertModel, Qwen3Model) loads the same model.safetensors, and the pooling and normalization the fixture's
sentence-transformers files name (1_Pooling/config.json, modules.json) are applied to its last hidden state.

- float64: transformers in torch.float64 vs our float64 reference backend (`--backend reference`): 1 - cos <= 1e-12.
- float32: transformers in torch.float32 (exactly as shipped) vs our native `cpu` backend and WebGPU: bound measured,
  written beside it and in docs/upstream.md.

Both sides get the same token ids (our POST /tokenize), so this compares the models' arithmetic; the tokenizers are
compared separately (test_tokenizer_matches_transformers).
"""
from __future__ import annotations

import json
import subprocess
import types
from pathlib import Path

import numpy as np
import pytest

from oracle import HERE, REPO, backend_server, cosine_distance, embed, read_jsonl, report

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

# float64 on both sides: what is left is summation order (~1e-16 relative), squared by 1 - cos, plus our server's
# float32 JSON output (~6e-8 relative per component, ~1e-15 in 1 - cos). A wrong convention gives ~1e-3 or more.
FLOAT64_BOUND = 1e-12
# fp32 on both sides (transformers as shipped vs our native cpu / WebGPU): measured max 1 - cos on these fixtures was
# 1.7e-14 (BERT) and 3.4e-13 (Qwen3) for cpu (AMD EPYC, docs/upstream.md). The bound is the one our own WebGPU tests hold
# fp32 rows to against the float64 reference (test/integration/webgpu_backend.test.ts, F32): room for other ISAs and
# for WebGPU, which was not measured here (no Vulkan driver on the machine that measured).
FLOAT32_BOUND = 1e-9

# Generated at init std 0.1, not BERT's 0.02: at 0.02 attention is nearly uniform and activations stay where tanh and
# erf GELU (or a wrong eps) agree to 1e-4, so a wrong convention could hide (src/model/synthetic_checkpoint.ts).
INIT_STD = "0.1"
BERT_SHRINK = ("--layers", "2", "--hidden", "32", "--heads", "4", "--intermediate", "64")
QWEN3_SHRINK = ("--layers", "2", "--hidden", "64", "--heads", "4", "--kv-heads", "2", "--head-dim", "16", "--intermediate", "128")
MODERNBERT_SHRINK = ("--layers", "4", "--hidden", "64", "--heads", "4", "--intermediate", "96")
FIXTURES = {
    # all-MiniLM-L6-v2's layout: mean pooling + Normalize, pooler weights present.
    "all-minilm": {"shrink": BERT_SHRINK, "model_class": "BertModel"},
    # bge-small-en-v1.5's layout: CLS pooling + Normalize.
    "bge-small": {"shrink": BERT_SHRINK, "model_class": "BertModel"},
    # Qwen3-Embedding-0.6B's layout (BF16, no `model.` prefix, tied embeddings): last-token pooling + Normalize.
    # --kv-cache-memory: the 4 GiB default is more than lavapipe binds per buffer (128 MiB); WebGPU refuses it at load.
    # No --kv-cache-memory: the default cache is clamped to what the device binds (lavapipe: 128 MiB per buffer).
    "qwen3-embedding": {"shrink": QWEN3_SHRINK, "model_class": "Qwen3Model"},
    # bge-m3's layout (XLMRobertaModel, 8194 positions, pad_token_id 1): CLS pooling + Normalize. transformers numbers
    # positions from padding_idx + 1 (modeling_xlm_roberta.py create_position_ids_from_input_ids, l.141-154); we get
    # the same from the spec's firstPosition. Stand-in Unigram tokenizer (test/fixtures/models/README.md).
    "bge-m3": {"shrink": BERT_SHRINK, "model_class": "XLMRobertaModel"},
    # text2vec-base-chinese-sentence's layout (ErnieModel, use_task_id: task_type_embeddings): mean pooling, no Normalize.
    # transformers adds task_type_embeddings[0] to every token (modeling_ernie.py l.119-124); our reference does too.
    "text2vec-chinese": {"shrink": BERT_SHRINK, "model_class": "ErnieModel"},
    # RoBERTa proper (model_type "roberta"), saved as a RobertaForMaskedLM saves its encoder: under `roberta.`, which our
    # loader strips as transformers' base_model_prefix handling does. bge-m3's layout with the config relabelled (the two
    # configuration classes share every field); no public RoBERTa-layout metadata was reachable offline.
    "roberta-masked-lm": {"source": "bge-m3", "shrink": (*BERT_SHRINK, "--prefix", "roberta."), "model_class": "RobertaModel",
                          "config": {"model_type": "roberta", "architectures": ["RobertaForMaskedLM"]}},
    # ModernBERT-base's layout (derived: no real metadata could be had offline, see the fixture's README.md), CLS pooling
    # + Normalize. 4 layers: 0 and 3 global (global_attn_every_n_layers 3), 1 and 2 sliding-window (local_attention 128).
    "modernbert": {"shrink": MODERNBERT_SHRINK, "model_class": "ModernBertModel", "source": "modernbert-base", "long_texts": True},
}

# Classes whose eager attention is BERT's eager_attention_forward (softmax in the model's dtype).
BERT_SHAPED_CLASSES = {"BertModel", "XLMRobertaModel", "RobertaModel", "ErnieModel"}

# Varied texts under every fixture's limit (and one of ~250 BERT tokens).
TEXTS = [row["text"] for row in read_jsonl(HERE / "texts.jsonl") if row["num_tokens"] <= 250][::12]
# Non-ASCII input for the tokenizer check: CJK (Chinese, Japanese, Korean), accents (composed and decomposed),
# emoji with modifiers and flags, fullwidth forms and ligatures (NFKC), Cyrillic, Arabic, Devanagari, runs of spaces.
NON_ASCII_TEXTS = [
    "我们今天去北京大学参观，然后在天安门广场拍照。",
    "東京は日本の首都です。今日は良い天気ですね。",
    "서울은 대한민국의 수도입니다.",
    "L'été dernier à Besançon, ¿dónde está Muñoz? Ação e coração.",
    "Cafe\u0301 vs Caf\u00e9 and na\u0308ive",
    "Emoji: 😀 🚀 👍🏽 ❤️ 🇩🇪 and 👨‍👩‍👧",
    "Ｆｕｌｌｗｉｄｔｈ ｃｈａｒａｃｔｅｒｓ and ﬁ ligatures",
    "Быстрая коричневая лиса, مرحبا بالعالم, नमस्ते",
    "spaces   between    words\tand\ttabs",
]
# Inputs longer than ModernBERT's sliding window (local_attention 128: a token sees 64 on each side), so the local
# layers' mask is exercised: ~250 and ~130 tokens, next to the short texts.
LONG_TEXTS = [" ".join(TEXTS), " ".join(TEXTS[::2])]


def _texts(fixture) -> list[str]:
    return TEXTS + LONG_TEXTS if fixture.get("long_texts") else TEXTS


def _pooling_of(folder: Path) -> tuple[str, bool]:
    """(pooling, normalize) as sentence-transformers reads them from the checkpoint folder."""
    pooling_config = json.loads((folder / "1_Pooling" / "config.json").read_text())
    modes = [mode for key, mode in (("pooling_mode_cls_token", "cls"), ("pooling_mode_mean_tokens", "mean"),
                                     ("pooling_mode_lasttoken", "last")) if pooling_config.get(key)]
    assert len(modes) == 1, pooling_config
    modules = json.loads((folder / "modules.json").read_text())
    normalize = any(m["type"].endswith(".Normalize") for m in modules)
    return modes[0], normalize


@pytest.fixture(scope="module", params=list(FIXTURES))
def fixture(request, tmp_path_factory):
    name = request.param
    out = tmp_path_factory.mktemp(name) / "model"
    source = FIXTURES[name].get("source", name)
    command = ["node", "--import", "tsx", "test/fixtures/generate.ts", source, str(out), "--init-std", INIT_STD, *FIXTURES[name]["shrink"]]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    if "config" in FIXTURES[name]:
        config_path = out / "config.json"
        config_path.write_text(json.dumps({**json.loads(config_path.read_text()), **FIXTURES[name]["config"]}, indent=2))
    pooling, normalize = _pooling_of(out)
    return {"name": name, "path": out, "pooling": pooling, "normalize": normalize, "model_class": FIXTURES[name]["model_class"],
            "serve": FIXTURES[name].get("serve", ()), "long_texts": FIXTURES[name].get("long_texts", False)}


def _float64_qwen3(model) -> None:
    """Qwen3 as upstream writes it computes RMSNorm and RoPE in float32 whatever the model dtype
    (transformers/models/qwen3/modeling_qwen3.py, v5.25: Qwen3RMSNorm.forward `hidden_states.to(torch.float32)` l.61;
    Qwen3RotaryEmbedding `inv_freq ... dtype=torch.float` l.119 and `position_ids[..., None].float()` l.124). Same
    formulas, in float64, so that a float64 model is float64 throughout; nothing else is touched."""

    def rms_norm(self, hidden_states):  # modeling_qwen3.py l.59-64 without the float32 round trip
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        return self.weight * (hidden_states * torch.rsqrt(variance + self.variance_epsilon))

    def rope(self, x, position_ids):  # modeling_qwen3.py l.123-129 in float64
        freqs = position_ids[..., None].to(torch.float64) * self.inv_freq.to(torch.float64)
        emb = torch.cat((freqs, freqs), dim=-1)
        return (emb.cos() * self.attention_scaling).to(x.dtype), (emb.sin() * self.attention_scaling).to(x.dtype)

    config = model.config
    dim = config.head_dim
    theta = config.rope_parameters["rope_theta"]
    for module in model.modules():
        if type(module).__name__ == "Qwen3RMSNorm":
            module.forward = types.MethodType(rms_norm, module)
        elif type(module).__name__ == "Qwen3RotaryEmbedding":
            assert module.rope_type == "default"
            # modeling_qwen3.py l.119: 1 / theta^(2i / dim), here in float64
            module.inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
            module.forward = types.MethodType(rope, module)


def _modernbert_in_input_dtype() -> None:
    """ModernBERT as upstream writes it computes RoPE and the softmax in float32 whatever the model dtype
    (transformers/models/modernbert/modeling_modernbert.py, v5.25: compute_default_rope_parameters `inv_freq` from
    `torch.arange(..., dtype=torch.float)` l.137, ModernBertRotaryEmbedding.forward `position_ids[..., None].float()`
    l.146, apply_rotary_pos_emb `q.float()` / `k.float()` l.205-206, eager_attention_forward
    `softmax(..., dtype=torch.float32)` l.168). The same formulas in the input's dtype: for a float32 model nothing
    changes; a float64 model is float64 throughout. Both functions are looked up by name at call time
    (ModernBertAttention.forward l.268-271), so replacing the module attributes is enough."""
    from transformers.models.modernbert import modeling_modernbert as mb

    def apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):  # l.203-207 without the float32 round trip
        cos = cos.unsqueeze(unsqueeze_dim)
        sin = sin.unsqueeze(unsqueeze_dim)
        return (q * cos) + (mb.rotate_half(q) * sin), (k * cos) + (mb.rotate_half(k) * sin)

    def eager_attention_forward(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):  # l.154-173
        attn_weights = torch.matmul(query, key.transpose(2, 3)) * scaling
        if attention_mask is not None:
            attn_weights = attn_weights + attention_mask
        attn_weights = torch.nn.functional.softmax(attn_weights, dim=-1)
        return torch.matmul(attn_weights, value).transpose(1, 2).contiguous(), attn_weights

    mb.apply_rotary_pos_emb = apply_rotary_pos_emb
    mb.eager_attention_forward = eager_attention_forward


def _float64_modernbert(model) -> None:
    """ModernBertRotaryEmbedding's inverse frequencies and angles in float64 (l.137 and l.146 as above)."""
    config = model.config
    dim = config.hidden_size // config.num_attention_heads

    def rope(self, x, position_ids, layer_type):  # l.143-151 in float64
        inv_freq = getattr(self, f"{layer_type}_inv_freq").to(torch.float64)
        freqs = position_ids[..., None].to(torch.float64) * inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        scaling = getattr(self, f"{layer_type}_attention_scaling")
        return (emb.cos() * scaling).to(x.dtype), (emb.sin() * scaling).to(x.dtype)

    for module in model.modules():
        if type(module).__name__ == "ModernBertRotaryEmbedding":
            for layer_type in module.layer_types:
                assert module.rope_type[layer_type] == "default"
                theta = config.rope_parameters[layer_type]["rope_theta"]
                # l.137: 1 / theta^(2i / dim), here in float64
                setattr(module, f"{layer_type}_inv_freq", 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)))
            module.forward = types.MethodType(rope, module)


_UPSTREAM_CACHE: dict[tuple[str, str], object] = {}


def upstream_model(fixture, dtype):
    """transformers' own class on the fixture's model.safetensors, every tensor accounted for."""
    key = (fixture["name"], str(dtype))
    if key not in _UPSTREAM_CACHE:
        model_class = getattr(transformers, fixture["model_class"])
        # BERT: eager attention is modeling_bert.py's eager_attention_forward (l.112-135): softmax in the model's dtype.
        # Qwen3: its eager path runs softmax in float32 (modeling_qwen3.py l.194); SDPA keeps the input dtype.
        # ModernBERT: eager_attention_forward (modeling_modernbert.py l.154-173) with the full and sliding-window masks of
        # ModernBertModel.forward l.440-449, RoPE and softmax kept in the model's dtype (_modernbert_in_input_dtype).
        attention = "eager" if fixture["model_class"] in BERT_SHAPED_CLASSES | {"ModernBertModel"} else "sdpa"
        if fixture["model_class"] == "ModernBertModel":
            _modernbert_in_input_dtype()
        model, info = model_class.from_pretrained(fixture["path"], dtype=dtype, attn_implementation=attention, output_loading_info=True)
        assert not info["missing_keys"], info
        assert not info["mismatched_keys"], info
        assert set(info["unexpected_keys"]) <= {"embeddings.position_ids"}, info
        model.eval()
        if dtype == torch.float64 and fixture["model_class"] == "Qwen3Model":
            _float64_qwen3(model)
        if dtype == torch.float64 and fixture["model_class"] == "ModernBertModel":
            _float64_modernbert(model)
        _UPSTREAM_CACHE[key] = model
    return _UPSTREAM_CACHE[key]


def upstream_vectors(fixture, dtype, ids_per_text: list[list[int]]) -> np.ndarray:
    """One text at a time (no padding), pooled as sentence-transformers' Pooling module does for these modes:
    CLS = the first token, MEAN = the mean over every token (special tokens included), LAST = the last token (Qwen3's
    tokenizer appends <|endoftext|>, which LAST reads); then L2-normalized when modules.json has Normalize."""
    model = upstream_model(fixture, dtype)
    rows = []
    with torch.no_grad():
        for ids in ids_per_text:
            input_ids = torch.tensor([ids], dtype=torch.long)
            # BERT: token_type_ids left out = all 0 (modeling_bert.py l.90-97), positions 0.. (l.84-85). XLM-RoBERTa:
            # positions padding_idx + 1.. from the ids (no pad id among them). ERNIE: task_type_ids left out = all 0.
            hidden = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).last_hidden_state[0]
            pooled = {"cls": hidden[0], "mean": hidden.mean(dim=0), "last": hidden[-1]}[fixture["pooling"]]
            if fixture["normalize"]:
                pooled = pooled / pooled.norm()
            rows.append(pooled.to(torch.float64).numpy())
    return np.stack(rows)


def _ids(server, texts):
    return [server.post("/tokenize", {"prompt": text})["tokens"] for text in texts]


def test_float64_reference_matches_transformers(fixture):
    texts = _texts(fixture)
    with backend_server(fixture["path"], "--backend", "reference", *fixture["serve"]) as server:
        ids = _ids(server, texts)
        ours = embed(server, texts)
    theirs = upstream_vectors(fixture, torch.float64, ids)
    distances = cosine_distance(ours, theirs)
    report(f"{fixture['name']} float64 reference vs transformers {fixture['model_class']}", texts=len(texts),
           longest=max(len(i) for i in ids),
           pooling=fixture["pooling"], max_1_minus_cos=distances.max(), max_abs=np.abs(ours - theirs).max(), bound=FLOAT64_BOUND)
    assert distances.max() <= FLOAT64_BOUND, distances


@pytest.mark.parametrize("backend", ["cpu", "webgpu"])
def test_float32_backends_match_transformers(fixture, backend):
    texts = _texts(fixture)
    with backend_server(fixture["path"], "--backend", backend, "--dtype", "float32", *fixture["serve"]) as server:
        ids = _ids(server, texts)
        ours = embed(server, texts)
    theirs = upstream_vectors(fixture, torch.float32, ids)
    distances = cosine_distance(ours, theirs)
    report(f"{fixture['name']} float32 {backend} vs transformers {fixture['model_class']}", texts=len(texts),
           max_1_minus_cos=distances.max(), max_abs=np.abs(ours - theirs).max(), bound=FLOAT32_BOUND)
    assert distances.max() <= FLOAT32_BOUND, distances


def test_tokenizer_matches_transformers(fixture):
    tokenizer = transformers.AutoTokenizer.from_pretrained(fixture["path"])
    texts = TEXTS + NON_ASCII_TEXTS
    with backend_server(fixture["path"], "--backend", "reference", *fixture["serve"]) as server:
        ours = _ids(server, texts)
    theirs = [tokenizer(text)["input_ids"] for text in texts]
    mismatched = [(text, a, b) for text, a, b in zip(texts, ours, theirs) if a != b]
    assert not mismatched, f"{len(mismatched)} of {len(texts)} differ, e.g. {mismatched[:3]}"
