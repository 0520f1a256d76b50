// The architecture registry and the backends' supports() answers (issue 13): selection is computed from them.
import type { HeadName } from '../../src/model/architectures/spec.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackendName } from '../../src/backends/backend.js';
import { NATIVE_FAMILIES } from '../../src/backends/native/capabilities.js';
import { BACKEND_CAPABILITIES, BACKEND_NAMES, checkBackendSupports } from '../../src/backends/select.js';
import { WEBGPU_FAMILIES } from '../../src/backends/webgpu/capabilities.js';
import { architectureNames, findArchitecture, firstPositionOf, maxSequenceTokens, parseModelConfig } from '../../src/model/architectures/registry.js';
import { ModelLoadError } from '../../src/errors.js';
import type { Qwen3Config } from '../../src/model/types.js';

const query = (
  architecture: string,
  extra: Partial<{ dtype: 'float32' | 'bfloat16' | 'float16'; quantization: 'int8'; pagedKv: boolean; heads: HeadName[] }> = {},
) => ({
  architecture,
  dtype: extra.dtype ?? 'float32',
  quantization: extra.quantization ?? null,
  pagedKv: extra.pagedKv ?? false,
  heads: extra.heads ?? [],
});

describe('architecture registry', () => {
  it('registers bert, its variants, qwen3, the rotary BERTs and modernbert with their attention kinds, poolings, heads and KV sizes', () => {
    assert.deepEqual(architectureNames().sort(), ['bert', 'ernie', 'gte', 'modernbert', 'nomic_bert', 'qwen3', 'roberta']);
    for (const name of ['nomic_bert', 'gte', 'modernbert']) {
      const spec = findArchitecture(name)!;
      assert.equal(spec.attention, 'bidirectional');
      assert.equal(spec.kvBytesPerToken, null);
      assert.deepEqual(spec.heads, []);
    }
    const bert = findArchitecture('bert')!;
    const qwen3 = findArchitecture('qwen3')!;
    assert.equal(bert.attention, 'bidirectional');
    assert.equal(qwen3.attention, 'causal');
    assert.deepEqual(bert.heads, ['classify']);
    assert.equal(typeof bert.classificationHead, 'function');
    assert.deepEqual(qwen3.heads, ['classify']); // Qwen3-Reranker (qwen3/classification_head.ts)
    assert.equal(bert.kvBytesPerToken, null);
    const config = parseModelConfig(
      {
        model_type: 'qwen3',
        vocab_size: 16,
        hidden_size: 8,
        num_hidden_layers: 3,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        head_dim: 4,
        intermediate_size: 8,
        max_position_embeddings: 32,
      },
      'config.json',
    ) as Qwen3Config;
    assert.equal(qwen3.kvBytesPerToken!(config, 'float32'), 2 * 3 * 2 * 4 * 4);
    assert.equal(qwen3.kvBytesPerToken!(config, 'float64'), 2 * 3 * 2 * 4 * 8);
    assert.equal(findArchitecture('nope'), undefined);
  });

  it('refuses unknown model types naming every family', () => {
    assert.throws(
      () => parseModelConfig({ model_type: 'llama' }, 'c.json'),
      /unsupported model_type "llama".*model_type "bert".*model_type "xlm-roberta" or "roberta".*model_type "ernie".*model_type "qwen3"/,
    );
  });

  it('positions: BERT, ERNIE and Qwen3 start at 0, RoBERTa at pad_token_id + 1, which the usable length leaves out', () => {
    const encoder = { vocab_size: 16, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 8, max_position_embeddings: 514 };
    const roberta = parseModelConfig({ ...encoder, model_type: 'xlm-roberta', pad_token_id: 1 }, 'c.json');
    assert.equal(firstPositionOf(roberta), 2);
    assert.equal(maxSequenceTokens(roberta), 512);
    const robertaOtherPad = parseModelConfig({ ...encoder, model_type: 'roberta', pad_token_id: 4 }, 'c.json');
    assert.equal(firstPositionOf(robertaOtherPad), 5);
    assert.equal(maxSequenceTokens(robertaOtherPad), 509);
    for (const modelType of ['bert', 'ernie']) {
      const config = parseModelConfig({ ...encoder, model_type: modelType }, 'c.json');
      assert.equal(firstPositionOf(config), 0, modelType);
      assert.equal(maxSequenceTokens(config), 514, modelType);
    }
  });
});

