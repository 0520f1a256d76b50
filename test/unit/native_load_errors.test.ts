// A malformed or truncated checkpoint fails cleanly when the native engine loads it: a rejected promise naming the
// problem, before any packing or kernel runs, and never a crash or an out-of-bounds read.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm, truncate, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ModelLoadError } from '../../src/errors.js';
import { loadAddon, type NativeEngineSpec, type NativeTensorSpec } from '../../src/backends/native/addon.js';
import { createNativeBackend } from '../../src/backends/native/backend.js';
import { nativeGraphFor } from '../../src/backends/native/graphs/index.js';
import { loadModel } from '../../src/model/load.js';
import type { LoadedModel } from '../../src/model/types.js';
import { fixtureModel } from '../fixtures/generate.js';

const shrink = { numLayers: 1, hiddenSize: 32, numHeads: 2, intermediateSize: 48 };

function specOf(model: LoadedModel, edit: (tensors: NativeTensorSpec[]) => NativeTensorSpec[] = (t) => t): NativeEngineSpec & { family: 'bert' } {
  const { config } = model;
  if (config.architecture !== 'bert') throw new Error('BERT fixture expected');
  const tensors: NativeTensorSpec[] = [];
  for (const [name, view] of model.weights) {
    if (view.dtype !== 'I64') tensors.push({ name, dtype: view.dtype, shape: view.shape, bytes: view.bytes });
  }
  return {
    family: 'bert',
    config: { ...config, hiddenAct: config.hiddenAct },
    dtype: 'float32',
    threads: 1,
    tensors: edit(tensors),
  };
}

describe('native engine: malformed weights fail at load', () => {
  let model: LoadedModel;
  let folder: string;
  before(async () => {
    folder = await fixtureModel('bge-small', { shrink });
    model = await loadModel(folder);
  });

  test('a well-formed spec loads (the control case)', async () => {
    const native = await loadAddon().loadEngine(specOf(model));
    assert.ok(native.nativeBytes > 0);
    native.dispose();
    assert.equal(native.disposed, true);
  });

  test('a tensor with fewer bytes than its shape needs', async () => {
    const spec = specOf(model, (tensors) =>
      tensors.map((t) => (t.name === 'encoder.layer.0.intermediate.dense.weight' ? { ...t, bytes: t.bytes.subarray(0, t.bytes.length - 4) } : t)),
    );
    await assert.rejects(loadAddon().loadEngine(spec), /intermediate\.dense\.weight: \d+ bytes, expected \d+.*truncated or malformed/);
  });

  test('a missing tensor', async () => {
    const spec = specOf(model, (tensors) => tensors.filter((t) => t.name !== 'encoder.layer.0.output.LayerNorm.bias'));
    await assert.rejects(loadAddon().loadEngine(spec), /missing tensor encoder\.layer\.0\.output\.LayerNorm\.bias/);
  });

  test('a tensor with the wrong shape', async () => {
    const spec = specOf(model, (tensors) =>
      tensors.map((t) => (t.name === 'embeddings.position_embeddings.weight' ? { ...t, shape: [t.shape[1], t.shape[0]] } : t)),
    );
    await assert.rejects(loadAddon().loadEngine(spec), /position_embeddings\.weight: shape \[32, 512\], expected \[512, 32\]/);
  });

  test('bad spec values are TypeErrors / RangeErrors before any work', () => {
    const addon = loadAddon();
    assert.throws(() => addon.loadEngine({ ...specOf(model), dtype: 'float16' as 'float32' }), TypeError);
    assert.throws(() => addon.loadEngine({ ...specOf(model), threads: -1 }), RangeError);
    assert.throws(() => addon.loadEngine(specOf(model, (t) => t.map((x) => ({ ...x, dtype: 'I8' as 'F32' })))), TypeError);
    assert.throws(() => addon.loadEngine(specOf(model, (t) => [...t, t[0]])), /duplicate tensor/);
    assert.throws(() => addon.loadEngine({ ...specOf(model), config: { ...specOf(model).config, hiddenAct: 'swish' } }), /not supported/);
  });

  test('one binding for every family: an unknown family is a TypeError, an encoder has no KV cache', async () => {
    const addon = loadAddon();
    assert.throws(
      () => addon.loadEngine({ ...specOf(model), family: 'gpt2' as 'bert' }),
      (error: unknown) => error instanceof TypeError && /'gpt2' has no native engine/.test(error.message),
    );
    const native = await addon.loadEngine(specOf(model));
    try {
      assert.equal(native.family, 'bert');
      assert.equal(native.hasKvCache, false);
      assert.equal(native.kvBytesPerToken, 0);
      assert.throws(() => native.initKvCache(4, 16), /keeps no KV cache/);
      const one = {
        tokenIds: new Int32Array([1, 2]),
        positions: new Int32Array([0, 1]),
        cuSeqLens: new Int32Array([0, 2]),
        pooling: 'cls' as const,
        dimensions: new Int32Array([0]),
        normalize: new Uint8Array([1]),
      };
      assert.equal((await native.forward(one)).length, model.config.hiddenSize);
      const paged = { ...one, blockTables: [new Int32Array([1])], numCachedTokens: new Int32Array([0]), isLastChunk: new Uint8Array([1]) };
      await assert.rejects(native.forward(paged), /encoder and keeps no KV cache/);
    } finally {
      native.dispose();
    }
  });

  test('a truncated checkpoint file never reaches the engine', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'pooled-truncated-'));
    try {
      for (const file of await readdir(folder, { recursive: true })) {
        const source = join(folder, String(file));
        if ((await stat(source)).isFile() && !String(file).includes('/')) await copyFile(source, join(copy, String(file)));
      }
      const weights = join(copy, 'model.safetensors');
      await truncate(weights, (await stat(weights)).size - 1000);
      // The loader checks the file against its header; whichever layer notices, it is a ModelLoadError.
      await assert.rejects(async () => createNativeBackend(await loadModel(copy)), ModelLoadError);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});

