// The serving API beyond plain /v1/embeddings: vLLM's extras, Cohere's /v2/embed, /pooling, /score,
// /tokenize, /detokenize, the operator routes, auth, CORS, deadlines, cancellation and timing headers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { cosineSimilarity, Embedder } from '../../src/engine/embedder.js';
import { buildServer, type PooledServer } from '../../src/server/app.js';
import { packBinary, packUbinary, quantizeInt8 } from '../../src/server/encoding.js';
import { patchedFixtureModel } from '../helpers/patched_model.js';

const SHRINK = { numLayers: 1, hiddenSize: 32, numHeads: 2, intermediateSize: 64 };
// float32 serving vs the float64 oracle (unit vectors): 1e-6 per value.
const TOL = 1e-6;

let modelPath: string;
let embedder: Embedder;
let reference: ReferenceBackend;
let app: PooledServer;

function oracle(ids: Int32Array[], normalize: boolean): Float64Array[] {
  return reference.forward64(buildRaggedBatch(ids, { pooling: embedder.model.settings.pooling, normalize: ids.map(() => normalize) }));
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = TOL) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url, payload: payload as object, headers });

before(async () => {
  modelPath = await patchedFixtureModel(
    'e5-small',
    { shrink: SHRINK },
    {
      'config_sentence_transformers.json': { prompts: { query: 'query: ', passage: 'passage: ', clustering: 'cluster: ' } },
    },
  );
  embedder = await Embedder.load(modelPath, { backend: 'reference', servedModelName: 'e5', maxModelLen: 24, tokenizerWorkers: 0 });
  reference = await ReferenceBackend.create(embedder.model);
  app = buildServer(embedder);
});
after(async () => {
  await app.close();
  await embedder.close();
});

