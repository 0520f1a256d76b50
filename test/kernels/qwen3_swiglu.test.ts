// Native SwiGLU (silu(gate) * up, gate and up side by side in each row) against the float64 reference, on widths that
// are not multiples of the vector width and on large |gate| where e^-x saturates.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { swiGlu as referenceSwiGlu } from '../../src/backends/reference/decoder_ops.js';
import { swiGlu } from '../../src/backends/native/ops.js';
import { assertWithin, maxRelError, randomArray } from './native_helpers.js';

function split(gateUp: Float32Array, rows: number, cols: number): { gate: Float32Array; up: Float32Array } {
  const gate = new Float32Array(rows * cols);
  const up = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    gate.set(gateUp.subarray(r * 2 * cols, r * 2 * cols + cols), r * cols);
    up.set(gateUp.subarray(r * 2 * cols + cols, (r + 1) * 2 * cols), r * cols);
  }
  return { gate, up };
}

// e^x is ~1 ulp (simd.h), then 1 + e, a division and a product: relative error under 8 * 2^-24. The floor (1e-20, an
// absolute error that is 0 to anything downstream) covers gate < -88, where e^-gate is clamped to e^88 and
// silu(gate) ~ gate * e^gate < 1e-36 comes out as gate / (1 + e^88) ~ -6e-37 (measured: relative error 1.6e5 at
// gate = -100, 2e-8 at -87).
const REL_TOLERANCE = 8 * 2 ** -24;

describe('native swiGlu', () => {
  for (const [rows, cols, scale] of [[1, 1, 3], [3, 7, 3], [5, 17, 6], [4, 128, 10], [2, 333, 30], [3, 50, 120]] as const) {
    test(`${rows} x ${cols}, |gate| <= ${scale}`, () => {
      const gateUp = randomArray(rows * 2 * cols, rows * 7 + cols, scale);
      const { gate, up } = split(gateUp, rows, cols);
      assertWithin(maxRelError(swiGlu(gateUp, rows, cols), referenceSwiGlu(gate, up), 1e-20), REL_TOLERANCE, 'swiGlu vs reference');
    });
  }

  test('wrong lengths are RangeErrors', () => {
    assert.throws(() => swiGlu(new Float32Array(7), 1, 4), RangeError);
    assert.equal(swiGlu(new Float32Array(0), 0, 4).length, 0);
  });
});
