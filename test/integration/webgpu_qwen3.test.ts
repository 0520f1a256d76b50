// The Qwen3 decoder on the WebGPU backend, whole model: the shrunk Qwen3 fixture (F32 checkpoint, f32 weights) against
// the float64 reference, one-shot and through the DecoderScheduler (K/V written and read through block tables) with
// prefix caching on and off, token budgets 1, 7 and 4096, inputs ending exactly on a block boundary; plus batch
// invariance, activation slicing, the factory's choice, and the KV-cache refusal.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildRaggedBatch, supportsPagedKv } from '../../src/backends/backend.js';
import { PagedReferenceBackend } from '../../src/backends/reference/backend.js';
import { createWebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { WebGpuQwen3Backend } from '../../src/backends/webgpu/qwen3_backend.js';
import { DecoderScheduler } from '../../src/engine/decoder_scheduler.js';
import type { LoadedModel } from '../../src/model/types.js';
import { loadQwen3Fixture, randomTokens, forwardTwoManualChunks, PAGED_KV_BLOCK_SIZE, PAGED_KV_HASH_SEED, PAGED_KV_INPUTS } from '../helpers/qwen3_fixture.js';
import { assertRowClose, WHOLE_MODEL_INIT_STD, WorstErrors, type RowTolerance } from '../helpers/whole_model.js';
import { webGpuProbe } from '../kernels/webgpu_support.js';
import { missingCapability } from '../helpers/required_capability.js';

// Bounds on each pooled row against the float64 reference embedding, on the fixture drawn with std
// WHOLE_MODEL_INIT_STD. f32 weights and f32 math over 2 layers, measured on lavapipe (Mesa 25, llvmpipe): worst
// 1 - cos 2.4e-13, max abs 1.8e-6 (rows not all normalized), as the native engine (1.8e-13, 1.7e-6); the same bounds.
const TOLERANCE: RowTolerance = { cosineDistance: 1e-9, maxAbs: 1e-5 };
const BLOCK_SIZE = PAGED_KV_BLOCK_SIZE;
const HASH_SEED = PAGED_KV_HASH_SEED;
const INPUTS = PAGED_KV_INPUTS;

const probe = await webGpuProbe();
if (!probe.available) {
  missingCapability('webgpu', `no WebGPU adapter: ${probe.reason}`);
} else {
  let loadedModel: Promise<LoadedModel> | null = null;
  const model = (): Promise<LoadedModel> => (loadedModel ??= loadQwen3Fixture('F32', { initStd: WHOLE_MODEL_INIT_STD }));
  const open: WebGpuQwen3Backend[] = [];
  const webgpu = async (maxBatchTokens?: number): Promise<WebGpuQwen3Backend> => {
    const backend = await createWebGpuBackend(await model(), { maxBatchTokens });
    assert.ok(backend instanceof WebGpuQwen3Backend, 'createWebGpuBackend picks the Qwen3 backend for qwen3');
    open.push(backend);
    return backend;
  };
  after(async () => {
    for (const backend of open) await backend.dispose();
  });
  let expectedRows: Promise<Float64Array[]> | null = null;
  const expected = (): Promise<Float64Array[]> =>
    (expectedRows ??= model().then(async (loaded) => {
      const reference = await PagedReferenceBackend.create(loaded);
      return INPUTS.map((tokens) => reference.forward64(buildRaggedBatch([tokens], { pooling: 'last', normalize: [true] }))[0]);
    }));
  const worst = new WorstErrors('webgpu Qwen3');
  const expectClose = (label: string, actual: Float32Array, want: Float64Array): void =>
    assertRowClose(actual, want, TOLERANCE, label, { errors: worst, key: 'f32' });

  describe('webgpu Qwen3: whole model against the float64 reference', () => {
    it('one-shot batch: LAST and MEAN pooling, dimensions, normalize on and off', async () => {
      const loaded = await model();
      const backend = await webgpu();
      assert.ok(supportsPagedKv(backend));
      const reference = await PagedReferenceBackend.create(loaded);
      for (const pooling of ['last', 'mean'] as const) {
        const batch = buildRaggedBatch(INPUTS, { pooling, normalize: INPUTS.map((_, i) => i % 2 === 0), dimensions: INPUTS.map((_, i) => (i === 3 ? 32 : 0)) });
        const want = reference.forward64(batch);
        const rows = await backend.forward(batch);
        assert.equal(rows.length, INPUTS.length);
        rows.forEach((row, i) => expectClose(`${pooling} input ${i}`, row, want[i]));
      }
    });

    for (const enablePrefixCaching of [true, false]) {
      it(`DecoderScheduler, prefix caching ${enablePrefixCaching ? 'on' : 'off'}: token budgets 1, 7, 4096`, async () => {
        const want = await expected();
        const backend = await webgpu();
        for (const budget of [1, 7, 4096]) {
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
            rows.forEach((row, i) => expectClose(`budget ${budget} round ${round} input ${i} (${INPUTS[i].length} tokens)`, row, want[i]));
          }
          const stats = scheduler.stats;
          assert.equal(stats.kv.numUsedBlocks, 0, 'every block released');
          if (budget < 33) assert.ok(stats.numChunkedSequences > 0, `budget ${budget} chunks some input`);
          if (enablePrefixCaching)
            assert.ok(stats.kv.prefixCache!.numHitTokens >= 12 * 4, `round 2 reuses cached blocks (${stats.kv.prefixCache!.numHitTokens})`);
          else assert.equal(stats.kv.prefixCache, null);
        }
      });
    }

    it('batches larger than the activation capacity run as slices, cutting paged chunks mid-sequence', async () => {
      const want = await expected();
      const backend = await webgpu(8);
      assert.equal(backend.capacityTokens, 8);
      const scheduler = new DecoderScheduler(
        backend,
        'last',
        { maxNumBatchedTokens: 4096, maxNumSeqs: 8, maxQueuedTokens: 1 << 20 },
        {
          blockSize: BLOCK_SIZE,
          numKvBlocks: 96,
          hashSeed: HASH_SEED,
          enablePrefixCaching: true,
        },
      );
      const { rows } = await scheduler.submit(INPUTS, { dimensions: 0, normalize: true });
      rows.forEach((row, i) => expectClose(`capacity 8, input ${i}`, row, want[i]));
    });

    it('one-shot batches over the capacity run as slices of whole sequences; a longer sequence is refused', async () => {
      const want = await expected();
      const backend = await webgpu(20);
      const rows = await backend.forward(buildRaggedBatch(INPUTS.slice(0, 6), { pooling: 'last', normalize: INPUTS.slice(0, 6).map(() => true) }));
      assert.equal(rows.length, 6);
      rows.forEach((row, i) => expectClose(`capacity 20 one-shot input ${i}`, row, want[i]));
      await assert.rejects(backend.forward(buildRaggedBatch([INPUTS[6]], { pooling: 'last' })), /exceeds the webgpu activation capacity \(20\)/);
    });

    it('batch invariance: an input alone and inside a mixed batch gives the same row', async (t) => {
      const backend = await webgpu();
      const together = await backend.forward(buildRaggedBatch(INPUTS, { pooling: 'last', normalize: INPUTS.map(() => true) }));
      let worstDiff = 0;
      for (let i = 0; i < INPUTS.length; i++) {
        const [alone] = await backend.forward(buildRaggedBatch([INPUTS[i]], { pooling: 'last', normalize: [true] }));
        for (let j = 0; j < alone.length; j++) worstDiff = Math.max(worstDiff, Math.abs(alone[j] - together[i][j]));
      }
      t.diagnostic(`max |alone - in batch| = ${worstDiff.toExponential(2)}`);
      // Every kernel computes a row (or a (token, head)) with a loop order that does not depend on the batch, so
      // this is expected to be bit-identical; 1e-6 abs is the project's batch-invariance bar.
      assert.ok(worstDiff <= 1e-6, `${worstDiff}`);
    });

    it('paged batches: rows only for last chunks, dimensions then normalize', async () => {
      const loaded = await model();
      const backend = await webgpu();
      backend.initKvCache({ numBlocks: 16, blockSize: 4 });
      const tokens = randomTokens(10, 77);
      const reference = await PagedReferenceBackend.create(loaded);
      const [want] = reference.forward64(buildRaggedBatch([tokens], { pooling: 'last', normalize: [true], dimensions: [24] }));
      const [first, second] = await forwardTwoManualChunks(backend, tokens);
      assert.equal(first.length, 0, 'no row for a chunk that does not end its input');
      assert.equal(second.length, 1);
      expectClose('two manual chunks, 24 dimensions', second[0], want);
      let norm = 0;
      for (const value of second[0]) norm += value * value;
      assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-6, 'normalized after truncation');
    });

    it('reports f32 K/V bytes per token, and refuses a per-layer cache over one binding naming --kv-cache-memory', async () => {
      const loaded = await model();
      const c = loaded.config;
      if (c.architecture !== 'qwen3') throw new Error('fixture is not qwen3');
      const backend = await webgpu();
      assert.equal(backend.kvBytesPerToken, 2 * c.numLayers * c.numKeyValueHeads * c.headDim * 4);
      assert.throws(() => backend.initKvCache({ numBlocks: 1 << 22, blockSize: 16 }), /--kv-cache-memory/);
      await assert.rejects(
        backend.forward({
          ...buildRaggedBatch([randomTokens(3, 1)], { pooling: 'last' }),
          blockTables: [Int32Array.of(1)],
          numCachedTokens: Int32Array.of(0),
          isLastChunk: Uint8Array.of(1),
        }),
        /initKvCache/,
      );
    });
  });
}
