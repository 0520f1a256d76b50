// The Qwen3 decoder on the native CPU engine, whole model: the shrunk Qwen3 fixture (F32 and BF16 checkpoints, float32
// and bfloat16 weight modes) against the float64 reference, one-shot and through the DecoderScheduler with prefix
// caching on and off, several token budgets, inputs ending exactly on a block boundary; plus KV accounting and errors
// (bad block ids, short tables, positions past max_position_embeddings) becoming rejected promises, never crashes.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildRaggedBatch, supportsPagedKv, type RaggedBatch } from '../../src/backends/backend.js';
import { type NativeBackend, createNativeBackend } from '../../src/backends/native/backend.js';
import { NativePagedBackend } from '../../src/backends/native/paged_backend.js';
import { PagedReferenceBackend } from '../../src/backends/reference/backend.js';
import { DecoderScheduler } from '../../src/engine/decoder_scheduler.js';
import { Embedder } from '../../src/engine/embedder.js';
import { defaultBackendFor } from '../../src/backends/select.js';
import type { LoadedModel } from '../../src/model/types.js';
import {
  loadQwen3Fixture,
  qwen3FixtureDir,
  randomTokens,
  forwardTwoManualChunks,
  PAGED_KV_BLOCK_SIZE,
  PAGED_KV_HASH_SEED,
  PAGED_KV_INPUTS,
} from '../helpers/qwen3_fixture.js';
import { assertRowClose, WHOLE_MODEL_INIT_STD, WorstErrors, type RowTolerance } from '../helpers/whole_model.js';

// Bounds on each pooled row against the float64 reference embedding, on the fixture drawn with std
// WHOLE_MODEL_INIT_STD (sharp attention, SwiGLU inputs of a few units). float32 weights: every op rounds to float32
// (~6e-8 relative) over 2 layers; measured worst 1 - cos 1.8e-13, max abs 1.7e-6 (rows not normalized; 2.2e-7
// normalized). bfloat16 weights: each weight is rounded to 8 significant bits (relative 2^-9) against the
// checkpoint's exact values; measured worst 1 - cos 5.4e-5, max abs 2.9e-2. Bounds about 4x (bfloat16) and 6x
// (max abs) above; 1 - cos <= 1e-9 is the project's float32 bar.
const TOLERANCE: Record<'float32' | 'bfloat16', RowTolerance> = {
  float32: { cosineDistance: 1e-9, maxAbs: 1e-5 },
  bfloat16: { cosineDistance: 2e-4, maxAbs: 0.08 },
};
const BLOCK_SIZE = PAGED_KV_BLOCK_SIZE;
const HASH_SEED = PAGED_KV_HASH_SEED;
const INPUTS = PAGED_KV_INPUTS;

const models = new Map<string, Promise<LoadedModel>>();
function model(dtype: 'F32' | 'BF16'): Promise<LoadedModel> {
  if (!models.has(dtype)) models.set(dtype, loadQwen3Fixture(dtype, { initStd: WHOLE_MODEL_INIT_STD }));
  return models.get(dtype)!;
}

async function oracle(loaded: LoadedModel, inputs: readonly Int32Array[], dimensions = 0): Promise<Float64Array[]> {
  const backend = await PagedReferenceBackend.create(loaded);
  return inputs.map((tokens) => backend.forward64(buildRaggedBatch([tokens], { pooling: 'last', normalize: [true], dimensions: [dimensions] }))[0]);
}

const open: NativeBackend[] = [];
async function native(loaded: LoadedModel, dtype: 'float32' | 'bfloat16', threads = 2): Promise<NativePagedBackend> {
  const backend = await createNativeBackend(loaded, { dtype, threads });
  assert.ok(backend instanceof NativePagedBackend);
  open.push(backend);
  return backend;
}
after(async () => {
  for (const backend of open) await backend.dispose();
});

const worst = new WorstErrors('native Qwen3');
function expectClose(label: string, key: string, actual: Float32Array, expected: Float64Array, tolerance: RowTolerance): void {
  assertRowClose(actual, expected, tolerance, label, { errors: worst, key });
}

