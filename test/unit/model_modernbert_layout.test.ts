// ModernBERT config parsing (transformers ModernBertConfig fields, both the legacy top-level spelling and v5's
// rope_parameters / layer_types, defaults, refusals of what we don't compute) and the checkpoint layout: a
// ModernBertModel save (no prefix), a ModernBertForMaskedLM save (`model.` prefix and the MLM head), and every kind of
// mismatch named.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ModelLoadError } from '../../src/errors.js';
import { canonicalizeModernBertWeights, modernBertTensorSpecs } from '../../src/model/architectures/modernbert/layout.js';
import { parseModelConfig } from '../../src/model/config.js';
import { DTYPE_ITEM_SIZE, numElements } from '../../src/model/tensor_data.js';
import type { DType, ModernBertConfig, TensorView } from '../../src/model/types.js';

const FIXTURE = 'test/fixtures/models/derived--modernbert-base';
const BASE_CONFIG = JSON.parse(readFileSync(`${FIXTURE}/config.json`, 'utf8')) as Record<string, unknown>;
const TINY = { ...BASE_CONFIG, hidden_size: 8, num_hidden_layers: 4, num_attention_heads: 2, intermediate_size: 12, vocab_size: 10 };

function throwsWith(json: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseModelConfig(json, 'm/config.json'),
    (error: unknown) => {
      assert.ok(error instanceof ModelLoadError, String(error));
      assert.match(error.message, /^m\/config\.json: /);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

function view(name: string, shape: readonly number[], dtype: DType = 'F32'): TensorView {
  return { name, dtype, shape, bytes: new Uint8Array(numElements(shape) * DTYPE_ITEM_SIZE[dtype]) };
}

function tinyTensors(config: ModernBertConfig, prefix = ''): Map<string, TensorView> {
  return new Map(modernBertTensorSpecs(config).map((spec) => [prefix + spec.name, view(prefix + spec.name, spec.shape)]));
}

describe('ModernBERT config.json', () => {
  it('reads the ModernBERT-base values as transformers does (every 3rd layer global from layer 0, window 64 each side)', () => {
    const config = parseModelConfig(BASE_CONFIG, 'config.json') as ModernBertConfig;
    assert.deepEqual(config, {
      architecture: 'modernbert',
      vocabSize: 50368,
      hiddenSize: 768,
      numLayers: 22,
      numHeads: 12,
      intermediateSize: 1152,
      maxPositionEmbeddings: 8192,
      normEps: 1e-5,
      hiddenAct: 'gelu',
      layerTypes: Array.from({ length: 22 }, (_, i) => (i % 3 === 0 ? 'full_attention' : 'sliding_attention')),
      globalRopeTheta: 160000,
      localRopeTheta: 10000,
      slidingWindow: 64,
      isMatryoshka: false,
      matryoshkaDimensions: null,
    });
  });

  it("reads transformers v5's spelling (layer_types, rope_parameters) and the defaults of a minimal config", () => {
    const v5 = parseModelConfig(
      {
        ...TINY,
        global_rope_theta: undefined,
        local_rope_theta: undefined,
        global_attn_every_n_layers: undefined,
        layer_types: ['full_attention', 'full_attention', 'sliding_attention', 'full_attention'],
        rope_parameters: { full_attention: { rope_type: 'default', rope_theta: 80000 }, sliding_attention: { rope_type: 'default', rope_theta: 5000 } },
      },
      'c',
    ) as ModernBertConfig;
    assert.deepEqual(v5.layerTypes, ['full_attention', 'full_attention', 'sliding_attention', 'full_attention']);
    assert.equal(v5.globalRopeTheta, 80000);
    assert.equal(v5.localRopeTheta, 5000);
    const minimal = parseModelConfig(
      { model_type: 'modernbert', vocab_size: 10, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 4 },
      'c',
    ) as ModernBertConfig;
    assert.deepEqual(
      [minimal.normEps, minimal.hiddenAct, minimal.globalRopeTheta, minimal.localRopeTheta, minimal.slidingWindow, minimal.maxPositionEmbeddings],
      [1e-5, 'gelu', 160000, 10000, 64, 8192],
    );
    assert.deepEqual(minimal.layerTypes, ['full_attention', 'sliding_attention']);
    // local_attention 129 -> sliding_window 64 (ModernBertConfig.sliding_window = local_attention // 2).
    assert.equal((parseModelConfig({ ...TINY, local_attention: 129 }, 'c') as ModernBertConfig).slidingWindow, 64);
  });

  it('refuses what the forward pass does not implement, naming the field', () => {
    throwsWith({ ...TINY, attention_bias: true }, /attention_bias true \(biased Wqkv \/ Wo\) is not supported/);
    throwsWith({ ...TINY, mlp_bias: true }, /mlp_bias true/);
    throwsWith({ ...TINY, norm_bias: true }, /norm_bias true/);
    throwsWith({ ...TINY, norm_bias: 'yes' }, /"norm_bias" must be true or false/);
    throwsWith(
      { ...TINY, hidden_activation: 'relu' },
      /unsupported hidden_activation "relu" for ModernBERT; supported: gelu, gelu_new, gelu_pytorch_tanh, silu/,
    );
    throwsWith({ ...TINY, rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling.rope_type "yarn" is not supported/);
    throwsWith({ ...TINY, rope_parameters: { sliding_attention: { rope_type: 'linear' } } }, /rope_parameters.sliding_attention.rope_type "linear"/);
    throwsWith({ ...TINY, layer_types: ['full_attention'] }, /"layer_types" must list .* for each of the 4 layers/);
    throwsWith({ ...TINY, layer_types: ['full_attention', 'chunked', 'full_attention', 'full_attention'] }, /"layer_types"/);
    throwsWith({ ...TINY, local_attention: 1 }, /"local_attention" must be at least 2/);
    throwsWith({ ...TINY, num_attention_heads: 3 }, /hidden_size 8 is not a multiple of num_attention_heads 3/);
    throwsWith({ ...TINY, hidden_size: 6, num_attention_heads: 2 }, /head size 3 .* must be even/);
    throwsWith({ ...TINY, architectures: ['ModernBertForSequenceClassification'] }, /unsupported ModernBERT architecture ModernBertForSequenceClassification/);
    throwsWith({ ...TINY, hidden_size: undefined }, /"hidden_size" must be a positive integer \(found missing\)/);
  });
});

describe('ModernBERT checkpoint layout', () => {
  const config = parseModelConfig(TINY, 'c') as ModernBertConfig;

  it('has no attn_norm in layer 0 (nn.Identity) and one in every other layer', () => {
    const names = modernBertTensorSpecs(config).map((spec) => spec.name);
    assert.ok(!names.includes('layers.0.attn_norm.weight'));
    assert.ok(names.includes('layers.1.attn_norm.weight'));
    assert.equal(names.length, 2 + 5 + 3 * 6 + 1);
  });

  it('accepts a ModernBertModel save and a ModernBertForMaskedLM save (model. prefix, MLM head dropped)', () => {
    const plain = canonicalizeModernBertWeights(tinyTensors(config), config, 'w');
    const masked = tinyTensors(config, 'model.');
    masked.set('head.dense.weight', view('head.dense.weight', [8, 8]));
    masked.set('head.norm.weight', view('head.norm.weight', [8]));
    masked.set('decoder.bias', view('decoder.bias', [10]));
    const fromMasked = canonicalizeModernBertWeights(masked, config, 'w');
    assert.deepEqual([...fromMasked.keys()], [...plain.keys()]);
  });

  it('names a missing, misshapen, non-float or unexpected tensor', () => {
    const missing = tinyTensors(config);
    missing.delete('layers.2.mlp.Wi.weight');
    assert.throws(() => canonicalizeModernBertWeights(missing, config, 'w'), /missing 1 tensor\(s\): layers\.2\.mlp\.Wi\.weight/);
    const misshapen = tinyTensors(config);
    misshapen.set('layers.1.attn.Wqkv.weight', view('layers.1.attn.Wqkv.weight', [16, 8]));
    assert.throws(() => canonicalizeModernBertWeights(misshapen, config, 'w'), /layers\.1\.attn\.Wqkv\.weight: shape \[16, 8\], expected \[24, 8\]/);
    const integer = tinyTensors(config);
    integer.set('final_norm.weight', view('final_norm.weight', [8], 'I64'));
    assert.throws(() => canonicalizeModernBertWeights(integer, config, 'w'), /final_norm\.weight: dtype I64/);
    const extra = tinyTensors(config);
    extra.set('layers.0.attn_norm.weight', view('layers.0.attn_norm.weight', [8]));
    extra.set('layers.1.attn.Wqkv.bias', view('layers.1.attn.Wqkv.bias', [24]));
    assert.throws(
      () => canonicalizeModernBertWeights(extra, config, 'w'),
      /unexpected tensor\(s\) not in a 4-layer ModernBERT: layers\.0\.attn_norm\.weight, layers\.1\.attn\.Wqkv\.bias/,
    );
    const twice = tinyTensors(config);
    twice.set('model.final_norm.weight', view('model.final_norm.weight', [8]));
    assert.throws(() => canonicalizeModernBertWeights(twice, config, 'w'), /final_norm\.weight is stored twice/);
  });
});
