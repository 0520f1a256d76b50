// Decoding tensor bytes (little-endian, as safetensors stores them) into JS typed arrays.
import { ModelLoadError } from '../errors.js';
import type { DType, TensorView } from './types.js';

/** Bytes per element of each safetensors dtype we accept. */
export const DTYPE_ITEM_SIZE: Readonly<Record<DType, number>> = { F32: 4, F16: 2, BF16: 2, I64: 8 };

export const SUPPORTED_DTYPES: readonly DType[] = ['F32', 'F16', 'BF16', 'I64'];

export function isSupportedDType(value: unknown): value is DType {
  return typeof value === 'string' && (SUPPORTED_DTYPES as readonly string[]).includes(value);
}

export function isFloatDType(dtype: DType): boolean {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

/** Product of the dimensions (1 for a scalar shape []). */
export function numElements(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

// Typed arrays are native-endian; safetensors is little-endian. Every platform Node supports in practice is
// little-endian, but a zero-copy view would silently be wrong on a big-endian host, so check once.
const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE 754 binary16 -> number (exact: every half value is representable in a float32). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // subnormal (or zero)
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function checkByteLength(view: TensorView): number {
  const numValues = numElements(view.shape);
  const expected = numValues * DTYPE_ITEM_SIZE[view.dtype];
  if (view.bytes.byteLength !== expected) {
    throw new ModelLoadError(
      `tensor ${view.name}: ${view.bytes.byteLength} bytes do not match ${view.dtype} shape [${view.shape.join(', ')}] (${expected} bytes)`,
    );
  }
  return numValues;
}

/**
 * The tensor as float32 values. F32 with a 4-byte aligned offset is returned as a zero-copy view of the file's
 * bytes (do not write into it); every other case is a converted copy. BF16 is the top half of a float32, so it
 * widens exactly; F16 widens exactly too.
 */
export function tensorToFloat32(view: TensorView): Float32Array {
  const numValues = checkByteLength(view);
  const { bytes } = view;
  switch (view.dtype) {
    case 'F32': {
      if (IS_LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
        return new Float32Array(bytes.buffer, bytes.byteOffset, numValues);
      }
      const out = new Float32Array(numValues);
      const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < numValues; i++) out[i] = data.getFloat32(i * 4, true);
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(numValues);
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < numValues; i++) outBits[i] = (bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16;
      return out;
    }
    case 'F16': {
      const out = new Float32Array(numValues);
      for (let i = 0; i < numValues; i++) out[i] = halfToFloat(bytes[2 * i] | (bytes[2 * i + 1] << 8));
      return out;
    }
    case 'I64': {
      const out = new Float32Array(numValues);
      const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < numValues; i++) out[i] = Number(data.getBigInt64(i * 8, true));
      return out;
    }
  }
}

/** The tensor as float64 values (always a copy); for reference computations that want extra precision. */
export function tensorToFloat64(view: TensorView): Float64Array {
  if (view.dtype === 'I64') return Float64Array.from(tensorToBigInt64(view), (value) => Number(value));
  return Float64Array.from(tensorToFloat32(view));
}

/** I64 tensor values (e.g. embeddings.position_ids); a copy, so alignment never matters. */
export function tensorToBigInt64(view: TensorView): BigInt64Array {
  if (view.dtype !== 'I64') throw new ModelLoadError(`tensor ${view.name}: expected I64, found ${view.dtype}`);
  const numValues = checkByteLength(view);
  const out = new BigInt64Array(numValues);
  const data = new DataView(view.bytes.buffer, view.bytes.byteOffset, view.bytes.byteLength);
  for (let i = 0; i < numValues; i++) out[i] = data.getBigInt64(i * 8, true);
  return out;
}

/** float32 values -> little-endian bytes of the given float dtype (BF16 and F16 round to nearest even). */
export function float32ToBytes(values: Float32Array | readonly number[], dtype: DType): Uint8Array {
  const source = values instanceof Float32Array ? values : Float32Array.from(values);
  const out = new Uint8Array(source.length * DTYPE_ITEM_SIZE[dtype]);
  const data = new DataView(out.buffer);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < source.length; i++) data.setFloat32(i * 4, source[i], true);
      return out;
    case 'BF16': {
      const bits = new Uint32Array(source.buffer, source.byteOffset, source.length);
      for (let i = 0; i < source.length; i++) data.setUint16(i * 2, floatBitsToBf16(bits[i]), true);
      return out;
    }
    case 'F16':
      for (let i = 0; i < source.length; i++) data.setUint16(i * 2, floatToHalf(source[i]), true);
      return out;
    case 'I64':
      for (let i = 0; i < source.length; i++) data.setBigInt64(i * 8, BigInt(Math.trunc(source[i])), true);
      return out;
  }
}

// Same rounding as torch's float -> bfloat16 (round to nearest even, NaN kept quiet).
function floatBitsToBf16(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff;
  const roundingBias = 0x7fff + ((bits >>> 16) & 1);
  return ((bits + roundingBias) >>> 16) & 0xffff;
}

function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // overflow -> infinity
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // underflow -> signed zero
    mantissa |= 0x800000; // make the implicit bit explicit, then shift into subnormal range
    const shift = 14 - halfExponent;
    const halfMantissa = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const roundUp = remainder > halfway || (remainder === halfway && (halfMantissa & 1) === 1);
    return sign | (halfMantissa + (roundUp ? 1 : 0));
  }
  let halfMantissa = mantissa >>> 13;
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && (halfMantissa & 1) === 1)) {
    halfMantissa += 1;
    if (halfMantissa === 0x400) {
      halfMantissa = 0;
      halfExponent += 1;
      if (halfExponent >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (halfExponent << 10) | halfMantissa;
}