describe('backend supports()', () => {
  it('the reference runs every registered family; cpu and webgpu exactly the families in their maps, refusing the rest by name', () => {
    const familiesOf: Record<BackendName, readonly string[]> = {
      reference: architectureNames(),
      cpu: Object.keys(NATIVE_FAMILIES),
      webgpu: Object.keys(WEBGPU_FAMILIES),
    };
    for (const name of BACKEND_NAMES) {
      for (const architecture of architectureNames()) {
        const answer = BACKEND_CAPABILITIES[name].supports(query(architecture));
        if (familiesOf[name].includes(architecture)) assert.equal(answer, true, `${name} ${architecture}`);
        else assert.match(String(answer), new RegExp(`does not run .*'${architecture}'`), `${name} ${architecture}`);
      }
    }
  });

  it('answers with the reason for what it cannot do', () => {
    const cases: [BackendName, ReturnType<typeof query>, RegExp][] = [
      ['cpu', query('bert', { dtype: 'float16' }), /cpu backend does not support --dtype float16; it supports float32 and bfloat16/],
      ['webgpu', query('bert', { dtype: 'bfloat16' }), /webgpu backend does not support --dtype bfloat16/],
      ['reference', query('qwen3', { dtype: 'bfloat16' }), /reference backend does not support --dtype bfloat16/],
      ['cpu', query('bert', { pagedKv: true }), /BERT models attend bidirectionally and have no KV cache/],
      ['cpu', query('gte', { heads: ['classify'] }), /cannot run head classify on GTE.* \(supported: none\)/],
      ['webgpu', query('gpt2'), /'gpt2' is not a registered architecture/],
      [
        'webgpu',
        query('bert', { quantization: 'int8' }),
        /webgpu backend does not support --quantization int8; it has no quantized kernels \(int8 runs on the cpu backend\)/,
      ],
      ['reference', query('bert', { quantization: 'int8' }), /reference backend does not support --quantization int8/],
      [
        'cpu',
        query('bert', { quantization: 'int8', dtype: 'bfloat16' }),
        /--quantization int8 computes everything but the GEMMs in float32: use --dtype float32, not bfloat16/,
      ],
    ];
    for (const [name, q, reason] of cases) {
      const answer = BACKEND_CAPABILITIES[name].supports(q);
      assert.notEqual(answer, true);
      assert.match(answer as string, reason);
    }
    assert.equal(BACKEND_CAPABILITIES.cpu.supports(query('qwen3', { pagedKv: true, dtype: 'bfloat16' })), true);
    // int8 GEMMs run in every native graph (they pack their weights through one PackWeights).
    for (const architecture of Object.keys(NATIVE_FAMILIES)) {
      assert.equal(BACKEND_CAPABILITIES.cpu.supports(query(architecture, { quantization: 'int8' })), true, architecture);
    }
    // Classification heads run on the host after any backend, so every backend runs BERT's.
    for (const name of BACKEND_NAMES) assert.equal(BACKEND_CAPABILITIES[name].supports(query('bert', { heads: ['classify'] })), true, name);
    assert.throws(() => checkBackendSupports('cpu', query('bert', { dtype: 'float16' })), ModelLoadError);
  });

  it('cpu and webgpu run NomicBERT and GTE (the rotary-BERT graph and encoder); cpu in bfloat16 too, without a KV cache', () => {
    for (const architecture of ['nomic_bert', 'gte']) {
      assert.equal(BACKEND_CAPABILITIES.cpu.supports(query(architecture)), true, architecture);
      assert.equal(BACKEND_CAPABILITIES.cpu.supports(query(architecture, { dtype: 'bfloat16' })), true, architecture);
      assert.equal(BACKEND_CAPABILITIES.webgpu.supports(query(architecture)), true, architecture);
      assert.notEqual(BACKEND_CAPABILITIES.cpu.supports(query(architecture, { pagedKv: true })), true, architecture);
    }
  });

  it('the per-family maps of the native and WebGPU backends name registered families only', () => {
    for (const name of [...Object.keys(NATIVE_FAMILIES), ...Object.keys(WEBGPU_FAMILIES)]) assert.ok(findArchitecture(name), name);
  });
});
