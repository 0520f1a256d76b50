// Native GEMM (packed weights, fused epilogues) against the float64 reference ops, on shapes that are not multiples
// of the register tile (12 x 32 on AVX-512, 6 x 16 on AVX2, 4 x 16 portable) or of the k pass (384 / 512).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { activation, addResidual, layerNorm as referenceLayerNorm, linear as referenceLinear } from '../../src/backends/reference/ops.js';
import { biasActivation, kernelInfo, layerNorm, linear, packLinear, type Precision } from '../../src/backends/native/ops.js';
import { assertWithin, maxAbsError, randomArray, roundToBf16, toBf16Bits } from './native_helpers.js';

// [m, k, n]: single elements, tile remainders in every direction, k split into several passes (1000, 1537).
const SHAPES: readonly [number, number, number][] = [
  [1, 1, 1],
  [1, 384, 384],
  [7, 17, 33],
  [13, 64, 31],
  [25, 3, 100],
  [97, 1000, 65],
  [30, 1537, 40],
  [200, 40, 70],
];

/** Per-element accuracy scale: sum_i |x_i w_i| + |b| (a float32 dot product errs by a small multiple of it). */
function dotScale(x: Float32Array, m: number, k: number, w: Float32Array, n: number, bias: Float32Array | null): Float64Array {
  const scale = new Float64Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let o = 0; o < n; o++) {
      let s = bias === null ? 0 : Math.abs(bias[o]);
      for (let i = 0; i < k; i++) s += Math.abs(x[r * k + i] * w[o * k + i]);
      scale[r * n + o] = s;
    }
  }
  return scale;
}

function maxScaledError(actual: Float32Array, expected: Float64Array, scale: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) / (scale[i] + 1e-30);
    if (!(e <= worst)) worst = e;
  }
  return worst;
}

/**
 * What the kernel multiplies: bfloat16 weights are rounded to nearest even, and on the bf16 dot-product path the
 * activations are rounded too. With those inputs the only difference left is float32 summation order.
 */
function effectiveInputs(x: Float32Array, w: Float32Array, dtype: Precision): { x: Float32Array; w: Float32Array } {
  if (dtype === 'float32') return { x, w };
  return { x: kernelInfo().bf16DotProduct ? roundToBf16(x) : x, w: roundToBf16(w) };
}

// Float32 summation of k products in any order: |error| <= k * 2^-24 * scale in the worst case, ~sqrt(k) * 2^-24
// in practice. 1e-5 * scale holds for k <= 1537 with margin and is far below what a wrong index produces.
const DOT_TOLERANCE = 1e-5;

