// Embedding outputs, chosen by the output file's extension:
//   .jsonl / .ndjson  one {"id", "embedding"} object per line, values printed as the exact float32 (like the server)
//   .npy              a float32 or float16 row-major matrix, plus a sidecar `<name>.ids.jsonl` with one JSON id a line
// Every writer appends in input order and reports the byte length of each of its files at a checkpoint, which is
// all the resume journal needs to cut a file back to its last durable state.
import { open } from 'node:fs/promises';
import { extname } from 'node:path';

import { AppendFile, ResumeStateError } from './append_file.js';
import type { DocumentId } from './documents.js';
import { writeFloat16Row } from './float16.js';
import { decodeNpyHeader, encodeNpyHeader, NPY_HEADER_BYTES, npyBytesPerValue, type NpyDType } from './npy.js';

export type OutputFormat = 'jsonl' | 'npy';
export type OutputDType = NpyDType;

/** Byte length of each file a writer owns, by role ('embeddings', 'ids'). */
export type FileLengths = Readonly<Record<string, number>>;

export interface EmbeddingWriter {
  /** Paths of every file written, by role. */
  readonly paths: Readonly<Record<string, string>>;
  readonly numPendingBytes: number;
  write(id: DocumentId, row: Float32Array): void;
  flush(): Promise<void>;
  /** Flush, make durable, and return each file's length for the journal. */
  sync(): Promise<FileLengths>;
  close(): Promise<void>;
}

export interface OutputSpec {
  readonly path: string;
  readonly format: OutputFormat;
  readonly dtype: OutputDType;
  /** Values per row (the model's hidden size, or `dimensions`). */
  readonly numCols: number;
}

/** Output format from the file name. */
export function outputFormatFromPath(path: string): OutputFormat | null {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') return 'npy';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  return null;
}

/** `vectors.npy` -> `vectors.ids.jsonl`; sidecars of other outputs follow the same rule. */
export function sidecarPath(outputPath: string, suffix: string): string {
  const ext = extname(outputPath);
  return `${ext ? outputPath.slice(0, -ext.length) : outputPath}.${suffix}`;
}

/** Opens the writer for `spec`, at `committed` file lengths when resuming (null for a fresh start). */
export async function openEmbeddingWriter(spec: OutputSpec, committed: FileLengths | null): Promise<EmbeddingWriter> {
  return spec.format === 'npy' ? NpyWriter.open(spec, committed) : JsonlWriter.open(spec, committed);
}

class JsonlWriter implements EmbeddingWriter {
  private constructor(private readonly file: AppendFile) {}

  static async open(spec: OutputSpec, committed: FileLengths | null): Promise<JsonlWriter> {
    if (spec.dtype !== 'float32') {
      throw new ResumeStateError(`JSONL output holds float32 values; --output-dtype ${spec.dtype} needs a .npy output`);
    }
    return new JsonlWriter(await AppendFile.open(spec.path, committed?.embeddings ?? 0));
  }

  get paths() {
    return { embeddings: this.file.path };
  }
  get numPendingBytes(): number {
    return this.file.numPendingBytesInMemory;
  }

  write(id: DocumentId, row: Float32Array): void {
    // Array.from keeps each float32 exactly (printed as the shortest double that reads back to it), as the server does.
    this.file.append(Buffer.from(`{"id":${JSON.stringify(id)},"embedding":${JSON.stringify(Array.from(row))}}\n`));
  }
  flush(): Promise<void> {
    return this.file.flush();
  }
  async sync(): Promise<FileLengths> {
    return { embeddings: await this.file.sync() };
  }
  close(): Promise<void> {
    return this.file.close();
  }
}

class NpyWriter implements EmbeddingWriter {
  private readonly rowBytes: number;
  private rows: number;
  private headerRows: number;

