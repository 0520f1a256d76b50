"""Cross-encoders against transformers and sentence-transformers: our seeded checkpoints in two real layouts (random
weights) are loaded by transformers' own classes and by sentence-transformers' CrossEncoder; our server scores the same
(query, document) pairs on /score.
- cross-encoder/ms-marco-MiniLM-L-6-v2: BertForSequenceClassification (`bert.` encoder with its pooler, classifier),
  WordPiece pairs with token types 0/1, activation Identity (its config's sbert_ce_default_activation_function);
- BAAI/bge-reranker-v2-m3: XLMRobertaForSequenceClassification (`roberta.` encoder without pooler, dense + tanh +
  out_proj on <s>), pairs as <s> a </s></s> b </s>, positions from padding_idx + 1, activation Sigmoid (one label).

What this pins down: the head (BertPooler's dense + tanh on [CLS], then the classifier), the pair's tokenization (the
tokenizer's pair template and token types), longest-first truncation of pairs, and the activation CrossEncoder applies
(this layout's config says Identity: raw logits).

Bounds. Our backends hand the head the encoder's pooled row in float32 (the head itself is float64), so even the
float64 reference backend carries one float32 rounding of a 32-wide row into the logit: a few 1e-8 at logits ~0.1.
A wrong convention (no tanh, no token types, a different truncation) moves a logit by 1e-3 or more.
"""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from oracle import REPO, backend_server, read_jsonl, report, HERE

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
sentence_transformers = pytest.importorskip("sentence_transformers")

SHRINK = ("--layers", "2", "--hidden", "32", "--heads", "4", "--intermediate", "64")
# |ours - theirs| per score (BERT: raw logits 0.10..0.16; XLM-R: sigmoid 0.53). float64 transformers vs our float64
# reference, whose pooled row reaches the head in float32: measured 1.07e-8 BERT / 3.3e-9 XLM-R (1.02e-8 / 3.1e-9 on the
# truncated pairs), 2026-12-08, AMD EPYC, 2 cores.
REFERENCE_BOUND = 1e-7
# float32 transformers vs our float32 encoders: measured BERT 4.7e-8 (cpu), 6.3e-8 (WebGPU on lavapipe), 5.8e-8 (/v2/rerank
# vs CrossEncoder.rank on cpu); XLM-R 1.9e-8, 2.6e-8, 3.8e-8; same run.
FLOAT32_BOUND = 1e-6
MAX_LEN = 40  # --max-model-len for the truncation check: the long pairs below are cut longest-first to it

PAIRS = [(row["sentence1"], row["sentence2"]) for row in read_jsonl(HERE / "sts_pairs.jsonl")][:12]
LONG_DOCUMENT = " ".join(f"token{i} of a long passage about pandas and bamboo" for i in range(12))
LONG_PAIRS = [
    ("what do pandas eat?", LONG_DOCUMENT),  # only the document is cut
    (LONG_DOCUMENT, "a short answer"),  # only the query is cut
    (LONG_DOCUMENT, LONG_DOCUMENT[::-1]),  # both are cut: floor(budget / 2) for the first, the rest for the second
]


# fixture -> transformers class and the activation sentence-transformers applies to the one logit.
FIXTURES = {
    "ms-marco-minilm": ("BertForSequenceClassification", "Identity"),
    "bge-reranker": ("XLMRobertaForSequenceClassification", "Sigmoid"),
}


