// The seeded checkpoint generator: real layouts (sizes, header, names, order), deterministic bytes, shrinking,
// sharding, prefixes, dtypes, and that the project's own loader and the reference backend accept the result.
// The safetensors header is parsed here with a few lines of its own, independent of src/model/safetensors.ts.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { loadModel } from '../../src/model/load.js';
import { generateCheckpoint, SYNTHETIC_MARKER_KEY } from '../../src/model/synthetic_checkpoint.js';
import { float32ToBytes } from '../../src/model/tensor_data.js';
import { fixtureModel, fixtureSourceDir, type FixtureName } from '../fixtures/generate.js';

interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

interface SourceTensorsJson {
  header_json_bytes_padded: number;
  file_bytes: number;
  safetensors_metadata: Record<string, string>;
  tensors: HeaderEntry[];
}

async function readHeader(path: string): Promise<{ headerBytes: number; metadata: Record<string, string>; entries: HeaderEntry[] }> {
  const file = await readFile(path);
  const headerBytes = Number(file.readBigUInt64LE(0));
  const json = JSON.parse(file.subarray(8, 8 + headerBytes).toString('utf8')) as Record<string, unknown>;
  const { __metadata__: metadata, ...tensors } = json;
  // JSON.parse keeps the file's key order for non-numeric keys, i.e. the on-disk order.
  const entries = Object.entries(tensors).map(([name, info]) => ({ name, ...(info as Omit<HeaderEntry, 'name'>) }));
  return { headerBytes, metadata: metadata as Record<string, string>, entries };
}

/** name -> the tensor's bytes, for every tensor of one safetensors file. */
async function readTensorBytes(path: string): Promise<Map<string, Buffer>> {
  const file = await readFile(path);
  const { headerBytes, entries } = await readHeader(path);
  const dataStart = 8 + headerBytes;
  return new Map(entries.map((entry) => [entry.name, file.subarray(dataStart + entry.data_offsets[0], dataStart + entry.data_offsets[1])]));
}

async function readSourceTensors(name: FixtureName): Promise<SourceTensorsJson> {
  return JSON.parse(gunzipSync(await readFile(join(fixtureSourceDir(name), 'TENSORS.json.gz'))).toString('utf8')) as SourceTensorsJson;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

const TINY_SHRINK = { numLayers: 2, hiddenSize: 16, numHeads: 2, intermediateSize: 24 };

const tmpDirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pooled-synthetic-'));
  tmpDirs.push(dir);
  return join(dir, 'model'); // not created yet: the generator creates it
}
after(async () => {
  for (const dir of tmpDirs) await rm(dir, { recursive: true, force: true });
});

