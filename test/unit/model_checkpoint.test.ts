import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelLoadError } from '../../src/errors.js';
import { listCheckpointFiles, readCheckpoint } from '../../src/model/checkpoint.js';
import { writeSafetensors } from '../../src/model/safetensors_write.js';
import { float32ToBytes, tensorToFloat32 } from '../../src/model/tensor_data.js';

let root: string;
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pooled-checkpoint-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function folderWith(files: Record<string, Record<string, number[]> | object>): Promise<string> {
  const folder = join(root, `case-${counter++}`);
  await mkdir(folder);
  for (const [name, content] of Object.entries(files)) {
    if (name.endsWith('.safetensors')) {
      const tensors = Object.entries(content as Record<string, number[]>).map(([tensorName, values]) => ({
        name: tensorName,
        dtype: 'F32' as const,
        shape: [values.length],
        data: float32ToBytes(values, 'F32'),
      }));
      await writeSafetensors(join(folder, name), tensors, { format: 'pt' });
    } else {
      await writeFile(join(folder, name), JSON.stringify(content));
    }
  }
  return folder;
}

async function rejectsWith(folder: string, pattern: RegExp): Promise<void> {
  await assert.rejects(readCheckpoint(folder), (error: unknown) => {
    assert.ok(error instanceof ModelLoadError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

describe('checkpoint folders', () => {
  it('reads a single model.safetensors', async () => {
    const folder = await folderWith({ 'model.safetensors': { a: [1, 2], b: [3] } });
    const checkpoint = await readCheckpoint(folder);
    assert.deepEqual(checkpoint.files, [join(folder, 'model.safetensors')]);
    assert.deepEqual(checkpoint.metadata, { format: 'pt' });
    assert.deepEqual([...tensorToFloat32(checkpoint.tensors.get('b')!)], [3]);
    assert.deepEqual(await listCheckpointFiles(folder), ['model.safetensors']);
  });

  it('merges the shards named by model.safetensors.index.json', async () => {
    const folder = await folderWith({
      'model-00001-of-00002.safetensors': { a: [1, 2] },
      'model-00002-of-00002.safetensors': { b: [3], c: [4, 5, 6] },
      'model.safetensors.index.json': {
        metadata: { total_size: 24 },
        weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' },
      },
    });
    const checkpoint = await readCheckpoint(folder);
    assert.equal(checkpoint.files.length, 2);
    assert.deepEqual([...checkpoint.tensors.keys()].sort(), ['a', 'b', 'c']);
    assert.deepEqual([...tensorToFloat32(checkpoint.tensors.get('c')!)], [4, 5, 6]);
    assert.deepEqual(await listCheckpointFiles(folder), [
      'model.safetensors.index.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
  });

  it('rejects an index whose shard lacks a tensor it lists', async () => {
    const folder = await folderWith({
      's1.safetensors': { a: [1] },
      'model.safetensors.index.json': { weight_map: { a: 's1.safetensors', b: 's1.safetensors' } },
    });
    await rejectsWith(folder, /shard s1\.safetensors lacks tensors the index puts there: b/);
  });

  it('rejects a missing shard file', async () => {
    const folder = await folderWith({
      's1.safetensors': { a: [1] },
      'model.safetensors.index.json': { weight_map: { a: 's1.safetensors', b: 's2.safetensors' } },
    });
    await rejectsWith(folder, /shard s2\.safetensors is missing/);
  });

  it('rejects a tensor stored in two shards', async () => {
    const folder = await folderWith({
      's1.safetensors': { a: [1] },
      's2.safetensors': { a: [2], b: [3] },
      'model.safetensors.index.json': { weight_map: { a: 's1.safetensors', b: 's2.safetensors' } },
    });
    await rejectsWith(folder, /tensor a is stored in both s1\.safetensors and s2\.safetensors/);
  });

  it('rejects shard names that leave the folder and malformed indexes', async () => {
    await rejectsWith(
      await folderWith({ 'model.safetensors.index.json': { weight_map: { a: '../elsewhere.safetensors' } } }),
      /weight_map entry a names an invalid shard file "\.\.\/elsewhere\.safetensors"/,
    );
    await rejectsWith(await folderWith({ 'model.safetensors.index.json': { weights: {} } }), /has no "weight_map" object/);
    await rejectsWith(await folderWith({ 'model.safetensors.index.json': { weight_map: {} } }), /weight_map is empty/);
  });

  it('explains a folder without safetensors weights', async () => {
    await rejectsWith(await folderWith({ 'config.json': {} }), /no model\.safetensors or model\.safetensors\.index\.json$/);
    await rejectsWith(await folderWith({ 'pytorch_model.bin': {} }), /only pytorch_model\.bin, which is not supported: convert it to safetensors/);
  });
});
