// Native fused pooling (CLS / MEAN / LAST, then dimensions, then L2 normalize, in float32) against the float64
// reference pool + postprocess, and the fused normalize against pooling then normalizing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pool as referencePool, postprocess } from '../../src/backends/reference/ops.js';
import { pool } from '../../src/backends/native/ops.js';
import { assertWithin, maxAbsError, randomArray } from './native_helpers.js';

function cuSeqLensOf(lengths: readonly number[]): Int32Array {
  const cu = new Int32Array(lengths.length + 1);
  lengths.forEach((len, i) => (cu[i + 1] = cu[i] + len));
  return cu;
}

describe('native pool', () => {
  const lengths = [1, 5, 512, 2, 17];
  for (const hidden of [1, 7, 384]) {
    const tokens = lengths.reduce((a, b) => a + b, 0);
    const x = randomArray(tokens * hidden, hidden, 3);
    const cu = cuSeqLensOf(lengths);
    for (const mode of ['cls', 'mean', 'last'] as const) {
      test(`${mode}, hidden ${hidden}, with dimensions and normalize`, () => {
        const dims = Int32Array.from(lengths, (_, i) => (hidden > 1 && i % 2 === 1 ? Math.ceil(hidden / 3) : 0));
        const normalize = Uint8Array.from(lengths, (_, i) => (i % 3 === 0 ? 0 : 1));
        const flat = pool(x, cu, hidden, mode, dims, normalize);
        const rows = referencePool(x, cu, hidden, mode).map((row, i) => postprocess(row, dims[i], normalize[i] === 1));
        const expected = new Float64Array(rows.reduce((n, r) => n + r.length, 0));
        let offset = 0;
        for (const row of rows) {
          expected.set(row, offset);
          offset += row.length;
        }
        // A float32 mean over up to 512 rows of |x| <= 3: sum error ~ 512 * 2^-24 * 3 / 512; normalized rows O(1).
        assertWithin(maxAbsError(flat, expected), 2e-6, `${mode} vs reference pool + postprocess`);
      });
    }
  }

  test('fused normalize = pool, then normalize (truncate first)', () => {
    const hidden = 48;
    const cu = cuSeqLensOf([3, 9]);
    const x = randomArray(12 * hidden, 9);
    const dims = Int32Array.from([16, 0]);
    const fused = pool(x, cu, hidden, 'mean', dims, Uint8Array.from([1, 1]));
    const plain = pool(x, cu, hidden, 'mean', dims, Uint8Array.from([0, 0]));
    for (const [start, size] of [[0, 16], [16, hidden]] as const) {
      const row = plain.subarray(start, start + size);
      const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
      assertWithin(maxAbsError(fused.subarray(start, start + size), Array.from(row, (v) => v / norm)), 1e-6, 'fused vs unfused normalize');
    }
  });

  test('a zero row stays zero when normalized (norm floored at 1e-12)', () => {
    const out = pool(new Float32Array(8), cuSeqLensOf([2]), 4, 'mean', Int32Array.from([0]), Uint8Array.from([1]));
    assert.deepEqual(out, new Float32Array(4));
  });

  test('empty sequences and bad dimensions are RangeErrors', () => {
    const x = new Float32Array(8);
    assert.throws(() => pool(x, Int32Array.from([0, 0, 2]), 4, 'cls', new Int32Array(2), new Uint8Array(2)), /empty/);
    assert.throws(() => pool(x, Int32Array.from([0, 2]), 4, 'cls', Int32Array.from([5]), new Uint8Array(1)), RangeError);
    assert.throws(() => pool(x, Int32Array.from([0, 1]), 4, 'cls', new Int32Array(1), new Uint8Array(1)), RangeError);
    assert.throws(() => pool(x, Int32Array.from([0, 2]), 4, 'max' as 'cls', new Int32Array(1), new Uint8Array(1)), TypeError);
  });
});
