// Native RMSNorm (Qwen3RMSNorm: hidden-state norms, and per-head q_norm / k_norm as groups) against the float64
// reference on widths that are not multiples of the vector width (16 / 8 / 1), several groups per row, large offsets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rmsNorm as referenceRmsNorm } from '../../src/backends/reference/decoder_ops.js';
import { rmsNorm } from '../../src/backends/native/ops.js';
import { assertWithin, maxRelError, randomArray } from './native_helpers.js';

// y_i = w_i * x_i * s, s = 1 / sqrt(sum(x^2) / n + eps): every element carries s's relative error plus two roundings.
// A float32 sum of n squares errs by at most n * 2^-24 relative (any lane count, worst case), the square root halves
// it, so (n / 2 + 4) * 2^-24 bounds the relative error of every element; the floor only guards exact zeros.
const relTolerance = (cols: number): number => (cols / 2 + 4) * 2 ** -24;

describe('native rmsNorm', () => {
  for (const [rows, groups, cols] of [[1, 1, 1], [3, 1, 7], [5, 1, 17], [33, 1, 64], [2, 1, 1000], [7, 4, 16], [5, 3, 24], [3, 2, 128], [4, 5, 9]] as const) {
    test(`${rows} rows x ${groups} groups of ${cols}`, () => {
      const x = randomArray(rows * groups * cols, rows * 31 + cols + groups, 3);
      const weight = randomArray(cols, cols + 1, 2);
      const y = rmsNorm(x, rows, groups, cols, weight, 1e-6);
      const expected = referenceRmsNorm(x, rows * groups, cols, weight, 1e-6);
      assertWithin(maxRelError(y, expected, 1e-30), relTolerance(cols), 'rmsNorm vs reference');
    });
  }

  test('a large common offset and a large eps', () => {
    const cols = 257;
    const x = Float32Array.from(randomArray(2 * cols, 77), (v) => 1000 + v);
    const weight = randomArray(cols, 78);
    // eps enters the statistic exactly as upstream: inside the square root.
    for (const eps of [1e-6, 0.5, 1e6]) {
      assertWithin(maxRelError(rmsNorm(x, 2, 1, cols, weight, eps), referenceRmsNorm(x, 2, cols, weight, eps), 1e-30), relTolerance(cols), `eps ${eps}`);
    }
  });

  test('zero rows, and argument errors are RangeErrors', () => {
    assert.equal(rmsNorm(new Float32Array(0), 0, 1, 8, new Float32Array(8), 1e-6).length, 0);
    assert.throws(() => rmsNorm(new Float32Array(7), 1, 1, 8, new Float32Array(8), 1e-6), RangeError);
    assert.throws(() => rmsNorm(new Float32Array(8), 1, 1, 8, new Float32Array(7), 1e-6), RangeError);
    assert.throws(() => rmsNorm(new Float32Array(8), 1, 1, 8, new Float32Array(8), -1), RangeError);
  });
});
