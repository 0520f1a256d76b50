// The native CPU backend end to end: every fixture model (real layouts, seeded random weights) against the float64
// reference backend, in float32, bfloat16 and int8 (--quantization int8), plus batch invariance and the backend's contract (options, errors,
// dispose).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { InvalidRequestError, ModelLoadError } from '../../src/errors.js';
import { buildRaggedBatch, type RaggedBatch } from '../../src/backends/backend.js';
import { type NativeBackend, createNativeBackend } from '../../src/backends/native/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { loadModel } from '../../src/model/load.js';
import type { LoadedModel } from '../../src/model/types.js';
import { fixtureModel, type FixtureName } from '../fixtures/generate.js';
import { assertRowsClose, WHOLE_MODEL_INIT_STD, WorstErrors, type RowTolerance } from '../helpers/whole_model.js';

/** Token ids spread over the vocabulary (deterministic), starting with [CLS]-like 101 and ending with 102. */
function tokens(length: number, salt: number, vocabSize: number): number[] {
  return Array.from({ length }, (_, i) => (i === 0 ? 101 : i === length - 1 ? 102 : (i * 7919 + salt * 104729) % vocabSize));
}

// Whole-model bounds against the float64 reference, on fixtures drawn with std WHOLE_MODEL_INIT_STD (sharp
// attention, GELU inputs of a few units). float32: every op rounds to ~6e-8 relative and the errors add up over the
// layers. Measured worst: full-size 12-layer models 1 - cos 1.2e-11, max abs 6.9e-6; the 2-layer model 4.3e-14,
// 7.1e-7. For scale, tanh GELU in place of erf GELU moves these models by 1 - cos 6e-9..1.4e-7 and max abs
// 5e-5..2.7e-4, and a LayerNorm eps of 1e-5 in place of the config's 1e-12 by 1.3e-9..6.6e-9 and 7e-5..3.7e-4.
const FLOAT32: RowTolerance = { cosineDistance: 1e-9, maxAbs: 3e-5 };
// bfloat16 weights: each weight rounded to 8 significant bits (2^-9 relative) against the checkpoint's exact
// values, so the error is the weights' rounding, not the arithmetic. Measured worst (full-size models):
// 1 - cos 1.7e-4, max abs 6.5e-2 (rows not normalized); bounds about 3x and 2x above.
const BFLOAT16: RowTolerance = { cosineDistance: 5e-4, maxAbs: 0.15 };
// int8 GEMMs (--quantization int8): weights per output channel at 127 levels, activations per token at 255, against
// the float64 reference of the unquantized model: the error is the quantization's, not the arithmetic's (the integer
// sums are exact). Measured worst (full-size 12-layer models, random weights): 1 - cos 2.5e-3, max abs 0.21; bounds
// 4x and 2.4x above. Real weights are measured against fp32 in test/upstream/test_int8_accuracy.py.
const INT8: RowTolerance = { cosineDistance: 1e-2, maxAbs: 0.5 };
const TOLERANCE = { float32: FLOAT32, bfloat16: BFLOAT16, int8: INT8 } as const;

const worst = new WorstErrors('native BERT');

async function expectClose(
  native: NativeBackend,
  reference: ReferenceBackend | Float64Array[],
  batch: RaggedBatch,
  tolerance: RowTolerance,
  what: string,
): Promise<void> {
  const expected = Array.isArray(reference) ? reference : reference.forward64(batch);
  assertRowsClose(await native.forward(batch), expected, tolerance, what, { errors: worst, key: `${native.dtype} ${what.split(' ')[0]}` });
}

describe('native backend vs reference, full-size fixture models', () => {
  for (const name of ['bge-small', 'all-minilm', 'e5-small'] as const satisfies readonly FixtureName[]) {
    describe(name, () => {
      let model: LoadedModel;
      let batch: RaggedBatch;
      let expected: Float64Array[];
      before(async () => {
        model = await loadModel(await fixtureModel(name, { initStd: WHOLE_MODEL_INIT_STD }));
        const { vocabSize } = model.config;
        batch = buildRaggedBatch([tokens(1, 1, vocabSize), tokens(9, 2, vocabSize), tokens(23, 3, vocabSize)], {
          pooling: model.settings.pooling,
          normalize: [true, false, true],
          dimensions: [0, 0, 128],
        });
        // The float64 forward of a full-size model is the slow part: once per model.
        expected = (await ReferenceBackend.create(model)).forward64(batch);
      });
      for (const dtype of ['float32', 'bfloat16', 'int8'] as const) {
        test(`${dtype}: 1 - cos <= ${TOLERANCE[dtype].cosineDistance}, max abs <= ${TOLERANCE[dtype].maxAbs}`, async () => {
          const native = await createNativeBackend(model, { dtype });
          try {
            await expectClose(native, expected, batch, TOLERANCE[dtype], `${name} ${dtype}`);
          } finally {
            await native.dispose();
          }
        });
      }
    });
  }
});

