// `--shard i/N`: a deterministic, contiguous slice of the input, so N copies (a Kubernetes Indexed Job, a Slurm
// array) cover every line exactly once and their outputs, concatenated in shard order, equal the single-machine
// output.
//
// Why byte ranges rather than line ranges: splitting by line number needs a full pass to count lines before any
// shard can start, and every shard would have to read the file from the top to skip to its lines. Byte ranges need
// only the file size: shard i owns the lines that START inside [i*size/N, (i+1)*size/N), the rule Hadoop's input
// splits use. Each shard seeks straight to its range; a line crossing a boundary belongs to the shard where it begins.
import type { FileHandle } from 'node:fs/promises';

import { UsageError } from '../errors.js';

export interface ShardSpec {
  /** 0-based, as Kubernetes' JOB_COMPLETION_INDEX counts. */
  readonly index: number;
  readonly count: number;
}

export const WHOLE_INPUT: ShardSpec = Object.freeze({ index: 0, count: 1 });

/** Parses `i/N` (0 <= i < N). */
export function parseShardSpec(text: string): ShardSpec {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new UsageError(`--shard must look like i/N (e.g. 0/8, with i counted from 0); got "${text}"`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) throw new UsageError(`--shard ${text}: N must be at least 1`);
  if (index >= count) throw new UsageError(`--shard ${text}: i must be in 0..${count - 1} (shards are counted from 0)`);
  return { index, count };
}

/** The raw byte range [start, end) of shard `spec` in a file of `size` bytes, before aligning to lines. */
export function shardByteRange(size: number, spec: ShardSpec): { start: number; end: number } {
  return {
    start: Math.floor((spec.index * size) / spec.count),
    end: Math.floor(((spec.index + 1) * size) / spec.count),
  };
}

const SCAN_BYTES = 1 << 20;

/** The first line start at or after `pos`: pos itself when a line starts there, else just past the next newline. */
export async function alignToLineStart(file: FileHandle, pos: number, size: number): Promise<number> {
  if (pos <= 0) return 0;
  if (pos >= size) return size;
  const buf = Buffer.allocUnsafe(SCAN_BYTES);
  // A line starts at pos exactly when the byte before it is a newline, so the scan begins one byte early.
  for (let at = pos - 1; at < size; ) {
    const { bytesRead } = await file.read(buf, 0, Math.min(SCAN_BYTES, size - at), at);
    if (bytesRead === 0) break;
    const nl = buf.subarray(0, bytesRead).indexOf(10);
    if (nl >= 0) return at + nl + 1;
    at += bytesRead;
  }
  return size;
}

/** Newlines in [0, end): the number of lines before `end` when `end` is a line start. */
export async function countNewlines(file: FileHandle, end: number): Promise<number> {
  const buf = Buffer.allocUnsafe(SCAN_BYTES);
  let count = 0;
  for (let at = 0; at < end; ) {
    const { bytesRead } = await file.read(buf, 0, Math.min(SCAN_BYTES, end - at), at);
    if (bytesRead === 0) break;
    const view = buf.subarray(0, bytesRead);
    for (let i = view.indexOf(10); i >= 0; i = view.indexOf(10, i + 1)) count++;
    at += bytesRead;
  }
  return count;
}

export interface ShardRange {
  /** Byte offset of the shard's first line. */
  readonly start: number;
  /** Byte offset just past the shard's last line (the next shard's start). */
  readonly end: number;
}

/** Aligns shard `spec`'s byte range to whole lines. */
export async function resolveShardRange(file: FileHandle, size: number, spec: ShardSpec): Promise<ShardRange> {
  const raw = shardByteRange(size, spec);
  const start = await alignToLineStart(file, raw.start, size);
  const end = spec.index + 1 === spec.count ? size : await alignToLineStart(file, raw.end, size);
  return { start, end: Math.max(start, end) };
}

/**
 * 1-based number of the line starting at `start`, for error messages. Reads the bytes of earlier shards once (a
 * memchr loop, about a second per GB); a resumed run takes the number from its journal instead.
 */
export async function lineNumberAt(file: FileHandle, start: number): Promise<number> {
  return start === 0 ? 1 : (await countNewlines(file, start)) + 1;
}