describe('native Qwen3: whole model against the float64 reference', () => {
  for (const checkpoint of ['F32', 'BF16'] as const) {
    for (const dtype of ['float32', 'bfloat16'] as const) {
      it(`${checkpoint} checkpoint, ${dtype} weights: one-shot batch, LAST / MEAN pooling, dimensions`, async () => {
        const loaded = await model(checkpoint);
        const backend = await native(loaded, dtype);
        const reference = await PagedReferenceBackend.create(loaded);
        for (const pooling of ['last', 'mean'] as const) {
          const batch = buildRaggedBatch(INPUTS, {
            pooling,
            normalize: INPUTS.map((_, i) => i % 2 === 0),
            dimensions: INPUTS.map((_, i) => (i === 3 ? 32 : 0)),
          });
          const expected = reference.forward64(batch);
          const rows = await backend.forward(batch);
          assert.equal(rows.length, INPUTS.length);
          rows.forEach((row, i) => expectClose(`${pooling} input ${i}`, `one-shot ${checkpoint}/${dtype}`, row, expected[i], TOLERANCE[dtype]));
        }
      });
    }
  }

  const SCHEDULED = [
    ['F32', 'float32'],
    ['F32', 'bfloat16'],
    ['BF16', 'bfloat16'],
  ] as const;
  for (const [checkpoint, dtype] of SCHEDULED) {
    for (const enablePrefixCaching of [true, false]) {
      it(`${checkpoint} checkpoint, ${dtype} weights, prefix caching ${enablePrefixCaching ? 'on' : 'off'}: DecoderScheduler, token budgets 1, 7, 16, 4096`, async () => {
        const loaded = await model(checkpoint);
        const expected = await oracle(loaded, INPUTS);
        const backend = await native(loaded, dtype);
        for (const budget of [1, 7, 16, 4096]) {
          // A fresh scheduler per budget calls initKvCache again, which discards the previous contents.
          const scheduler = new DecoderScheduler(
            backend,
            'last',
            { maxNumBatchedTokens: budget, maxNumSeqs: 8, maxQueuedTokens: 1 << 20 },
            {
              blockSize: BLOCK_SIZE,
              numKvBlocks: 96,
              hashSeed: HASH_SEED,
              enablePrefixCaching,
            },
          );
          // Two rounds: the second finds the first's blocks cached (when caching is on).
          for (let round = 0; round < 2; round++) {
            const { rows } = await scheduler.submit(INPUTS, { dimensions: 0, normalize: true });
            assert.equal(rows.length, INPUTS.length);
            rows.forEach((row, i) =>
              expectClose(
                `budget ${budget} round ${round} input ${i} (${INPUTS[i].length} tokens)`,
                `scheduler ${checkpoint}/${dtype}`,
                row,
                expected[i],
                TOLERANCE[dtype],
              ),
            );
          }
          const stats = scheduler.stats;
          assert.equal(stats.kv.numUsedBlocks, 0, 'every block released');
          // The longest input has 33 tokens: any smaller budget splits it over several steps.
          if (budget < 33) assert.ok(stats.numChunkedSequences > 0, `budget ${budget} chunks some input`);
          if (enablePrefixCaching) {
            assert.ok(stats.kv.prefixCache!.numHitTokens >= 12 * 4, `round 2 reuses cached blocks (${stats.kv.prefixCache!.numHitTokens})`);
          } else {
            assert.equal(stats.kv.prefixCache, null);
          }
        }
      });
    }
  }

  it('batch invariance: an input alone and inside a mixed batch gives the same row bitwise', async () => {
    const loaded = await model('F32');
    const backend = await native(loaded, 'float32');
    const batch = buildRaggedBatch(INPUTS, { pooling: 'last', normalize: INPUTS.map(() => true) });
    const together = await backend.forward(batch);
    for (let i = 0; i < INPUTS.length; i++) {
      const [alone] = await backend.forward(buildRaggedBatch([INPUTS[i]], { pooling: 'last', normalize: [true] }));
      assert.deepEqual(alone, together[i], `input ${i}`);
    }
  });

  it('dimensions and normalize on paged batches; rows only for last chunks', async () => {
    const loaded = await model('F32');
    const backend = await native(loaded, 'float32');
    backend.initKvCache({ numBlocks: 16, blockSize: 4 });
    const tokens = randomTokens(10, 77);
    const [expected] = await oracle(loaded, [tokens], 24);
    // Chunk 1: tokens 0..5 (not last), chunk 2: tokens 6..9 (last), blocks 3, 5, 7.
    const [first, second] = await forwardTwoManualChunks(backend, tokens);
    assert.equal(first.length, 0, 'no row for a chunk that does not end its input');
    assert.equal(second.length, 1);
    expectClose('two manual chunks, 24 dimensions', 'manual chunks F32/float32', second[0], expected, TOLERANCE.float32);
    let norm = 0;
    for (const v of second[0]) norm += v * v;
    assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-6, 'normalized after truncation');
  });
});

