import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ModelLoadError } from '../../src/errors.js';
import { bertTensorSpecs, canonicalizeBertWeights } from '../../src/model/bert_layout.js';
import { parseBertConfig } from '../../src/model/config.js';
import { DTYPE_ITEM_SIZE, numElements } from '../../src/model/tensor_data.js';
import type { DType, TensorView } from '../../src/model/types.js';
import { TINY_BERT_CONFIG, tinyBertShapes } from '../helpers/model_tiny_bert.js';

const FIXTURE_MODELS = ['sentence-transformers--all-MiniLM-L6-v2', 'BAAI--bge-small-en-v1.5', 'intfloat--e5-small-v2'];
const tinyConfig = parseBertConfig(TINY_BERT_CONFIG, 'tiny/config.json');

function tensorView(name: string, shape: readonly number[], dtype: DType = 'F32'): TensorView {
  return { name, dtype, shape, bytes: new Uint8Array(numElements(shape) * DTYPE_ITEM_SIZE[dtype]) };
}

/** The tiny BERT checkpoint as an in-memory name -> view map. */
function tinyTensors(opts: { prefix?: string; extra?: [string, number[], DType?][] } = {}): Map<string, TensorView> {
  const tensors = new Map<string, TensorView>();
  for (const [name, shape] of tinyBertShapes()) tensors.set((opts.prefix ?? '') + name, tensorView((opts.prefix ?? '') + name, shape));
  for (const [name, shape, dtype] of opts.extra ?? []) tensors.set(name, tensorView(name, shape, dtype));
  return tensors;
}

function throwsWith(tensors: Map<string, TensorView>, pattern: RegExp): void {
  assert.throws(
    () => canonicalizeBertWeights(tensors, tinyConfig, 'tiny/model.safetensors'),
    (error: unknown) => {
      assert.ok(error instanceof ModelLoadError, String(error));
      assert.match(error.message, /^tiny\/model\.safetensors: checkpoint does not match config\.json/);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('BERT tensor layout', () => {
  it('lists 5 embedding tensors and 16 per layer with nn.Linear [out, in] shapes', () => {
    const specs = bertTensorSpecs(tinyConfig);
    assert.equal(specs.length, 5 + 16);
    assert.deepEqual(specs.map((spec) => [spec.name, spec.shape]).sort(), tinyBertShapes().sort());
  });

  it('canonicalizes the three real checkpoint layouts from TENSORS.json', () => {
    for (const model of FIXTURE_MODELS) {
      const layout = JSON.parse(gunzipSync(readFileSync(`test/fixtures/models/${model}/TENSORS.json.gz`)).toString());
      const config = parseBertConfig(JSON.parse(readFileSync(`test/fixtures/models/${model}/config.json`, 'utf8')), model);
      // The layout check reads only names, dtypes and shapes; the real data is not in the repo, so bytes are empty.
      const tensors = new Map<string, TensorView>();
      for (const entry of layout.tensors as { name: string; dtype: DType; shape: number[] }[]) {
        tensors.set(entry.name, { name: entry.name, dtype: entry.dtype, shape: entry.shape, bytes: new Uint8Array(0) });
      }
      const weights = canonicalizeBertWeights(tensors, config, model);
      assert.equal(weights.size, 5 + 16 * config.numLayers, model);
      assert.ok(!weights.has('embeddings.position_ids'));
      assert.ok(![...weights.keys()].some((name) => name.startsWith('pooler.')));
      assert.deepEqual(weights.get('encoder.layer.0.intermediate.dense.weight')!.shape, [1536, 384]);
      // Views are the checkpoint's own objects, not copies.
      assert.equal(weights.get('embeddings.word_embeddings.weight'), tensors.get('embeddings.word_embeddings.weight'));
    }
  });

  it('strips the bert. prefix of task models and drops heads, pooler and position_ids', () => {
    const tensors = tinyTensors({
      prefix: 'bert.',
      extra: [
        ['bert.embeddings.position_ids', [1, 32], 'I64'],
        ['bert.pooler.dense.weight', [8, 8]],
        ['bert.pooler.dense.bias', [8]],
        ['cls.predictions.bias', [16]],
        ['cls.predictions.transform.dense.weight', [8, 8]],
        ['classifier.weight', [2, 8]],
      ],
    });
    const weights = canonicalizeBertWeights(tensors, tinyConfig, 'tiny');
    assert.deepEqual(
      [...weights.keys()],
      bertTensorSpecs(tinyConfig).map((spec) => spec.name),
    );
    assert.equal(weights.get('embeddings.LayerNorm.bias')!.name, 'bert.embeddings.LayerNorm.bias', 'view keeps the stored name');
  });

  it('accepts the checkpoint with and without position_ids', () => {
    assert.equal(canonicalizeBertWeights(tinyTensors(), tinyConfig, 'tiny').size, 21);
    const withIds = tinyTensors({ extra: [['embeddings.position_ids', [1, 32], 'I64']] });
    assert.equal(canonicalizeBertWeights(withIds, tinyConfig, 'tiny').size, 21);
  });

  it('accepts F16 and BF16 weights', () => {
    const tensors = new Map<string, TensorView>();
    for (const [name, shape] of tinyBertShapes()) tensors.set(name, tensorView(name, shape, name.includes('LayerNorm') ? 'F32' : 'BF16'));
    assert.equal(canonicalizeBertWeights(tensors, tinyConfig, 'tiny').size, 21);
  });

  it('lists missing tensors', () => {
    const tensors = tinyTensors();
    tensors.delete('encoder.layer.0.attention.self.key.bias');
    tensors.delete('embeddings.LayerNorm.weight');
    throwsWith(tensors, /missing 2 tensor\(s\): embeddings\.LayerNorm\.weight, encoder\.layer\.0\.attention\.self\.key\.bias/);
  });

  it('reports shape and dtype mismatches', () => {
    const tensors = tinyTensors();
    tensors.set('encoder.layer.0.intermediate.dense.weight', tensorView('encoder.layer.0.intermediate.dense.weight', [8, 16]));
    tensors.set('embeddings.word_embeddings.weight', tensorView('embeddings.word_embeddings.weight', [16, 8], 'I64'));
    throwsWith(
      tensors,
      /mismatched: embeddings\.word_embeddings\.weight: dtype I64, expected a float dtype.*encoder\.layer\.0\.intermediate\.dense\.weight: shape \[8, 16\], expected \[16, 8\]/,
    );
  });

  it('rejects encoder tensors the config does not describe (e.g. more layers)', () => {
    const tensors = tinyTensors({ extra: [['encoder.layer.1.output.dense.bias', [8]]] });
    throwsWith(tensors, /unexpected tensor\(s\) not in a 1-layer BERT: encoder\.layer\.1\.output\.dense\.bias/);
  });

  it('rejects a tensor stored both with and without the prefix', () => {
    const tensors = tinyTensors({ extra: [['bert.embeddings.LayerNorm.bias', [8]]] });
    assert.throws(() => canonicalizeBertWeights(tensors, tinyConfig, 'tiny'), /tensor embeddings\.LayerNorm\.bias is stored twice/);
  });
});
