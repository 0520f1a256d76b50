// The checkpoint generator on the Qwen3-Embedding layout: shrinking keeps the real names and on-disk order of the
// kept layers, derives GQA shapes from the shrunk config, and draws RMSNorm weights around 1.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { generateCheckpoint } from '../../src/model/synthetic_checkpoint.js';
import { fixtureSourceDir } from '../fixtures/generate.js';
import { qwen3FixtureDir } from '../helpers/qwen3_fixture.js';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

async function readSafetensors(path: string): Promise<{ names: string[]; entries: Record<string, HeaderEntry>; data: Buffer }> {
  const file = await readFile(path);
  const headerBytes = Number(file.readBigUInt64LE(0));
  const { __metadata__: _metadata, ...entries } = JSON.parse(file.subarray(8, 8 + headerBytes).toString('utf8')) as Record<string, HeaderEntry>;
  return { names: Object.keys(entries), entries, data: file.subarray(8 + headerBytes) };
}

function stats(values: Float32Array): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

describe('generated Qwen3 checkpoints', () => {
  it('keep the real tensor names and order of the kept layers, with shapes from the shrunk config', async () => {
    const dir = await qwen3FixtureDir('F32');
    const source = JSON.parse(gunzipSync(await readFile(join(fixtureSourceDir('qwen3-embedding'), 'TENSORS.json.gz'))).toString('utf8')) as {
      tensors: { name: string }[];
    };
    const kept = source.tensors.map((t) => t.name).filter((name) => !/^layers\.([2-9]|\d\d)\./.test(name));
    const { names, entries, data } = await readSafetensors(join(dir, 'model.safetensors'));
    assert.deepEqual(names, kept);
    assert.equal(names.length, 2 + 2 * 11);
    assert.deepEqual(entries['embed_tokens.weight'].shape, [151669, 64]);
    assert.deepEqual(entries['layers.1.self_attn.q_proj.weight'].shape, [64, 64]);
    assert.deepEqual(entries['layers.1.self_attn.k_proj.weight'].shape, [32, 64]);
    assert.deepEqual(entries['layers.1.self_attn.o_proj.weight'].shape, [64, 64]);
    assert.deepEqual(entries['layers.0.self_attn.k_norm.weight'].shape, [16]);
    assert.deepEqual(entries['layers.0.mlp.down_proj.weight'].shape, [64, 128]);

    const floats = (name: string): Float32Array => {
      const [start, end] = entries[name].data_offsets;
      return new Float32Array(data.buffer.slice(data.byteOffset + start, data.byteOffset + end));
    };
    for (const name of ['norm.weight', 'layers.0.input_layernorm.weight', 'layers.1.post_attention_layernorm.weight', 'layers.0.self_attn.q_norm.weight']) {
      const { mean } = stats(floats(name));
      assert.ok(Math.abs(mean - 1) < 0.1, `${name}: RMSNorm weights around 1 (mean ${mean})`);
    }
    const matrix = stats(floats('layers.0.mlp.gate_proj.weight'));
    assert.ok(Math.abs(matrix.mean) < 0.002 && Math.abs(matrix.std - 0.02) < 0.002, `matrices N(0, 0.02): ${JSON.stringify(matrix)}`);

    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(
      [config.hidden_size, config.num_hidden_layers, config.num_attention_heads, config.num_key_value_heads, config.head_dim, config.intermediate_size],
      [64, 2, 4, 2, 16, 128],
    );
    assert.equal(config.torch_dtype, 'float32');
    const pooling = JSON.parse(await readFile(join(dir, '1_Pooling', 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(pooling.word_embedding_dimension, 64);
    assert.equal(pooling.pooling_mode_lasttoken, true);
  });

  it('refuses Qwen3-only shrink fields for BERT and shrinks that break grouped-query attention', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'pooled-qwen3-'));
    try {
      await assert.rejects(
        generateCheckpoint({ sourceDir: fixtureSourceDir('bge-small'), outDir: join(tmp, 'a'), shrink: { numKeyValueHeads: 2 } }),
        /apply to Qwen3 models only/,
      );
      await assert.rejects(
        generateCheckpoint({ sourceDir: fixtureSourceDir('qwen3-embedding'), outDir: join(tmp, 'b'), shrink: { numHeads: 4, numKeyValueHeads: 3 } }),
        /num_attention_heads 4 is not a multiple of num_key_value_heads 3/,
      );
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
