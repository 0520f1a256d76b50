// Streams the lines of a byte range of a file, each with its 1-based line number and byte offsets. Offsets are what
// the resume journal records (so a restart seeks instead of re-reading), and line numbers are what error messages
// name. Memory stays bounded: one read buffer, plus the current line, which may not grow past `maxLineBytes`.
import type { FileHandle } from 'node:fs/promises';

export interface InputLine {
  /** 1-based line number in the whole file. */
  readonly lineNumber: number;
  /** Byte offset of the line's first byte. */
  readonly startOffset: number;
  /** Byte offset just past the line's newline (the next line's start). */
  readonly endOffset: number;
  /** The line without its newline (and without a trailing \r). Empty when `problem` is set. */
  readonly text: string;
  /** Set when the line could not be decoded; the line is reported, never silently dropped. */
  readonly problem?: string;
}

export interface ReadLinesOptions {
  readonly start: number;
  readonly end: number;
  readonly firstLineNumber: number;
  /** Longer lines are reported as bad (and skipped over without buffering them). */
  readonly maxLineBytes: number;
  readonly readBytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 16 << 20;
const DEFAULT_READ_BYTES = 1 << 20;
const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeLine(bytes: Buffer, atFileStart: boolean): { text: string; problem?: string } {
  let begin = 0;
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === CARRIAGE_RETURN) end--;
  // A UTF-8 byte-order mark is an encoding artifact, not text.
  if (atFileStart && end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) begin = 3;
  const text = bytes.toString('utf8', begin, end);
  // Buffer decoding replaces bad bytes with U+FFFD silently; check strictly only when one shows up.
  if (text.includes('\uFFFD')) {
    try {
      strictUtf8.decode(bytes.subarray(begin, end));
    } catch {
      return { text: '', problem: 'not valid UTF-8' };
    }
  }
  return { text };
}

/** Yields the lines of [start, end) in batches (one batch per read), so callers pay one await per read, not per line. */
export async function* readLines(file: FileHandle, opts: ReadLinesOptions): AsyncGenerator<InputLine[]> {
  const buf = Buffer.allocUnsafe(opts.readBytes ?? DEFAULT_READ_BYTES);
  let lineNumber = opts.firstLineNumber;
  let lineStart = opts.start;
  // Bytes of the current line carried over from earlier reads.
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let oversized = false;
  let at = opts.start;

  const finishLine = (tail: Buffer, endOffset: number): InputLine => {
    const startOffset = lineStart;
    const number = lineNumber;
    lineNumber++;
    lineStart = endOffset;
    const bytes = carryBytes === 0 ? tail : Buffer.concat([...carry, tail]);
    carry = [];
    carryBytes = 0;
    if (oversized) {
      oversized = false;
      const problem = `${endOffset - startOffset} bytes long, over the limit of ${opts.maxLineBytes} bytes per line`;
      return { lineNumber: number, startOffset, endOffset, text: '', problem };
    }
    return { lineNumber: number, startOffset, endOffset, ...decodeLine(bytes, startOffset === 0) };
  };
  const EMPTY = Buffer.alloc(0);

  while (at < opts.end) {
    const { bytesRead } = await file.read(buf, 0, Math.min(buf.length, opts.end - at), at);
    if (bytesRead === 0) break; // the file shrank under us; what was read is all there is
    const view = buf.subarray(0, bytesRead);
    const lines: InputLine[] = [];
    let from = 0;
    for (let nl = view.indexOf(NEWLINE); nl >= 0; nl = view.indexOf(NEWLINE, from)) {
      const piece = view.subarray(from, nl);
      if (carryBytes + piece.length > opts.maxLineBytes) oversized = true;
      lines.push(finishLine(oversized ? EMPTY : piece, at + nl + 1));
      from = nl + 1;
    }
    if (from < bytesRead && !oversized) {
      const rest = view.subarray(from);
      if (carryBytes + rest.length > opts.maxLineBytes) {
        // Stop buffering: the line is reported by its length once its newline (or the end) shows up.
        oversized = true;
        carry = [];
        carryBytes = 0;
      } else {
        carry.push(Buffer.from(rest)); // a copy: `buf` is reused by the next read
        carryBytes += rest.length;
      }
    }
    at += bytesRead;
    if (lines.length > 0) yield lines;
  }
  // The last line of a file may lack its newline.
  if (lineStart < at) yield [finishLine(EMPTY, at)];
}
