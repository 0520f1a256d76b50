// NomicBERT and GTE served end to end on the native cpu backend: POST /v1/embeddings with a prompt (prompt_name, from
// config_sentence_transformers.json, as nomic-embed-text's "search_query: ") and Matryoshka `dimensions`, checked
// against the float64 reference run on the same token ids. The tiny checkpoints carry the real families' layouts and
// the BERT uncased WordPiece tokenizer both released models use (bge-small-en-v1.5's tokenizer.json, the same vocab).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { Embedder } from '../../src/engine/embedder.js';
import { buildServer, type PooledServer } from '../../src/server/app.js';
import { writeTinyRotaryBert } from '../helpers/rotary_bert_fixture.js';
import { WHOLE_MODEL_INIT_STD } from '../helpers/whole_model.js';

// float32 served rows (unit vectors, then Matryoshka-truncated and renormalized) vs the float64 reference: measured
// worst 5.9e-8 per value (JSON carries float32); the bound is 1e-5, as the native whole-model tests (4.8e-7 before
// normalization).
const TOLERANCE = 1e-5;
const BERT_TOKENIZER = join(import.meta.dirname, '../fixtures/models/BAAI--bge-small-en-v1.5/tokenizer.json.gz');
const BERT_VOCAB = 30522;
const PROMPTS = { search_query: 'search_query: ', search_document: 'search_document: ' };

async function writeServedModel(dir: string, family: 'nomic_bert' | 'gte'): Promise<void> {
  await writeTinyRotaryBert(dir, family, {
    initScale: WHOLE_MODEL_INIT_STD,
    vocabSize: BERT_VOCAB,
    typeVocabSize: family === 'gte' ? 0 : 2,
    ...(family === 'gte' ? { ntkFactor: 2 } : {}),
    extraConfig: { matryoshka_dimensions: [32, 16, 8] },
  });
  await writeFile(join(dir, 'tokenizer.json'), gunzipSync(await readFile(BERT_TOKENIZER)));
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  await writeFile(
    join(dir, 'modules.json'),
    json([
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
    ]),
  );
  await mkdir(join(dir, '1_Pooling'));
  await writeFile(join(dir, '1_Pooling', 'config.json'), json({ word_embedding_dimension: 32, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true }));
  await writeFile(join(dir, 'config_sentence_transformers.json'), json({ prompts: PROMPTS, default_prompt_name: null }));
  await writeFile(join(dir, 'sentence_bert_config.json'), json({ max_seq_length: 8192, do_lower_case: false }));
}

for (const family of ['nomic_bert', 'gte'] as const) {
  describe(`${family} served on the cpu backend`, () => {
    let dir: string;
    let embedder: Embedder;
    let app: PooledServer;
    let oracle: ReferenceBackend;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `served-${family}-`));
      await writeServedModel(dir, family);
      embedder = await Embedder.load(dir, { backend: 'cpu', dtype: 'float32', tokenizerWorkers: 0 });
      app = buildServer(embedder);
      oracle = await ReferenceBackend.create(embedder.model);
    });
    after(async () => {
      await app?.close();
      await embedder?.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('POST /v1/embeddings with prompt_name and dimensions = the reference on the prompted token ids', async () => {
      const texts = ['What is rotary position embedding?', 'Long context retrieval with eight thousand tokens of text.'];
      const response = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: texts, prompt_name: 'search_query', dimensions: 16 } });
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.equal(body.data.length, 2);
      const ids = texts.map((text) => embedder.tokenize(`${PROMPTS.search_query}${text}`));
      // The prompt reached the tokenizer: the served usage counts the prompted ids.
      assert.equal(body.usage.prompt_tokens, ids[0].length + ids[1].length);
      const expected = oracle.forward64(buildRaggedBatch(ids, { pooling: 'mean', normalize: [true, true], dimensions: [16, 16] }));
      body.data.forEach((row: { embedding: number[] }, i: number) => {
        assert.equal(row.embedding.length, 16);
        row.embedding.forEach((value, c) => assert.ok(Math.abs(value - expected[i][c]) <= TOLERANCE, `row ${i} [${c}]: ${value} vs ${expected[i][c]}`));
      });
    });

    test('dimensions outside matryoshka_dimensions and unknown prompts are 400s naming the field', async () => {
      const bad = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: 'x', dimensions: 12 } });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /dimensions/);
      const unknown = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: 'x', prompt_name: 'nope' } });
      assert.equal(unknown.statusCode, 400);
      assert.match(unknown.body, /prompt/);
    });
  });
}
