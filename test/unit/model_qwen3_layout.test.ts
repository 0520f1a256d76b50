// Qwen3 config parsing (transformers Qwen3Config fields and defaults, refusals of what we don't compute) and the
// checkpoint layout: Qwen3-Embedding's prefix-less names, Qwen3ForCausalLM's `model.` prefix and lm_head.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ModelLoadError } from '../../src/errors.js';
import { parseModelConfig } from '../../src/model/config.js';
import { parseQwen3Config } from '../../src/model/architectures/qwen3/config.js';
import { canonicalizeQwen3Weights, qwen3TensorSpecs } from '../../src/model/qwen3_layout.js';
import { DTYPE_ITEM_SIZE, numElements } from '../../src/model/tensor_data.js';
import type { DType, Qwen3Config, TensorView } from '../../src/model/types.js';

const FIXTURE = 'test/fixtures/models/Qwen--Qwen3-Embedding-0.6B';
const REAL_CONFIG = JSON.parse(readFileSync(`${FIXTURE}/config.json`, 'utf8')) as Record<string, unknown>;
const TINY = {
  ...REAL_CONFIG,
  hidden_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 4,
  intermediate_size: 12,
  vocab_size: 10,
};

function throwsWith(json: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseModelConfig(json, 'q/config.json'),
    (error: unknown) => {
      assert.ok(error instanceof ModelLoadError, String(error));
      assert.match(error.message, /^q\/config\.json: /);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

function view(name: string, shape: readonly number[], dtype: DType = 'BF16'): TensorView {
  return { name, dtype, shape, bytes: new Uint8Array(numElements(shape) * DTYPE_ITEM_SIZE[dtype]) };
}

function tinyTensors(config: Qwen3Config, prefix = ''): Map<string, TensorView> {
  return new Map(qwen3TensorSpecs(config).map((spec) => [prefix + spec.name, view(prefix + spec.name, spec.shape)]));
}

describe('Qwen3 config.json', () => {
  it('reads Qwen3-Embedding-0.6B as transformers does', () => {
    const config = parseModelConfig(REAL_CONFIG, 'config.json');
    assert.deepEqual(config, {
      architecture: 'qwen3',
      vocabSize: 151669,
      hiddenSize: 1024,
      numLayers: 28,
      numHeads: 16,
      numKeyValueHeads: 8,
      headDim: 128,
      intermediateSize: 3072,
      maxPositionEmbeddings: 32768,
      rmsNormEps: 1e-6,
      ropeTheta: 1000000,
      hiddenAct: 'silu',
      tieWordEmbeddings: true,
      isMatryoshka: false,
      matryoshkaDimensions: null,
    });
  });

  it("fills Qwen3Config's defaults: kv heads = heads, head_dim 128, rope_theta 10000, eps 1e-6; reads rope_parameters", () => {
    const { num_key_value_heads: _kv, head_dim: _hd, rope_theta: _rt, rms_norm_eps: _eps, ...bare } = REAL_CONFIG;
    const config = parseQwen3Config(bare, 'c');
    assert.equal(config.numKeyValueHeads, 16);
    assert.equal(config.headDim, 128);
    assert.equal(config.ropeTheta, 10000);
    assert.equal(config.rmsNormEps, 1e-6);
    const newer = parseQwen3Config({ ...bare, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }, 'c');
    assert.equal(newer.ropeTheta, 5e5);
    assert.equal(parseQwen3Config({ ...REAL_CONFIG, architectures: ['Qwen3Model'] }, 'c').architecture, 'qwen3');
  });

  it('refuses what it would compute wrongly, naming the field', () => {
    throwsWith({ ...REAL_CONFIG, hidden_act: 'gelu' }, /unsupported hidden_act "gelu" for Qwen3; supported: silu/);
    throwsWith({ ...REAL_CONFIG, attention_bias: true }, /attention_bias true/);
    throwsWith({ ...REAL_CONFIG, use_sliding_window: true }, /use_sliding_window true/);
    throwsWith({ ...REAL_CONFIG, rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling\.rope_type "yarn" is not supported/);
    throwsWith({ ...REAL_CONFIG, num_key_value_heads: 3 }, /num_attention_heads 16 is not a multiple of num_key_value_heads 3/);
    throwsWith({ ...REAL_CONFIG, head_dim: 7 }, /head_dim 7 must be even/);
    throwsWith({ ...REAL_CONFIG, architectures: ['Qwen3ForTokenClassification'] }, /unsupported Qwen3 architecture Qwen3ForTokenClassification/);
    throwsWith({ ...REAL_CONFIG, hidden_size: 0 }, /"hidden_size" must be a positive integer/);
    // BERT parsing is unchanged, and its error now names Qwen3 among what is supported.
    throwsWith({ model_type: 'llama' }, /unsupported model_type "llama".*model_type "qwen3" \(Qwen3Model, Qwen3ForCausalLM, Qwen3ForSequenceClassification\)/);
  });
});

describe('Qwen3 tensor layout', () => {
  const config = parseQwen3Config(TINY, 'tiny');

  it('lists the embedding table, 11 tensors per layer with GQA shapes, and the final norm', () => {
    const specs = qwen3TensorSpecs(config);
    assert.equal(specs.length, 1 + 11 + 1);
    const shapeOf = new Map(specs.map((spec) => [spec.name, spec.shape]));
    assert.deepEqual(shapeOf.get('embed_tokens.weight'), [10, 8]);
    assert.deepEqual(shapeOf.get('layers.0.self_attn.q_proj.weight'), [16, 8]); // 4 heads * 4
    assert.deepEqual(shapeOf.get('layers.0.self_attn.k_proj.weight'), [8, 8]); // 2 kv heads * 4
    assert.deepEqual(shapeOf.get('layers.0.self_attn.o_proj.weight'), [8, 16]);
    assert.deepEqual(shapeOf.get('layers.0.self_attn.q_norm.weight'), [4]);
    assert.deepEqual(shapeOf.get('layers.0.mlp.down_proj.weight'), [8, 12]);
    assert.deepEqual(shapeOf.get('norm.weight'), [8]);
  });

  it("matches the real checkpoint's 310 tensors exactly", () => {
    const real = JSON.parse(gunzipSync(readFileSync(`${FIXTURE}/TENSORS.json.gz`)).toString('utf8')) as {
      tensors: { name: string; shape: number[]; dtype: string }[];
    };
    const specs = qwen3TensorSpecs(parseModelConfig(REAL_CONFIG, 'c') as Qwen3Config);
    assert.deepEqual(real.tensors.map((t) => [t.name, t.shape]).sort(), specs.map((spec) => [spec.name, [...spec.shape]]).sort());
    // Names, shapes and dtypes are all canonicalization checks, so empty byte views stand in for 1.2 GB of weights.
    const headerOnly = new Map(real.tensors.map((t) => [t.name, { name: t.name, dtype: t.dtype as DType, shape: t.shape, bytes: new Uint8Array(0) }] as const));
    assert.equal(canonicalizeQwen3Weights(headerOnly, parseModelConfig(REAL_CONFIG, 'c') as Qwen3Config, 'model.safetensors').size, 310);
  });

  it('accepts a Qwen3ForCausalLM save: strips `model.`, ignores lm_head and rotary inv_freq buffers', () => {
    const tensors = tinyTensors(config, 'model.');
    tensors.set('lm_head.weight', view('lm_head.weight', [10, 8]));
    tensors.set('model.layers.0.self_attn.rotary_emb.inv_freq', view('model.layers.0.self_attn.rotary_emb.inv_freq', [2], 'F32'));
    const weights = canonicalizeQwen3Weights(tensors, config, 'm');
    assert.deepEqual(
      [...weights.keys()],
      qwen3TensorSpecs(config).map((spec) => spec.name),
    );
    assert.equal(weights.get('embed_tokens.weight')!.name, 'model.embed_tokens.weight', 'the stored view itself');
  });

  it('names what is missing, misshapen, unexpected or stored twice', () => {
    const fails = (tensors: Map<string, TensorView>, pattern: RegExp) =>
      assert.throws(
        () => canonicalizeQwen3Weights(tensors, config, 'm.safetensors'),
        (error: unknown) => {
          assert.ok(error instanceof ModelLoadError);
          assert.match(error.message, /^m\.safetensors: checkpoint does not match config\.json \(Qwen3\)|stored twice/);
          assert.match(error.message, pattern);
          return true;
        },
      );
    const missing = tinyTensors(config);
    missing.delete('layers.0.self_attn.k_norm.weight');
    fails(missing, /missing 1 tensor\(s\): layers\.0\.self_attn\.k_norm\.weight/);
    const misshapen = tinyTensors(config);
    misshapen.set('layers.0.self_attn.k_proj.weight', view('layers.0.self_attn.k_proj.weight', [16, 8]));
    fails(misshapen, /layers\.0\.self_attn\.k_proj\.weight: shape \[16, 8\], expected \[8, 8\]/);
    const extra = tinyTensors(config);
    extra.set('layers.1.input_layernorm.weight', view('layers.1.input_layernorm.weight', [8]));
    extra.set('layers.0.self_attn.q_proj.bias', view('layers.0.self_attn.q_proj.bias', [16]));
    fails(extra, /unexpected tensor\(s\) not in a 1-layer Qwen3: layers\.1\.input_layernorm\.weight, layers\.0\.self_attn\.q_proj\.bias/);
    const twice = tinyTensors(config);
    twice.set('model.norm.weight', view('model.norm.weight', [8]));
    fails(twice, /tensor norm\.weight is stored twice/);
    const ints = tinyTensors(config);
    ints.set('norm.weight', view('norm.weight', [8], 'I64'));
    fails(ints, /norm\.weight: dtype I64/);
  });
});
