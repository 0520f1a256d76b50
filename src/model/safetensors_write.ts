// safetensors writer, byte-compatible with the reference Rust serializer (huggingface/safetensors,
// safetensors/src/tensor.rs `prepare`/`serialize`): 8-byte little-endian header length, then a compact JSON
// header with `__metadata__` first and one {"dtype","shape","data_offsets"} entry per tensor in data order,
// right-padded with spaces to a multiple of 8, then the tensors' bytes back to back.
// Unlike the Rust serializer this does not sort: tensors are written in the order given (the serializer's own
// order is dtype descending, then name ascending; pass them sorted that way to reproduce a real file).
import { open } from 'node:fs/promises';
import { DTYPE_ITEM_SIZE, isSupportedDType, numElements } from './tensor_data.js';
import type { DType } from './types.js';

export interface TensorToWrite {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /**
   * The tensor's little-endian bytes, or a function producing them just before they are written, so a caller
   * generating a large checkpoint never holds more than one tensor in memory.
   */
  readonly data: Uint8Array | (() => Uint8Array | Promise<Uint8Array>);
}

/** Header alignment used by the reference serializer (keeps the data section 8-byte aligned). */
const HEADER_ALIGNMENT = 8;
/** Largest single write; keeps each syscall bounded for very large tensors. */
const MAX_WRITE_BYTES = 64 * 1024 * 1024;

function tensorByteLength(tensor: { name: string; dtype: DType; shape: readonly number[] }): number {
  if (!isSupportedDType(tensor.dtype)) {
    throw new TypeError(`safetensors writer: tensor ${tensor.name} has unsupported dtype ${String(tensor.dtype)}`);
  }
  if (!Array.isArray(tensor.shape) || !tensor.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw new TypeError(`safetensors writer: tensor ${tensor.name} has an invalid shape ${JSON.stringify(tensor.shape)}`);
  }
  return numElements(tensor.shape) * DTYPE_ITEM_SIZE[tensor.dtype];
}

/**
 * The bytes that precede the data section: u64 LE header length + padded JSON header. Offsets are contiguous in
 * the given order, computed from dtype and shape (so `data` itself is not needed here).
 */
export function encodeSafetensorsHeader(
  tensors: readonly { name: string; dtype: DType; shape: readonly number[] }[],
  metadata?: Record<string, string>,
): Uint8Array {
  // Built as a string rather than JSON.stringify(object) so the key order is explicit, not an accident.
  const entries: string[] = [];
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new TypeError(`safetensors writer: metadata ${key} must be a string`);
    }
    entries.push(`${JSON.stringify('__metadata__')}:${JSON.stringify(metadata)}`);
  }
  const seenNames = new Set<string>();
  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.name === '__metadata__' || seenNames.has(tensor.name)) {
      throw new TypeError(`safetensors writer: duplicate or reserved tensor name ${tensor.name}`);
    }
    seenNames.add(tensor.name);
    const end = offset + tensorByteLength(tensor);
    const info = `{"dtype":${JSON.stringify(tensor.dtype)},"shape":${JSON.stringify(tensor.shape)},"data_offsets":[${offset},${end}]}`;
    entries.push(`${JSON.stringify(tensor.name)}:${info}`);
    offset = end;
  }
  const json = Buffer.from(`{${entries.join(',')}}`, 'utf8');
  const paddedLength = Math.ceil(json.length / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
  const out = Buffer.alloc(8 + paddedLength, 0x20);
  out.writeBigUInt64LE(BigInt(paddedLength), 0);
  json.copy(out, 8);
  return out;
}

/** Writes a safetensors file, streaming tensor by tensor (never concatenating the data in memory). */
export async function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Promise<void> {
  const header = encodeSafetensorsHeader(tensors, metadata);
  const file = await open(path, 'w');
  try {
    await writeFully(file, header);
    for (const tensor of tensors) {
      const data = typeof tensor.data === 'function' ? await tensor.data() : tensor.data;
      const expected = tensorByteLength(tensor);
      if (!(data instanceof Uint8Array) || data.byteLength !== expected) {
        throw new TypeError(
          `safetensors writer: tensor ${tensor.name} has ${data?.byteLength ?? 'no'} bytes of data, ` +
            `expected ${expected} for ${tensor.dtype} [${tensor.shape.join(', ')}]`,
        );
      }
      await writeFully(file, data);
    }
  } finally {
    await file.close();
  }
}

async function writeFully(file: Awaited<ReturnType<typeof open>>, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.byteLength) {
    const length = Math.min(MAX_WRITE_BYTES, data.byteLength - written);
    const { bytesWritten } = await file.write(data, written, length);
    written += bytesWritten;
  }
}
