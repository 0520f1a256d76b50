"""The official Python SDKs against `pooled serve`: `openai` (float, base64, dimensions, token-id input, errors) and
`cohere` v2 embed (every embedding type, checked against the float vectors by README's quantization rules;
output_dimension; errors). The npm clients are checked in test/integration/openai_client.test.ts and
cohere_client.test.ts; this is the same API seen from Python, as most users call it.

The model is a synthetic bge-small-layout checkpoint declared Matryoshka-trained (fixture_models.py), served
behind --api-key so the clients' own auth headers are exercised.
"""
from __future__ import annotations

import base64
import json
import urllib.request

import cohere
import numpy as np
import openai
import pytest

from fixture_models import HIDDEN, MATRYOSHKA_DIMENSIONS, generate_matryoshka_fixture
from pooled_server import pooled_server

API_KEY = "client-key"
MODEL = "fixture-bge"
TEXTS = ["What is the capital of France?", "Paris is the capital and largest city of France.", "ok"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    model = generate_matryoshka_fixture(tmp_path_factory.mktemp("clients") / "model")
    with pooled_server(model, "--api-key", API_KEY, "--served-model-name", MODEL) as s:
        yield s


def post(server, route: str, body: dict) -> dict:
    request = urllib.request.Request(
        server.url + route,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def raw_float(server) -> dict:
    """The server's float answer over plain HTTP: the reference every client result is compared with."""
    return post(server, "/v1/embeddings", {"input": TEXTS, "encoding_format": "float"})


@pytest.fixture(scope="module")
def floats(raw_float) -> np.ndarray:
    return np.array([d["embedding"] for d in raw_float["data"]], dtype=np.float64)


@pytest.fixture(scope="module")
def oai(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def co(server) -> cohere.ClientV2:
    return cohere.ClientV2(api_key=API_KEY, base_url=server.url, timeout=60)


def decode_f32(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float64)


def as_vector(embedding) -> np.ndarray:
    """An OpenAI embedding as the client handed it back: numbers, or a base64 string it left undecoded."""
    return decode_f32(embedding) if isinstance(embedding, str) else np.asarray(embedding, dtype=np.float64)


# --- openai ----------------------------------------------------------------------------------------------------


def test_openai_float(oai, floats, raw_float):
    res = oai.embeddings.create(model=MODEL, input=TEXTS, encoding_format="float")
    assert res.model == MODEL and res.object == "list"
    assert [d.index for d in res.data] == [0, 1, 2]
    got = np.array([d.embedding for d in res.data], dtype=np.float64)
    assert got.shape == (len(TEXTS), HIDDEN)
    np.testing.assert_array_equal(got, floats)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)  # bge normalizes
    assert res.usage.prompt_tokens == res.usage.total_tokens == raw_float["usage"]["prompt_tokens"] > 0


def test_openai_base64_is_the_float32_of_the_float_answer(oai, floats):
    res = oai.embeddings.create(model=MODEL, input=TEXTS, encoding_format="base64")
    got = np.array([as_vector(d.embedding) for d in res.data])
    # The float answer prints each float32 exactly as a double, so the bytes decode to the very same values.
    np.testing.assert_array_equal(got, floats.astype(np.float32).astype(np.float64))


def test_openai_default_encoding(oai, floats):
    # The SDK picks the wire encoding itself (recent versions ask for base64 and decode it with numpy).
    res = oai.embeddings.create(model=MODEL, input=TEXTS)
    got = np.array([as_vector(d.embedding) for d in res.data])
    np.testing.assert_allclose(got, floats, rtol=0, atol=1e-7)


@pytest.mark.parametrize("dimensions", MATRYOSHKA_DIMENSIONS[:-1])
def test_openai_dimensions_truncate_then_normalize(oai, floats, dimensions):
    res = oai.embeddings.create(model=MODEL, input=TEXTS, dimensions=dimensions, encoding_format="float")
    got = np.array([d.embedding for d in res.data], dtype=np.float64)
    assert got.shape == (len(TEXTS), dimensions)
    head = floats[:, :dimensions]
    np.testing.assert_allclose(got, head / np.linalg.norm(head, axis=1, keepdims=True), rtol=0, atol=1e-6)


def test_openai_token_ids_embed_like_their_text(server, oai, floats):
    ids = post(server, "/tokenize", {"prompt": TEXTS[0]})["tokens"]
    res = oai.embeddings.create(model=MODEL, input=[ids], encoding_format="float")
    np.testing.assert_allclose(res.data[0].embedding, floats[0], rtol=0, atol=1e-6)
    assert res.usage.prompt_tokens == len(ids)


def test_openai_errors(server, oai):
    with pytest.raises(openai.NotFoundError) as not_found:
        oai.embeddings.create(model="not-served", input="x")
    assert not_found.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        oai.embeddings.create(model=MODEL, input="", encoding_format="float")
    assert bad.value.param == "input"
    with pytest.raises(openai.BadRequestError) as not_matryoshka_size:
        oai.embeddings.create(model=MODEL, input="x", dimensions=12)
    assert not_matryoshka_size.value.param == "dimensions"
    wrong_key = openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong_key.embeddings.create(model=MODEL, input="x")


def test_openai_models_list(oai):
    assert [m.id for m in oai.models.list().data] == [MODEL]


# --- cohere ----------------------------------------------------------------------------------------------------


def int8_codes(rows: np.ndarray) -> np.ndarray:
    """README: round(127 * x / max|x|) per vector, half away from zero."""
    scaled = 127 * rows / np.abs(rows).max(axis=1, keepdims=True)
    return np.clip(np.sign(scaled) * np.floor(np.abs(scaled) + 0.5), -127, 127).astype(np.int64)


def test_cohere_every_embedding_type_agrees_with_the_float_vectors(co, floats, raw_float):
    types = ["float", "int8", "uint8", "binary", "ubinary", "base64"]
    res = co.embed(model=MODEL, texts=TEXTS, input_type="search_document", embedding_types=types)
    assert res.response_type == "embeddings_by_type"
    assert res.texts == TEXTS
    assert res.meta.billed_units.input_tokens == raw_float["usage"]["prompt_tokens"]
    e = res.embeddings
    # The model defines no prompts, so every input type embeds the text as it is: the OpenAI route's vectors.
    np.testing.assert_array_equal(np.array(e.float_, dtype=np.float64), floats)
    np.testing.assert_array_equal(np.array([decode_f32(b) for b in e.base64]), floats.astype(np.float32).astype(np.float64))

    int8 = np.array(e.int8)
    np.testing.assert_array_equal(int8, int8_codes(floats))
    assert int8.min() >= -127 and int8.max() <= 127 and (np.abs(int8).max(axis=1) == 127).all()
    np.testing.assert_array_equal(np.array(e.uint8), int8 + 128)
    # int8 codes keep the direction: cosine with the float vector within rounding.
    cos = (int8 * floats).sum(axis=1) / (np.linalg.norm(int8, axis=1) * np.linalg.norm(floats, axis=1))
    assert (cos > 0.999).all(), cos

    ubinary = np.array(e.ubinary)
    np.testing.assert_array_equal(ubinary, np.packbits(floats > 0, axis=1).astype(np.int64))
    assert ubinary.shape == (len(TEXTS), HIDDEN // 8)
    np.testing.assert_array_equal(np.array(e.binary), ubinary - 128)


@pytest.mark.parametrize("input_type", ["search_query", "search_document", "classification", "clustering"])
def test_cohere_input_types_without_prompts_embed_the_plain_text(co, floats, input_type):
    res = co.embed(model=MODEL, texts=TEXTS[:1], input_type=input_type, embedding_types=["float"])
    np.testing.assert_array_equal(np.array(res.embeddings.float_[0], dtype=np.float64), floats[0])


def test_cohere_output_dimension_matches_openai_dimensions(co, oai):
    res = co.embed(model=MODEL, texts=TEXTS, input_type="search_query", embedding_types=["float", "int8"], output_dimension=16)
    got = np.array(res.embeddings.float_, dtype=np.float64)
    assert got.shape == (len(TEXTS), 16)
    openai_rows = oai.embeddings.create(model=MODEL, input=TEXTS, dimensions=16, encoding_format="float").data
    np.testing.assert_array_equal(got, np.array([d.embedding for d in openai_rows], dtype=np.float64))
    np.testing.assert_array_equal(np.array(res.embeddings.int8), int8_codes(got))


def test_cohere_errors(server, co):
    with pytest.raises(cohere.NotFoundError):
        co.embed(model="not-served", texts=["x"], input_type="search_query", embedding_types=["float"])
    with pytest.raises(cohere.BadRequestError):
        co.embed(model=MODEL, texts=[""], input_type="search_query", embedding_types=["float"])
    with pytest.raises(cohere.BadRequestError):
        co.embed(model=MODEL, texts=["x"], input_type="search_query", embedding_types=["float"], output_dimension=12)
    wrong_key = cohere.ClientV2(api_key="wrong", base_url=server.url)
    with pytest.raises(cohere.UnauthorizedError):
        wrong_key.embed(model=MODEL, texts=["x"], input_type="search_query", embedding_types=["float"])
