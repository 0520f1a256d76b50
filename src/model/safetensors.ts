// safetensors reader. Format (huggingface/safetensors, docs "Format" and safetensors/src/tensor.rs `read_metadata`
// and `Metadata::validate`): u64 little-endian header length N, N bytes of UTF-8 JSON
// {"__metadata__": {str: str}?, name: {"dtype", "shape", "data_offsets": [begin, end]}}, then the data section;
// offsets are relative to the start of the data section.
// The header is validated completely before a single byte of tensor data is read, so a corrupt or hostile file
// fails with a precise message instead of a wrong answer or an out-of-memory crash later.
import { constants as bufferConstants } from 'node:buffer';
import { open, type FileHandle } from 'node:fs/promises';
import { ModelLoadError } from '../errors.js';
import { DTYPE_ITEM_SIZE, SUPPORTED_DTYPES, isSupportedDType, numElements } from './tensor_data.js';
import type { DType, TensorView } from './types.js';

export interface SafetensorsFile {
  readonly path: string;
  /** The `__metadata__` string map ({} when absent). */
  readonly metadata: Record<string, string>;
  /** Tensors in file order; every `bytes` is a subarray of one Buffer holding the whole file. */
  readonly tensors: Map<string, TensorView>;
}

/** A header entry after validation; offsets relative to the data section. */
export interface SafetensorsHeaderEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly metadata: Record<string, string>;
  readonly entries: readonly SafetensorsHeaderEntry[];
  /** Bytes before the data section: 8 + header length. */
  readonly dataStart: number;
}

/** Same cap as the reference implementation (safetensors/src/tensor.rs MAX_HEADER_SIZE). */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Parses and validates a header. `headerBytes` is the JSON text (without the 8-byte length prefix);
 * `dataSectionBytes` is how many bytes follow the header in the file.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataSectionBytes: number, file: string): SafetensorsHeader {
  const fail = (problem: string): never => {
    throw new ModelLoadError(`${file}: invalid safetensors file: ${problem}`);
  };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return fail('header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail(`header is not well-formed JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return fail('header JSON is not an object');
  }

  let metadata: Record<string, string> = {};
  const entries: SafetensorsHeaderEntry[] = [];
  for (const [name, info] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(info, fail);
      continue;
    }
    entries.push(parseEntry(name, info, dataSectionBytes, fail));
  }

  // Overlap check on the entries sorted by begin; empty tensors occupy no bytes and can't overlap.
  const occupied = entries.filter((entry) => entry.end > entry.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < occupied.length; i++) {
    const previous = occupied[i - 1];
    const current = occupied[i];
    if (current.begin < previous.end) {
      fail(`tensors ${previous.name} [${previous.begin}, ${previous.end}) and ${current.name} ` + `[${current.begin}, ${current.end}) overlap`);
    }
  }
  return { metadata, entries, dataStart: 8 + headerBytes.byteLength };
}

function parseMetadata(info: unknown, fail: (problem: string) => never): Record<string, string> {
  if (info === null || typeof info !== 'object' || Array.isArray(info)) {
    return fail('__metadata__ is not an object');
  }
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(info as Record<string, unknown>)) {
    if (typeof value !== 'string') fail(`__metadata__.${key} is not a string`);
    metadata[key] = value as string;
  }
  return metadata;
}

