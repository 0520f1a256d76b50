// Cross-encoders and classifiers over HTTP: /score, /rerank (vLLM, Cohere v2 through its own client, TEI's shape),
// /classify (vLLM) and /predict (TEI) on a BertForSequenceClassification checkpoint, checked against the float64
// reference encoder plus the head; the task rules (a head is never dropped silently, embedding routes refuse a
// classifier, classification routes refuse an embedder); the bad inputs. transformers' own
// BertForSequenceClassification is the oracle of the head itself (test/upstream/test_cross_encoder.py).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CohereClientV2 } from 'cohere-ai';

import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { parseServeArgs } from '../../src/cli/serve_options.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { Embedder } from '../../src/engine/embedder.js';
import { ModelLoadError } from '../../src/errors.js';
import { activate, headLogits } from '../../src/model/heads/classification.js';
import { buildServer, type PooledServer } from '../../src/server/app.js';
import { fixtureModel } from '../fixtures/generate.js';
import { patchedFixtureModel } from '../helpers/patched_model.js';

const SHRINK = { numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64 };
// float32 encoder (cpu) vs float64 reference, one logit of a std-0.1 head: measured |diff| <= 4.3e-8 (cpu), 4.6e-8 (WebGPU/lavapipe).
const TOL = 1e-5;

let modelPath: string;
let embedder: Embedder;
let reference: ReferenceBackend;
let app: PooledServer;
const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });

/** The float64 oracle of one (query, document) pair: the reference encoder's [CLS] row through the head in float64. */
function oracleLogits(first: string, second?: string): Float64Array {
  const encoded =
    second === undefined
      ? { ids: embedder.tokenize(first), typeIds: new Int32Array(embedder.tokenize(first).length) }
      : embedder.tokenizer.encodePair(first, second, { maxLength: embedder.maxSeqLength, truncation: 'none' });
  const batch = { ...buildRaggedBatch([encoded.ids], { pooling: 'cls' }), tokenTypeIds: encoded.typeIds };
  return headLogits(embedder.model.head!, reference.forward64(batch)[0]);
}

before(async () => {
  modelPath = await fixtureModel('ms-marco-minilm', { shrink: SHRINK, initStd: 0.1 });
  embedder = await Embedder.load(modelPath, { backend: 'cpu', tokenizerWorkers: 0, maxModelLen: 48 });
  reference = await ReferenceBackend.create(embedder.model);
  app = buildServer(embedder);
});
after(async () => {
  await app.close();
  await embedder.close();
});

