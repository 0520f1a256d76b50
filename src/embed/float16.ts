// float32 -> IEEE 754 binary16 bits, rounding to nearest even like numpy's astype(np.float16). Node 20 has no
// Float16Array, so the .npy writer converts rows with this.
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const bits = f32Bits[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 | (mantissa >>> 13) : 0); // NaN stays NaN
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // beyond 65504 (after rounding): infinity
  if (halfExponent <= 0) {
    // Subnormal half: value / 2^-24, from the 24-bit significand with its implicit leading 1.
    if (halfExponent < -10) return sign; // below 2^-25: rounds to zero
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and 65520 and up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa !== 0 ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Writes `row` as little-endian float16 into `out` at byte `offset`. */
export function writeFloat16Row(row: Float32Array, out: Buffer, offset: number): void {
  for (let i = 0; i < row.length; i++) out.writeUInt16LE(float32ToFloat16Bits(row[i]), offset + 2 * i);
}
