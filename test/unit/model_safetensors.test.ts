import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ModelLoadError } from '../../src/errors.js';
import { readSafetensors, readSafetensorsHeader } from '../../src/model/safetensors.js';
import { encodeSafetensorsHeader, writeSafetensors } from '../../src/model/safetensors_write.js';
import { float32ToBytes, tensorToFloat32 } from '../../src/model/tensor_data.js';

const FIXTURE_MODELS = ['sentence-transformers--all-MiniLM-L6-v2', 'BAAI--bge-small-en-v1.5', 'intfloat--e5-small-v2'];

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pooled-safetensors-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A file made of an 8-byte length + the given header text (+ optional data bytes). */
async function rawFile(name: string, header: string | object, dataBytes = 0, declaredLength?: bigint): Promise<string> {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declaredLength ?? BigInt(json.length));
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([prefix, json, Buffer.alloc(dataBytes)]));
  return path;
}

async function rejectsWith(path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(readSafetensors(path), (error: unknown) => {
    assert.ok(error instanceof ModelLoadError, `expected ModelLoadError, got ${error}`);
    assert.match(error.message, pattern);
    assert.ok(error.message.includes(path), `message should name the file: ${error.message}`);
    return true;
  });
}

describe('safetensors writer', () => {
  it('writes the reference serializer header: metadata first, compact JSON, space padding to 8', () => {
    const header = encodeSafetensorsHeader(
      [
        { name: 'b', dtype: 'F32', shape: [2] },
        { name: 'a', dtype: 'I64', shape: [1] },
      ],
      { format: 'pt' },
    );
    const expectedJson =
      '{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' + '"a":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}';
    const padded = Math.ceil(expectedJson.length / 8) * 8;
    assert.equal(Buffer.from(header).readBigUInt64LE(0), BigInt(padded));
    assert.equal(Buffer.from(header.subarray(8)).toString('utf8'), expectedJson.padEnd(padded, ' '));
  });

  it('reproduces the exact file size of the three real checkpoints from TENSORS.json', () => {
    for (const model of FIXTURE_MODELS) {
      const layout = JSON.parse(gunzipSync(readFileSync(`test/fixtures/models/${model}/TENSORS.json.gz`)).toString());
      const header = encodeSafetensorsHeader(layout.tensors, layout.safetensors_metadata);
      assert.equal(header.byteLength - 8, layout.header_json_bytes_padded, model);
      assert.equal(header.byteLength + layout.data_bytes, layout.file_bytes, model);
    }
  });

  it('rejects data whose length does not match dtype and shape', async () => {
    await assert.rejects(
      writeSafetensors(join(dir, 'bad-write.safetensors'), [{ name: 'x', dtype: 'F32', shape: [3], data: new Uint8Array(8) }]),
      /tensor x has 8 bytes of data, expected 12/,
    );
  });

  it('calls data producers lazily, one tensor at a time', async () => {
    const calls: string[] = [];
    const produce = (name: string, values: number[]) => () => {
      calls.push(name);
      return float32ToBytes(values, 'F32');
    };
    const path = join(dir, 'lazy.safetensors');
    await writeSafetensors(path, [
      { name: 'first', dtype: 'F32', shape: [2], data: produce('first', [1, 2]) },
      { name: 'second', dtype: 'F32', shape: [1], data: produce('second', [3]) },
    ]);
    assert.deepEqual(calls, ['first', 'second']);
    const file = await readSafetensors(path);
    assert.deepEqual([...tensorToFloat32(file.tensors.get('second')!)], [3]);
  });
});