describe('loading a classification checkpoint', () => {
  test('task score by default for a one-label *ForSequenceClassification; the head reads [CLS] unnormalized', () => {
    assert.equal(embedder.task, 'score');
    assert.equal(embedder.model.head!.numLabels, 1);
    assert.deepEqual(embedder.model.head!.labels, ['LABEL_0']);
    // cross-encoder/ms-marco-*: sbert_ce_default_activation_function Identity, so scores are raw logits.
    assert.equal(embedder.model.head!.scoreActivation, 'identity');
    assert.equal(embedder.model.head!.classifyActivation, 'sigmoid');
    assert.equal(embedder.model.settings.pooling, 'cls');
    assert.equal(embedder.model.settings.normalize, false);
    assert.equal(embedder.describe().task, 'score');
  });

  test('--task embed serves the encoder and says the head is unused; embed without a head refuses classify', async () => {
    const notices: string[] = [];
    const asEmbedder = await Embedder.load(modelPath, { backend: 'reference', task: 'embed', tokenizerWorkers: 0, log: (m) => notices.push(m) });
    try {
      assert.equal(asEmbedder.task, 'embed');
      assert.match(notices.join('\n'), /sequence-classification head is unused \(task embed\)/);
      assert.equal((await asEmbedder.embed(['hello'])).length, 1);
    } finally {
      await asEmbedder.close();
    }
    const plain = await fixtureModel('bge-small', { shrink: SHRINK });
    await assert.rejects(Embedder.load(plain, { backend: 'reference', task: 'classify' }), (error: Error) => {
      assert.ok(error instanceof ModelLoadError);
      assert.match(error.message, /task classify needs a sequence-classification head.*names none/);
      return true;
    });
  });

  test('a missing head tensor or a malformed id2label is a load error naming it', async () => {
    const badLabels = await patchedFixtureModel('ms-marco-minilm', { shrink: SHRINK }, { 'config.json': { id2label: { 0: 'a', 5: 'b' } } });
    await assert.rejects(Embedder.load(badLabels, { backend: 'reference' }), /id2label" must map the ids 0\.\.1 to label strings/);
    const twoLabels = await patchedFixtureModel('ms-marco-minilm', { shrink: SHRINK }, { 'config.json': { id2label: { 0: 'no', 1: 'yes' } } });
    // The checkpoint's classifier has one row: a config with two labels does not match it.
    await assert.rejects(Embedder.load(twoLabels, { backend: 'reference' }), /classifier\.weight has shape \[1, 32\], expected \[2, 32\]/);
  });
});

describe('/score and /rerank on a cross-encoder', () => {
  const query = 'what is a panda?';
  const documents = ['The giant panda is a bear species endemic to China.', 'Paris is the capital of France.', 'pandas eat bamboo'];

  test('/score: one query against many documents, each the head on the pair; queries/documents spelling too', async () => {
    const reply = await post('/score', { text_1: query, text_2: documents });
    assert.equal(reply.statusCode, 200, reply.body);
    const body = reply.json();
    assert.equal(body.data.length, 3);
    body.data.forEach((item: { index: number; score: number }, i: number) => {
      assert.equal(item.index, i);
      assert.ok(Math.abs(item.score - oracleLogits(query, documents[i])[0]) <= TOL, `${item.score} vs ${oracleLogits(query, documents[i])[0]}`);
    });
    const named = (await post('/v1/score', { queries: query, documents })).json();
    assert.deepEqual(
      named.data.map((d: { score: number }) => d.score),
      body.data.map((d: { score: number }) => d.score),
    );
    assert.equal(
      body.usage.prompt_tokens,
      documents.reduce((n, d) => n + embedder.tokenizer.encodePair(query, d, { maxLength: 512, truncation: 'none' }).ids.length, 0),
    );
  });

  test('the pair is one sequence with token types: scoring it differs from scoring the concatenated text', async () => {
    const pair = oracleLogits(query, documents[0])[0];
    const single = oracleLogits(`${query} ${documents[0]}`)[0];
    assert.ok(Math.abs(pair - single) > 1e-4, 'token types and the middle [SEP] must change the logit');
    const { typeIds } = embedder.tokenizer.encodePair(query, documents[0], { maxLength: 512, truncation: 'none' });
    assert.ok(typeIds.includes(1) && typeIds[0] === 0, 'BERT pairs mark the second text as type 1');
  });

  test('vLLM /rerank: sorted by relevance, top_n, return_documents, {text} documents', async () => {
    const reply = await post('/rerank', { query, documents: [documents[0], { text: documents[1] }, documents[2]], top_n: 2 });
    assert.equal(reply.statusCode, 200, reply.body);
    const body = reply.json();
    const expected = documents.map((d, index) => ({ index, score: oracleLogits(query, d)[0] })).sort((a, b) => b.score - a.score);
    assert.equal(body.results.length, 2);
    body.results.forEach((result: { index: number; relevance_score: number; document: { text: string } }, k: number) => {
      assert.equal(result.index, expected[k].index);
      assert.ok(Math.abs(result.relevance_score - expected[k].score) <= TOL);
      assert.equal(result.document.text, documents[result.index]);
    });
    const bare = (await post('/v1/rerank', { query, documents, return_documents: false })).json();
    assert.equal(bare.results.length, 3);
    assert.equal(bare.results[0].document, undefined);
    const activated = (await post('/v2/rerank', { query, documents, use_activation: false })).json();
    assert.ok(Math.abs(activated.results[0].relevance_score - expected[0].score) <= TOL, 'Identity: use_activation changes nothing here');
  });

  test("TEI's /rerank body: texts, raw_scores, return_text; sorted [{index, score, text}]", async () => {
    const body = (await post('/rerank', { query, texts: documents, return_text: true })).json();
    assert.ok(Array.isArray(body));
    assert.equal(body.length, 3);
    for (let k = 1; k < body.length; k++) assert.ok(body[k - 1].score >= body[k].score);
    for (const item of body) {
      assert.equal(item.text, documents[item.index]);
      assert.ok(Math.abs(item.score - oracleLogits(query, documents[item.index])[0]) <= TOL);
    }
  });

  test('the Cohere v2 client reranks against /v2/rerank', async () => {
    const opts = parseServeArgs(['--model', modelPath, '--port', '0', '--log-level', 'fatal', '--api-key', 'k', '--served-model-name', 'ce']);
    const server: RunningServer = await startServer(opts as Exclude<typeof opts, 'help'>);
    try {
      const client = new CohereClientV2({ token: 'k', baseUrl: server.url });
      const response = await client.rerank({ model: 'ce', query, documents, topN: 2 });
      assert.equal(response.results.length, 2);
      const expected = documents.map((d, index) => ({ index, score: oracleLogits(query, d)[0] })).sort((a, b) => b.score - a.score);
      response.results.forEach((result, k) => {
        assert.equal(result.index, expected[k].index);
        assert.ok(Math.abs(result.relevanceScore - expected[k].score) <= TOL);
      });
    } finally {
      await server.close();
    }
  });

  test('too-long pairs: 400 by default, cut longest-first with truncate_prompt_tokens', async () => {
    const long = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
    const refused = await post('/score', { text_1: query, text_2: long });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.json().error.message, /exceeds the model's maximum input length of 48/);
    const cut = await post('/score', { text_1: query, text_2: long, truncate_prompt_tokens: 32 });
    assert.equal(cut.statusCode, 200, cut.body);
    assert.equal(cut.json().usage.prompt_tokens, 32);
  });
});

describe('/classify and /predict', () => {
  test('/classify: label, probs (sigmoid of the one logit), num_classes; use_activation false gives the logit', async () => {
    const body = (await post('/classify', { input: ['a fine day', 'terrible'] })).json();
    assert.equal(body.data.length, 2);
    body.data.forEach((item: { label: string; probs: number[]; num_classes: number }, i: number) => {
      const logits = oracleLogits(['a fine day', 'terrible'][i]);
      assert.equal(item.label, 'LABEL_0');
      assert.equal(item.num_classes, 1);
      assert.ok(Math.abs(item.probs[0] - activate(logits, 'sigmoid')[0]) <= TOL);
    });
    const raw = (await post('/classify', { input: 'terrible', use_activation: false })).json();
    assert.ok(Math.abs(raw.data[0].probs[0] - oracleLogits('terrible')[0]) <= TOL);
  });

  test('/predict (TEI): a text, a pair, a batch; raw_scores; sorted [{label, score}]', async () => {
    const single = (await post('/predict', { inputs: 'terrible' })).json();
    assert.equal(single.length, 1);
    assert.ok(Math.abs(single[0].score - activate(oracleLogits('terrible'), 'sigmoid')[0]) <= TOL);
    const pair = (await post('/predict', { inputs: ['what is a panda?', 'a bear'], raw_scores: true })).json();
    assert.ok(Math.abs(pair[0].score - oracleLogits('what is a panda?', 'a bear')[0]) <= TOL);
    const batch = (await post('/predict', { inputs: ['a', 'b', ['c', 'd']] })).json();
    assert.equal(batch.length, 3);
    assert.ok(Array.isArray(batch[2]));
  });
});

describe('task rules on the routes', () => {
  test('embedding routes refuse a cross-encoder with a 400 that says what to do', async () => {
    for (const [url, payload] of [
      ['/v1/embeddings', { input: 'hi' }],
      ['/v2/embed', { texts: ['hi'], input_type: 'search_query', embedding_types: ['float'] }],
      ['/pooling', { input: 'hi' }],
    ] as const) {
      const reply = await post(url, payload);
      assert.equal(reply.statusCode, 400, `${url}: ${reply.body}`);
      assert.match(reply.json().error.message, /serves task score.*--task embed/);
    }
  });

  test('classification routes refuse an embedding model; /rerank on an embedding model ranks by cosine', async () => {
    const plain = await fixtureModel('bge-small', { shrink: SHRINK });
    const bi = await Embedder.load(plain, { backend: 'reference', tokenizerWorkers: 0 });
    const biApp = buildServer(bi);
    try {
      for (const [url, payload] of [
        ['/classify', { input: 'hi' }],
        ['/predict', { inputs: 'hi' }],
      ] as const) {
        const reply = await biApp.inject({ method: 'POST', url, payload });
        assert.equal(reply.statusCode, 400);
        assert.match(reply.json().error.message, /needs a classification model/);
      }
      const ranked = (await biApp.inject({ method: 'POST', url: '/rerank', payload: { query: 'a cat', documents: ['a dog', 'a car'] } })).json();
      const rows = await bi.embed(['a cat', 'a dog', 'a car'], { normalize: true });
      const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
      const best = cos(rows[0], rows[1]) >= cos(rows[0], rows[2]) ? 0 : 1;
      assert.equal(ranked.results[0].index, best);
    } finally {
      await biApp.close();
      await bi.close();
    }
  });

  test('bad bodies: max_tokens_per_doc, texts on /v2/rerank, documents and texts together, an empty pair', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/v2/rerank', { query: 'q', documents: ['d'], max_tokens_per_doc: 10 }, /max_tokens_per_doc is not supported/],
      ['/v2/rerank', { query: 'q', texts: ['d'] }, /accepted on \/rerank only/],
      ['/rerank', { query: 'q', texts: ['d'], documents: ['d'] }, /not both/],
      ['/rerank', { query: 'q' }, /documents is required/],
      ['/score', { text_1: 'q', text_2: 'd', queries: 'q', documents: ['d'] }, /not both/],
      ['/score', { text_1: 'q', documents: ['d'] }, /must have required property 'text_2'/],
      ['/predict', { inputs: [['a', 'b', 'c']] }, /inputs\[0\] must be a text or a pair/],
    ];
    for (const [url, payload, message] of cases) {
      const reply = await post(url, payload);
      assert.equal(reply.statusCode, 400, `${url} ${JSON.stringify(payload)}: ${reply.body}`);
      assert.match(reply.json().error.message, message);
    }
  });
});
