// Output encodings of embedding rows: OpenAI/vLLM base64 (with vLLM's embed_dtype and endianness) and Cohere's
// embedding types. Pure functions of one row, so every encoding is batch-invariant.
import { float32ToBytes } from '../model/tensor_data.js';

export type EmbedDType = 'float32' | 'float16' | 'bfloat16';
export type Endianness = 'native' | 'little' | 'big';

const DTYPE_TO_TENSOR = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as const;
const DTYPE_BYTES = { float32: 4, float16: 2, bfloat16: 2 } as const;
const NATIVE_ENDIANNESS: 'little' | 'big' = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 'little' : 'big';

/**
 * Base64 of the row's values in `dtype` (float16/bfloat16 round to nearest even) with the given byte order.
 * The default (float32, little-endian) is what OpenAI's clients decode; vLLM adds embed_dtype and endianness.
 */
export function encodeBase64(row: Float32Array, dtype: EmbedDType = 'float32', endianness: Endianness = 'little'): string {
  const bytes = Buffer.from(float32ToBytes(row, DTYPE_TO_TENSOR[dtype]));
  const order = endianness === 'native' ? NATIVE_ENDIANNESS : endianness;
  if (order === 'big') swapBytes(bytes, DTYPE_BYTES[dtype]);
  return bytes.toString('base64');
}

function swapBytes(bytes: Buffer, width: number): void {
  if (width === 2) bytes.swap16();
  else if (width === 4) bytes.swap32();
}

/** Float32 values as a plain number array for JSON (each value is the exact float32, printed as a double). */
export function float32ToList(row: Float32Array): number[] {
  return Array.from(row);
}

/**
 * Cohere `int8`: symmetric scalar quantization with a per-vector scale, round(127 * x / max|x|).
 * Why per vector: a calibration over the request's batch (sentence-transformers' quantize_embeddings default)
 * would make a text's codes depend on its neighbours; a per-vector scale keeps every row batch-invariant and
 * preserves cosine similarity up to rounding (scaling a vector does not change its direction).
 */
export function quantizeInt8(row: Float32Array): number[] {
  let maxAbs = 0;
  for (const x of row) maxAbs = Math.max(maxAbs, Math.abs(x));
  if (maxAbs === 0) return Array.from(row, () => 0);
  const scale = 127 / maxAbs;
  // Round half away from zero so x and -x get opposite codes (Math.round alone rounds -63.5 to -63).
  return Array.from(row, (x) => Math.max(-127, Math.min(127, Math.sign(x) * Math.round(Math.abs(x * scale)))) + 0);
}

/** Cohere `uint8`: the int8 codes shifted by +128 into [1, 255] (0 stays unused, symmetric around 128). */
export function quantizeUint8(row: Float32Array): number[] {
  return quantizeInt8(row).map((q) => q + 128);
}

/**
 * Cohere `ubinary`: one bit per dimension, 1 where x > 0, packed most-significant bit first into bytes
 * (numpy.packbits, as sentence-transformers' quantize_embeddings); a last partial byte is padded with zeros.
 */
export function packUbinary(row: Float32Array): number[] {
  const out = new Array<number>(Math.ceil(row.length / 8)).fill(0);
  for (let i = 0; i < row.length; i++) if (row[i] > 0) out[i >> 3] |= 0x80 >> (i & 7);
  return out;
}

/** Cohere `binary`: the ubinary bytes minus 128, as int8 (sentence-transformers' "binary" precision). */
export function packBinary(row: Float32Array): number[] {
  return packUbinary(row).map((b) => b - 128);
}

/** One row as OpenAI/vLLM return it: a number list, or base64 bytes in `dtype` and byte order. */
export function encodeRow(row: Float32Array, format: 'float' | 'base64' | undefined, dtype?: EmbedDType, endianness?: Endianness): number[] | string {
  return format === 'base64' ? encodeBase64(row, dtype, endianness) : float32ToList(row);
}