describe('vLLM extras on /v1/embeddings', () => {
  test('truncate_prompt_tokens keeps the last k tokens by default (vLLM), the first k with truncation_side right', async () => {
    const text = 'one two three four five six seven eight';
    const full = embedder.tokenize(text);
    const left = (await post('/v1/embeddings', { input: text, truncate_prompt_tokens: 5 })).json();
    const right = (await post('/v1/embeddings', { input: text, truncate_prompt_tokens: 5, truncation_side: 'right' })).json();
    assert.equal(left.usage.prompt_tokens, 5);
    const cls = full[0],
      sep = full[full.length - 1];
    const keptLeft = Int32Array.of(cls, ...full.slice(full.length - 4, full.length - 1), sep);
    const keptRight = Int32Array.of(cls, ...full.slice(1, 4), sep);
    assertClose(left.data[0].embedding, oracle([keptLeft], true)[0]);
    assertClose(right.data[0].embedding, oracle([keptRight], true)[0]);
  });

  test('truncate_prompt_tokens -1 means the model maximum; above it is a 400', async () => {
    const long = 'word '.repeat(60);
    const res = (await post('/v1/embeddings', { input: long, truncate_prompt_tokens: -1 })).json();
    assert.equal(res.usage.prompt_tokens, 24);
    const bad = await post('/v1/embeddings', { input: 'a', truncate_prompt_tokens: 25 });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /exceeds the model's maximum input length \(24\)/);
  });

  test('normalize false returns the raw pooled vector', async () => {
    const res = (await post('/v1/embeddings', { input: 'raw vector please', normalize: false })).json();
    assertClose(res.data[0].embedding, oracle([embedder.tokenize('raw vector please')], false)[0], 1e-5);
    assert.ok(Math.abs(Math.hypot(...res.data[0].embedding) - 1) > 1e-3);
  });

  test('embed_dtype and endianness shape the base64 bytes', async () => {
    const float = (await post('/v1/embeddings', { input: 'bytes' })).json().data[0].embedding as number[];
    const f16 = (await post('/v1/embeddings', { input: 'bytes', encoding_format: 'base64', embed_dtype: 'float16', endianness: 'big' })).json();
    const bytes = Buffer.from(f16.data[0].embedding, 'base64');
    assert.equal(bytes.length, 32 * 2);
    for (let i = 0; i < 32; i++) {
      const half = bytes.readUInt16BE(i * 2);
      const value = halfToNumber(half);
      assert.ok(Math.abs(value - float[i]) <= Math.abs(float[i]) * 2 ** -10 + 2 ** -24, `${value} vs ${float[i]}`);
    }
    const bf16 = (await post('/v1/embeddings', { input: 'bytes', encoding_format: 'base64', embed_dtype: 'bfloat16' })).json();
    assert.equal(Buffer.from(bf16.data[0].embedding, 'base64').length, 64);
  });

  test('prompt_name prepends the named prompt; an unknown name is a 400', async () => {
    const res = (await post('/v1/embeddings', { input: 'how tall', prompt_name: 'query' })).json();
    assertClose(res.data[0].embedding, oracle([embedder.tokenize('query: how tall')], true)[0]);
    const bad = await post('/v1/embeddings', { input: 'x', prompt_name: 'nope' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /Unknown prompt name "nope".*"query"/);
  });

  test('add_special_tokens false drops [CLS] and [SEP]; request_id is echoed in the id', async () => {
    const text = 'one two three';
    const bare = (await post('/v1/embeddings', { input: text, add_special_tokens: false, request_id: 'abc-1' })).json();
    assert.equal(bare.id, 'embd-abc-1');
    const ids = embedder.tokenize(text);
    assert.equal(bare.usage.prompt_tokens, ids.length - 2);
    assertClose(bare.data[0].embedding, oracle([ids.subarray(1, ids.length - 1)], true)[0]);
    const pooled = (await post('/pooling', { input: text, request_id: 'r2' })).json();
    assert.equal(pooled.id, 'pool-r2');
  });

  test('unknown request fields are ignored, as vLLM does, and logged once per route and field', async () => {
    const lines: string[] = [];
    const logged = buildServer(embedder, { logger: { level: 'warn', stream: { write: (line: string) => lines.push(line) } } });
    try {
      for (let i = 0; i < 3; i++) {
        const reply = await logged.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: 'hi', mystery_field: 1, other: true } });
        assert.equal(reply.statusCode, 200);
      }
      const warnings = lines.map((line) => JSON.parse(line)).filter((entry) => entry.field !== undefined);
      assert.deepEqual(
        warnings.map((entry) => entry.field),
        ['mystery_field', 'other'],
      );
      assert.match(warnings[0].msg, /"mystery_field" is not known on \/v1\/embeddings and is ignored/);
    } finally {
      await logged.close();
    }
  });

  test('priority is accepted; timing headers report where the time went', async () => {
    const res = await post('/v1/embeddings', { input: 'timed', priority: -5 });
    assert.equal(res.statusCode, 200);
    for (const h of ['x-tokenization-time', 'x-queue-time', 'x-inference-time', 'x-total-time']) {
      assert.ok(Number(res.headers[h]) >= 0, `${h}=${res.headers[h]}`);
    }
    assert.equal(res.headers['x-compute-tokens'], String(embedder.tokenize('timed').length));
  });
});

