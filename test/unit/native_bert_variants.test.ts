// The native CPU backend on the BERT-variant families, which run BERT's graph with their differences as data:
// XLM-RoBERTa (bge-m3's layout: positions from pad_token_id + 1, 8194 of them) and ERNIE (text2vec-base-chinese-sentence's
// layout: task_type_embeddings[0] folded into the token-type table at load). Each against the float64 reference, which
// applies the task-type row literally, in float32 and bfloat16; plus batch invariance and the load-time checks.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { buildRaggedBatch, type RaggedBatch } from '../../src/backends/backend.js';
import { loadAddon, type NativeTensorSpec } from '../../src/backends/native/addon.js';
import { bertEngineChoice } from '../../src/backends/native/graphs/bert.js';
import { createNativeBackend } from '../../src/backends/native/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { firstPositionOf, maxSequenceTokens } from '../../src/model/architectures/registry.js';
import { loadModel } from '../../src/model/load.js';
import type { BertEncoderFamilyConfig, LoadedModel } from '../../src/model/types.js';
import { fixtureModel, type FixtureName } from '../fixtures/generate.js';
import { assertRowsClose, WHOLE_MODEL_INIT_STD, WorstErrors, type RowTolerance } from '../helpers/whole_model.js';

// Bounds as native_backend.test.ts holds BERT to (same graph, same kernels). Measured worst on these 2-layer fixtures:
// float32 1 - cos 1.2e-14, max abs 5.0e-7; bfloat16 1 - cos 3.3e-6, max abs 4.7e-3 (rows not normalized).
const FLOAT32: RowTolerance = { cosineDistance: 1e-9, maxAbs: 3e-5 };
const BFLOAT16: RowTolerance = { cosineDistance: 5e-4, maxAbs: 0.15 };
const TOLERANCE = { float32: FLOAT32, bfloat16: BFLOAT16 } as const;
const SHRINK = { numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64 };

const worst = new WorstErrors('native BERT variants');

/** Deterministic ids over the vocabulary, clear of ids 0..3 (the stand-in tokenizers' specials, RoBERTa's pad 1). */
function tokens(length: number, salt: number, vocabSize: number): number[] {
  return Array.from({ length }, (_, i) => 4 + ((i * 7919 + salt * 104729) % (vocabSize - 4)));
}

for (const name of ['bge-m3', 'text2vec-chinese'] as const satisfies readonly FixtureName[]) {
  describe(`native backend vs reference: ${name}`, () => {
    let model: LoadedModel;
    let reference: ReferenceBackend;
    let batch: RaggedBatch;
    let expected: Float64Array[];
    before(async () => {
      model = await loadModel(await fixtureModel(name, { shrink: SHRINK, initStd: WHOLE_MODEL_INIT_STD }));
      reference = await ReferenceBackend.create(model);
      const V = model.config.vocabSize;
      batch = buildRaggedBatch([tokens(1, 1, V), tokens(9, 2, V), tokens(300, 3, V), tokens(23, 4, V)], {
        pooling: model.settings.pooling,
        normalize: [true, false, true, false],
        dimensions: [0, 0, 16, 0],
        positionOffset: firstPositionOf(model.config),
      });
      expected = reference.forward64(batch);
    });

    for (const dtype of ['float32', 'bfloat16'] as const) {
      test(`${dtype}: 1 - cos <= ${TOLERANCE[dtype].cosineDistance}, max abs <= ${TOLERANCE[dtype].maxAbs}`, async () => {
        const native = await createNativeBackend(model, { dtype });
        try {
          assertRowsClose(await native.forward(batch), expected, TOLERANCE[dtype], `${name} ${dtype}`, { errors: worst, key: `${name} ${dtype}` });
        } finally {
          await native.dispose();
        }
      });
    }

    test('every pooling mode, and the last usable position, match the reference', async () => {
      const native = await createNativeBackend(model);
      try {
        const V = model.config.vocabSize;
        // Ends on the position table's last row: firstPosition + maxSequenceTokens - 1 = maxPositionEmbeddings - 1.
        const longest = maxSequenceTokens(model.config);
        const offset = firstPositionOf(model.config) + longest - 40;
        for (const pooling of ['cls', 'mean', 'last'] as const) {
          const tail = buildRaggedBatch([tokens(40, 5, V)], { pooling, normalize: [true], positionOffset: offset });
          assert.equal(tail.positions[39], model.config.maxPositionEmbeddings - 1);
          assertRowsClose(await native.forward(tail), reference.forward64(tail), FLOAT32, `${name} ${pooling} at the last positions`, {
            errors: worst,
            key: `${name} float32 pooling`,
          });
        }
      } finally {
        await native.dispose();
      }
    });

    test('a text alone = the same text inside a mixed batch (bitwise)', async () => {
      const native = await createNativeBackend(model);
      try {
        const V = model.config.vocabSize;
        const positionOffset = firstPositionOf(model.config);
        const text = tokens(37, 9, V);
        const alone = await native.forward(buildRaggedBatch([text], { pooling: 'mean', normalize: [true], positionOffset }));
        const mixed = await native.forward(
          buildRaggedBatch([tokens(3, 10, V), text, tokens(200, 11, V)], { pooling: 'mean', normalize: [true, true, false], positionOffset }),
        );
        assert.deepEqual(mixed[1], alone[0]);
      } finally {
        await native.dispose();
      }
    });
  });
}

