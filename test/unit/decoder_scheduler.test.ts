// The decoder scheduler over the real Qwen3 reference backend (shrunk generated checkpoint): with and without prefix
// caching, for every chunk size (token budget), in f32 and bf16, every embedding equals the one-shot reference
// computation, including inputs that end exactly on a block boundary. Plus KV exhaustion (waits, never crashes),
// inputs larger than the cache, cache salts, cancellation and backend failures releasing their blocks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { PagedReferenceBackend } from '../../src/backends/reference/backend.js';
import { DecoderScheduler, type DecoderSchedulerOptions } from '../../src/engine/decoder_scheduler.js';
import type { SchedulerLimits } from '../../src/engine/scheduler.js';
import { InvalidRequestError, ModelLoadError } from '../../src/errors.js';
import type { LoadedModel } from '../../src/model/types.js';
import { loadQwen3Fixture, maxAbsDiff, randomTokens, RecordingBackend } from '../helpers/qwen3_fixture.js';

// Rows come back as float32 (the Backend contract); the oracle is float64. Rounding a unit vector's entries to
// float32 moves each by at most 2^-24 relative, so 1e-6 absolute leaves room only for that.
const TOLERANCE = 1e-6;
const BLOCK_SIZE = 4;
const LIMITS: SchedulerLimits = { maxNumBatchedTokens: 16, maxNumSeqs: 8, maxQueuedTokens: 1 << 20 };
const HASH_SEED = new Uint8Array(32).fill(3);

const PROMPT = randomTokens(12, 100); // 3 full blocks: the shared "instruction"
const concat = (...parts: ArrayLike<number>[]): Int32Array => Int32Array.from(parts.flatMap((part) => Array.from(part)));
const INPUTS: Int32Array[] = [
  PROMPT, // exactly the prompt: ends on a block boundary, fully cached in round 2 but for its last block
  concat(PROMPT, randomTokens(4, 1)), // 16: ends on a block boundary
  concat(PROMPT, randomTokens(1, 2)), // 13: one token past the cached blocks
  concat(PROMPT, randomTokens(2, 3)), // 14
  randomTokens(5, 4), // nothing shared
  randomTokens(1, 5), // a single token
];

const models = new Map<string, Promise<LoadedModel>>();
function model(dtype: 'F32' | 'BF16'): Promise<LoadedModel> {
  if (!models.has(dtype)) models.set(dtype, loadQwen3Fixture(dtype));
  return models.get(dtype)!;
}

async function oracle(loaded: LoadedModel, inputs: readonly Int32Array[]): Promise<Float64Array[]> {
  const backend = await PagedReferenceBackend.create(loaded);
  return inputs.map((tokens) => backend.forward64(buildRaggedBatch([tokens], { pooling: 'last', normalize: [true] }))[0]);
}

async function setup(
  loaded: LoadedModel,
  limits: Partial<SchedulerLimits> = {},
  opts: DecoderSchedulerOptions = {},
): Promise<{ scheduler: DecoderScheduler; backend: RecordingBackend }> {
  const backend = new RecordingBackend(await PagedReferenceBackend.create(loaded));
  const scheduler = new DecoderScheduler(backend, 'last', { ...LIMITS, ...limits }, { blockSize: BLOCK_SIZE, numKvBlocks: 64, hashSeed: HASH_SEED, ...opts });
  return { scheduler, backend };
}

const SUBMIT = { dimensions: 0, normalize: true } as const;

