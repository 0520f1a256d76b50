// The native engines' working buffers (activations and scratch sized by the batch): what the engine holds is what V8
// is told (napi_adjust_external_memory) and what /metrics shows, and after the idle bound they go back (to 0 bytes)
// while the next forward still gives the same rows. No wall-clock or RSS assertions: the idle release is awaited by
// polling, with a generous cap so a loaded machine cannot fail it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { buildRaggedBatch, type RaggedBatch } from '../../src/backends/backend.js';
import { loadAddon } from '../../src/backends/native/addon.js';
import { createNativeBackend, type NativeBackend } from '../../src/backends/native/backend.js';
import { parseServeArgs } from '../../src/cli/serve_options.js';
import { Embedder } from '../../src/engine/embedder.js';
import { loadModel } from '../../src/model/load.js';
import { buildServer } from '../../src/server/app.js';
import { fixtureModel } from '../fixtures/generate.js';
import { qwen3FixtureDir, QWEN3_TINY_SHRINK } from '../helpers/qwen3_fixture.js';

const PAGE = 4096;
/** The engine maps each buffer whole pages at a time; from empty, exactly the pages the batch needs. */
const pages = (floats: number) => Math.ceil((floats * 4) / PAGE) * PAGE;
/** Short idle bound for the tests (the default is 10 s). */
const IDLE_SECONDS = 0.2;

const BERT_SHRINK = { numLayers: 2, hiddenSize: 48, numHeads: 3, intermediateSize: 80 };