describe('native backend on a small model', () => {
  const shrink = { numLayers: 2, hiddenSize: 48, numHeads: 3, intermediateSize: 80 };
  let model: LoadedModel;
  let reference: ReferenceBackend;
  before(async () => {
    model = await loadModel(await fixtureModel('bge-small', { shrink, initStd: WHOLE_MODEL_INIT_STD }));
    reference = await ReferenceBackend.create(model);
  });

  for (const pooling of ['cls', 'mean', 'last'] as const) {
    test(`${pooling} pooling over a batch mixing 1 and 512 tokens`, async () => {
      const native = await createNativeBackend(model);
      try {
        const V = model.config.vocabSize;
        const batch = buildRaggedBatch([tokens(1, 4, V), tokens(512, 5, V), tokens(1, 6, V), tokens(77, 7, V)], {
          pooling,
          normalize: [false, true, true, false],
          dimensions: [0, 16, 0, 47],
        });
        await expectClose(native, reference, batch, FLOAT32, `${pooling}`);
      } finally {
        await native.dispose();
      }
    });
  }

  for (const dtype of ['float32', 'bfloat16', 'int8'] as const) {
    test(`${dtype}: a text alone = the same text inside a mixed batch (bitwise)`, async () => {
      const native = await createNativeBackend(model, { dtype });
      try {
        const V = model.config.vocabSize;
        const text = tokens(37, 9, V);
        const alone = await native.forward(buildRaggedBatch([text], { pooling: 'mean', normalize: [true] }));
        const mixed = await native.forward(
          buildRaggedBatch([tokens(3, 10, V), text, tokens(200, 11, V), tokens(1, 12, V)], { pooling: 'mean', normalize: [true, true, false, true] }),
        );
        // Every kernel computes a row from that row (attention: from its own sequence) in a fixed order, so
        // batching changes nothing at all.
        assert.deepEqual(mixed[1], alone[0]);
      } finally {
        await native.dispose();
      }
    });
  }

  test('thread count does not change results (bitwise)', async () => {
    const one = await createNativeBackend(model, { threads: 1 });
    const two = await createNativeBackend(model, { threads: 2 });
    try {
      assert.equal(one.threads, 1);
      assert.equal(two.threads, 2);
      const V = model.config.vocabSize;
      const batch = buildRaggedBatch([tokens(50, 13, V), tokens(5, 14, V)], { pooling: 'cls' });
      assert.deepEqual(await one.forward(batch), await two.forward(batch));
    } finally {
      await one.dispose();
      await two.dispose();
    }
  });

  test('float16 and bfloat16 checkpoints load and match the reference', async () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const halfModel = await loadModel(await fixtureModel('bge-small', { shrink, dtype, initStd: WHOLE_MODEL_INIT_STD }));
      const halfReference = await ReferenceBackend.create(halfModel);
      const native = await createNativeBackend(halfModel);
      try {
        const V = halfModel.config.vocabSize;
        const batch = buildRaggedBatch([tokens(12, 15, V), tokens(2, 16, V)], { pooling: 'mean', normalize: [true, true] });
        await expectClose(native, halfReference, batch, FLOAT32, `${dtype} checkpoint`);
      } finally {
        await native.dispose();
      }
    }
  });

  test('reports its name, dtype, threads and native memory', async () => {
    const native = await createNativeBackend(model, { dtype: 'bfloat16', threads: 1 });
    try {
      assert.equal(native.name, 'cpu');
      assert.equal(native.dtype, 'bfloat16');
      assert.equal(native.threads, 1);
      assert.ok(native.nativeBytes > 0);
    } finally {
      await native.dispose();
    }
  });

  test('concurrent forwards are queued and each gets its own answer', async () => {
    const native = await createNativeBackend(model);
    try {
      const V = model.config.vocabSize;
      const batches = [0, 1, 2, 3].map((i) => buildRaggedBatch([tokens(10 + i * 30, 20 + i, V)], { pooling: 'cls' }));
      const together = await Promise.all(batches.map((b) => native.forward(b)));
      for (let i = 0; i < batches.length; i++) assert.deepEqual(together[i], await native.forward(batches[i]));
    } finally {
      await native.dispose();
    }
  });

  test('bad options and bad batches fail with typed errors', async () => {
    await assert.rejects(createNativeBackend(model, { dtype: 'float16' as 'float32' }), ModelLoadError);
    await assert.rejects(createNativeBackend(model, { threads: -1 }), ModelLoadError);
    const native = await createNativeBackend(model);
    const V = model.config.vocabSize;
    await assert.rejects(native.forward(buildRaggedBatch([[V]], { pooling: 'cls' })), InvalidRequestError);
    await assert.rejects(native.forward(buildRaggedBatch([tokens(513, 1, V)], { pooling: 'cls' })), InvalidRequestError);
    await native.dispose();
    await assert.rejects(native.forward(buildRaggedBatch([[1]], { pooling: 'cls' })), /after dispose/);
  });
});