describe('DecoderScheduler: embeddings equal the one-shot reference', () => {
  for (const dtype of ['F32', 'BF16'] as const) {
    for (const enablePrefixCaching of [true, false]) {
      it(`${dtype}, prefix caching ${enablePrefixCaching ? 'on' : 'off'}, token budgets 1, 3, 4, 7, 16 and 4096`, async () => {
        const loaded = await model(dtype);
        const expected = await oracle(loaded, INPUTS);
        for (const budget of [1, 3, 4, 7, 16, 4096]) {
          const { scheduler, backend } = await setup(loaded, { maxNumBatchedTokens: budget }, { enablePrefixCaching });
          // Two rounds: the second finds the first's blocks cached (when caching is on).
          for (let round = 0; round < 2; round++) {
            const { rows } = await scheduler.submit(INPUTS, SUBMIT);
            rows.forEach((row, i) => {
              const diff = maxAbsDiff(row, expected[i]);
              assert.ok(diff <= TOLERANCE, `budget ${budget}, round ${round}, input ${i} (${INPUTS[i].length} tokens): ${diff}`);
            });
          }
          for (const batch of backend.batches) {
            assert.ok(batch.tokenIds.length <= budget, `a step of ${batch.tokenIds.length} tokens exceeds the budget ${budget}`);
          }
          const stats = scheduler.stats;
          assert.equal(stats.kv.numUsedBlocks, 0, 'every block released');
          assert.equal(scheduler.queuedTokens, 0);
          // 61 tokens per round: any smaller budget splits some input over two steps.
          assert.equal(stats.numChunkedSequences > 0, budget < 61, `chunked sequences with budget ${budget}`);
          if (enablePrefixCaching) {
            const cache = stats.kv.prefixCache!;
            assert.ok(cache.numHitTokens >= 4 * 12, `round 2 reuses the prompt blocks (hits ${cache.numHitTokens})`);
            assert.ok(cache.numHitTokens < cache.numQueriedTokens);
          } else {
            assert.equal(stats.kv.prefixCache, null);
          }
        }
      });
    }
  }

  it('recomputes the last block of an input that is entirely cached and ends on a block boundary', async () => {
    const { scheduler, backend } = await setup(await model('BF16'));
    await scheduler.submit([PROMPT], SUBMIT);
    const before = backend.batches.length;
    await scheduler.submit([PROMPT], SUBMIT);
    const second = backend.batches.slice(before);
    assert.equal(second.length, 1);
    assert.deepEqual([...second[0].numCachedTokens!], [8], 'two blocks reused, the third (holding the last token) recomputed');
    assert.deepEqual([...second[0].positions], [8, 9, 10, 11]);
    assert.equal(second[0].blockTables![0][0], backend.batches[0].blockTables![0][0], 'the shared blocks are the very same');
    assert.notEqual(second[0].blockTables![0][2], backend.batches[0].blockTables![0][2], 'the recomputed block is a fresh one');
  });
});