for (const dtype of ['float32', 'bfloat16'] as const) {
  describe(`native gemm (${dtype})`, () => {
    for (const [m, k, n] of SHAPES) {
      const seed = m * 1_000_003 + k * 1009 + n;
      const x = randomArray(m * k, seed);
      const w = randomArray(n * k, seed + 1);
      const bias = randomArray(n, seed + 2);
      const residual = randomArray(m * n, seed + 3, 4);
      const gamma = randomArray(n, seed + 4);
      const beta = randomArray(n, seed + 5);
      const eff = effectiveInputs(x, w, dtype);
      const packed = packLinear(w, n, k, dtype);

      test(`plain ${m}x${k} * ${n}x${k}^T`, () => {
        const y = linear(x, m, packed);
        const expected = referenceLinear(eff.x, m, k, eff.w, null, n);
        assertWithin(maxScaledError(y, expected, dotScale(eff.x, m, k, eff.w, n, null)), DOT_TOLERANCE, 'gemm vs reference linear');
      });

      test(`bias + gelu ${m}x${k}x${n}: fused = unfused = reference`, () => {
        const fused = linear(x, m, packed, { bias, activation: 'gelu' });
        const unfused = biasActivation(linear(x, m, packed), m, n, bias, 'gelu');
        // Same float32 operations in the same order: only the place where they happen differs.
        assertWithin(maxAbsError(fused, unfused), 0, 'fused vs unfused bias + gelu');
        const expected = activation(referenceLinear(eff.x, m, k, eff.w, bias, n), 'gelu');
        const scale = dotScale(eff.x, m, k, eff.w, n, bias);
        // |gelu'| <= 1.13 carries the dot error through; the erfc-based GELU adds < 1e-6 relative.
        let worst = 0;
        for (let i = 0; i < fused.length; i++) {
          const bound = 1.13 * DOT_TOLERANCE * scale[i] + 1e-6 * Math.abs(expected[i]) + 1e-7;
          worst = Math.max(worst, Math.abs(fused[i] - expected[i]) / bound);
        }
        assertWithin(worst, 1, 'fused bias + gelu vs reference (in units of its bound)');
      });

      test(`bias + residual + LayerNorm ${m}x${k}x${n}: fused = unfused = reference`, () => {
        const eps = 1e-12;
        const fused = linear(x, m, packed, { bias, residual, lnGamma: gamma, lnBeta: beta, lnEps: eps });
        const unfused = layerNorm(linear(x, m, packed, { bias }), m, n, gamma, beta, eps, residual);
        // Same sums; the fused path's mean adds the row in another order (two accumulators): a few ulps.
        assertWithin(maxAbsError(fused, unfused), 2e-6, 'fused vs unfused bias + residual + LayerNorm');
        const expected = referenceLayerNorm(addResidual(referenceLinear(eff.x, m, k, eff.w, bias, n), residual), m, n, gamma, beta, eps);
        // LayerNorm divides the pre-norm error by the row's std (>= 1 here: residual ~ U(-4, 4)); outputs are O(1).
        const tolerance = n === 1 ? 1e-6 : 2e-4;
        assertWithin(maxAbsError(fused, expected), tolerance, 'fused epilogue vs reference composition');
      });
    }

    test('rows do not depend on the batch around them (bitwise)', () => {
      const [m, k, n] = [61, 200, 90];
      const x = randomArray(m * k, 7);
      const packed = packLinear(randomArray(n * k, 8), n, k, dtype);
      const whole = linear(x, m, packed, { bias: randomArray(n, 9), activation: 'gelu_new' });
      const bias = randomArray(n, 9);
      for (const r of [0, 13, 60]) {
        const alone = linear(x.slice(r * k, (r + 1) * k), 1, packed, { bias, activation: 'gelu_new' });
        assert.deepEqual(alone, whole.subarray(r * n, (r + 1) * n), `row ${r}`);
      }
    });

    test('float16 and bfloat16 sources pack to the same weights as their float32 values', () => {
      const [m, k, n] = [5, 33, 17];
      const x = randomArray(m * k, 21);
      const w = roundToBf16(randomArray(n * k, 22));
      const fromF32 = linear(x, m, packLinear(w, n, k, dtype));
      const fromBf16 = linear(x, m, packLinear(toBf16Bits(w), n, k, dtype, 'BF16'));
      assert.deepEqual(fromBf16, fromF32);
      // Values on a 1/256 grid below 1 are exact in float16 too.
      const grid = Float32Array.from(w, (v) => Math.round(v * 256) / 256);
      const halfBits = Uint16Array.from(grid, (v) => float32ToHalfBits(v));
      assert.deepEqual(linear(x, m, packLinear(halfBits, n, k, dtype, 'F16')), linear(x, m, packLinear(grid, n, k, dtype)));
    });
  });
}

/** float32 -> float16 bits for values exactly representable in float16 (the test's grid). */
function float32ToHalfBits(value: number): number {
  if (value === 0) return Object.is(value, -0) ? 0x8000 : 0;
  const sign = value < 0 ? 0x8000 : 0;
  let magnitude = Math.abs(value);
  let exponent = Math.floor(Math.log2(magnitude));
  if (exponent < -14) return sign | Math.round(magnitude / 2 ** -24); // subnormal
  magnitude = magnitude / 2 ** exponent - 1;
  exponent += 15;
  return sign | (exponent << 10) | Math.round(magnitude * 1024);
}

describe('native gemm argument checks', () => {
  const packed = packLinear(randomArray(4 * 3, 1), 4, 3, 'float32');
  test('a with the wrong length is a RangeError', () => {
    assert.throws(() => linear(new Float32Array(5), 2, packed), RangeError);
  });
  test('a weight whose length is not n * k is a RangeError', () => {
    assert.throws(() => packLinear(new Float32Array(11), 4, 3, 'float32'), RangeError);
  });
  test('an unknown dtype or activation is a TypeError', () => {
    assert.throws(() => packLinear(new Float32Array(12), 4, 3, 'float16' as Precision), TypeError);
    assert.throws(() => linear(new Float32Array(6), 2, packed, { activation: 'swish' as 'gelu' }), TypeError);
  });
  test('a residual that is also the output is refused', () => {
    const out = new Float32Array(8);
    assert.throws(() => linear(new Float32Array(6), 2, packed, { residual: out }, out), /residual overlaps the output/);
  });
  test('m = 0 gives an empty result', () => {
    assert.equal(linear(new Float32Array(0), 0, packed).length, 0);
  });
});
