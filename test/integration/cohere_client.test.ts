// The official `cohere-ai` client (CohereClientV2) against a listening server: v2 embed with several embedding
// types, input types and truncation, compared with the reference computation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CohereClientV2, CohereError } from 'cohere-ai';

import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { parseServeArgs } from '../../src/cli/serve_options.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { packUbinary } from '../../src/server/encoding.js';
import { patchedFixtureModel } from '../helpers/patched_model.js';

// float32 served vs float64 oracle, unit vectors: 1e-6 per value.
const TOL = 1e-6;
let server: RunningServer;
let client: CohereClientV2;
let reference: ReferenceBackend;

before(async () => {
  const path = await patchedFixtureModel(
    'e5-small',
    { shrink: { numLayers: 2 } },
    {
      'config_sentence_transformers.json': { prompts: { query: 'query: ', passage: 'passage: ' } },
    },
  );
  const opts = parseServeArgs(['--model', path, '--port', '0', '--served-model-name', 'e5-small', '--log-level', 'fatal', '--api-key', 'co-key']);
  server = await startServer(opts as Exclude<typeof opts, 'help'>);
  client = new CohereClientV2({ token: 'co-key', baseUrl: server.url });
  reference = await ReferenceBackend.create(server.embedder.model);
});
after(async () => {
  await server.close();
});

test('v2 embed: float, int8 and ubinary for search_query and search_document inputs', async () => {
  for (const [inputType, prefix] of [
    ['search_query', 'query: '],
    ['search_document', 'passage: '],
  ] as const) {
    const texts = ['how do magnets work', 'magnets attract iron'];
    const res = await client.embed({ model: 'e5-small', texts, inputType, embeddingTypes: ['float', 'int8', 'ubinary'] });
    const ids = texts.map((t) => server.embedder.tokenize(prefix + t));
    const want = reference.forward64(buildRaggedBatch(ids, { pooling: 'mean', normalize: [true, true] }));
    assert.equal(res.embeddings.float!.length, 2);
    res.embeddings.float!.forEach((row, i) => {
      assert.equal(row.length, 384);
      row.forEach((x, j) => assert.ok(Math.abs(x - want[i][j]) <= TOL));
      assert.deepEqual(res.embeddings.ubinary![i], packUbinary(Float32Array.from(row)));
      assert.equal(res.embeddings.int8![i].length, 384);
    });
    assert.equal(res.meta?.billedUnits?.inputTokens, ids[0].length + ids[1].length);
  }
});

test('v2 embed errors reach the client as CohereError with the status', async () => {
  await assert.rejects(client.embed({ model: 'e5-small', texts: ['x'], inputType: 'image', embeddingTypes: ['float'] }), (err: unknown) => {
    assert.ok(err instanceof CohereError);
    assert.equal(err.statusCode, 400);
    return true;
  });
  const unauthorized = new CohereClientV2({ token: 'wrong', baseUrl: server.url });
  await assert.rejects(unauthorized.embed({ model: 'e5-small', texts: ['x'], inputType: 'search_query', embeddingTypes: ['float'] }), (err: unknown) => {
    assert.ok(err instanceof CohereError);
    assert.equal(err.statusCode, 401);
    return true;
  });
});