describe('native backend: bge-m3 at its full 8192-token length', () => {
  test('runs in bounded working memory and equals itself inside a mixed batch (bitwise)', async () => {
    const model = await loadModel(await fixtureModel('bge-m3', { shrink: SHRINK, initStd: WHOLE_MODEL_INIT_STD }));
    const longest = maxSequenceTokens(model.config);
    assert.equal(longest, 8192);
    const V = model.config.vocabSize;
    const positionOffset = firstPositionOf(model.config);
    const native = await createNativeBackend(model);
    try {
      const text = tokens(longest, 13, V);
      const alone = await native.forward(buildRaggedBatch([text], { pooling: 'mean', normalize: [true], positionOffset }));
      // No T x T score matrix is held: 8192^2 float32 scores alone would be 256 MiB. Measured 9.5 MB of working buffers
      // for this batch (hidden 32); the bound leaves room for other ISAs' tile sizes.
      assert.ok(native.workingBufferBytes < 64 * 2 ** 20, `working buffers ${native.workingBufferBytes} B`);
      const mixed = await native.forward(buildRaggedBatch([tokens(3, 14, V), text], { pooling: 'mean', normalize: [true, true], positionOffset }));
      assert.deepEqual(mixed[1], alone[0]);
      // Against the float64 reference this input measured 1 - cos 7.8e-13, max abs 7.3e-7 (the reference needs ~2 minutes
      // on one core for it, so that comparison is not repeated here; the last positions are checked above).
    } finally {
      await native.dispose();
    }
  });
});

describe('native engine: ERNIE task-type table checks at load', () => {
  let model: LoadedModel;
  before(async () => {
    model = await loadModel(await fixtureModel('text2vec-chinese', { shrink: SHRINK }));
  });

  function tensorsOf(edit: (tensors: NativeTensorSpec[]) => NativeTensorSpec[]): NativeTensorSpec[] {
    const tensors: NativeTensorSpec[] = [];
    for (const [name, view] of model.weights) if (view.dtype !== 'I64') tensors.push({ name, dtype: view.dtype, shape: view.shape, bytes: view.bytes });
    return edit(tensors);
  }

  test('a missing or misshapen embeddings.task_type_embeddings.weight fails naming the tensor', async () => {
    const addon = loadAddon();
    const choice = bertEngineChoice(model.config as BertEncoderFamilyConfig);
    const base = { ...choice, dtype: 'float32' as const, threads: 1 };
    const taskTable = 'embeddings.task_type_embeddings.weight';
    await assert.rejects(
      addon.loadEngine({ ...base, tensors: tensorsOf((t) => t.filter((x) => x.name !== taskTable)) }),
      /missing tensor embeddings\.task_type_embeddings\.weight/,
    );
    const misshapen = tensorsOf((t) =>
      t.map((x) => (x.name === taskTable ? { ...x, shape: [2, SHRINK.hiddenSize], bytes: x.bytes.subarray(0, 2 * SHRINK.hiddenSize * 4) } : x)),
    );
    await assert.rejects(addon.loadEngine({ ...base, tensors: misshapen }), /task_type_embeddings\.weight/);
    await assert.rejects(
      async () => addon.loadEngine({ ...base, config: { ...choice.config, taskTypeVocabSize: -1 }, tensors: tensorsOf((t) => t) }),
      /taskTypeVocabSize/,
    );
  });
});