@pytest.fixture(scope="module", params=list(FIXTURES))
def model_path(request, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp(request.param) / "model"
    command = ["node", "--import", "tsx", "test/fixtures/generate.ts", request.param, str(out), "--init-std", "0.1", *SHRINK]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return str(out)


def model_class(path: str):
    config = transformers.AutoConfig.from_pretrained(path)
    (name,) = config.architectures
    return getattr(transformers, name)


def activation(path: str, logits: np.ndarray) -> np.ndarray:
    """What our /score returns by default: CrossEncoder's activation of the fixture (Identity or Sigmoid)."""
    kind = next(act for cls, act in FIXTURES.values() if cls == model_class(path).__name__)
    return logits if kind == "Identity" else 1.0 / (1.0 + np.exp(-logits))


def upstream_logits(path: str, pairs, dtype, max_length: int | None = None) -> np.ndarray:
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model, info = model_class(path).from_pretrained(path, dtype=dtype, attn_implementation="eager", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    model.eval()
    logits = []
    with torch.no_grad():
        for first, second in pairs:
            kwargs = {"truncation": "longest_first", "max_length": max_length} if max_length else {}
            encoded = tokenizer(first, second, return_tensors="pt", **kwargs)
            logits.append(model(**encoded).logits[0, 0].item())
    return activation(path, np.asarray(logits))


def our_scores(server, pairs) -> np.ndarray:
    body = server.post("/score", {"text_1": [p[0] for p in pairs], "text_2": [p[1] for p in pairs]})
    return np.asarray([d["score"] for d in body["data"]])


def test_float64_reference_matches_transformers(model_path):
    theirs = upstream_logits(model_path, PAIRS, torch.float64)
    with backend_server(model_path, "--backend", "reference") as server:
        ours = our_scores(server, PAIRS)
    diff = np.abs(ours - theirs)
    report(f"cross-encoder float64 reference vs transformers {model_class(model_path).__name__}", pairs=len(PAIRS),
           max_abs=diff.max(), logit_range=[theirs.min(), theirs.max()], bound=REFERENCE_BOUND)
    assert diff.max() <= REFERENCE_BOUND


@pytest.mark.parametrize("backend", ["cpu", "webgpu"])
def test_float32_backends_match_transformers(model_path, backend):
    theirs = upstream_logits(model_path, PAIRS, torch.float32)
    with backend_server(model_path, "--backend", backend) as server:
        ours = our_scores(server, PAIRS)
    diff = np.abs(ours - theirs)
    report(f"cross-encoder float32 {backend} vs transformers {model_class(model_path).__name__}", pairs=len(PAIRS), max_abs=diff.max(), bound=FLOAT32_BOUND)
    assert diff.max() <= FLOAT32_BOUND


def test_long_pairs_are_cut_longest_first_like_transformers(model_path):
    theirs = upstream_logits(model_path, LONG_PAIRS, torch.float64, max_length=MAX_LEN)
    with backend_server(model_path, "--backend", "reference", "--max-model-len", str(MAX_LEN), "--truncate", "end") as server:
        ours = our_scores(server, LONG_PAIRS)
        usage = server.post("/score", {"text_1": LONG_PAIRS[2][0], "text_2": LONG_PAIRS[2][1]})["usage"]["prompt_tokens"]
    assert usage == MAX_LEN
    diff = np.abs(ours - theirs)
    report(f"cross-encoder truncated pairs vs transformers {model_class(model_path).__name__} (longest_first)", pairs=len(LONG_PAIRS), max_abs=diff.max(), bound=REFERENCE_BOUND)
    assert diff.max() <= REFERENCE_BOUND


def test_rerank_agrees_with_sentence_transformers_cross_encoder(model_path):
    """CrossEncoder.rank: same order, same scores (with the activation it picks from the config)."""
    cross_encoder = sentence_transformers.CrossEncoder(model_path, device="cpu")
    expected_activation = next(act for cls, act in FIXTURES.values() if cls == model_class(model_path).__name__)
    assert type(cross_encoder.activation_fn).__name__ == expected_activation
    query = PAIRS[0][0]
    documents = [p[1] for p in PAIRS]
    ranked = cross_encoder.rank(query, documents)
    with backend_server(model_path, "--backend", "cpu") as server:
        ours = server.post("/v2/rerank", {"query": query, "documents": documents})["results"]
    assert [r["index"] for r in ours] == [r["corpus_id"] for r in ranked]
    diff = max(abs(o["relevance_score"] - float(r["score"])) for o, r in zip(ours, ranked))
    report(f"cross-encoder /v2/rerank vs CrossEncoder.rank ({model_class(model_path).__name__})", documents=len(documents), max_abs=diff, bound=FLOAT32_BOUND)
    assert diff <= FLOAT32_BOUND


# Qwen3-Reranker, as its model card scores it (Qwen/Qwen3-Reranker-0.6B README, "Transformers Usage") and as vLLM serves
# it (--hf-overrides below): P(yes) from the causal LM's last-token logits of "no" and "yes", the pair formatted into the
# card's prompt. Our checkpoint: the Qwen3-Embedding-0.6B layout under `model.` (a Qwen3ForCausalLM save, tied lm_head).
QWEN3_RERANKER_OVERRIDES = '{"architectures": ["Qwen3ForSequenceClassification"], "classifier_from_token": ["no", "yes"], "is_original_qwen3_reranker": true}'
QWEN3_SHRINK = ("--layers", "2", "--hidden", "64", "--heads", "4", "--kv-heads", "2", "--head-dim", "16", "--intermediate", "128")
QWEN3_PREFIX = '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n'
QWEN3_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
QWEN3_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"


@pytest.fixture(scope="module")
def qwen3_reranker_path(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("qwen3-reranker") / "model"
    command = ["node", "--import", "tsx", "test/fixtures/generate.ts", "qwen3-embedding", str(out), "--init-std", "0.1", "--prefix", "model.", *QWEN3_SHRINK]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return str(out)


def model_card_scores(path: str, pairs, dtype, max_length: int = 8192) -> np.ndarray:
    """The model card's code. One difference, on purpose: the body is tokenized with add_special_tokens=False. The card
    calls tokenizer(pairs, ...) with the default, which adds nothing with the reranker's own tokenizer.json (Qwen3's
    ByteLevel post-processor); our fixture reuses Qwen3-Embedding's tokenizer.json, whose template appends
    <|endoftext|>, which the reranker's tokenizer does not have."""
    from test_transformers_classes import _float64_qwen3

    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model, info = transformers.Qwen3ForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation="eager", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    if dtype == torch.float64:
        _float64_qwen3(model.model)
    model.eval()
    no_id, yes_id = tokenizer.convert_tokens_to_ids("no"), tokenizer.convert_tokens_to_ids("yes")
    prefix = tokenizer.encode(QWEN3_PREFIX, add_special_tokens=False)
    suffix = tokenizer.encode(QWEN3_SUFFIX, add_special_tokens=False)
    scores = []
    with torch.no_grad():
        for query, document in pairs:
            text = f"<Instruct>: {QWEN3_INSTRUCTION}\n<Query>: {query}\n<Document>: {document}"
            body = tokenizer(text, add_special_tokens=False, truncation="longest_first", max_length=max_length - len(prefix) - len(suffix))["input_ids"]
            logits = model(input_ids=torch.tensor([prefix + body + suffix])).logits[0, -1]
            pair = torch.nn.functional.log_softmax(torch.stack([logits[no_id], logits[yes_id]]), dim=0)
            scores.append(pair[1].exp().item())
    return np.asarray(scores)


# Measured 2026-12-08 (bounds as above): reference 3.0e-8, cpu 1.8e-7, WebGPU (lavapipe) 1.5e-7; truncated pairs 1.4e-8.
@pytest.mark.parametrize("backend", ["reference", "cpu", "webgpu"])
def test_qwen3_reranker_matches_the_model_card(qwen3_reranker_path, backend):
    dtype = torch.float64 if backend == "reference" else torch.float32
    theirs = model_card_scores(qwen3_reranker_path, PAIRS, dtype)
    with backend_server(qwen3_reranker_path, "--backend", backend, "--hf-overrides", QWEN3_RERANKER_OVERRIDES) as server:
        ours = our_scores(server, PAIRS)
    diff = np.abs(ours - theirs)
    bound = REFERENCE_BOUND if backend == "reference" else FLOAT32_BOUND
    report(f"Qwen3-Reranker {backend} vs the model card's transformers code", pairs=len(PAIRS), max_abs=diff.max(),
           score_range=[theirs.min(), theirs.max()], bound=bound)
    assert diff.max() <= bound


def test_qwen3_reranker_long_pairs_keep_the_prompt(qwen3_reranker_path):
    """Too long: the card cuts the instruction/query/document text from its end, keeping the prompt's prefix and suffix."""
    max_len = 96
    theirs = model_card_scores(qwen3_reranker_path, LONG_PAIRS, torch.float64, max_length=max_len)
    with backend_server(qwen3_reranker_path, "--backend", "reference", "--hf-overrides", QWEN3_RERANKER_OVERRIDES,
                        "--max-model-len", str(max_len), "--truncate", "end") as server:
        ours = our_scores(server, LONG_PAIRS)
    diff = np.abs(ours - theirs)
    report("Qwen3-Reranker truncated pairs vs the model card", pairs=len(LONG_PAIRS), max_abs=diff.max(), bound=REFERENCE_BOUND)
    assert diff.max() <= REFERENCE_BOUND


# A multi-label classifier: ErnieForSequenceClassification with three labels and problem_type
# multi_label_classification (a derived layout: test/fixtures/models/README.md). /classify returns the logits with
# use_activation false and a sigmoid per label by default (vLLM's activation for multi-label problems).
# Measured 2026-12-08: reference 3.4e-8, cpu 1.8e-7 (bounds as above).
@pytest.fixture(scope="module")
def ernie_classifier_path(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("ernie-classifier") / "model"
    command = ["node", "--import", "tsx", "test/fixtures/generate.ts", "ernie-classifier", str(out), "--init-std", "0.1", *SHRINK]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return str(out)


@pytest.mark.parametrize("backend", ["reference", "cpu"])
def test_ernie_multilabel_classifier_matches_transformers(ernie_classifier_path, backend):
    texts = [p[0] for p in PAIRS]
    dtype = torch.float64 if backend == "reference" else torch.float32
    tokenizer = transformers.AutoTokenizer.from_pretrained(ernie_classifier_path)
    model, info = transformers.ErnieForSequenceClassification.from_pretrained(
        ernie_classifier_path, dtype=dtype, attn_implementation="eager", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    model.eval()
    with torch.no_grad():
        theirs = np.stack([model(**tokenizer(text, return_tensors="pt")).logits[0].double().numpy() for text in texts])
    with backend_server(ernie_classifier_path, "--backend", backend) as server:
        raw = server.post("/classify", {"input": texts, "use_activation": False})["data"]
        activated = server.post("/classify", {"input": texts})["data"]
    ours = np.asarray([d["probs"] for d in raw])
    assert [d["num_classes"] for d in raw] == [3] * len(texts)
    assert [d["label"] for d in activated] == [["sports", "finance", "technology"][int(i)] for i in np.argmax(theirs, axis=1)]
    np.testing.assert_allclose([d["probs"] for d in activated], 1.0 / (1.0 + np.exp(-ours)), rtol=0, atol=1e-12)
    diff = np.abs(ours - theirs)
    bound = REFERENCE_BOUND if backend == "reference" else FLOAT32_BOUND
    report(f"ERNIE 3-label classifier {backend} vs transformers ErnieForSequenceClassification", texts=len(texts), max_abs=diff.max(), bound=bound)
    assert diff.max() <= bound
