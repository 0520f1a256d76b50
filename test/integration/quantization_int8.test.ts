// --quantization int8 end to end: the library option reaches the native engine (its packed-weight type is int8), the
// server reports it in /info and /v1/models, the embeddings stay close to float32's, and the backends without int8
// kernels (WebGPU, the float64 reference) or a dtype other than float32 refuse it at load, naming the flag. Accuracy on
// real weights is measured in test/upstream/test_int8_accuracy.py; the kernels in test/kernels/op_cases.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { buildRaggedBatch } from '../../src/backends/backend.js';
import { createNativeBackend, type NativeBackend } from '../../src/backends/native/backend.js';
import { NATIVE_GRAPHS } from '../../src/backends/native/graphs/index.js';
import { loadModel } from '../../src/model/load.js';
import type { LoadedModel } from '../../src/model/types.js';
import { cosineSimilarity, Embedder } from '../../src/engine/embedder.js';
import { ModelLoadError } from '../../src/errors.js';
import { buildServer, type PooledServer } from '../../src/server/app.js';
import { fixtureModel } from '../fixtures/generate.js';
import { loadModernBertFixture } from '../helpers/modernbert_fixture.js';
import { loadQwen3Fixture } from '../helpers/qwen3_fixture.js';
import { writeTinyRotaryBert } from '../helpers/rotary_bert_fixture.js';
import { WHOLE_MODEL_INIT_STD } from '../helpers/whole_model.js';

const SHRINK = { numLayers: 2, hiddenSize: 64, numHeads: 2, intermediateSize: 128 };
// Random weights drawn as the whole-model tests draw them (GELU inputs of a few units), 2 layers, unit rows: int8
// GEMMs against float32 ones. Measured worst 1 - cos 4.7e-5 (printed on every run); bound 10x that. The 12-layer
// bounds are in test/unit/native_backend.test.ts.
const MAX_COSINE_DISTANCE = 5e-4;
const TEXTS = ['a short query', 'The quick brown fox jumps over the lazy dog.', 'int8 weights, per-token activations', 'x'];

let modelPath: string;
let int8: Embedder;
let float32: Embedder;
let app: PooledServer;

before(async () => {
  modelPath = await fixtureModel('bge-small', { shrink: SHRINK, initStd: WHOLE_MODEL_INIT_STD });
  int8 = await Embedder.load(modelPath, { backend: 'cpu', quantization: 'int8', tokenizerWorkers: 0, threads: 2 });
  float32 = await Embedder.load(modelPath, { backend: 'cpu', tokenizerWorkers: 0, threads: 2 });
  app = buildServer(int8);
});
after(async () => {
  await app.close();
  await int8.close();
  await float32.close();
});

describe('--quantization int8', () => {
  test('reaches the native engine: its GEMM weights are packed as int8, activations stay float32', () => {
    assert.equal(int8.quantization, 'int8');
    assert.equal(int8.dtype, 'float32');
    assert.equal((int8.backend as NativeBackend).dtype, 'int8');
    assert.equal((float32.backend as NativeBackend).dtype, 'float32');
  });

  test(`embeddings within 1 - cos <= ${MAX_COSINE_DISTANCE} of float32's`, async () => {
    const [q, f] = [await int8.embed(TEXTS), await float32.embed(TEXTS)];
    let worst = 0;
    for (let i = 0; i < TEXTS.length; i++) {
      const distance = 1 - cosineSimilarity(q[i], f[i]);
      worst = Math.max(worst, distance);
      assert.ok(distance <= MAX_COSINE_DISTANCE, `text ${i}: 1 - cos ${distance}`);
      assert.notDeepEqual(q[i], f[i], 'int8 must not silently run the float32 GEMMs');
    }
    console.log(`# int8 vs float32 (2-layer random model): worst 1 - cos ${worst.toExponential(2)}`);
  });

  test('/info and /v1/models report it', async () => {
    const info = (await app.inject({ method: 'GET', url: '/info' })).json();
    assert.equal(info.quantization, 'int8');
    assert.equal(info.dtype, 'float32');
    const models = (await app.inject({ method: 'GET', url: '/v1/models' })).json();
    assert.equal(models.data[0].quantization, 'int8');
    assert.equal(models.data[0].dtype, 'float32');
  });

  test('backends without int8 kernels, and a dtype other than float32, refuse it at load naming the flag', async () => {
    await assert.rejects(
      Embedder.load(modelPath, { backend: 'reference', quantization: 'int8', tokenizerWorkers: 0 }),
      (e: unknown) => e instanceof ModelLoadError && /reference backend does not support --quantization int8/.test(e.message),
    );
    await assert.rejects(
      Embedder.load(modelPath, { backend: 'webgpu', quantization: 'int8', tokenizerWorkers: 0 }),
      (e: unknown) => e instanceof ModelLoadError && /webgpu backend does not support --quantization int8/.test(e.message),
    );
    await assert.rejects(
      Embedder.load(modelPath, { backend: 'cpu', quantization: 'int8', dtype: 'bfloat16', tokenizerWorkers: 0 }),
      (e: unknown) => e instanceof ModelLoadError && /use --dtype float32, not bfloat16/.test(e.message),
    );
  });
});