describe('full-size all-MiniLM-L6-v2 layout', () => {
  it('is exactly 90,868,376 bytes, the real file size, with a header identical to TENSORS.json', async () => {
    const dir = await fixtureModel('all-minilm');
    const source = await readSourceTensors('all-minilm');
    const path = join(dir, 'model.safetensors');
    assert.equal((await stat(path)).size, 90_868_376);
    assert.equal(source.file_bytes, 90_868_376);
    const header = await readHeader(path);
    assert.equal(header.headerBytes, source.header_json_bytes_padded);
    assert.deepEqual(header.metadata, source.safetensors_metadata);
    assert.deepEqual(header.entries, source.tensors); // names, order, dtypes, shapes and offsets
  });

  it('writes every metadata file: tokenizer un-gzipped, config marked, the rest byte for byte', async () => {
    const dir = await fixtureModel('all-minilm');
    const sourceDir = fixtureSourceDir('all-minilm');
    assert.deepEqual(await listFiles(dir), [
      '1_Pooling/config.json',
      'README.md',
      'config.json',
      'config_sentence_transformers.json',
      'model.safetensors',
      'modules.json',
      'sentence_bert_config.json',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    assert.deepEqual(await readFile(join(dir, 'tokenizer.json')), gunzipSync(await readFile(join(sourceDir, 'tokenizer.json.gz'))));
    for (const file of ['1_Pooling/config.json', 'modules.json', 'sentence_bert_config.json', 'special_tokens_map.json', 'tokenizer_config.json']) {
      assert.deepEqual(await readFile(join(dir, file)), await readFile(join(sourceDir, file)), file);
    }
    const config = await readJson(join(dir, 'config.json'));
    const { [SYNTHETIC_MARKER_KEY]: marker, ...rest } = config;
    assert.equal(Object.keys(config)[0], SYNTHETIC_MARKER_KEY, 'the marker comes first');
    assert.match(String(marker), /^RANDOM WEIGHTS - not a trained model/);
    assert.deepEqual(rest, await readJson(join(sourceDir, 'config.json')));
    assert.match(await readFile(join(dir, 'README.md'), 'utf8'), /^# RANDOM WEIGHTS - not a trained model/);
  });

  it('draws weights as documented: N(0, 0.02) matrices, 1 + N(0, 0.1) LayerNorm weights, position ids 0..511', async () => {
    const tensors = await readTensorBytes(join(await fixtureModel('all-minilm'), 'model.safetensors'));
    const floats = (name: string): Float32Array => {
      const bytes = tensors.get(name)!;
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    };
    const stats = (values: Float32Array): { mean: number; std: number } => {
      let sum = 0;
      for (const v of values) sum += v;
      const mean = sum / values.length;
      let squares = 0;
      for (const v of values) squares += (v - mean) ** 2;
      return { mean, std: Math.sqrt(squares / values.length) };
    };
    const word = stats(floats('embeddings.word_embeddings.weight')); // 11.7M samples
    assert.ok(Math.abs(word.mean) < 5e-5, `mean ${word.mean}`); // tolerance: ~9 standard errors (0.02 / sqrt(11.7M))
    assert.ok(Math.abs(word.std - 0.02) < 4e-5, `std ${word.std}`); // tolerance: ~10 standard errors of a std estimate
    const gamma = stats(floats('encoder.layer.3.output.LayerNorm.weight')); // 384 samples
    assert.ok(Math.abs(gamma.mean - 1) < 0.025, `LayerNorm weight mean ${gamma.mean}`); // tolerance: 5 standard errors
    assert.ok(gamma.std > 0.08 && gamma.std < 0.12, `LayerNorm weight std ${gamma.std}`);
    const bias = stats(floats('encoder.layer.0.intermediate.dense.bias')); // 1536 samples
    assert.ok(bias.std > 0.017 && bias.std < 0.023, `bias std ${bias.std}`); // nonzero, ~0.02
    const positionIds = tensors.get('embeddings.position_ids')!;
    const ids = Array.from({ length: 512 }, (_, i) => Number(positionIds.readBigInt64LE(i * 8)));
    assert.deepEqual(
      ids,
      Array.from({ length: 512 }, (_, i) => i),
    );
  });
});

describe('generateCheckpoint options', () => {
  it('gives byte-identical folders for the same options, different weights for another seed', async () => {
    const opts = { sourceDir: fixtureSourceDir('bge-small'), shrink: TINY_SHRINK, seed: 42 };
    const [a, b, c] = [await freshDir(), await freshDir(), await freshDir()];
    await generateCheckpoint({ ...opts, outDir: a });
    await generateCheckpoint({ ...opts, outDir: b });
    await generateCheckpoint({ ...opts, outDir: c, seed: 43 });
    const files = await listFiles(a);
    assert.deepEqual(await listFiles(b), files);
    for (const file of files) assert.deepEqual(await readFile(join(b, file)), await readFile(join(a, file)), file);
    const weightsA = await readFile(join(a, 'model.safetensors'));
    const weightsC = await readFile(join(c, 'model.safetensors'));
    assert.equal(weightsC.length, weightsA.length);
    assert.notDeepEqual(weightsC, weightsA);
  });

  it('initStd scales matrices, embeddings and biases (same draws), leaves norm weights alone, and must be positive', async () => {
    const opts = { sourceDir: fixtureSourceDir('bge-small'), shrink: TINY_SHRINK };
    const [base, wide] = [await freshDir(), await freshDir()];
    await generateCheckpoint({ ...opts, outDir: base });
    await generateCheckpoint({ ...opts, outDir: wide, initStd: 0.1 });
    const [baseTensors, wideTensors] = [await readTensorBytes(join(base, 'model.safetensors')), await readTensorBytes(join(wide, 'model.safetensors'))];
    const floats = (bytes: Buffer): Float32Array => new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    for (const name of ['embeddings.word_embeddings.weight', 'encoder.layer.1.intermediate.dense.weight', 'encoder.layer.0.attention.self.query.bias']) {
      const [a, b] = [floats(baseTensors.get(name)!), floats(wideTensors.get(name)!)];
      // Each value is std * the same normal draw, rounded to float32: 5x within float32 rounding of both sides.
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(b[i] - 5 * a[i]) <= 1e-6 * Math.abs(b[i]), `${name}[${i}]: ${b[i]} vs 5 x ${a[i]}`);
    }
    assert.deepEqual(wideTensors.get('encoder.layer.0.output.LayerNorm.weight'), baseTensors.get('encoder.layer.0.output.LayerNorm.weight'));
    await assert.rejects(generateCheckpoint({ ...opts, outDir: await freshDir(), initStd: 0 }), /initStd must be a positive/);
  });

  it('shrinks: keeps names and order of the kept layers, scales shapes, adjusts config and 1_Pooling', async () => {
    const dir = await fixtureModel('bge-small', { shrink: TINY_SHRINK });
    const source = await readSourceTensors('bge-small');
    const { entries } = await readHeader(join(dir, 'model.safetensors'));
    const keptNames = source.tensors.map((t) => t.name).filter((name) => !/^encoder\.layer\.([2-9]|1[01])\./.test(name));
    assert.deepEqual(
      entries.map((e) => e.name),
      keptNames,
    );
    const H = 16;
    const I = 24;
    const expectedShape = (name: string): number[] => {
      if (name === 'embeddings.position_ids') return [1, 512];
      if (name === 'embeddings.word_embeddings.weight') return [30522, H]; // vocab kept for the real tokenizer
      if (name === 'embeddings.position_embeddings.weight') return [512, H];
      if (name === 'embeddings.token_type_embeddings.weight') return [2, H];
      if (name.endsWith('intermediate.dense.weight')) return [I, H];
      if (name.endsWith('intermediate.dense.bias')) return [I];
      if (name.endsWith('output.dense.weight') && !name.includes('attention')) return [H, I];
      if (name.endsWith('.weight') && !name.includes('LayerNorm')) return [H, H];
      return [H];
    };
    for (const entry of entries) assert.deepEqual(entry.shape, expectedShape(entry.name), entry.name);
    const config = await readJson(join(dir, 'config.json'));
    assert.deepEqual(
      [config.num_hidden_layers, config.hidden_size, config.num_attention_heads, config.intermediate_size, config.vocab_size, config.max_position_embeddings],
      [2, 16, 2, 24, 30522, 512],
    );
    assert.equal((await readJson(join(dir, '1_Pooling', 'config.json'))).word_embedding_dimension, 16);
    assert.equal((await readJson(join(dir, '1_Pooling', 'config.json'))).pooling_mode_cls_token, true);
  });

  it('shards: index and shards agree, every tensor once, same bytes as the single file', async () => {
    const single = await fixtureModel('e5-small', { shrink: TINY_SHRINK });
    const sharded = await fixtureModel('e5-small', { shrink: TINY_SHRINK, numShards: 3 });
    const files = await listFiles(sharded);
    const shardNames = ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors'];
    for (const name of shardNames) assert.ok(files.includes(name), name);
    assert.ok(!files.includes('model.safetensors'));
    const index = (await readJson(join(sharded, 'model.safetensors.index.json'))) as {
      metadata: { total_size: number };
      weight_map: Record<string, string>;
    };
    const singleTensors = await readTensorBytes(join(single, 'model.safetensors'));
    const seen = new Map<string, Buffer>();
    let order: string[] = [];
    for (const shard of shardNames) {
      const tensors = await readTensorBytes(join(sharded, shard));
      assert.ok(tensors.size > 0, `${shard} is not empty`);
      for (const [name, bytes] of tensors) {
        assert.equal(index.weight_map[name], shard, `${name} is in the shard the index names`);
        assert.ok(!seen.has(name), `${name} stored once`);
        seen.set(name, bytes);
      }
      order = order.concat([...tensors.keys()]);
    }
    assert.deepEqual(order, [...singleTensors.keys()], 'shards keep the on-disk order');
    assert.deepEqual(Object.keys(index.weight_map).sort(), [...singleTensors.keys()].sort());
    assert.equal(
      index.metadata.total_size,
      [...seen.values()].reduce((sum, bytes) => sum + bytes.length, 0),
    );
    for (const [name, bytes] of singleTensors) assert.deepEqual(seen.get(name), bytes, name);
  });

  it('prefix renames tensors only; dtype stores the same values rounded; position_ids can be dropped or added', async () => {
    const base = await readTensorBytes(join(await fixtureModel('bge-small', { shrink: TINY_SHRINK }), 'model.safetensors'));
    const prefixed = await readTensorBytes(join(await fixtureModel('bge-small', { shrink: TINY_SHRINK, prefix: 'bert.' }), 'model.safetensors'));
    assert.deepEqual(
      [...prefixed.keys()],
      [...base.keys()].map((name) => `bert.${name}`),
    );
    for (const [name, bytes] of base) assert.deepEqual(prefixed.get(`bert.${name}`), bytes, name);

    for (const dtype of ['F16', 'BF16'] as const) {
      const dir = await fixtureModel('bge-small', { shrink: TINY_SHRINK, dtype });
      const { entries } = await readHeader(join(dir, 'model.safetensors'));
      assert.deepEqual(
        entries.map((e) => e.dtype),
        entries.map((e) => (e.name === 'embeddings.position_ids' ? 'I64' : dtype)),
      );
      const half = await readTensorBytes(join(dir, 'model.safetensors'));
      const f32 = base.get('encoder.layer.1.attention.self.key.weight')!;
      const values = new Float32Array(f32.buffer.slice(f32.byteOffset, f32.byteOffset + f32.byteLength));
      assert.deepEqual(half.get('encoder.layer.1.attention.self.key.weight'), Buffer.from(float32ToBytes(values, dtype)), dtype);
      assert.equal((await readJson(join(dir, 'config.json'))).torch_dtype, dtype === 'F16' ? 'float16' : 'bfloat16');
    }

    assert.equal([...base.keys()][0], 'embeddings.position_ids'); // bge's TENSORS.json lists it
    const without = await readTensorBytes(join(await fixtureModel('bge-small', { shrink: TINY_SHRINK, withPositionIds: false }), 'model.safetensors'));
    assert.deepEqual([...without.keys()], [...base.keys()].slice(1));
    const e5 = await readTensorBytes(join(await fixtureModel('e5-small', { shrink: TINY_SHRINK }), 'model.safetensors'));
    assert.ok(!e5.has('embeddings.position_ids')); // e5's TENSORS.json does not
    const e5With = await readTensorBytes(join(await fixtureModel('e5-small', { shrink: TINY_SHRINK, withPositionIds: true }), 'model.safetensors'));
    assert.deepEqual([...e5With.keys()], ['embeddings.position_ids', ...e5.keys()]); // I64 sorts first
  });

  it('refuses bad options with a clear error, before writing anything', async () => {
    const sourceDir = fixtureSourceDir('bge-small');
    const outDir = await freshDir();
    await assert.rejects(generateCheckpoint({ sourceDir, outDir, shrink: { hiddenSize: 30, numHeads: 4 } }), /not a multiple of num_attention_heads/);
    await assert.rejects(generateCheckpoint({ sourceDir, outDir, shrink: { numLayers: 13 } }), /exceeds the source's 12 layers/);
    await assert.rejects(generateCheckpoint({ sourceDir, outDir, shrink: { numLayers: 0 } }), /positive integer/);
    await assert.rejects(generateCheckpoint({ sourceDir, outDir, seed: -1 }), /seed/);
    await assert.rejects(generateCheckpoint({ sourceDir, outDir, numShards: 10_000 }), /exceeds the 200 tensors/);
    await assert.rejects(generateCheckpoint({ sourceDir: join(sourceDir, 'missing'), outDir }), /ENOENT/);
    await assert.rejects(stat(outDir), /ENOENT/, 'nothing written');
    const used = await fixtureModel('bge-small', { shrink: TINY_SHRINK });
    await assert.rejects(generateCheckpoint({ sourceDir, outDir: used, shrink: TINY_SHRINK }), /is not empty/);
  });
});

describe('fixtureModel', () => {
  it('returns the same folder to concurrent callers and leaves no temporary folder behind', async () => {
    const seed = 1_000_000 + Math.floor(Math.random() * 1_000_000); // a key no earlier run has cached
    const opts = { seed, shrink: { numLayers: 1, hiddenSize: 8, numHeads: 2, intermediateSize: 8 } };
    const [a, b] = await Promise.all([fixtureModel('all-minilm', opts), fixtureModel('all-minilm', opts)]);
    try {
      assert.equal(a, b);
      assert.equal((await stat(join(a, 'model.safetensors'))).isFile(), true);
      const leftovers = (await readdir(join(a, '..'))).filter((name) => name.startsWith(`.tmp-all-minilm-${process.pid}-`));
      assert.deepEqual(leftovers, []);
    } finally {
      await rm(a, { recursive: true, force: true });
    }
  });
});

describe('generated checkpoints and the rest of pooled', () => {
  it('load with the project loader and embed through the reference backend, whatever the file layout', async () => {
    const sequences = [
      [101, 7592, 2088, 102],
      [101, 2023, 2003, 1037, 3231, 102],
    ]; // [CLS] ... [SEP] ids
    const rowsOf = async (dir: string): Promise<Float64Array[]> => {
      const model = await loadModel(dir);
      assert.equal(model.settings.pooling, 'cls'); // bge's 1_Pooling
      const backend = await ReferenceBackend.create(model);
      return backend.forward64(buildRaggedBatch(sequences, { pooling: model.settings.pooling, normalize: [true, true] }));
    };
    const plain = await rowsOf(await fixtureModel('bge-small', { shrink: TINY_SHRINK }));
    for (const row of plain) {
      assert.equal(row.length, 16);
      assert.ok(Math.abs(Math.hypot(...row) - 1) <= 1e-15); // tolerance: a few ulps of a unit norm
    }
    assert.notDeepEqual(plain[0], plain[1]);
    // A BertForMaskedLM-style prefixed, sharded save of the same weights must embed identically (exact).
    const variant = await rowsOf(await fixtureModel('bge-small', { shrink: TINY_SHRINK, prefix: 'bert.', numShards: 2, withPositionIds: false }));
    assert.deepEqual(variant, plain);
  });
});
