// Native bias + activation (the GEMM's fused epilogue, as an op) against the float64 reference activations.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { activation as referenceActivation } from '../../src/backends/reference/ops.js';
import { biasActivation } from '../../src/backends/native/ops.js';
import { assertWithin, maxAbsError, randomArray } from './native_helpers.js';

/** Inputs spanning the interesting range of GELU: deep negative tail, around 0, large positive. */
function spread(length: number, seed: number): Float32Array {
  const x = randomArray(length, seed, 8);
  x[0] = 0;
  if (length > 3) {
    x[1] = -12;
    x[2] = 12;
    x[3] = -1e-6;
  }
  return x;
}

describe('native biasActivation', () => {
  for (const kind of ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'] as const) {
    for (const [rows, cols] of [[1, 1], [3, 17], [7, 100], [2, 1536]] as const) {
      test(`${kind} ${rows} x ${cols}`, () => {
        const x = spread(rows * cols, rows * 7 + cols);
        const bias = randomArray(cols, cols);
        const xBefore = Float32Array.from(x);
        const y = biasActivation(x, rows, cols, bias, kind);
        const pre = new Float32Array(x.length);
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) pre[r * cols + c] = x[r * cols + c] + bias[c];
        const expected = referenceActivation(pre, kind);
        // float32 results: relative 2e-6 of the value plus 1e-7 absolute for the tail near 0 (erfc-based GELU is
        // accurate to ~1e-7 relative, the exp polynomial to ~1 ulp).
        let worst = 0;
        for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - expected[i]) / (2e-6 * Math.abs(expected[i]) + 1e-7));
        assertWithin(worst, 1, `${kind} vs reference (in units of its bound)`);
        assert.deepEqual(x, xBefore, 'the input array is not modified');
      });
    }
  }

  test('the GELU tail keeps relative accuracy (no 1 + erf cancellation)', () => {
    const x = Float32Array.from([-3, -4, -5, -6, -7]);
    const y = biasActivation(x, 1, 5, null, 'gelu');
    const expected = referenceActivation(x, 'gelu');
    for (let i = 0; i < 5; i++) assertWithin(Math.abs(y[i] - expected[i]) / Math.abs(expected[i]), 1e-5, `gelu(${x[i]}) relative`);
  });

  test('no bias, none = identity', () => {
    const x = randomArray(33, 1);
    assertWithin(maxAbsError(biasActivation(x, 3, 11, null, 'none'), x), 0, 'identity');
  });

  test('bad sizes are RangeErrors', () => {
    assert.throws(() => biasActivation(new Float32Array(5), 2, 3, null, 'gelu'), RangeError);
    assert.throws(() => biasActivation(new Float32Array(6), 2, 3, new Float32Array(2), 'gelu'), RangeError);
  });
});