function parseEntry(name: string, info: unknown, dataSectionBytes: number, fail: (problem: string) => never): SafetensorsHeaderEntry {
  const tensorFail = (problem: string): never => fail(`tensor ${name}: ${problem}`);
  if (info === null || typeof info !== 'object' || Array.isArray(info)) return tensorFail('entry is not an object');
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (!isSupportedDType(dtype)) {
    return tensorFail(`unsupported dtype ${JSON.stringify(dtype)} (supported: ${SUPPORTED_DTYPES.join(', ')})`);
  }
  if (!Array.isArray(shape)) return tensorFail(`shape ${JSON.stringify(shape)} is not an array`);
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      return tensorFail(`shape ${JSON.stringify(shape)} has a dimension that is not a non-negative integer`);
    }
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((offset) => typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0)
  ) {
    return tensorFail(`data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) return tensorFail(`data_offsets [${begin}, ${end}] begin after end`);
  if (end > dataSectionBytes) {
    return tensorFail(`data_offsets [${begin}, ${end}] run past the end of the data section (${dataSectionBytes} bytes)`);
  }
  const numValues = numElements(shape as number[]);
  const expectedBytes = numValues * DTYPE_ITEM_SIZE[dtype];
  if (!Number.isSafeInteger(expectedBytes) || end - begin !== expectedBytes) {
    return tensorFail(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} shape [${shape.join(', ')}] ` + `needs ${expectedBytes}`);
  }
  return { name, dtype, shape: Object.freeze([...(shape as number[])]), begin, end };
}

async function readExactly(handle: FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const { bytesRead } = await handle.read(target, done, target.byteLength - done, position + done);
    if (bytesRead === 0) throw new ModelLoadError(`${file}: file ended early while reading (file changed on disk?)`);
    done += bytesRead;
  }
}

/** Reads only the header of a safetensors file (cheap even for multi-GB files). */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const handle = await openForReading(path);
  try {
    const { size } = await handle.stat();
    return await readHeaderFrom(handle, size, path);
  } finally {
    await handle.close();
  }
}

async function openForReading(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw new ModelLoadError(`${path}: cannot open safetensors file (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

async function readHeaderFrom(handle: FileHandle, fileSize: number, path: string): Promise<SafetensorsHeader> {
  if (fileSize < 8) {
    throw new ModelLoadError(`${path}: invalid safetensors file: ${fileSize} bytes is too short for the 8-byte header length`);
  }
  const prefix = new Uint8Array(8);
  await readExactly(handle, prefix, 0, path);
  const headerLength = new DataView(prefix.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(fileSize - 8)) {
    throw new ModelLoadError(`${path}: invalid safetensors file: header length ${headerLength} runs past the end of the file (${fileSize} bytes)`);
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new ModelLoadError(`${path}: invalid safetensors file: header length ${headerLength} exceeds ${MAX_HEADER_BYTES} bytes`);
  }
  if (headerLength < 2n) {
    throw new ModelLoadError(`${path}: invalid safetensors file: header length ${headerLength} is too small for a JSON object`);
  }
  const headerBytes = new Uint8Array(Number(headerLength));
  await readExactly(handle, headerBytes, 8, path);
  return parseSafetensorsHeader(headerBytes, fileSize - 8 - headerBytes.byteLength, path);
}

/**
 * Reads a safetensors file into one Buffer and returns zero-copy views of its tensors. The buffer is its own
 * ArrayBuffer starting at offset 0, so tensor alignment equals file alignment (8-byte aligned data section for
 * files written by the reference serializer, which F32 zero-copy decoding relies on).
 */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  const handle = await openForReading(path);
  try {
    const { size } = await handle.stat();
    const header = await readHeaderFrom(handle, size, path);
    if (size > bufferConstants.MAX_LENGTH) {
      throw new ModelLoadError(`${path}: ${size} bytes exceeds the largest Buffer Node can allocate (${bufferConstants.MAX_LENGTH}); shard the checkpoint`);
    }
    const fileBytes = Buffer.from(new ArrayBuffer(size));
    await readExactly(handle, fileBytes, 0, path);
    const tensors = new Map<string, TensorView>();
    for (const entry of header.entries) {
      tensors.set(entry.name, {
        name: entry.name,
        dtype: entry.dtype,
        shape: entry.shape,
        bytes: fileBytes.subarray(header.dataStart + entry.begin, header.dataStart + entry.end),
      });
    }
    return { path, metadata: header.metadata, tensors };
  } finally {
    await handle.close();
  }
}
