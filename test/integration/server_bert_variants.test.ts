// The BERT-variant families through the HTTP server (/v1/embeddings and /v2/embed) on the native backend: XLM-RoBERTa (bge-m3's layout: CLS +
// Normalize, positions from pad_token_id + 1, 8192 usable tokens of 8194 positions) and ERNIE (text2vec-base-chinese-
// sentence's layout: mean pooling, task-type embeddings). Served rows against the float64 reference on the same token
// ids and the positions the spec gives; the usable length as /v1/models reports it and as --max-model-len is checked.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { Embedder } from '../../src/engine/embedder.js';
import { ModelLoadError } from '../../src/errors.js';
import { firstPositionOf } from '../../src/model/architectures/registry.js';
import { buildServer, type PooledServer } from '../../src/server/app.js';
import { fixtureModel, type FixtureName } from '../fixtures/generate.js';
import { rowError } from '../helpers/whole_model.js';

const SHRINK = { numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64 };
// float32 native rows vs the float64 reference (native_bert_variants.test.ts measures 1 - cos ~1e-14 on these models).
const COSINE_BOUND = 1e-9;
const TEXTS = ['how do i reset my router', '我们今天去北京大学参观。', 'L’été à Besançon 😀', 'a'];

const cases: { fixture: FixtureName; maxModelLen: number; pooling: string }[] = [
  // sentence_bert_config.json max_seq_length 8192 = 8194 positions - (pad_token_id 1 + 1).
  { fixture: 'bge-m3', maxModelLen: 8192, pooling: 'cls' },
  // sentence_bert_config.json max_seq_length 256 (under 2048 positions from 0).
  { fixture: 'text2vec-chinese', maxModelLen: 256, pooling: 'mean' },
];

for (const { fixture, maxModelLen, pooling } of cases) {
  describe(`${fixture} served on the cpu backend`, () => {
    let dir: string;
    let embedder: Embedder;
    let app: PooledServer;
    let oracle: ReferenceBackend;
    before(async () => {
      dir = await fixtureModel(fixture, { shrink: SHRINK });
      embedder = await Embedder.load(dir, { backend: 'cpu', tokenizerWorkers: 0 });
      app = buildServer(embedder);
      oracle = await ReferenceBackend.create(embedder.model);
    });
    after(async () => {
      await app.close();
      await embedder.close();
    });

    test('/v1/embeddings rows match the reference on the same ids and the spec positions', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: TEXTS } });
      assert.equal(response.statusCode, 200, response.body);
      const { data } = response.json() as { data: { embedding: number[] }[] };
      const ids = TEXTS.map((text) => Array.from(embedder.tokenize(text)));
      const expected = oracle.forward64(
        buildRaggedBatch(ids, {
          pooling: embedder.model.settings.pooling,
          normalize: ids.map(() => embedder.model.settings.normalize),
          positionOffset: firstPositionOf(embedder.model.config),
        }),
      );
      assert.equal(embedder.model.settings.pooling, pooling);
      data.forEach((row, i) => {
        const error = rowError(row.embedding, expected[i]);
        assert.ok(error.cosineDistance <= COSINE_BOUND, `${TEXTS[i]}: 1 - cos ${error.cosineDistance}`);
      });
      // Cohere's /v2/embed serves the same rows (compared by cosine, whatever the route's normalization).
      const cohere = await app.inject({
        method: 'POST',
        url: '/v2/embed',
        payload: { texts: TEXTS, input_type: 'search_document', embedding_types: ['float'] },
      });
      assert.equal(cohere.statusCode, 200, cohere.body);
      const { embeddings } = cohere.json() as { embeddings: { float: number[][] } };
      embeddings.float.forEach((row, i) => {
        const error = rowError(row, expected[i]);
        assert.ok(error.cosineDistance <= COSINE_BOUND, `/v2/embed ${TEXTS[i]}: 1 - cos ${error.cosineDistance}`);
      });
    });

    test('/v1/models reports the usable length, and --max-model-len cannot exceed it', async () => {
      const models = (await app.inject({ method: 'GET', url: '/v1/models' })).json() as { data: { max_model_len: number }[] };
      assert.equal(models.data[0].max_model_len, maxModelLen);
      if (fixture === 'bge-m3') {
        await assert.rejects(
          Embedder.load(dir, { backend: 'reference', tokenizerWorkers: 0, maxModelLen: 8193 }),
          (error: unknown) => error instanceof ModelLoadError && /--max-model-len 8193 exceeds the 8192 tokens the model's positions allow/.test(error.message),
        );
      }
    });
  });
}
