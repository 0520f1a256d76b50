// Native LayerNorm (optionally of x + residual) against the float64 reference, on widths that are not multiples of
// the vector width (16 / 8 / 1) and on rows with a large mean (where E[x^2] - E[x]^2 would cancel).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addResidual, layerNorm as referenceLayerNorm } from '../../src/backends/reference/ops.js';
import { layerNorm } from '../../src/backends/native/ops.js';
import { assertWithin, maxAbsError, randomArray } from './native_helpers.js';

describe('native layerNorm', () => {
  for (const [rows, cols] of [[1, 1], [3, 7], [5, 17], [33, 384], [2, 1000], [9, 768]] as const) {
    test(`${rows} x ${cols}`, () => {
      const x = randomArray(rows * cols, rows * 31 + cols, 3);
      const gamma = randomArray(cols, cols + 1);
      const beta = randomArray(cols, cols + 2);
      const y = layerNorm(x, rows, cols, gamma, beta, 1e-12);
      // Normalized values are O(1) (|x - mean| / std <= sqrt(cols)); float32 statistics err by a few ulps of that.
      assertWithin(maxAbsError(y, referenceLayerNorm(x, rows, cols, gamma, beta, 1e-12)), 2e-6 * Math.sqrt(cols), 'layerNorm vs reference');
    });

    test(`${rows} x ${cols} with residual = LayerNorm of the sum`, () => {
      const x = randomArray(rows * cols, rows + cols * 3, 3);
      const residual = randomArray(rows * cols, rows + cols * 5, 3);
      const gamma = randomArray(cols, 4);
      const beta = randomArray(cols, 5);
      const fused = layerNorm(x, rows, cols, gamma, beta, 1e-5, residual);
      const sum = Float32Array.from(addResidual(x, residual));
      // The fused add rounds x + residual to float32 exactly as the explicit sum does.
      assertWithin(maxAbsError(fused, layerNorm(sum, rows, cols, gamma, beta, 1e-5)), 1e-6, 'fused residual vs unfused');
      assertWithin(maxAbsError(fused, referenceLayerNorm(sum, rows, cols, gamma, beta, 1e-5)), 2e-6 * Math.sqrt(cols), 'fused residual vs reference');
    });
  }

  test('a large common offset does not cancel (two-pass variance)', () => {
    const cols = 257;
    const x = Float32Array.from(randomArray(cols, 77), (v) => 1000 + v);
    const gamma = new Float32Array(cols).fill(1);
    const beta = new Float32Array(cols);
    const y = layerNorm(x, 1, cols, gamma, beta, 1e-12);
    // 1000 + v keeps v to ~6e-5 in float32; the normalized values (std ~0.58) keep that relative precision.
    assertWithin(maxAbsError(y, referenceLayerNorm(x, 1, cols, gamma, beta, 1e-12)), 1e-4, 'offset rows vs reference');
  });

  test('eps is honoured where it matters: rows whose variance is below eps', () => {
    // Rows of std ~1e-3 (variance 1e-6) with eps 1e-5: the output scale is 1 / sqrt(1e-6 + 1e-5), about 0.3 of what
    // it would be without eps, so a dropped, misplaced (outside the square root) or replaced eps fails by ~0.1.
    const eps = 1e-5;
    for (const cols of [7, 17, 384]) {
      const x = randomArray(2 * cols, cols + 9, Math.sqrt(3) * 1e-3); // uniform, std 1e-3
      const gamma = randomArray(cols, cols + 10);
      const beta = randomArray(cols, cols + 11);
      const expected = referenceLayerNorm(x, 2, cols, gamma, beta, eps);
      assert.ok(maxAbsError(referenceLayerNorm(x, 2, cols, gamma, beta, 1e-12), expected) > 0.1, 'eps changes these rows materially');
      // Outputs are O(1); float32 statistics err by a few ulps of that (measured <= 8.4e-8); eps 1e-12 instead errs by 0.85..1.2.
      assertWithin(maxAbsError(layerNorm(x, 2, cols, gamma, beta, eps), expected), 2e-6, `${cols} columns, eps ${eps}`);
    }
  });

  test('bad sizes are RangeErrors', () => {
    const g = new Float32Array(4);
    assert.throws(() => layerNorm(new Float32Array(7), 2, 4, g, g, 1e-5), RangeError);
    assert.throws(() => layerNorm(new Float32Array(8), 2, 4, new Float32Array(3), g, 1e-5), RangeError);
    assert.throws(() => layerNorm(new Float32Array(8), 2, 4, g, g, -1), RangeError);
  });
});
