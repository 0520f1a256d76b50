// The .npy header (format version 1.0, https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
// The header has a fixed size of 128 bytes, padded with spaces, so the row count can be rewritten in place as rows
// are appended: the file is a valid matrix of the committed rows at every checkpoint, and resuming never moves data.
export type NpyDType = 'float32' | 'float16';

export const NPY_HEADER_BYTES = 128;
const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const PREAMBLE_BYTES = MAGIC.length + 2 + 2; // magic, version 1.0, uint16 header length

const DESCR: Record<NpyDType, string> = { float32: '<f4', float16: '<f2' };

export function npyBytesPerValue(dtype: NpyDType): number {
  return dtype === 'float32' ? 4 : 2;
}

export function encodeNpyHeader(dtype: NpyDType, numRows: number, numCols: number): Buffer {
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': (${numRows}, ${numCols}), }`;
  const room = NPY_HEADER_BYTES - PREAMBLE_BYTES - 1; // the dict ends with a newline
  if (dict.length > room) throw new Error(`npy header for shape (${numRows}, ${numCols}) does not fit in ${NPY_HEADER_BYTES} bytes`);
  const header = Buffer.alloc(NPY_HEADER_BYTES, 0x20);
  MAGIC.copy(header, 0);
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(NPY_HEADER_BYTES - PREAMBLE_BYTES, 8);
  header.write(dict, PREAMBLE_BYTES, 'latin1');
  header[NPY_HEADER_BYTES - 1] = 0x0a;
  return header;
}

export interface NpyHeader {
  readonly dtype: NpyDType;
  readonly shape: readonly number[];
  /** Offset of the first value. */
  readonly dataOffset: number;
}

/** Parses the header of a little-endian float32/float16 C-order .npy file (what this package writes). */
export function decodeNpyHeader(bytes: Uint8Array): NpyHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < PREAMBLE_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a .npy file (bad magic)');
  const major = buf[6];
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const dataOffset = MAGIC.length + 2 + lengthBytes + headerLength;
  if (buf.length < dataOffset) throw new Error('truncated .npy header');
  const dict = buf.toString('latin1', MAGIC.length + 2 + lengthBytes, dataOffset);
  const descr = /'descr':\s*'([^']+)'/.exec(dict)?.[1];
  const dtype = (Object.keys(DESCR) as NpyDType[]).find((d) => DESCR[d] === descr);
  if (!dtype) throw new Error(`unsupported .npy dtype ${descr ?? '(none)'}`);
  if (!/'fortran_order':\s*False/.test(dict)) throw new Error('Fortran-order .npy files are not supported');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (shapeText === undefined) throw new Error('.npy header has no shape');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  return { dtype, shape, dataOffset };
}
