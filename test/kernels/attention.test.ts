// Native ragged attention (tiled, online softmax, no padding) against the float64 reference: odd head sizes, any
// head count, one-token sequences, a batch mixing 1 and 512 tokens, and sequence lengths around the key tile.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attention as referenceAttention } from '../../src/backends/reference/ops.js';
import { attention } from '../../src/backends/native/ops.js';
import { assertWithin, maxAbsError, randomArray } from './native_helpers.js';

function cuSeqLensOf(lengths: readonly number[]): Int32Array {
  const cu = new Int32Array(lengths.length + 1);
  lengths.forEach((len, i) => (cu[i + 1] = cu[i] + len));
  return cu;
}

// Outputs are convex combinations of V rows (|v| <= 1): float32 scores, exp and sums err by ~1e-6 absolute.
const TOLERANCE = 1e-5;

describe('native attention', () => {
  const cases: [string, number[], number, number][] = [
    ['one sequence of one token', [1], 2, 8],
    ['one-token sequences only', [1, 1, 1], 3, 5],
    ['odd head dim and head count', [7, 3, 11], 3, 17],
    ['lengths around the key tile', [15, 16, 17, 63, 64, 65, 130], 2, 32],
    ['bge-small head shape', [40, 9], 12, 32],
    ['bge-base head shape', [33], 12, 64],
    ['head dim 1', [5, 2], 4, 1],
    ['batch mixing 1 and 512 tokens', [1, 512, 1, 3], 2, 32],
  ];
  for (const [name, lengths, numHeads, headDim] of cases) {
    test(`${name}: lengths [${lengths.join(', ')}], ${numHeads} heads x ${headDim}`, () => {
      const tokens = lengths.reduce((a, b) => a + b, 0);
      const width = numHeads * headDim;
      const seed = tokens * 131 + width;
      // Scores up to ~|q||k| = headDim / 3 * scale: wide enough that the softmax is far from uniform.
      const q = randomArray(tokens * width, seed, 2);
      const k = randomArray(tokens * width, seed + 1, 2);
      const v = randomArray(tokens * width, seed + 2);
      const cu = cuSeqLensOf(lengths);
      const out = attention(q, k, v, cu, numHeads, headDim);
      assertWithin(maxAbsError(out, referenceAttention(q, k, v, cu, numHeads, headDim)), TOLERANCE, 'attention vs reference');
    });
  }

  test('a sequence attends only to itself: alone = inside a mixed batch (bitwise)', () => {
    const [numHeads, headDim] = [4, 16];
    const width = numHeads * headDim;
    const lengths = [5, 70, 1, 33];
    const tokens = 109;
    const q = randomArray(tokens * width, 1);
    const k = randomArray(tokens * width, 2);
    const v = randomArray(tokens * width, 3);
    const batched = attention(q, k, v, cuSeqLensOf(lengths), numHeads, headDim);
    let start = 0;
    for (const len of lengths) {
      const slice = (a: Float32Array) => a.slice(start * width, (start + len) * width);
      const alone = attention(slice(q), slice(k), slice(v), cuSeqLensOf([len]), numHeads, headDim);
      assert.deepEqual(alone, batched.subarray(start * width, (start + len) * width), `sequence of ${len}`);
      start += len;
    }
  });

  test('onlyQuery computes just those rows, bitwise as in the full computation', () => {
    const [numHeads, headDim] = [3, 20];
    const width = numHeads * headDim;
    const lengths = [1, 9, 130, 4];
    const tokens = 144;
    const q = randomArray(tokens * width, 31);
    const k = randomArray(tokens * width, 32);
    const v = randomArray(tokens * width, 33);
    const cu = cuSeqLensOf(lengths);
    const full = attention(q, k, v, cu, numHeads, headDim);
    const onlyQuery = Int32Array.from([0, 8, 77, 0]);
    const partial = attention(q, k, v, cu, numHeads, headDim, onlyQuery);
    for (let s = 0; s < lengths.length; s++) {
      for (let t = 0; t < lengths[s]; t++) {
        const row = (cu[s] + t) * width;
        const expected = t === onlyQuery[s] ? full.subarray(row, row + width) : new Float32Array(width);
        assert.deepEqual(partial.subarray(row, row + width), expected, `sequence ${s} token ${t}`);
      }
    }
    assert.throws(() => attention(q, k, v, cu, numHeads, headDim, Int32Array.from([1, 0, 0, 0])), /only_query\[0\] = 1 is outside/);
  });

  test('large scores do not overflow (the running max is subtracted)', () => {
    const q = Float32Array.from({ length: 3 * 4 }, (_, i) => (i % 2 ? 60 : -60));
    const k = Float32Array.from({ length: 3 * 4 }, (_, i) => (i % 3 ? 60 : -60));
    const v = randomArray(12, 5);
    const cu = cuSeqLensOf([3]);
    const out = attention(q, k, v, cu, 1, 4);
    assert.ok(out.every(Number.isFinite));
    assertWithin(maxAbsError(out, referenceAttention(q, k, v, cu, 1, 4)), TOLERANCE, 'saturated softmax vs reference');
  });

  test('malformed cuSeqLens are RangeErrors', () => {
    const x = new Float32Array(4 * 8);
    assert.throws(() => attention(x, x, x, Int32Array.from([0, 3]), 2, 4), /ends at 3 but there are 4 tokens/);
    assert.throws(() => attention(x, x, x, Int32Array.from([0, 3, 2, 4]), 2, 4), /non-decreasing/);
    assert.throws(() => attention(x, x, x, Int32Array.from([1, 4]), 2, 4), /must be 0/);
    assert.throws(() => attention(x, x, new Float32Array(8), Int32Array.from([0, 4]), 2, 4), RangeError);
    assert.throws(() => attention(new Float32Array(7), x, x, Int32Array.from([0, 4]), 2, 4), RangeError);
  });
});