/** Sequence lengths that are multiples of 64, so K^T needs no key-tile padding whatever the ISA's tile. */
function sequences(lengths: readonly number[], vocabSize: number): number[][] {
  return lengths.map((n, s) => Array.from({ length: n }, (_, t) => (t === 0 ? 101 : (t * 7919 + s * 104729) % vocabSize)));
}

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 30_000) assert.fail(`${what} did not happen`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** V8's external-memory count, relative to `base`. */
const externalSince = (base: number) => loadAddon().externalMemoryBytes() - base;
/** V8's count also holds ArrayBuffers (the rows a forward returns, until collected): a few KB of slack. */
function assertReported(base: number, expected: number, what: string): void {
  const delta = externalSince(base);
  assert.ok(Math.abs(delta - expected) < 16384, `${what}: V8 counts ${delta} bytes more than before, expected ${expected}`);
}

async function checkAccounting(backend: NativeBackend, batch: RaggedBatch, expectedBytes: number): Promise<void> {
  const base = loadAddon().externalMemoryBytes();
  assert.equal(backend.workingBufferBytes, 0, 'nothing is held before the first forward');
  const first = await backend.forward(batch);
  assert.equal(backend.workingBufferBytes, expectedBytes, 'every working buffer, page-rounded');
  assertReported(base, expectedBytes, 'after the first forward');

  // The idle bound passes: the buffers go back and V8 is told.
  await waitFor('the idle release', () => backend.workingBufferBytes === 0);
  assertReported(base, 0, 'after the idle release');

  // The next forward maps the buffers again and computes the same rows, bitwise.
  const again = await backend.forward(batch);
  assert.deepEqual(again, first);
  assert.equal(backend.workingBufferBytes, expectedBytes);
  assertReported(base, expectedBytes, 'after the forward that followed');

  // An explicit release returns what was held.
  assert.equal(await backend.releaseWorkingMemory(), expectedBytes);
  assert.equal(backend.workingBufferBytes, 0);
  assertReported(base, 0, 'after the explicit release');
}

describe('native working buffers', () => {
  test('BERT: accounted exactly, reported to V8, released after the idle bound', async (t) => {
    const model = await loadModel(await fixtureModel('bge-small', { shrink: BERT_SHRINK }));
    const backend = await createNativeBackend(model, { threads: 1, releaseWorkingMemoryAfterSeconds: IDLE_SECONDS });
    t.after(() => backend.dispose());
    const { hiddenSize: H, intermediateSize: I, vocabSize } = model.config;
    const lengths = [64, 128, 64];
    const T = 256;
    const n = lengths.length;
    // hidden, hidden_alt, qkv, context, intermediate, K^T (every key, every head), the pruned last layer's CLS rows.
    const expected = pages(T * H) * 2 + pages(T * 3 * H) + pages(T * H) + pages(T * I) + pages(T * H) + pages(n * (4 * H + I));
    await checkAccounting(backend, buildRaggedBatch(sequences(lengths, vocabSize), { pooling: 'cls', normalize: [true, true, true] }), expected);
  });

  test('Qwen3: accounted exactly (KV cache apart), reported to V8, released after the idle bound', async (t) => {
    const model = await loadModel(await qwen3FixtureDir('F32'));
    const backend = await createNativeBackend(model, { threads: 1, releaseWorkingMemoryAfterSeconds: IDLE_SECONDS });
    t.after(() => backend.dispose());
    const { hiddenSize: H, intermediateSize: I, numHeads, numKeyValueHeads, headDim } = QWEN3_TINY_SHRINK;
    const qw = numHeads * headDim;
    const kvw = numKeyValueHeads * headDim;
    const W = qw + 2 * kvw;
    const lengths = [64, 64];
    const T = 128;
    const n = lengths.length;
    // hidden, hidden_alt, normed, q|k|v, context, gate|up, SwiGLU out, one layer's scratch K|V (one-shot: block size 1,
    // block 0 reserved), the pruned last layer's rows.
    const expected =
      pages(T * H) * 3 + pages(T * W) + pages(T * qw) + pages(T * 2 * I) + pages(T * I) + pages(2 * (T + 1) * kvw) + pages(n * (qw + 4 * H + 3 * I));
    await checkAccounting(backend, buildRaggedBatch(sequences(lengths, model.config.vocabSize), { pooling: 'last' }), expected);
  });
});

describe('--release-working-memory-after and /metrics', () => {
  const load = async (releaseWorkingMemoryAfterSeconds: number) =>
    Embedder.load(await fixtureModel('bge-small', { shrink: BERT_SHRINK }), {
      backend: 'cpu',
      threads: 1,
      tokenizerWorkers: 0,
      releaseWorkingMemoryAfterSeconds,
    });

  test('the flag and its env var', () => {
    const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      const options = parseServeArgs(['--model', 'm', ...argv], env);
      assert.notEqual(options, 'help');
      return options === 'help' ? undefined : options.embedder.releaseWorkingMemoryAfterSeconds;
    };
    assert.equal(parse([]), 10);
    assert.equal(parse(['--release-working-memory-after', '2.5']), 2.5);
    assert.equal(parse(['--release-working-memory-after', '0']), 0);
    assert.equal(parse([], { POOLED_RELEASE_WORKING_MEMORY_AFTER: '30' }), 30);
    assert.throws(() => parse(['--release-working-memory-after=-1']), /must be a number >= 0/);
  });

  test('the Embedder hands the idle bound to the native backend', async (t) => {
    const embedder = await load(IDLE_SECONDS);
    t.after(() => embedder.close());
    const backend = embedder.backend as NativeBackend;
    await embedder.embed(['a short text']);
    await waitFor('the idle release', () => backend.workingBufferBytes === 0);
  });

  test('pooled_native_working_buffer_bytes reads what the engine holds', async (t) => {
    const embedder = await load(3600); // no idle release during the test: the gauge must equal a known value
    const app = buildServer(embedder);
    t.after(async () => {
      await app.close();
      await embedder.close();
    });
    const gauge = async () => {
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const m = /^pooled_native_working_buffer_bytes (\S+)$/m.exec(text);
      assert.ok(m, 'the gauge is exported');
      return Number(m[1]);
    };
    const backend = embedder.backend as NativeBackend;
    assert.equal(await gauge(), 0);
    const res = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: ['a short text', 'and another one, a little longer'] } });
    assert.equal(res.statusCode, 200);
    assert.ok(backend.workingBufferBytes > 0);
    assert.equal(await gauge(), backend.workingBufferBytes);
    await backend.releaseWorkingMemory();
    assert.equal(await gauge(), 0);
  });
});