describe('native engine: ModernBERT weights and config checked at load', () => {
  let model: LoadedModel;
  before(async () => {
    model = await loadModel(await fixtureModel('modernbert-base', { shrink: { numLayers: 2, hiddenSize: 32, numHeads: 2, intermediateSize: 48 } }));
  });

  function modernBertSpec(edit: (tensors: NativeTensorSpec[]) => NativeTensorSpec[] = (t) => t, layerTypes?: string): NativeEngineSpec {
    const graph = nativeGraphFor('modernbert');
    if (graph === undefined) throw new Error('no ModernBERT native graph');
    const choice = graph.engineChoice(model.config);
    if (choice.family !== 'modernbert') throw new Error('ModernBERT engine choice expected');
    const tensors: NativeTensorSpec[] = [];
    for (const [name, view] of model.weights) {
      if (view.dtype !== 'I64') tensors.push({ name, dtype: view.dtype, shape: view.shape, bytes: view.bytes });
    }
    return {
      ...choice,
      config: { ...choice.config, layerTypes: layerTypes ?? choice.config.layerTypes },
      dtype: 'float32',
      threads: 1,
      tensors: edit(tensors),
    };
  }

  test('a well-formed spec loads (the control case)', async () => {
    const native = await loadAddon().loadEngine(modernBertSpec());
    assert.ok(native.nativeBytes > 0);
    native.dispose();
  });

  test('a missing, misshapen or truncated tensor is named; layer 0 needs no attn_norm', async () => {
    await assert.rejects(
      loadAddon().loadEngine(modernBertSpec((tensors) => tensors.filter((t) => t.name !== 'layers.1.attn_norm.weight'))),
      /missing tensor layers\.1\.attn_norm\.weight/,
    );
    await assert.rejects(
      loadAddon().loadEngine(modernBertSpec((tensors) => tensors.map((t) => (t.name === 'layers.0.mlp.Wi.weight' ? { ...t, shape: [48, 32] } : t)))),
      /layers\.0\.mlp\.Wi\.weight/,
    );
    await assert.rejects(
      loadAddon().loadEngine(
        modernBertSpec((tensors) =>
          tensors.map((t) => (t.name === 'layers.1.attn.Wqkv.weight' ? { ...t, bytes: t.bytes.subarray(0, t.bytes.length - 4) } : t)),
        ),
      ),
      /layers\.1\.attn\.Wqkv\.weight: \d+ bytes, expected \d+/,
    );
  });

  test('layer types that do not name one known type per layer are RangeErrors before any work', () => {
    assert.throws(
      () => loadAddon().loadEngine(modernBertSpec(undefined, 'full_attention')),
      (error: unknown) => {
        return error instanceof RangeError && /config\.layerTypes names 1 layers, numLayers is 2/.test(error.message);
      },
    );
    assert.throws(
      () => loadAddon().loadEngine(modernBertSpec(undefined, 'full_attention,chunked')),
      (error: unknown) => {
        return error instanceof RangeError && /unknown layer type 'chunked'/.test(error.message);
      },
    );
  });
});
