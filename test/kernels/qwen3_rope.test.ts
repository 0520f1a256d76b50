// Native rotate-half RoPE against the float64 reference (applyRotaryEmbedding): several heads, head dims that are not
// multiples of the vector width, Qwen3's theta and a small one, positions up to max_position_embeddings - 1.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyRotaryEmbedding } from '../../src/backends/reference/decoder_ops.js';
import { rope } from '../../src/backends/native/ops.js';
import { assertWithin, maxAbsError, randomArray } from './native_helpers.js';

// Angles, cos and sin are computed in float64 and rounded once to float32; x cos - y sin then rounds three times. With
// |x|, |y| <= scale: |error| <= scale * (2 * 2^-24 (cos, sin) + 3 * 2 * 2^-24 (products, difference)) < scale * 2^-20.
const TOLERANCE_PER_UNIT = 2 ** -20;

describe('native rope', () => {
  for (const [numHeads, headDim, theta] of [[1, 2, 10000], [4, 16, 1000000], [3, 10, 10000], [2, 64, 1000000], [5, 34, 500]] as const) {
    test(`${numHeads} heads of ${headDim}, theta ${theta}`, () => {
      const maxPosition = 40960;
      const positions = Int32Array.of(0, 1, 2, 7, 63, 64, 1000, 32767, maxPosition - 1);
      const x = randomArray(positions.length * numHeads * headDim, numHeads * 13 + headDim, 2);
      const y = rope(x, positions, numHeads, headDim, theta, maxPosition);
      assertWithin(maxAbsError(y, applyRotaryEmbedding(x, positions, numHeads, headDim, theta)), 2 * TOLERANCE_PER_UNIT, 'rope vs reference');
      assert.deepEqual(y.subarray(0, numHeads * headDim), x.subarray(0, numHeads * headDim), 'position 0 is the identity');
    });
  }

  test('positions outside [0, maxPosition), odd head dims and bad theta are RangeErrors', () => {
    const x = new Float32Array(16);
    assert.throws(() => rope(x, Int32Array.of(8), 1, 16, 10000, 8), /outside \[0, 8\)/);
    assert.throws(() => rope(x, Int32Array.of(-1), 1, 16, 10000, 8), RangeError);
    assert.throws(() => rope(new Float32Array(15), Int32Array.of(0), 1, 15, 10000, 8), /even/);
    assert.throws(() => rope(x, Int32Array.of(0), 1, 16, 0, 8), RangeError);
    assert.throws(() => rope(x, Int32Array.of(0, 1), 1, 16, 10000, 8), RangeError); // x too short for two tokens
  });
});