describe('DecoderScheduler: memory, isolation, cancellation, failures', () => {
  it('waits for blocks when the KV cache is full, never crashing, and refuses inputs larger than the whole cache', async () => {
    const loaded = await model('BF16');
    // 5 blocks: 4 usable = 16 tokens; three 12-token inputs need 3 blocks each.
    const { scheduler, backend } = await setup(loaded, { maxNumBatchedTokens: 64 }, { numKvBlocks: 5, enablePrefixCaching: false });
    const inputs = [randomTokens(12, 21), randomTokens(12, 22), randomTokens(12, 23)];
    const expected = await oracle(loaded, inputs);
    const results = await Promise.all(inputs.map((tokens) => scheduler.submit([tokens], SUBMIT)));
    results.forEach(({ rows }, i) => assert.ok(maxAbsDiff(rows[0], expected[i]) <= TOLERANCE));
    assert.equal(backend.batches.length, 3, 'one input per step: the cache holds only one at a time');
    for (const batch of backend.batches) {
      const used = batch.blockTables!.flatMap((table) => [...table]);
      assert.ok(new Set(used).size === used.length && used.every((id) => id >= 1 && id < 5));
    }
    await assert.rejects(scheduler.submit([randomTokens(17, 24)], SUBMIT), (error: unknown) => {
      assert.ok(error instanceof InvalidRequestError);
      assert.equal(error.code, 'kv_cache_too_small');
      assert.match(error.message, /16 tokens: 4 blocks of 4/);
      return true;
    });
    assert.equal(scheduler.stats.maxTokensPerSequence, 16);
    assert.deepEqual(backend.kvSpec, { numBlocks: 5, blockSize: 4 });
  });

  it('shares cached blocks only between requests with the same cache salt', async () => {
    const { scheduler } = await setup(await model('BF16'));
    const tokens = concat(PROMPT, randomTokens(3, 31));
    const hits = () => scheduler.stats.kv.prefixCache!.numHitTokens;
    const a1 = await scheduler.submit([tokens], { ...SUBMIT, cacheSalt: 'tenant-a' });
    assert.equal(hits(), 0);
    const b = await scheduler.submit([tokens], { ...SUBMIT, cacheSalt: 'tenant-b' });
    assert.equal(hits(), 0, 'another tenant computes everything');
    const plain = await scheduler.submit([tokens], SUBMIT);
    assert.equal(hits(), 0, 'no salt is a tenant of its own');
    const a2 = await scheduler.submit([tokens], { ...SUBMIT, cacheSalt: 'tenant-a' });
    assert.equal(hits(), 12);
    for (const result of [b, plain, a2]) assert.ok(maxAbsDiff(result.rows[0], a1.rows[0]) <= TOLERANCE);
  });

  it('drops a cancelled request mid-prefill, releases its blocks, and leaves other requests correct', async () => {
    const loaded = await model('BF16');
    const { scheduler, backend } = await setup(loaded, { maxNumBatchedTokens: 4 });
    const long = randomTokens(14, 41);
    const other = randomTokens(6, 42);
    const [expected] = await oracle(loaded, [other]);
    const controller = new AbortController();
    backend.beforeForward = () => {
      if (backend.batches.length === 2) controller.abort(new Error('client went away'));
    };
    const cancelled = scheduler.submit([long], { ...SUBMIT, signal: controller.signal });
    const kept = scheduler.submit([other], SUBMIT);
    await assert.rejects(cancelled, /client went away/);
    const { rows } = await kept;
    assert.ok(maxAbsDiff(rows[0], expected) <= TOLERANCE);
    const longSteps = backend.batches.filter((batch) => batch.blockTables!.length > 0 && batch.tokenIds.includes(long[0]));
    assert.ok(longSteps.length < 4, 'the cancelled input stopped before its last chunk');
    await scheduler.close();
    assert.equal(scheduler.stats.kv.numUsedBlocks, 0);
    assert.equal(scheduler.stats.numRunningSequences, 0);
    assert.equal(scheduler.queuedTokens, 0);
  });

  it('fails the requests of a step whose forward throws, releases their blocks, and keeps serving', async () => {
    const loaded = await model('BF16');
    const { scheduler, backend } = await setup(loaded, { maxNumBatchedTokens: 4 });
    backend.beforeForward = (batch) => {
      if (batch.numCachedTokens![0] === 4) throw new Error('device lost');
    };
    await assert.rejects(scheduler.submit([randomTokens(10, 51)], SUBMIT), /device lost/);
    assert.equal(scheduler.stats.kv.numUsedBlocks, 0);
    backend.beforeForward = null;
    const tokens = randomTokens(10, 51);
    const [expected] = await oracle(loaded, [tokens]);
    const { rows } = await scheduler.submit([tokens], SUBMIT);
    assert.ok(maxAbsDiff(rows[0], expected) <= TOLERANCE);
    assert.equal(scheduler.queuedTokens, 0);
  });

  it('refuses configurations it cannot run at construction', async () => {
    const backend = await PagedReferenceBackend.create(await model('BF16'));
    assert.throws(
      () => new DecoderScheduler(backend, 'mean', LIMITS),
      (error: unknown) => error instanceof ModelLoadError && /needs LAST pooling/.test(error.message),
    );
    assert.throws(
      () => new DecoderScheduler(backend, 'last', LIMITS, { blockSize: 16, kvCacheMemoryBytes: 16 * backend.kvBytesPerToken }),
      /holds 1 KV block\(s\) of 16 tokens .* at least 2 are needed/,
    );
    const sized = new DecoderScheduler(backend, 'last', LIMITS, { blockSize: 16, kvCacheMemoryBytes: 10 * 16 * backend.kvBytesPerToken });
    assert.equal(sized.stats.kv.numUsableBlocks, 9);
  });

  it('clamps the default KV cache to what the device holds, and takes an explicit size as asked', async () => {
    const backend = await PagedReferenceBackend.create(await model('BF16'));
    // A device that binds 100 token slots per layer buffer (as WebGPU on lavapipe caps it at 128 MiB).
    const limited = Object.assign(Object.create(backend) as typeof backend, { maxKvCacheTokens: 100 });
    const byDefault = new DecoderScheduler(limited, 'last', LIMITS, { blockSize: 16 });
    assert.equal(byDefault.stats.kv.numUsableBlocks, Math.floor(100 / 16) - 1);
    const initialized: number[] = [];
    const recording = Object.assign(Object.create(backend) as typeof backend, {
      maxKvCacheTokens: 100,
      initKvCache: (spec: { numBlocks: number }) => initialized.push(spec.numBlocks),
    });
    new DecoderScheduler(recording, 'last', LIMITS, { blockSize: 16, kvCacheMemoryBytes: 20 * 16 * backend.kvBytesPerToken });
    assert.deepEqual(initialized, [20], 'an explicit --kv-cache-memory reaches the backend unclamped (which refuses it if it cannot fit)');
  });
});