describe('Cohere /v2/embed', () => {
  test('several embedding types at once, each derived from the same float vector', async () => {
    const res = await post('/v2/embed', {
      model: 'e5',
      texts: ['alpha beta', 'gamma'],
      input_type: 'search_document',
      embedding_types: ['float', 'int8', 'uint8', 'binary', 'ubinary', 'base64'],
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(body.texts, ['alpha beta', 'gamma']);
    assert.equal(body.response_type, 'embeddings_by_type');
    assert.equal(body.meta.api_version.version, '2');
    const ids = ['passage: alpha beta', 'passage: gamma'].map((t) => embedder.tokenize(t));
    assert.equal(body.meta.billed_units.input_tokens, ids[0].length + ids[1].length);
    const want = oracle(ids, true);
    body.embeddings.float.forEach((row: number[], i: number) => {
      assertClose(row, want[i]);
      const f32 = Float32Array.from(row);
      assert.deepEqual(body.embeddings.int8[i], quantizeInt8(f32));
      assert.deepEqual(
        body.embeddings.uint8[i],
        quantizeInt8(f32).map((q) => q + 128),
      );
      assert.deepEqual(body.embeddings.ubinary[i], packUbinary(f32));
      assert.deepEqual(body.embeddings.binary[i], packBinary(f32));
      assert.equal(body.embeddings.ubinary[i].length, 4); // 32 dims -> 4 bytes
      const decoded = Buffer.from(body.embeddings.base64[i], 'base64');
      assert.deepEqual(
        Array.from({ length: 32 }, (_, j) => decoded.readFloatLE(j * 4)),
        row,
      );
    });
  });

  test('input_type maps Cohere names onto prompts; clustering uses its prompt, classification falls back to none', async () => {
    const embed = async (input_type: string) => (await post('/v2/embed', { texts: ['x y'], input_type })).json().embeddings.float[0];
    assertClose(await embed('search_query'), oracle([embedder.tokenize('query: x y')], true)[0]);
    assertClose(await embed('clustering'), oracle([embedder.tokenize('cluster: x y')], true)[0]);
    assertClose(await embed('classification'), oracle([embedder.tokenize('x y')], true)[0]);
    assertClose(await embed('passage'), oracle([embedder.tokenize('passage: x y')], true)[0]); // a prompt name directly
    const bad = await post('/v2/embed', { texts: ['x'], input_type: 'image' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.param, 'input_type');
  });

  test('a model with prompts but not the one an input_type needs gives 400; a model with no prompts takes any', async () => {
    const queryOnly = await Embedder.load(
      await patchedFixtureModel('e5-small', { shrink: SHRINK }, { 'config_sentence_transformers.json': { prompts: { query: 'q: ' } } }),
      { backend: 'reference', tokenizerWorkers: 0 },
    );
    const plain = await Embedder.load(await patchedFixtureModel('e5-small', { shrink: SHRINK }, { 'config_sentence_transformers.json': { prompts: {} } }), {
      backend: 'reference',
      tokenizerWorkers: 0,
    });
    const queryOnlyApp = buildServer(queryOnly);
    const plainApp = buildServer(plain);
    try {
      const res = await queryOnlyApp.inject({ method: 'POST', url: '/v2/embed', payload: { texts: ['x'], input_type: 'search_document' } });
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error.message, /needs a "document" prompt.*"query"/);
      const ok = await plainApp.inject({ method: 'POST', url: '/v2/embed', payload: { texts: ['x'], input_type: 'search_document' } });
      assert.equal(ok.statusCode, 200);
      assertClose(ok.json().embeddings.float[0], (await plain.embed(['x']))[0]);
    } finally {
      await queryOnlyApp.close();
      await queryOnly.close();
      await plainApp.close();
      await plain.close();
    }
  });

  test('truncate END (default), START and NONE', async () => {
    const long = 'word '.repeat(40);
    const end = await post('/v2/embed', { texts: [long] });
    assert.equal(end.statusCode, 200);
    assert.equal(end.json().meta.billed_units.input_tokens, 24);
    const start = await post('/v2/embed', { texts: [long], truncate: 'START' });
    assert.equal(start.statusCode, 200);
    const none = await post('/v2/embed', { texts: [long], truncate: 'NONE' });
    assert.equal(none.statusCode, 400);
    assert.match(none.json().error.message, /42 tokens/);
  });

  test('bad requests: no texts, images, unknown embedding type, output_dimension on a non-Matryoshka model', async () => {
    for (const [payload, param] of [
      [{ texts: [] }, 'texts'],
      [{ images: ['data:image/png;base64,AA=='] }, 'images'],
      [{ texts: ['a'], embedding_types: ['float64'] }, null],
      [{ texts: ['a'], output_dimension: 16 }, 'output_dimension'],
      [{ texts: ['a', ''] }, 'texts[1]'],
      [{ texts: ['a'], max_tokens: 100000 }, 'max_tokens'],
    ] as const) {
      const res = await post('/v2/embed', payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      if (param) assert.equal(res.json().error.param, param);
    }
  });
});

describe('vLLM routes', () => {
  test('/pooling returns the raw pooled vectors', async () => {
    const res = (await post('/pooling', { input: ['pool me', 'and me'] })).json();
    assert.equal(res.object, 'list');
    assert.equal(res.data[1].object, 'pooling');
    const want = oracle([embedder.tokenize('pool me'), embedder.tokenize('and me')], false);
    assertClose(res.data[0].data, want[0], 1e-5);
    assertClose(res.data[1].data, want[1], 1e-5);
  });

  test('/score one-to-one, one-to-many and pairwise are cosine similarities', async () => {
    const rows = oracle(
      ['a cat', 'a dog', 'a car'].map((t) => embedder.tokenize(t)),
      true,
    );
    const one = (await post('/score', { text_1: 'a cat', text_2: 'a dog' })).json();
    assert.equal(one.data.length, 1);
    assert.ok(Math.abs(one.data[0].score - cosineSimilarity(rows[0], rows[1])) < 1e-6);
    const many = (await post('/score', { text_1: 'a cat', text_2: ['a dog', 'a car'] })).json();
    assert.deepEqual(
      many.data.map((d: any) => d.index),
      [0, 1],
    );
    assert.ok(Math.abs(many.data[1].score - cosineSimilarity(rows[0], rows[2])) < 1e-6);
    const pairs = (await post('/score', { text_1: ['a cat', 'a dog'], text_2: ['a dog', 'a car'] })).json();
    assert.ok(Math.abs(pairs.data[1].score - cosineSimilarity(rows[1], rows[2])) < 1e-6);
    const bad = await post('/score', { text_1: ['a', 'b'], text_2: ['c', 'd', 'e'] });
    assert.equal(bad.statusCode, 400);
  });

  test('/tokenize and /detokenize round-trip; lengths are reported even past the limit', async () => {
    const res = (await post('/tokenize', { prompt: 'Hello world', return_token_strs: true })).json();
    assert.deepEqual(res.tokens, [101, 7592, 2088, 102]);
    assert.deepEqual(res.token_strs, ['[CLS]', 'hello', 'world', '[SEP]']);
    assert.equal(res.count, 4);
    assert.equal(res.max_model_len, 24);
    const bare = (await post('/tokenize', { prompt: 'Hello world', add_special_tokens: false })).json();
    assert.deepEqual(bare.tokens, [7592, 2088]);
    const long = (await post('/tokenize', { prompt: 'w '.repeat(30) })).json();
    assert.equal(long.count, 32);
    const text = (await post('/detokenize', { tokens: [7592, 2088] })).json();
    assert.equal(text.prompt, 'hello world');
    const bad = await post('/detokenize', { tokens: [99999999] });
    assert.equal(bad.statusCode, 422);
  });
});

describe('operator routes', () => {
  test('/ready is 503 until warm, then 200; /health always 200', async () => {
    const fresh = buildServer(embedder);
    try {
      assert.equal((await fresh.inject({ method: 'GET', url: '/ready' })).statusCode, 503);
      assert.equal((await fresh.inject({ method: 'GET', url: '/health' })).statusCode, 200);
      fresh.markReady();
      assert.equal((await fresh.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
    } finally {
      await fresh.close();
    }
  });

  test('/info reports the live configuration and that encoders have no prefix caching or chunking', async () => {
    const info = (await app.inject({ method: 'GET', url: '/info' })).json();
    assert.equal(info.model_id, 'e5');
    assert.equal(info.max_model_len, 24);
    assert.equal(info.max_num_batched_tokens, embedder.scheduler.limits.maxNumBatchedTokens);
    assert.equal(info.prefix_caching, false);
    assert.equal(info.chunked_prefill, false);
    assert.equal(info.model.pooling, 'mean');
    assert.equal(info.dtype, 'float32');
    assert.equal(info.quantization, null);
  });

  test('/metrics exposes request counts, stage histograms, batch sizes and queue depth', async () => {
    await post('/v1/embeddings', { input: ['m1', 'm2'] });
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(text, /pooled_requests_total\{route="\/v1\/embeddings",status="200"\} \d+/);
    for (const name of [
      'pooled_tokenization_duration_seconds_count',
      'pooled_queue_duration_seconds_count',
      'pooled_inference_duration_seconds_count',
      'pooled_request_duration_seconds_count',
      'pooled_batch_size_count',
      'pooled_batch_tokens_count',
      'pooled_input_tokens_count',
      'pooled_queue_tokens',
      'pooled_process_resident_memory_bytes',
    ]) {
      assert.match(text, new RegExp(`^${name}`, 'm'), name);
    }
  });
});

describe('auth and CORS', () => {
  test('--api-key: 401 without or with a wrong key, 200 with it; health and metrics stay open', async () => {
    const secured = buildServer(embedder, { apiKey: 's3cret', corsOrigins: ['https://app.example'] });
    try {
      const call = (auth?: string) =>
        secured.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: 'x' }, headers: auth ? { authorization: auth } : {} });
      const missing = await call();
      assert.equal(missing.statusCode, 401);
      assert.equal(missing.json().error.type, 'authentication_error');
      assert.equal((await call('Bearer wrong')).statusCode, 401);
      assert.equal((await call('Bearer s3cret')).statusCode, 200);
      assert.equal((await secured.inject({ method: 'GET', url: '/health' })).statusCode, 200);
      assert.equal((await secured.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
      const preflight = await secured.inject({
        method: 'OPTIONS',
        url: '/v1/embeddings',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
    } finally {
      await secured.close();
    }
  });
});

describe('deadlines, overload and cancellation', () => {
  /** A server whose backend takes `delayMs` per batch and records the token ids it computed. */
  async function slowServer(delayMs: number, options: Parameters<typeof buildServer>[1] = {}, limits = {}) {
    const slow = await Embedder.load(modelPath, { backend: 'reference', tokenizerWorkers: 0, limits });
    const computed: number[] = [];
    const forward = slow.backend.forward.bind(slow.backend);
    (slow.backend as any).forward = async (batch: any) => {
      computed.push(...batch.tokenIds);
      await new Promise((r) => setTimeout(r, delayMs));
      return forward(batch);
    };
    const server = buildServer(slow, options);
    return {
      slow,
      server,
      computed,
      close: async () => {
        await server.close();
        await slow.close();
      },
    };
  }

  test('--request-timeout: 408 once computing, 503 while still queued; queued work is dropped', async () => {
    const s = await slowServer(400, { requestTimeoutSeconds: 0.15 }, { maxNumBatchedTokens: 8, maxNumSeqs: 1 });
    try {
      const [first, second] = await Promise.all([
        s.server.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: 'first request' } }),
        s.server.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: [[101, 4242, 102]] } }),
      ]);
      assert.equal(first.statusCode, 408, first.body);
      assert.equal(first.json().error.type, 'timeout_error');
      assert.equal(second.statusCode, 503, second.body);
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(!s.computed.includes(4242), 'the timed-out queued request never reached the backend');
    } finally {
      await s.close();
    }
  });

  test('a full queue answers 429 with Retry-After at once', async () => {
    const s = await slowServer(200, {}, { maxQueuedTokens: 10, maxNumBatchedTokens: 4 });
    try {
      const results = await Promise.all(
        [1, 2, 3].map((i) => s.server.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: `request number ${i} is here` } })),
      );
      const codes = results.map((r) => r.statusCode).sort();
      assert.deepEqual(codes, [200, 429, 429]);
      const refused = results.find((r) => r.statusCode === 429)!;
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal(refused.json().error.type, 'overloaded_error');
    } finally {
      await s.close();
    }
  });

  test('a client that disconnects has its queued work dropped before compute', async () => {
    const s = await slowServer(300, {}, { maxNumSeqs: 1 });
    try {
      const url = await s.server.listen({ port: 0, host: '127.0.0.1' });
      const busy = fetch(`${url}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"input":"keep the backend busy"}',
      });
      await new Promise((r) => setTimeout(r, 50));
      const controller = new AbortController();
      const gone = fetch(`${url}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"input":[[101, 7777, 102]]}',
        signal: controller.signal,
      });
      await new Promise((r) => setTimeout(r, 50));
      controller.abort();
      await assert.rejects(gone);
      assert.equal((await busy).status, 200);
      await new Promise((r) => setTimeout(r, 400));
      assert.ok(!s.computed.includes(7777), 'the abandoned request was computed');
      assert.equal(s.slow.scheduler.queuedTokens, 0);
    } finally {
      await s.close();
    }
  });
});

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