describe('native Qwen3: KV accounting and errors', () => {
  it('is a PagedKvBackend with float32 K/V, its cache counted as native memory', async () => {
    const loaded = await model('BF16');
    const backend = await native(loaded, 'bfloat16');
    assert.ok(supportsPagedKv(backend));
    const c = loaded.config;
    assert.equal(c.architecture, 'qwen3');
    if (c.architecture !== 'qwen3') return;
    assert.equal(backend.kvBytesPerToken, 2 * c.numLayers * c.numKeyValueHeads * c.headDim * 4);
    const before = backend.nativeBytes;
    backend.initKvCache({ numBlocks: 10, blockSize: 8 });
    assert.equal(backend.nativeBytes - before, 10 * 8 * backend.kvBytesPerToken, 'the cache is reported as native memory');
    assert.equal(backend.dtype, 'bfloat16');
  });

  it('rejects bad block ids, short tables, bad positions and a missing cache with errors, and keeps working', async () => {
    const loaded = await model('F32');
    const backend = await native(loaded, 'float32');
    const tokens = randomTokens(6, 3);
    const paged = (table: Int32Array, cached = 0, positionOffset = cached): RaggedBatch => ({
      ...buildRaggedBatch([tokens], { pooling: 'last', normalize: [true], positionOffset }),
      blockTables: [table],
      numCachedTokens: Int32Array.of(cached),
      isLastChunk: Uint8Array.of(1),
    });
    await assert.rejects(backend.forward(paged(Int32Array.of(1, 2))), /initKvCache/);
    backend.initKvCache({ numBlocks: 8, blockSize: 4 });
    await assert.rejects(backend.forward(paged(Int32Array.of(1, 8))), /outside \[1, 8\)/);
    await assert.rejects(backend.forward(paged(Int32Array.of(0, 2))), /outside \[1, 8\)/);
    await assert.rejects(backend.forward(paged(Int32Array.of(1))), /too few|needs/);
    await assert.rejects(backend.forward(paged(Int32Array.of(1, 2), 0, 3)), /position/);
    const c = loaded.config;
    if (c.architecture !== 'qwen3') throw new Error('fixture is not qwen3');
    const far = buildRaggedBatch([tokens], { pooling: 'last', positionOffset: c.maxPositionEmbeddings - 2 });
    await assert.rejects(backend.forward(far), /max_position_embeddings|outside/);
    // The engine's own checks (bypassing the TypeScript ones) turn into rejections too.
    const engine = (backend as unknown as { native: { forward(b: unknown): Promise<Float32Array> } }).native;
    const raw = paged(Int32Array.of(1, 99));
    await assert.rejects(engine.forward(raw), /outside \[1, 8\)/);
    await assert.rejects(engine.forward({ ...paged(Int32Array.of(1)) }), /needs 2/);
    await assert.rejects(engine.forward({ ...far }), /max_position_embeddings/);
    await assert.rejects(engine.forward({ ...paged(Int32Array.of(1, 2)), tokenIds: Int32Array.of(0, 1, 2, 3, 4, 1 << 30) }), /tokenIds/);
    // Still fine afterwards.
    const [expected] = await oracle(loaded, [tokens]);
    const rows = await backend.forward(paged(Int32Array.of(6, 2)));
    expectClose('after errors', 'after errors F32/float32', rows[0], expected, TOLERANCE.float32);
  });
});

describe('native Qwen3: through the Embedder', () => {
  it('is the default backend for Qwen3, and serves chunked + prefix-cached embeddings equal to the one-shot reference', async () => {
    const dir = await qwen3FixtureDir('F32', { initStd: WHOLE_MODEL_INIT_STD });
    const embedder = await Embedder.load(dir, {
      tokenizerWorkers: 0,
      kvCache: { blockSize: 4, kvCacheMemoryBytes: 1 << 20 },
      limits: { maxNumBatchedTokens: 8 },
    });
    try {
      assert.equal(defaultBackendFor(embedder.model), 'cpu');
      const reference = await PagedReferenceBackend.create(embedder.model);
      const texts = ['what is the boiling point of water at altitude', 'what is the boiling point of water at sea level', 'x'];
      for (let round = 0; round < 2; round++) {
        const rows = await embedder.embed(texts);
        texts.forEach((text, i) => {
          const [expected] = reference.forward64(buildRaggedBatch([embedder.tokenize(text)], { pooling: 'last', normalize: [true] }));
          expectClose(`embedder round ${round} text ${i}`, 'embedder F32/float32', rows[i], expected, TOLERANCE.float32);
        });
      }
    } finally {
      await embedder.close();
    }
  });
});
