// The BERT-variant families' layouts and float64 forwards: RoBERTa / XLM-RoBERTa and ERNIE checkpoints canonicalize
// like BERT's (their own task-model prefix, their heads ignored), and ERNIE's task-type row, which the reference adds
// literally (as modeling_ernie.py does), equals the token-type table with row 0 folded in (what the native and WebGPU
// backends load). transformers itself is compared in test/upstream/test_transformers_classes.py.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ModelLoadError } from '../../src/errors.js';
import { BERT_ENCODER_REFERENCE } from '../../src/model/architectures/bert/reference.js';
import { architectureOf } from '../../src/model/architectures/registry.js';
import { loadModel } from '../../src/model/load.js';
import { float32ToBytes, tensorToFloat32 } from '../../src/model/tensor_data.js';
import type { ErnieConfig, LoadedModel, TensorView } from '../../src/model/types.js';
import { fixtureModel } from '../fixtures/generate.js';
import { WHOLE_MODEL_INIT_STD } from '../helpers/whole_model.js';

const SHRINK = { numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64 };
const TASK_TABLE = 'embeddings.task_type_embeddings.weight';
const TYPE_TABLE = 'embeddings.token_type_embeddings.weight';

describe('BERT-variant layouts', () => {
  test('RoBERTa task models: the roberta. prefix is stripped, lm_head and classifier are ignored', async () => {
    const model = await loadModel(await fixtureModel('bge-m3', { shrink: SHRINK, prefix: 'roberta.' }));
    const spec = architectureOf(model.config);
    const stored = new Map<string, TensorView>();
    for (const [name, view] of model.weights) stored.set(`roberta.${name}`, view);
    const bias = model.weights.get('embeddings.LayerNorm.bias')!;
    stored.set('lm_head.bias', bias);
    stored.set('lm_head.dense.bias', bias);
    stored.set('classifier.out_proj.bias', bias);
    const canonical = spec.canonicalizeWeights(stored, model.config, 'model.safetensors');
    assert.deepEqual([...canonical.keys()], [...model.weights.keys()]);
    // An encoder tensor the layout does not know means another model.
    stored.set('roberta.encoder.layer.9.attention.self.query.weight', bias);
    assert.throws(() => spec.canonicalizeWeights(stored, model.config, 'm'), /unexpected tensor\(s\) not in a 2-layer RoBERTa: encoder\.layer\.9/);
  });

  test('ERNIE: the ernie. prefix is stripped; a missing task-type table is named', async () => {
    const model = await loadModel(await fixtureModel('text2vec-chinese', { shrink: SHRINK }));
    const spec = architectureOf(model.config);
    const stored = new Map<string, TensorView>();
    for (const [name, view] of model.weights) stored.set(`ernie.${name}`, view);
    assert.deepEqual([...spec.canonicalizeWeights(stored, model.config, 'm').keys()], [...model.weights.keys()]);
    stored.delete(`ernie.${TASK_TABLE}`);
    assert.throws(
      () => spec.canonicalizeWeights(stored, model.config, 'm'),
      (error: unknown) => {
        assert.ok(error instanceof ModelLoadError);
        assert.match(error.message, /\(ERNIE\): missing 1 tensor\(s\): embeddings\.task_type_embeddings\.weight/);
        return true;
      },
    );
  });
});

describe('ERNIE task-type embeddings in float64', () => {
  let model: LoadedModel;
  before(async () => {
    model = await loadModel(await fixtureModel('text2vec-chinese', { shrink: SHRINK, initStd: WHOLE_MODEL_INIT_STD }));
  });

  test('adding task_type_embeddings[0] per token = folding it into every token-type row', () => {
    const config = model.config as ErnieConfig;
    const H = config.hiddenSize;
    const typeView = model.weights.get(TYPE_TABLE)!;
    const folded = Float32Array.from(tensorToFloat32(typeView)); // a copy: F32 tensors come back as views
    const taskRow = tensorToFloat32(model.weights.get(TASK_TABLE)!).subarray(0, H);
    for (let i = 0; i < folded.length; i++) folded[i] += taskRow[i % H];
    const foldedWeights = new Map(model.weights);
    foldedWeights.delete(TASK_TABLE);
    foldedWeights.set(TYPE_TABLE, { ...typeView, dtype: 'F32', bytes: float32ToBytes(folded, 'F32') });

    const batch = buildRaggedBatch(
      [
        [5, 9, 1000, 77],
        [8, 6],
      ],
      { pooling: 'mean', normalize: [false, false] },
    );
    batch.tokenTypeIds?.set([0, 1, 2, 3, 3, 0]); // every token-type row gets the task row
    const literal = BERT_ENCODER_REFERENCE.create(config, model.weights).forward(batch, null);
    const viaFold = BERT_ENCODER_REFERENCE.create({ ...config, taskTypeVocabSize: 0 }, foldedWeights).forward(batch, null);
    const withoutTask = BERT_ENCODER_REFERENCE.create(
      { ...config, taskTypeVocabSize: 0 },
      (() => {
        const m = new Map(model.weights);
        m.delete(TASK_TABLE);
        return m;
      })(),
    ).forward(batch, null);
    for (let s = 0; s < literal.length; s++) {
      for (let h = 0; h < H; h++) {
        // The fold rounds type + task to float32 once (the checkpoint is F32): ~6e-8 relative before LayerNorm. Measured
        // max 3.1e-8 on this 2-layer model; the bound is far below the 1e-2 the row itself moves the output by.
        assert.ok(Math.abs(literal[s][h] - viaFold[s][h]) < 1e-5, `sequence ${s} dim ${h}: ${literal[s][h]} vs ${viaFold[s][h]}`);
      }
      // And the row matters: leaving it out moves the output by far more than that.
      const moved = Math.max(...Array.from(literal[s], (x, h) => Math.abs(x - withoutTask[s][h])));
      assert.ok(moved > 1e-2, `task row changes sequence ${s} by ${moved}`);
    }
  });
});
