// A ModernBERT embedding model (shrunk derived ModernBERT-base layout, random weights, stand-in WordPiece tokenizer)
// served over HTTP by the native CPU backend: /v1/embeddings and /v2/embed rows equal the float64 reference's for the
// same token ids, with an input longer than the sliding window (local_attention 128) in the same request as short ones.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { Embedder } from '../../src/engine/embedder.js';
import { buildServer, type PooledServer } from '../../src/server/app.js';
import { modernBertFixtureDir } from '../helpers/modernbert_fixture.js';

// float32 served rows (unit vectors) vs the float64 reference: the native engine's error on this fixture is ~1e-7 per
// value at most (native_modernbert.test.ts), so 1e-6.
const TOL = 1e-6;
const LONG_TEXT = Array.from({ length: 40 }, (_, i) => `sentence number ${i} talks about rotary positions and sliding windows.`).join(' ');

let embedder: Embedder;
let app: PooledServer;
let oracle: ReferenceBackend;

before(async () => {
  embedder = await Embedder.load(await modernBertFixtureDir('F32'), { backend: 'cpu', tokenizerWorkers: 0 });
  app = buildServer(embedder);
  oracle = await ReferenceBackend.create(embedder.model);
});
after(async () => {
  await app.close();
  await embedder.close();
});

function reference(text: string): Float64Array {
  const ids = embedder.tokenize(text);
  const { pooling, normalize } = embedder.model.settings;
  return oracle.forward64(buildRaggedBatch([ids], { pooling, normalize: [normalize] }))[0];
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= TOL, `${what} [${i}] ${actual[i]} vs ${expected[i]}`);
}

test('/v1/embeddings and /v2/embed serve the reference rows, a long input beside short ones', async () => {
  const texts = ['a short one', LONG_TEXT, 'another short text'];
  assert.ok(embedder.tokenize(LONG_TEXT).length > 300, 'the long input spans several windows');
  const openAi = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: texts } });
  assert.equal(openAi.statusCode, 200, openAi.body);
  const cohere = await app.inject({ method: 'POST', url: '/v2/embed', payload: { texts, input_type: 'search_document', embedding_types: ['float'] } });
  assert.equal(cohere.statusCode, 200, cohere.body);
  texts.forEach((text, i) => {
    const want = reference(text);
    assertClose(openAi.json().data[i].embedding, want, `/v1/embeddings input ${i}`);
    assertClose(cohere.json().embeddings.float[i], want, `/v2/embed text ${i}`);
  });
  const models = (await app.inject({ method: 'GET', url: '/v1/models' })).json();
  assert.equal(models.data.length, 1);
});

test('dimensions is refused for a model without Matryoshka training; an input past 8192 tokens is a 400 naming the limit', async () => {
  const dims = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: 'a short one', dimensions: 16 } });
  assert.equal(dims.statusCode, 400, dims.body);
  assert.equal(dims.json().error.param, 'dimensions');
  const tooLong = Array.from({ length: 9000 }, () => 'word').join(' ');
  const refused = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: tooLong } });
  assert.equal(refused.statusCode, 400, refused.body);
  assert.equal(refused.json().error.code, 'context_length_exceeded');
  assert.match(refused.json().error.message, /maximum input length of 8192 tokens/);
});
