// The architecture registry and the backends' supports() answers (issue 13): selection is computed from them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackendName } from '../../src/backends/backend.js';
import { NATIVE_FAMILIES } from '../../src/backends/native/capabilities.js';
import { BACKEND_CAPABILITIES, BACKEND_NAMES, checkBackendSupports } from '../../src/backends/select.js';
import { WEBGPU_FAMILIES } from '../../src/backends/webgpu/capabilities.js';
import { architectureNames, findArchitecture, parseModelConfig } from '../../src/model/architectures/registry.js';
import { ModelLoadError } from '../../src/errors.js';
import type { Qwen3Config } from '../../src/model/types.js';

const query = (architecture: string, extra: Partial<{ dtype: 'float32' | 'bfloat16' | 'float16'; pagedKv: boolean; heads: string[] }> = {}) => ({
  architecture,
  dtype: extra.dtype ?? 'float32',
  pagedKv: extra.pagedKv ?? false,
  heads: extra.heads ?? [],
});

describe('architecture registry', () => {
  it('registers bert, modernbert and qwen3 with their attention kinds, poolings, heads and KV sizes', () => {
    assert.deepEqual(architectureNames().sort(), ['bert', 'modernbert', 'qwen3']);
    const modernbert = findArchitecture('modernbert')!;
    assert.equal(modernbert.attention, 'bidirectional');
    assert.equal(modernbert.kvBytesPerToken, null);
    assert.deepEqual(modernbert.heads, []);
    const bert = findArchitecture('bert')!;
    const qwen3 = findArchitecture('qwen3')!;
    assert.equal(bert.attention, 'bidirectional');
    assert.equal(qwen3.attention, 'causal');
    assert.deepEqual(bert.heads, []);
    assert.deepEqual(qwen3.heads, []);
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
    assert.throws(() => parseModelConfig({ model_type: 'llama' }, 'c.json'), /unsupported model_type "llama".*model_type "bert".*model_type "qwen3"/);
  });
});

describe('backend supports()', () => {
  it('every backend runs every registered family in float32', () => {
    for (const name of BACKEND_NAMES) {
      for (const architecture of architectureNames()) assert.equal(BACKEND_CAPABILITIES[name].supports(query(architecture)), true, `${name} ${architecture}`);
    }
  });

  it('answers with the reason for what it cannot do', () => {
    const cases: [BackendName, ReturnType<typeof query>, RegExp][] = [
      ['cpu', query('bert', { dtype: 'float16' }), /cpu backend does not support --dtype float16; it supports float32 and bfloat16/],
      ['webgpu', query('bert', { dtype: 'bfloat16' }), /webgpu backend does not support --dtype bfloat16/],
      ['reference', query('qwen3', { dtype: 'bfloat16' }), /reference backend does not support --dtype bfloat16/],
      ['cpu', query('bert', { pagedKv: true }), /BERT models attend bidirectionally and have no KV cache/],
      ['cpu', query('qwen3', { heads: ['classifier'] }), /cannot run head classifier/],
      ['webgpu', query('gpt2'), /'gpt2' is not a registered architecture/],
    ];
    for (const [name, q, reason] of cases) {
      const answer = BACKEND_CAPABILITIES[name].supports(q);
      assert.notEqual(answer, true);
      assert.match(answer as string, reason);
    }
    assert.equal(BACKEND_CAPABILITIES.cpu.supports(query('qwen3', { pagedKv: true, dtype: 'bfloat16' })), true);
    assert.throws(() => checkBackendSupports('cpu', query('bert', { dtype: 'float16' })), ModelLoadError);
  });

  it('the per-family maps of the native and WebGPU backends name registered families only', () => {
    for (const name of [...Object.keys(NATIVE_FAMILIES), ...Object.keys(WEBGPU_FAMILIES)]) assert.ok(findArchitecture(name), name);
  });
});
