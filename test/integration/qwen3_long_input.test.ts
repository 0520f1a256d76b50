// A decoder input at the model's full context (32,768 tokens for Qwen3) through chunked prefill on the native
// engine, within a KV cache sized for exactly that: the pooled vector equals the one-shot computation of the same
// tokens. One token more is refused up front.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { Embedder } from '../../src/engine/embedder.js';
import { qwen3FixtureDir } from '../helpers/qwen3_fixture.js';

// Chunked (8 steps of 4096 with K/V read back through block tables) vs one shot, both native fp32: the sums run in
// a different order, so equal to ~1e-6 relative; cosine >= 1 - 1e-9 leaves room for that and nothing more.
const COSINE_FLOOR = 1 - 1e-9;
const MAX_POSITIONS = 32768;

let chunked: Embedder;
let oneShot: Embedder;
let ids: Int32Array;

before(async () => {
  const dir = await qwen3FixtureDir('F32');
  // 2 layers x 2 KV heads x 16 dims x (K and V) x 4 bytes = 512 bytes per token: 32768 tokens need 16 MiB + block 0.
  const kvBytesPerToken = 2 * 2 * 2 * 16 * 4;
  chunked = await Embedder.load(dir, {
    backend: 'cpu',
    tokenizerWorkers: 0,
    limits: { maxNumBatchedTokens: 4096 },
    kvCache: { blockSize: 16, kvCacheMemoryBytes: (MAX_POSITIONS + 16) * kvBytesPerToken, enablePrefixCaching: false },
  });
  // The comparison: the same scheduler and cache with a budget of the whole context, so the input is one chunk.
  oneShot = await Embedder.load(dir, {
    backend: 'cpu',
    tokenizerWorkers: 0,
    limits: { maxNumBatchedTokens: MAX_POSITIONS },
    kvCache: { blockSize: 16, kvCacheMemoryBytes: (MAX_POSITIONS + 16) * kvBytesPerToken, enablePrefixCaching: false },
  });
  ids = new Int32Array(MAX_POSITIONS);
  let state = 7;
  for (let i = 0; i < ids.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    ids[i] = state % 150000;
  }
  ids[ids.length - 1] = 151643; // <|endoftext|>, which LAST pooling reads
});
after(async () => {
  await chunked.close();
  await oneShot.close();
});

test('the model limit is the model max positions', () => {
  assert.equal(chunked.maxSeqLength, MAX_POSITIONS);
});

test('a 32,768-token input in 8 chunks equals the same input in one chunk', async () => {
  const [a] = (await chunked.embedInputs([ids])).rows;
  const [b] = (await oneShot.embedInputs([ids])).rows;
  let dot = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  const cosine = dot / Math.sqrt(aa * bb);
  assert.ok(cosine >= COSINE_FLOOR, `cosine ${cosine}`);
  const stats = (chunked.scheduler as unknown as { stats: { numChunkedSequences: number } }).stats;
  assert.ok(stats.numChunkedSequences >= 1, 'the input was chunked');
});

test('one token past the context is refused with a 400 naming both lengths', async () => {
  const tooLong = new Int32Array(MAX_POSITIONS + 1).fill(100);
  await assert.rejects(chunked.embedInputs([tooLong]), /32769 tokens exceeds the model's maximum input length of 32768/);
});
