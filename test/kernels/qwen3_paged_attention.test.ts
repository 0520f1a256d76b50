// Native paged causal GQA attention against the float64 reference (pagedCausalAttention): K/V scattered over shuffled,
// non-contiguous blocks; cached prefixes crossing the 64-key tile; block sizes 1, 3, 4 and 16; head dims that are not
// multiples of the vector width; GQA groups of 1, 2 and 3; one-token sequences; a batch mixing 1 and 150 visible keys.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pagedCausalAttention, type PagedKeyValues } from '../../src/backends/reference/decoder_ops.js';
import { pagedAttention } from '../../src/backends/native/ops.js';
import { assertWithin, maxAbsError, randomArray } from './native_helpers.js';

interface Case {
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly blockSize: number;
  /** Per sequence: [cached tokens, new tokens]. */
  readonly seqs: readonly (readonly [number, number])[];
}

function shuffled(count: number, seed: number): number[] {
  // Block ids 1..count in a seeded order (Fisher-Yates over an LCG).
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  let state = seed >>> 0;
  for (let i = ids.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids;
}

function run(c: Case, seed: number): { actual: Float32Array; expected: Float64Array } {
  const { numHeads, numKvHeads, headDim, blockSize, seqs } = c;
  const kvWidth = numKvHeads * headDim;
  const blocksPerSeq = seqs.map(([cached, fresh]) => Math.ceil((cached + fresh) / blockSize) + 1); // one spare block each
  const numBlocks = blocksPerSeq.reduce((a, b) => a + b, 0) + 1; // + the reserved block 0
  const ids = shuffled(numBlocks - 1, seed);
  const blockTables: Int32Array[] = [];
  let next = 0;
  for (const count of blocksPerSeq) {
    blockTables.push(Int32Array.from(ids.slice(next, next + count)));
    next += count;
  }
  // Every slot gets values (block 0 stays 0 and is never named): O(1) keys and values, q scaled so scores span ~[-6, 6].
  const kCache = randomArray(numBlocks * blockSize * kvWidth, seed + 1, 1);
  const vCache = randomArray(numBlocks * blockSize * kvWidth, seed + 2, 1);
  kCache.fill(0, 0, blockSize * kvWidth);
  vCache.fill(0, 0, blockSize * kvWidth);
  const cuSeqLens = new Int32Array(seqs.length + 1);
  seqs.forEach(([, fresh], i) => (cuSeqLens[i + 1] = cuSeqLens[i] + fresh));
  const numCachedTokens = Int32Array.from(seqs, ([cached]) => cached);
  const q = randomArray(cuSeqLens[seqs.length] * numHeads * headDim, seed + 3, 6 / Math.sqrt(headDim));
  const cache: PagedKeyValues = {
    blockSize,
    key: (block, slot) => kCache.subarray((block * blockSize + slot) * kvWidth, (block * blockSize + slot + 1) * kvWidth),
    value: (block, slot) => vCache.subarray((block * blockSize + slot) * kvWidth, (block * blockSize + slot + 1) * kvWidth),
  };
  const expected = pagedCausalAttention(q, cuSeqLens, numCachedTokens, blockTables, cache, numHeads, numKvHeads, headDim);
  const actual = pagedAttention({ q, kCache, vCache, numBlocks, blockSize, numHeads, numKvHeads, headDim, cuSeqLens, numCachedTokens, blockTables });
  return { actual, expected };
}

// Outputs are convex combinations of V rows (|v| <= 1). Scores (|s| <~ 6) carry float32 dot-product error of about
// headDim * 2^-24 * |q||k| <~ 1e-6 relative, which moves the softmax weights by that much relative; exp is ~1 ulp and the
// running sums round once per key. Measured max error ~1e-7; bound 2e-6.
const TOLERANCE = 2e-6;

const CASES: Case[] = [
  { numHeads: 1, numKvHeads: 1, headDim: 16, blockSize: 4, seqs: [[0, 1]] },
  { numHeads: 4, numKvHeads: 2, headDim: 16, blockSize: 4, seqs: [[0, 12], [8, 4], [12, 1], [0, 5]] },
  { numHeads: 6, numKvHeads: 2, headDim: 24, blockSize: 3, seqs: [[0, 7], [70, 3], [2, 1]] },
  { numHeads: 3, numKvHeads: 3, headDim: 7, blockSize: 1, seqs: [[5, 2], [0, 9]] },
  { numHeads: 8, numKvHeads: 2, headDim: 128, blockSize: 16, seqs: [[0, 1], [128, 22], [63, 2], [64, 1]] },
  { numHeads: 2, numKvHeads: 1, headDim: 34, blockSize: 16, seqs: [[0, 150], [0, 1]] },
];

describe('native pagedAttention', () => {
  CASES.forEach((c, index) => {
    const shape = `${c.numHeads}/${c.numKvHeads} heads of ${c.headDim}, blocks of ${c.blockSize}, [cached, new] ${JSON.stringify(c.seqs)}`;
    test(shape, () => {
      const { actual, expected } = run(c, 1000 + index * 17);
      assertWithin(maxAbsError(actual, expected), TOLERANCE, 'pagedAttention vs reference');
    });
  });

  test('block ids, table lengths and cached counts are checked before anything is read', () => {
    const base = {
      q: new Float32Array(2 * 16),
      kCache: new Float32Array(4 * 2 * 16),
      vCache: new Float32Array(4 * 2 * 16),
      numBlocks: 4,
      blockSize: 2,
      numHeads: 1,
      numKvHeads: 1,
      headDim: 16,
      cuSeqLens: Int32Array.of(0, 2),
      numCachedTokens: Int32Array.of(0),
      blockTables: [Int32Array.of(1)],
    };
    assert.equal(pagedAttention(base).length, 32);
    assert.throws(() => pagedAttention({ ...base, blockTables: [Int32Array.of(4)] }), /outside \[1, 4\)/);
    assert.throws(() => pagedAttention({ ...base, blockTables: [Int32Array.of(0)] }), /outside \[1, 4\)/);
    assert.throws(() => pagedAttention({ ...base, blockTables: [Int32Array.of(-7)] }), /outside \[1, 4\)/);
    assert.throws(() => pagedAttention({ ...base, numCachedTokens: Int32Array.of(1) }), /needs 2/);
    assert.throws(() => pagedAttention({ ...base, numCachedTokens: Int32Array.of(-1) }), /negative/);
    assert.throws(
      () => pagedAttention({ ...base, numHeads: 3, numKvHeads: 2, q: new Float32Array(2 * 48), kCache: new Float32Array(256), vCache: new Float32Array(256) }),
      /multiple/,
    );
    assert.throws(() => pagedAttention({ ...base, kCache: new Float32Array(10) }), RangeError);
  });
});
