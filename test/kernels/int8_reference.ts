// The int8 GEMM's quantization (native/kernels/cpu/gemm_int8.cpp, pack_weights.cpp), mirrored step for step in
// float32 (Math.fround) with the same round-half-even, so the op cases can compare the kernel with the float64
// product of exactly the values it multiplies: its integer sums are exact, leaving only the float32 rounding of
// its epilogue. Not a test file itself.

/** Round half to even, as the kernels' vector conversions (and their 1.5 * 2^23 trick) do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const f = Math.fround;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Activations per row: uint8 over [min(0, row min), max(0, row max)]; the values the kernel multiplies, in float64. */
export function quantizeRowsU8(x: Float32Array, m: number, k: number): { dequantized: Float64Array; scales: Float64Array } {
  const dequantized = new Float64Array(m * k);
  const scales = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < k; i++) {
      lo = Math.min(lo, x[r * k + i]);
      hi = Math.max(hi, x[r * k + i]);
    }
    let scale = f(f(hi - lo) / 255);
    if (!(scale > 0)) scale = 1;
    const inverse = f(1 / scale);
    const zero = clamp(roundHalfEven(f(-lo * inverse)), 0, 255);
    for (let i = 0; i < k; i++) {
      const q = clamp(roundHalfEven(f(x[r * k + i] * inverse)) + zero, 0, 255);
      dequantized[r * k + i] = (q - zero) * scale;
    }
    scales[r] = scale;
  }
  return { dequantized, scales };
}

/** Weights per output row: symmetric int8 in [-127, 127], scale max|w| / 127; the values the kernel multiplies. */
export function quantizeWeightsInt8(w: Float32Array, n: number, k: number): { dequantized: Float64Array; scales: Float64Array } {
  const dequantized = new Float64Array(n * k);
  const scales = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let maxAbs = 0;
    for (let i = 0; i < k; i++) maxAbs = Math.max(maxAbs, Math.abs(w[j * k + i]));
    const scale = f(maxAbs / 127);
    const inverse = scale > 0 ? f(1 / scale) : 0;
    for (let i = 0; i < k; i++) dequantized[j * k + i] = clamp(roundHalfEven(f(w[j * k + i] * inverse)), -127, 127) * scale;
    scales[j] = scale;
  }
  return { dequantized, scales };
}

/**
 * Per output element, a bound on what quantization alone moves a product x w^T (+ bias) by: with x^ = x + e_x,
 * |e_x| <= s_a / 2 per element of row r, and w^ = w + e_w, |e_w| <= s_w / 2 per element of column j,
 * x^ w^ - x w = x e_w + e_x w^, so |error| <= s_w[j] / 2 * sum_k |x_k| + s_a[r] / 2 * sum_k |w^_k|.
 */
export function int8QuantizationBound(x: Float32Array, m: number, k: number, w: Float32Array, n: number): Float64Array {
  const a = quantizeRowsU8(x, m, k);
  const b = quantizeWeightsInt8(w, n, k);
  const bound = new Float64Array(m * n);
  const rowAbs = new Float64Array(m);
  const colAbs = new Float64Array(n);
  for (let r = 0; r < m; r++) for (let i = 0; i < k; i++) rowAbs[r] += Math.abs(x[r * k + i]);
  for (let j = 0; j < n; j++) for (let i = 0; i < k; i++) colAbs[j] += Math.abs(b.dequantized[j * k + i]);
  for (let r = 0; r < m; r++) for (let j = 0; j < n; j++) bound[r * n + j] = (b.scales[j] / 2) * rowAbs[r] + (a.scales[r] / 2) * colAbs[j];
  return bound;
}
