// The official `openai` npm client against a listening server, for every fixture model: float and base64
// responses, compared with the reference forward computed independently in float64.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { parseServeArgs } from '../../src/cli/serve_options.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { fixtureModel, type FixtureName } from '../fixtures/generate.js';

// float32 serving of unit vectors vs the float64 oracle: |diff| <= 1e-6 per value and cosine >= 1 - 1e-9.
const VALUE_TOLERANCE = 1e-6;
const COSINE_FLOOR = 1 - 1e-9;
const TEXTS = ['What is the capital of France?', 'Paris is the capital and largest city of France.', 'ok'];

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return dot / Math.sqrt(aa * bb);
}

// Real widths (hidden 384, 12 heads, intermediate 1536) with 2 layers keep the float64 oracle quick; one model
// also runs at its full published size so the real tensor layout is exercised end to end.
const CASES: { name: FixtureName; shrink?: { numLayers: number } }[] = [
  { name: 'bge-small', shrink: { numLayers: 2 } },
  { name: 'e5-small', shrink: { numLayers: 2 } },
  { name: 'all-minilm' },
];

for (const { name, shrink } of CASES) {
  describe(`openai client against ${name}${shrink ? ' (2 layers)' : ' (full size)'}`, () => {
    let server: RunningServer;
    let client: OpenAI;
    let reference: ReferenceBackend;

    before(async () => {
      const path = await fixtureModel(name, shrink ? { shrink } : {});
      const opts = parseServeArgs(['--model', path, '--port', '0', '--served-model-name', name, '--log-level', 'fatal']);
      assert.notEqual(opts, 'help');
      server = await startServer(opts as Exclude<typeof opts, 'help'>);
      client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      reference = await ReferenceBackend.create(server.embedder.model);
    });
    after(async () => {
      await server.close();
    });

    const expected = () => {
      const ids = TEXTS.map((t) => server.embedder.tokenize(t));
      const { pooling, normalize } = server.embedder.model.settings;
      return reference.forward64(buildRaggedBatch(ids, { pooling, normalize: ids.map(() => normalize) }));
    };

    for (const encoding of ['float', 'base64'] as const) {
      test(`encoding_format ${encoding} matches the reference`, async () => {
        const res = await client.embeddings.create({ model: name, input: TEXTS, encoding_format: encoding });
        assert.equal(res.model, name);
        assert.equal(res.data.length, TEXTS.length);
        const want = expected();
        res.data.forEach((d, i) => {
          // The client decodes base64 into numbers itself when it asked for base64 on our behalf; either way
          // `embedding` must be numbers here.
          const got: number[] = typeof d.embedding === 'string' ? decodeBase64(d.embedding) : d.embedding;
          assert.equal(got.length, server.embedder.hiddenSize);
          assert.ok(cosine(got, want[i]) >= COSINE_FLOOR, `cosine ${cosine(got, want[i])}`);
          for (let j = 0; j < got.length; j++) assert.ok(Math.abs(got[j] - want[i][j]) <= VALUE_TOLERANCE);
        });
        const numTokens = TEXTS.reduce((n, t) => n + server.embedder.tokenize(t).length, 0);
        assert.equal(res.usage.prompt_tokens, numTokens);
      });
    }

    test('the client sees OpenAI-shaped errors', async () => {
      await assert.rejects(client.embeddings.create({ model: 'nope', input: 'x' }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.NotFoundError);
        assert.match(err.message, /does not exist/);
        return true;
      });
      await assert.rejects(client.embeddings.create({ model: name, input: '' }), OpenAI.BadRequestError);
    });
  });
}

function decodeBase64(b64: string): number[] {
  const bytes = Buffer.from(b64, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}