  private constructor(
    private readonly spec: OutputSpec,
    private readonly matrix: AppendFile,
    private readonly ids: AppendFile,
    committedRows: number,
  ) {
    this.rowBytes = spec.numCols * npyBytesPerValue(spec.dtype);
    this.rows = committedRows;
    this.headerRows = committedRows;
  }

  static async open(spec: OutputSpec, committed: FileLengths | null): Promise<NpyWriter> {
    const rowBytes = spec.numCols * npyBytesPerValue(spec.dtype);
    const matrixBytes = committed?.embeddings ?? NPY_HEADER_BYTES;
    if ((matrixBytes - NPY_HEADER_BYTES) % rowBytes !== 0 || matrixBytes < NPY_HEADER_BYTES) {
      throw new ResumeStateError(`the progress journal's length for ${spec.path} (${matrixBytes}) is not a whole number of rows`);
    }
    const committedRows = (matrixBytes - NPY_HEADER_BYTES) / rowBytes;
    const matrix = await AppendFile.open(spec.path, committed ? matrixBytes : 0);
    const ids = await AppendFile.open(sidecarPath(spec.path, 'ids.jsonl'), committed?.ids ?? 0);
    const writer = new NpyWriter(spec, matrix, ids, committedRows);
    if (committed) {
      await writer.checkExistingHeader();
      // A killed run may have rewritten the header for rows it never committed: make it match the cut file.
      await matrix.writeAt(0, encodeNpyHeader(spec.dtype, committedRows, spec.numCols));
    } else {
      matrix.append(encodeNpyHeader(spec.dtype, 0, spec.numCols));
    }
    return writer;
  }

  get paths() {
    return { embeddings: this.matrix.path, ids: this.ids.path };
  }
  get numPendingBytes(): number {
    return this.matrix.numPendingBytesInMemory + this.ids.numPendingBytesInMemory;
  }

  write(id: DocumentId, row: Float32Array): void {
    if (row.length !== this.spec.numCols) {
      throw new Error(`embedding of ${row.length} values does not fit the ${this.spec.numCols}-column .npy matrix`);
    }
    const bytes = Buffer.allocUnsafe(this.rowBytes);
    if (this.spec.dtype === 'float32') {
      for (let i = 0; i < row.length; i++) bytes.writeFloatLE(row[i], 4 * i);
    } else {
      writeFloat16Row(row, bytes, 0);
    }
    this.matrix.append(bytes);
    this.ids.append(Buffer.from(`${JSON.stringify(id)}\n`));
    this.rows++;
  }

  async flush(): Promise<void> {
    await this.matrix.flush();
    await this.ids.flush();
  }

  async sync(): Promise<FileLengths> {
    await this.flush();
    // The header is rewritten before the sync, so the synced file is a valid matrix of exactly the synced rows.
    if (this.headerRows !== this.rows) {
      await this.matrix.writeAt(0, encodeNpyHeader(this.spec.dtype, this.rows, this.spec.numCols));
      this.headerRows = this.rows;
    }
    return { embeddings: await this.matrix.sync(), ids: await this.ids.sync() };
  }

  async close(): Promise<void> {
    await this.matrix.close();
    await this.ids.close();
  }

  /** A resumed .npy must be the matrix this job started (same dtype and width); the journal's lengths say the rest. */
  private async checkExistingHeader(): Promise<void> {
    const head = Buffer.alloc(NPY_HEADER_BYTES);
    const file = await open(this.spec.path, 'r');
    try {
      await file.read(head, 0, NPY_HEADER_BYTES, 0);
    } finally {
      await file.close();
    }
    const header = decodeNpyHeader(head);
    if (header.dtype !== this.spec.dtype || header.shape[1] !== this.spec.numCols || header.dataOffset !== NPY_HEADER_BYTES) {
      throw new ResumeStateError(
        `${this.spec.path} holds a (${header.shape.join(', ')}) ${header.dtype} matrix, not the ${this.spec.numCols}-column ` +
          `${this.spec.dtype} matrix this job writes. Start over with --overwrite.`,
      );
    }
  }
}
