// POST /v1/embeddings end to end: every error path (status + OpenAI error body), the response shape, float and
// base64 encodings, and the served vectors against an independent reference computation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { Embedder } from '../../src/engine/embedder.js';
import { buildServer } from '../../src/server/app.js';
import { fixtureModel } from '../fixtures/generate.js';

const SHRINK = { numLayers: 2, hiddenSize: 64, numHeads: 4, intermediateSize: 128 };
// Served rows are float32 copies of the reference's float64 rows: unit-norm values differ by at most ~1e-7.
const FLOAT32_TOLERANCE = 1e-6;

let embedder: Embedder;
let app: FastifyInstance;
let reference: ReferenceBackend;

async function post(body: unknown, headers: Record<string, string> = {}) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return app.inject({ method: 'POST', url: '/v1/embeddings', payload, headers: { 'content-type': 'application/json', ...headers } });
}

function assertError(res: { statusCode: number; json(): any }, status: number, pattern: RegExp, param?: string) {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()));
  const body = res.json();
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.match(body.error.message, pattern);
  assert.equal(body.error.type, status === 404 ? 'not_found_error' : status >= 500 ? 'server_error' : 'invalid_request_error');
  if (param !== undefined) assert.equal(body.error.param, param);
}

function expectedRows(texts: string[], normalize = true): Float64Array[] {
  const ids = texts.map((t) => embedder.tokenize(t));
  return reference.forward64(buildRaggedBatch(ids, { pooling: embedder.model.settings.pooling, normalize: ids.map(() => normalize) }));
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `value ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

before(async () => {
  const path = await fixtureModel('bge-small', { shrink: SHRINK });
  embedder = await Embedder.load(path, { backend: 'reference', servedModelName: 'bge-test', maxModelLen: 32 });
  app = buildServer(embedder, { maxInputsPerRequest: 8, bodyLimitBytes: 64 * 1024 });
  reference = await ReferenceBackend.create(embedder.model);
});

after(async () => {
  await app.close();
  await embedder.close();
});

describe('successful requests', () => {
  test('a string input returns one normalized embedding matching the reference', async () => {
    const res = await post({ input: 'The quick brown fox', model: 'bge-test' });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.object, 'list');
    assert.equal(body.model, 'bge-test');
    assert.equal(body.data.length, 1);
    assert.equal(body.data[0].object, 'embedding');
    assert.equal(body.data[0].index, 0);
    assert.equal(body.data[0].embedding.length, 64);
    const ids = embedder.tokenize('The quick brown fox');
    assert.deepEqual(body.usage, { prompt_tokens: ids.length, total_tokens: ids.length });
    assertClose(body.data[0].embedding, expectedRows(['The quick brown fox'])[0], FLOAT32_TOLERANCE);
    const norm = Math.hypot(...body.data[0].embedding);
    assert.ok(Math.abs(norm - 1) < 1e-6);
  });

  test('an array of strings keeps order; model may be omitted', async () => {
    const texts = ['first text', 'a second, longer text with more tokens', 'x'];
    const res = await post({ input: texts });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    const expected = expectedRows(texts);
    body.data.forEach((d: any, i: number) => {
      assert.equal(d.index, i);
      assertClose(d.embedding, expected[i], FLOAT32_TOLERANCE);
    });
  });

  test('token id inputs (int[] and int[][]) are used verbatim', async () => {
    const ids = Array.from(embedder.tokenize('hello world'));
    const single = (await post({ input: ids })).json();
    const nested = (await post({ input: [ids, ids.slice(0, 3)] })).json();
    const text = (await post({ input: 'hello world' })).json();
    assert.deepEqual(single.data[0].embedding, text.data[0].embedding);
    assert.deepEqual(nested.data[0].embedding, text.data[0].embedding);
    assert.equal(nested.usage.prompt_tokens, ids.length + 3);
  });

  test('base64 is the little-endian float32 bytes of the float response', async () => {
    const float = (await post({ input: 'encode me' })).json();
    const b64 = (await post({ input: 'encode me', encoding_format: 'base64' })).json();
    const bytes = Buffer.from(b64.data[0].embedding, 'base64');
    assert.equal(bytes.length, 64 * 4);
    const decoded = Array.from({ length: 64 }, (_, i) => bytes.readFloatLE(i * 4));
    assert.deepEqual(decoded, float.data[0].embedding);
  });

  test('GET /v1/models lists the served model with its effective settings; /health answers', async () => {
    const models = (await app.inject({ method: 'GET', url: '/v1/models' })).json();
    assert.equal(models.object, 'list');
    assert.equal(models.data[0].id, 'bge-test');
    assert.equal(models.data[0].object, 'model');
    assert.equal(models.data[0].max_model_len, 32);
    assert.equal(models.data[0].pooling, 'cls');
    assert.equal(models.data[0].normalize, true);
    const health = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
  });
});

describe('error paths', () => {
  test('malformed JSON -> 400', async () => assertError(await post('{"input": '), 400, /JSON/i));
  test('wrong content type -> 415', async () =>
    assertError(await post('input=hello', { 'content-type': 'application/x-www-form-urlencoded' }), 415, /content-type|media type/i));
  test('missing input -> 400', async () => assertError(await post({ model: 'bge-test' }), 400, /input/, 'input'));
  test('empty string -> 400', async () => assertError(await post({ input: '' }), 400, /empty string/, 'input'));
  test('empty string inside an array -> 400', async () => assertError(await post({ input: ['ok', ''] }), 400, /empty string/, 'input[1]'));
  test('empty array -> 400', async () => assertError(await post({ input: [] }), 400, /empty array/, 'input'));
  test('empty token id list -> 400', async () => assertError(await post({ input: [[1, 2], []] }), 400, /empty token id/, 'input[1]'));
  test('number input -> 400', async () => assertError(await post({ input: 5 }), 400, /must be a string/, 'input'));
  test('mixed types -> 400', async () => assertError(await post({ input: ['a', 5] }), 400, /mixed/, 'input[1]'));
  test('non-integer token id -> 400', async () => assertError(await post({ input: [101, 1.5] }), 400, /integer token id/));
  test('wrong type for model -> 400', async () => assertError(await post({ input: 'a', model: 7 }), 400, /model/, 'model'));
  test('unknown encoding_format -> 400', async () =>
    assertError(await post({ input: 'a', encoding_format: 'int8' }), 400, /encoding_format|allowed values/, 'encoding_format'));
  test('dimensions as a string -> 400', async () => assertError(await post({ input: 'a', dimensions: '8' }), 400, /dimensions|integer/, 'dimensions'));
  test('token id outside the vocabulary -> 422', async () =>
    assertError(await post({ input: [101, 30522, 102] }), 422, /outside the model's vocabulary/, 'input'));
  test('negative token id -> 422', async () => assertError(await post({ input: [[101, -1, 102]] }), 422, /outside/));
  test('unknown model -> 404', async () => {
    const res = await post({ input: 'a', model: 'gpt-4' });
    assertError(res, 404, /does not exist/, 'model');
    assert.equal(res.json().error.code, 'model_not_found');
  });
  test('over-long input -> 400 naming both lengths', async () => {
    const res = await post({ input: 'word '.repeat(40) });
    assertError(res, 400, /42 tokens.*maximum input length of 32/, 'input');
  });
  test('over-long token ids -> 400', async () => assertError(await post({ input: Array(33).fill(1000) }), 400, /33 tokens/));
  test('too many inputs -> 413', async () => assertError(await post({ input: Array(9).fill('a') }), 413, /at most 8/, 'input'));
  test('body too large -> 413', async () => {
    const res = await post({ input: 'a'.repeat(70 * 1024) });
    assert.equal(res.statusCode, 413);
    assert.match(res.json().error.message, /too large/i);
  });
  test('dimensions on a model not trained for Matryoshka -> 400', async () =>
    assertError(await post({ input: 'a', dimensions: 32 }), 400, /matryoshka/i, 'dimensions'));
  test('unknown route -> 404 in the same error shape', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nothing' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.type, 'not_found_error');
  });
  test('a backend failure -> 500 without internals', async () => {
    const original = embedder.backend.forward;
    (embedder.backend as any).forward = async () => {
      throw new Error('secret internal detail');
    };
    try {
      const res = await post({ input: 'boom' });
      assertError(res, 500, /failed to process/);
      assert.doesNotMatch(res.body, /secret/);
    } finally {
      (embedder.backend as any).forward = original;
    }
  });
});

describe('Matryoshka dimensions', () => {
  let mEmbedder: Embedder;
  let mApp: FastifyInstance;
  before(async () => {
    const src = await fixtureModel('bge-small', { shrink: SHRINK });
    const dir = await mkdtemp(join(tmpdir(), 'pooled-matryoshka-'));
    await cp(src, dir, { recursive: true });
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, is_matryoshka: true, matryoshka_dimensions: [16, 32, 64] }));
    mEmbedder = await Embedder.load(dir, { backend: 'reference' });
    mApp = buildServer(mEmbedder);
  });
  after(async () => {
    await mApp.close();
    await mEmbedder.close();
  });
  const mPost = (body: unknown) => mApp.inject({ method: 'POST', url: '/v1/embeddings', payload: body as object });

  test('dimensions truncates, then normalizes', async () => {
    const full = (await mPost({ input: 'matryoshka doll', encoding_format: 'float' })).json().data[0].embedding as number[];
    const res = await mPost({ input: 'matryoshka doll', dimensions: 16 });
    assert.equal(res.statusCode, 200);
    const cut = res.json().data[0].embedding as number[];
    assert.equal(cut.length, 16);
    // Normalizing the prefix of the full normalized vector gives the same direction as truncate-then-normalize.
    const prefixNorm = Math.hypot(...full.slice(0, 16));
    assertClose(
      cut,
      full.slice(0, 16).map((x) => x / prefixNorm),
      1e-6,
    );
  });
  test('dimensions 0, negative, above hidden size, or not listed -> 400', async () => {
    for (const dimensions of [0, -4, 65, 128, 20]) {
      const res = await mPost({ input: 'a', dimensions });
      assertError(res, 400, /dimensions/, 'dimensions');
    }
  });
});
