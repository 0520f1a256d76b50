// The WebGPU backend end to end against the float64 reference backend: every fixture model at its real width,
// then a small model for the ragged-batch properties (1 and 512 tokens mixed, batch invariance, slicing over the
// token budget, fused vs separate LayerNorm, f16 weights, CPU-side word gather, concurrency, errors).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildRaggedBatch, type RaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { createWebGpuBackend, WebGpuBackend, type WebGpuBackendOptions } from '../../src/backends/webgpu/backend.js';
import { InvalidRequestError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load.js';
import type { LoadedModel } from '../../src/model/types.js';
import { fixtureModel, type FixtureName } from '../fixtures/generate.js';
import { assertRowsClose, WHOLE_MODEL_INIT_STD, WorstErrors, type RowTolerance } from '../helpers/whole_model.js';
import { seededInts, webGpuProbe } from '../kernels/webgpu_support.js';
import { maxAbsError } from '../helpers/metrics.js';
import { missingCapability } from '../helpers/required_capability.js';

// Bounds on each pooled row against the float64 reference, on fixtures drawn with std WHOLE_MODEL_INIT_STD (sharp
// attention, GELU inputs of a few units). f32 weights and f32 math, measured on lavapipe (Mesa 25, llvmpipe): worst
// 1 - cos 2.9e-12, max abs 5.3e-6 over the real-width models, 1.1e-13 and 1.9e-6 on the small one, the same order
// as the native engine (1.2e-11, 6.9e-6), so the same bounds: accumulation order differs per kernel but every sum
// is f32 over at most a few thousand terms. A GPU whose driver reassociates more could need a looser max abs.
const F32: RowTolerance = { cosineDistance: 1e-9, maxAbs: 3e-5 };
// f16 weight storage rounds every weight by up to 2^-11 relative, so the error is the weights' rounding: measured
// worst 1 - cos 7.2e-8, max abs 9.5e-4 (2-layer model, rows not all normalized); bounds about 7x and 3x above.
const F16: RowTolerance = { cosineDistance: 5e-7, maxAbs: 3e-3 };

const worst = new WorstErrors('webgpu BERT');
function assertCloseToReference(got: Float32Array[], want: Float64Array[], tolerance: RowTolerance, what: string): void {
  assertRowsClose(got, want, tolerance, what, { errors: worst, key: `${tolerance === F16 ? 'f16' : 'f32'} ${what}` });
}

/** Token ids of a few sentences' worth: [CLS] ... [SEP] shapes with lengths that are not tile multiples. */
function sequences(lengths: readonly number[], vocabSize: number, seed: number): number[][] {
  return lengths.map((length, i) => Array.from(seededInts(length, seed + i, vocabSize)));
}

const probe = await webGpuProbe();
if (!probe.available) {
  missingCapability('webgpu', `no WebGPU adapter: ${probe.reason}`);
} else {
  describe('webgpu backend on every fixture model (real widths)', () => {
    // Real hidden size, heads, intermediate size and vocabulary. all-MiniLM runs at its full 6 layers; the two
    // 12-layer models run 2 layers, because lavapipe and the float64 reference each need seconds per layer here.
    const cases: [FixtureName, number | null][] = [
      ['all-minilm', null],
      ['bge-small', 2],
      ['e5-small', 2],
    ];
    for (const [name, numLayers] of cases) {
      it(`${name}${numLayers === null ? '' : ` (${numLayers} layers)`}: within 1 - cos ${F32.cosineDistance}, max abs ${F32.maxAbs} of the reference in f32`, async () => {
        const dir = await fixtureModel(name, { initStd: WHOLE_MODEL_INIT_STD, ...(numLayers === null ? {} : { shrink: { numLayers } }) });
        const model = await loadModel(dir);
        const batch = buildRaggedBatch(sequences([5, 1, 30], model.config.vocabSize, 3), {
          pooling: model.settings.pooling,
          normalize: [model.settings.normalize, true, false],
          dimensions: [0, 0, 128],
        });
        const want = (await ReferenceBackend.create(model)).forward64(batch);
        const backend = await WebGpuBackend.create(model);
        try {
          assertCloseToReference(await backend.forward(batch), want, F32, name);
        } finally {
          await backend.dispose();
        }
      });
    }
  });

  describe('webgpu backend on a small model', () => {
    let model: LoadedModel;
    let reference: ReferenceBackend;
    let backend: WebGpuBackend;
    const opened: WebGpuBackend[] = [];
    const open = async (opts: WebGpuBackendOptions): Promise<WebGpuBackend> => {
      const created = await WebGpuBackend.create(model, opts);
      opened.push(created);
      return created;
    };

    before(async () => {
      // Hidden 96 spans two 64-column chunks of the row-panel GEMM; head size 24 and intermediate 160 are not tile
      // multiples either.
      const dir = await fixtureModel('bge-small', {
        shrink: { numLayers: 2, hiddenSize: 96, numHeads: 4, intermediateSize: 160 },
        seed: 7,
        initStd: WHOLE_MODEL_INIT_STD,
      });
      model = await loadModel(dir);
      reference = await ReferenceBackend.create(model);
      backend = await open({});
    });
    after(async () => {
      for (const created of opened) await created.dispose();
    });

    const lengths = [1, 512, 7, 1, 64, 33];
    const mixedBatch = (pooling: RaggedBatch['pooling']): RaggedBatch =>
      buildRaggedBatch(sequences(lengths, model.config.vocabSize, 11), {
        pooling,
        normalize: lengths.map((_, i) => i % 2 === 0),
        dimensions: lengths.map((_, i) => (i === 2 ? 32 : 0)),
      });
    // Each forward of the mixed batch costs about a second on lavapipe and more on the float64 reference: the
    // results are computed once per pooling mode and shared by the tests below.
    const gpuRows = new Map<string, Promise<Float32Array[]>>();
    const referenceRows = new Map<string, Float64Array[]>();
    const mixedOnGpu = (pooling: RaggedBatch['pooling']): Promise<Float32Array[]> => {
      if (!gpuRows.has(pooling)) gpuRows.set(pooling, backend.forward(mixedBatch(pooling)));
      return gpuRows.get(pooling)!;
    };
    const mixedOnReference = (pooling: RaggedBatch['pooling']): Float64Array[] => {
      if (!referenceRows.has(pooling)) referenceRows.set(pooling, reference.forward64(mixedBatch(pooling)));
      return referenceRows.get(pooling)!;
    };

    it('reports what it runs on and records one dispatch per kernel step', () => {
      const info = backend.info;
      assert.equal(backend.name, 'webgpu');
      assert.equal(info.weightType, 'f32');
      assert.equal(info.wordRowsGatheredOnCpu, false);
      // embeddings + 5 per layer (qkv gemm, attention, 2 x gemm_residual_layernorm, intermediate gemm) + pooling
      assert.equal(info.dispatchesPerForward, 2 + 5 * model.config.numLayers);
      assert.ok(info.capacityTokens >= 8192);
    });

    for (const pooling of ['cls', 'mean', 'last'] as const) {
      it(`${pooling}: a batch mixing 1- and 512-token sequences matches the reference`, async () => {
        assertCloseToReference(await mixedOnGpu(pooling), mixedOnReference(pooling), F32, pooling);
      });
    }

    it('applies dimensions and normalize per sequence', async () => {
      const rows = await mixedOnGpu('mean');
      assert.deepEqual(
        rows.map((row) => row.length),
        lengths.map((_, i) => (i === 2 ? 32 : model.config.hiddenSize)),
      );
      rows.forEach((row, i) => {
        const norm = Math.hypot(...row);
        if (i % 2 === 0) assert.ok(Math.abs(norm - 1) < 1e-5, `row ${i} norm ${norm}`);
        else assert.ok(Math.abs(norm - 1) > 1e-3, `row ${i} was not asked to be normalized`);
      });
    });

    it('is batch invariant: a text alone and inside a mixed batch gives the same vector', async () => {
      const batched = await mixedOnGpu('mean');
      const all = sequences(lengths, model.config.vocabSize, 11);
      const alone = await backend.forward(buildRaggedBatch([all[0], all[4]], { pooling: 'mean', normalize: [true, true] }));
      const [longAlone] = await backend.forward(buildRaggedBatch([all[1]], { pooling: 'mean', normalize: [false] }));
      // Every kernel reduces a sequence's values in the same order wherever it sits in the batch, so this is
      // exact in practice; 1e-6 allows a compiler that reassociates.
      for (const [got, want, what] of [
        [alone[0], batched[0], '1 token'],
        [alone[1], batched[4], '64 tokens'],
        [longAlone, batched[1], '512 tokens'],
      ] as const) {
        assert.ok(maxAbsError(got, want) <= 1e-6, `${what}: ${maxAbsError(got, want)}`);
      }
    });

    it('runs a batch over its token capacity as slices of whole sequences, with the same results', async () => {
      const sliced = await open({ maxBatchTokens: 520 });
      assert.equal(sliced.info.capacityTokens, 520);
      assert.deepEqual(await sliced.forward(mixedBatch('cls')), await mixedOnGpu('cls'));
    });

    it('fused and separate LayerNorm give the same embeddings', async () => {
      const separate = await open({ layerNormFusion: 'separate' });
      assert.equal(separate.info.dispatchesPerForward, 2 + 7 * model.config.numLayers);
      const [fusedRows, separateRows] = [await mixedOnGpu('mean'), await separate.forward(mixedBatch('mean'))];
      fusedRows.forEach((row, i) => assert.ok(maxAbsError(row, separateRows[i]) <= 1e-5, `row ${i}`));
      assertCloseToReference(separateRows, mixedOnReference('mean'), F32, 'separate LayerNorm');
    });

    it('gathers word rows on the CPU when asked (the path for tables over one binding), with the same results', async () => {
      const gathered = await open({ forceCpuWordGather: true });
      assert.equal(gathered.info.wordRowsGatheredOnCpu, true);
      assert.deepEqual(await gathered.forward(mixedBatch('last')), await mixedOnGpu('last'));
    });

    it('stores weights in f16 where shader-f16 exists, within the f16 tolerance', async (t) => {
      if (!backend.info.shaderF16) {
        t.skip(`adapter ${backend.info.adapter} has no shader-f16`);
        return;
      }
      const half = await open({ weightType: 'f16' });
      assert.equal(half.info.weightType, 'f16');
      assert.ok(half.info.weightBytes < backend.info.weightBytes * 0.6);
      const rows = await half.forward(mixedBatch('mean'));
      const want = mixedOnReference('mean');
      assertCloseToReference(rows, want, F16, 'f16 weights');
    });

    it('serializes concurrent forwards (they share the activation buffers)', async () => {
      const vocab = model.config.vocabSize;
      const batches = [[9, 2], [1], [40, 3, 17]].map((batchLengths, i) =>
        buildRaggedBatch(sequences(batchLengths, vocab, 40 + i), { pooling: (['cls', 'mean', 'last'] as const)[i] }),
      );
      const sequential = [];
      for (const batch of batches) sequential.push(await backend.forward(batch));
      assert.deepEqual(await Promise.all(batches.map((batch) => backend.forward(batch))), sequential);
    });

    it('rejects a malformed batch with the reference backend errors and keeps working', async () => {
      const bad = buildRaggedBatch([[1, 2, model.config.vocabSize]], { pooling: 'cls' });
      await assert.rejects(backend.forward(bad), InvalidRequestError);
      const good = buildRaggedBatch([[1, 2, 3]], { pooling: 'cls' });
      assertCloseToReference(await backend.forward(good), reference.forward64(good), F32, 'after a bad batch');
    });

    it('is built by createWebGpuBackend and refuses work after dispose()', async () => {
      const created = await createWebGpuBackend(model);
      assert.equal(created.name, 'webgpu');
      await created.dispose();
      await assert.rejects(created.forward(buildRaggedBatch([[1]], { pooling: 'cls' })), /after dispose/);
    });
  });
}