// Every native graph packs its GEMM weights through one PackWeights, so capabilities claim int8 for every native
// family: each one's tiny seeded fixture (std WHOLE_MODEL_INIT_STD) runs with int8 GEMMs and stays close to its own
// float32 run. Measured worst 1 - cos (printed on every run): bert 4.3e-5, roberta 3.9e-5, ernie 5.5e-5, nomic_bert
// 8.9e-6, gte 4.1e-6, modernbert 1.3e-4 (GeGLU), qwen3 1.1e-3 (SwiGLU, LAST pooling: one token's row, no averaging).
// One bound for all, 4.6x the worst (Qwen3's). Real weights are measured for all-MiniLM only (test_int8_accuracy.py).
const FAMILY_BOUND = 5e-3;
const scratch: string[] = [];
const FAMILY_MODELS: Record<string, () => Promise<LoadedModel>> = {
  bert: async () => loadModel(await fixtureModel('bge-small', { shrink: SHRINK, initStd: WHOLE_MODEL_INIT_STD })),
  roberta: async () => loadModel(await fixtureModel('bge-m3', { shrink: SHRINK, initStd: WHOLE_MODEL_INIT_STD })),
  ernie: async () => loadModel(await fixtureModel('ernie-classifier', { shrink: SHRINK, initStd: WHOLE_MODEL_INIT_STD })),
  qwen3: () => loadQwen3Fixture('F32', { initStd: WHOLE_MODEL_INIT_STD }),
  modernbert: () => loadModernBertFixture('F32'),
  nomic_bert: () => tinyRotary('nomic_bert'),
  gte: () => tinyRotary('gte'),
};

async function tinyRotary(family: 'nomic_bert' | 'gte'): Promise<LoadedModel> {
  const dir = await mkdtemp(join(tmpdir(), `int8-${family}-`));
  scratch.push(dir);
  await writeTinyRotaryBert(dir, family, { initScale: WHOLE_MODEL_INIT_STD, typeVocabSize: family === 'gte' ? 0 : 2 });
  return loadModel(dir);
}

describe('--quantization int8 on every native family', () => {
  after(async () => {
    for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  });
  for (const graph of NATIVE_GRAPHS) {
    const family = graph.spec.name;
    test(`${family}: int8 GEMMs within 1 - cos <= ${FAMILY_BOUND} of float32`, async () => {
      const load = FAMILY_MODELS[family];
      assert.ok(load !== undefined, `no fixture listed here for the native family ${family}`);
      const model = await load();
      const vocab = model.config.vocabSize;
      const sequences = [5, 17, 40].map((n, s) => Array.from({ length: n }, (_, i) => 3 + ((i * 7919 + s * 104729) % (vocab - 3))));
      const batch = buildRaggedBatch(sequences, { pooling: model.settings.pooling, normalize: sequences.map(() => true) });
      const [q, f] = [await createNativeBackend(model, { dtype: 'int8', threads: 2 }), await createNativeBackend(model, { threads: 2 })];
      try {
        assert.equal(q.dtype, 'int8');
        const [rowsQ, rowsF] = [await q.forward(batch), await f.forward(batch)];
        let worst = 0;
        for (let i = 0; i < rowsF.length; i++) worst = Math.max(worst, 1 - cosineSimilarity(rowsQ[i], rowsF[i]));
        console.log(`# int8 vs float32, ${family}: worst 1 - cos ${worst.toExponential(2)}`);
        assert.ok(worst <= FAMILY_BOUND, `${family}: 1 - cos ${worst}`);
        assert.notDeepEqual(rowsQ[0], rowsF[0], 'int8 must not silently run the float32 GEMMs');
      } finally {
        await q.dispose();
        await f.dispose();
      }
    });
  }
});