describe('safetensors reader', () => {
  it('round-trips every dtype, scalars and empty tensors, as views of one buffer', async () => {
    const path = join(dir, 'roundtrip.safetensors');
    const f32 = [1.5, -2.25, 3, 0.125, 1e-3, -7];
    await writeSafetensors(
      path,
      [
        { name: 'f32', dtype: 'F32', shape: [2, 3], data: float32ToBytes(f32, 'F32') },
        { name: 'f16', dtype: 'F16', shape: [3], data: float32ToBytes([0.5, -1, 65504], 'F16') },
        { name: 'bf16', dtype: 'BF16', shape: [2], data: float32ToBytes([1.5, -256], 'BF16') },
        { name: 'ids', dtype: 'I64', shape: [1, 3], data: float32ToBytes([0, 1, 2], 'I64') },
        { name: 'scalar', dtype: 'F32', shape: [], data: float32ToBytes([42], 'F32') },
        { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Uint8Array(0) },
      ],
      { format: 'pt', note: 'test' },
    );
    const file = await readSafetensors(path);
    assert.equal(file.path, path);
    assert.deepEqual(file.metadata, { format: 'pt', note: 'test' });
    assert.deepEqual([...file.tensors.keys()], ['f32', 'f16', 'bf16', 'ids', 'scalar', 'empty']);
    assert.deepEqual(file.tensors.get('f32')!.shape, [2, 3]);
    assert.deepEqual([...tensorToFloat32(file.tensors.get('f32')!)], [...Float32Array.from(f32)]);
    assert.deepEqual([...tensorToFloat32(file.tensors.get('f16')!)], [0.5, -1, 65504]);
    assert.deepEqual([...tensorToFloat32(file.tensors.get('bf16')!)], [1.5, -256]);
    assert.deepEqual([...tensorToFloat32(file.tensors.get('ids')!)], [0, 1, 2]);
    assert.deepEqual([...tensorToFloat32(file.tensors.get('scalar')!)], [42]);
    assert.equal(file.tensors.get('empty')!.bytes.byteLength, 0);
    const buffers = new Set([...file.tensors.values()].map((view) => view.bytes.buffer));
    assert.equal(buffers.size, 1, 'all tensors share one buffer (no per-tensor copies)');
    // The data section starts 8-aligned, so an F32 tensor decodes zero-copy.
    const f32View = file.tensors.get('f32')!;
    assert.equal(tensorToFloat32(f32View).buffer, f32View.bytes.buffer);
  });

  it('reads a header alone', async () => {
    const path = join(dir, 'header-only.safetensors');
    await writeSafetensors(path, [{ name: 'w', dtype: 'BF16', shape: [4], data: new Uint8Array(8) }]);
    const header = await readSafetensorsHeader(path);
    assert.deepEqual(header.entries, [{ name: 'w', dtype: 'BF16', shape: [4], begin: 0, end: 8 }]);
    assert.equal(header.dataStart % 8, 0);
  });

  it('rejects a file shorter than 8 bytes', async () => {
    const path = join(dir, 'short.safetensors');
    await writeFile(path, Buffer.from([1, 2, 3]));
    await rejectsWith(path, /3 bytes is too short/);
  });

  it('rejects a truncated file (data section shorter than the offsets)', async () => {
    const path = join(dir, 'truncated.safetensors');
    await writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [16], data: new Uint8Array(64) }]);
    const bytes = readFileSync(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 10));
    await rejectsWith(path, /tensor w: data_offsets \[0, 64\] run past the end of the data section \(54 bytes\)/);
  });

  it('rejects a header length past the end of the file', async () => {
    const path = await rawFile('length-past-eof.safetensors', '{}', 0, 1000n);
    await rejectsWith(path, /header length 1000 runs past the end of the file/);
  });

  it('rejects a huge header length without allocating it', async () => {
    const path = await rawFile('length-huge.safetensors', '{}', 0, 2n ** 63n);
    await rejectsWith(path, /header length 9223372036854775808 runs past the end/);
  });

  it('rejects malformed JSON and non-object JSON', async () => {
    await rejectsWith(await rawFile('bad-json.safetensors', '{"w": {"dtype": "F32",'), /header is not well-formed JSON/);
    await rejectsWith(await rawFile('array-json.safetensors', '[1, 2]'), /header JSON is not an object/);
  });

  it('rejects non-UTF-8 header bytes', async () => {
    const path = join(dir, 'latin1.safetensors');
    const json = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]); // {"\xff":1}
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    await writeFile(path, Buffer.concat([prefix, json]));
    await rejectsWith(path, /header is not valid UTF-8/);
  });

  it('rejects an unknown dtype, naming it and the tensor', async () => {
    const path = await rawFile('dtype.safetensors', { w: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, 4);
    await rejectsWith(path, /tensor w: unsupported dtype "F8_E4M3" \(supported: F32, F16, BF16, I64\)/);
  });

  it('rejects overlapping tensors', async () => {
    const path = await rawFile(
      'overlap.safetensors',
      {
        a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
        b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
      },
      24,
    );
    await rejectsWith(path, /tensors a \[0, 16\) and b \[8, 24\) overlap/);
  });

  it('rejects offsets past the data section and reversed offsets', async () => {
    await rejectsWith(
      await rawFile('past-end.safetensors', { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 12),
      /tensor w: data_offsets \[0, 16\] run past the end of the data section \(12 bytes\)/,
    );
    await rejectsWith(
      await rawFile('reversed.safetensors', { w: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, 12),
      /tensor w: data_offsets \[8, 4\] begin after end/,
    );
  });

  it('rejects a byte size that does not match shape and dtype', async () => {
    const path = await rawFile('size.safetensors', { w: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 16] } }, 16);
    await rejectsWith(path, /tensor w: data_offsets \[0, 16\] hold 16 bytes but F16 shape \[2, 3\] needs 12/);
  });

  it('rejects shapes that are not arrays of non-negative integers', async () => {
    for (const [label, shape] of [
      ['fraction', [1.5]],
      ['negative', [-1]],
      ['string', ['4']],
      ['not-array', 4],
    ] as const) {
      const path = await rawFile(`shape-${label}.safetensors`, { w: { dtype: 'F32', shape, data_offsets: [0, 4] } }, 4);
      await rejectsWith(path, /tensor w: shape .* (not a non-negative integer|is not an array)/);
    }
  });

  it('rejects malformed data_offsets and metadata', async () => {
    await rejectsWith(
      await rawFile('offsets-3.safetensors', { w: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, 8),
      /tensor w: data_offsets \[0,4,8\] is not a pair of non-negative integers/,
    );
    await rejectsWith(await rawFile('metadata.safetensors', { __metadata__: { format: 1 } }), /__metadata__\.format is not a string/);
    await rejectsWith(await rawFile('entry.safetensors', { w: 'F32' }), /tensor w: entry is not an object/);
  });

  it('rejects a missing file with a ModelLoadError', async () => {
    await rejectsWith(join(dir, 'does-not-exist.safetensors'), /cannot open safetensors file \(ENOENT\)/);
  });
});
