// An output file that is only ever appended to, with a durable "committed" length. Opening it at a committed length
// cuts off whatever a killed run wrote after its last checkpoint, so the file continues exactly where the journal
// says it ends. Appends are buffered and written with one positional writev per flush.
import { open, rm, stat, type FileHandle } from 'node:fs/promises';

export class ResumeStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResumeStateError';
  }
}

export interface AppendFileOptions {
  /** Create the file only when something is first written (for files most runs never need, like the error log). */
  readonly lazy?: boolean;
}

async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export class AppendFile {
  private handle: FileHandle | null;
  private pending: Buffer[] = [];
  private numPendingBytes = 0;
  private numFlushedBytes: number;

  private constructor(
    readonly path: string,
    handle: FileHandle | null,
    committedBytes: number,
  ) {
    this.handle = handle;
    this.numFlushedBytes = committedBytes;
  }

  /** Opens `path` cut to `committedBytes` (0 for a fresh start). */
  static async open(path: string, committedBytes: number, opts: AppendFileOptions = {}): Promise<AppendFile> {
    const size = await fileSize(path);
    if (committedBytes > 0 && (size === null || size < committedBytes)) {
      throw new ResumeStateError(
        `${path} has ${size ?? 'no'} bytes but the progress journal says ${committedBytes} were written and synced; ` +
          'the file was changed by something else. Start over with --overwrite.',
      );
    }
    if (committedBytes === 0 && opts.lazy) {
      if (size !== null) await rm(path, { force: true });
      return new AppendFile(path, null, 0);
    }
    const handle = await open(path, size === null ? 'w+' : 'r+');
    try {
      if (size !== null && size !== committedBytes) await handle.truncate(committedBytes);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return new AppendFile(path, handle, committedBytes);
  }

  /** Bytes in the file once everything appended so far is flushed. */
  get numBytes(): number {
    return this.numFlushedBytes + this.numPendingBytes;
  }

  get numPendingBytesInMemory(): number {
    return this.numPendingBytes;
  }

  append(data: Buffer): void {
    if (data.length === 0) return;
    this.pending.push(data);
    this.numPendingBytes += data.length;
  }

  async flush(): Promise<void> {
    if (this.numPendingBytes === 0) return;
    await this.ensureOpen();
    // One copy into one buffer, one positional write: cheaper than a writev of thousands of row-sized buffers.
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.numPendingBytes);
    this.pending = [];
    this.numPendingBytes = 0;
    await this.writeAt(this.numFlushedBytes, data);
    this.numFlushedBytes += data.length;
  }

  /** Overwrites bytes already in the file (the .npy header). */
  async writeAt(position: number, data: Buffer): Promise<void> {
    const handle = await this.ensureOpen();
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
      if (bytesWritten === 0) throw new Error(`${this.path}: write made no progress`);
      written += bytesWritten;
    }
  }

  /** Flushes and waits until the data is on disk; returns the durable length, safe to record in the journal. */
  async sync(): Promise<number> {
    await this.flush();
    if (this.handle) await this.handle.datasync();
    return this.numFlushedBytes;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  private async ensureOpen(): Promise<FileHandle> {
    this.handle ??= await open(this.path, 'w+');
    return this.handle;
  }
}
