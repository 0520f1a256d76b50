// Documents -> the engine -> back out, strictly in input order, with a bounded amount in flight.
//
// Documents (and bad lines, which keep their place in the order) collect into a chunk of about one scheduler step
// (token budget, sequence cap). A full chunk is submitted to the Embedder's scheduler, the same one the HTTP server
// uses; up to `maxInFlightChunks` wait there, so a native backend computes one step while this thread tokenizes the
// next chunk and writes the previous one. Chunks are handed to `consume` oldest first, each with its rows, and with
// the input position just past its last line, which is what a checkpoint records.
import type { Embedder } from '../engine/embedder.js';
import type { DocumentId } from './documents.js';

export type ChunkItem =
  | { readonly kind: 'document'; readonly id: DocumentId; readonly numTokens: number }
  | { readonly kind: 'bad'; readonly lineNumber: number; readonly id?: DocumentId; readonly reason: string };

export interface InputPosition {
  /** Byte offset just past the chunk's last line. */
  readonly inputOffset: number;
  /** 1-based number of the line after it. */
  readonly nextLineNumber: number;
}

export interface EmbeddedChunk {
  readonly items: readonly ChunkItem[];
  /** One row per 'document' item, in order. */
  readonly rows: readonly Float32Array[];
  readonly end: InputPosition;
}

export interface PipelineLimits {
  readonly maxTokensPerChunk: number;
  readonly maxDocumentsPerChunk: number;
  /** The scheduler's queue limit: more in flight would be refused as overload. */
  readonly maxQueuedTokens: number;
  readonly maxInFlightChunks: number;
}

class Chunk {
  readonly items: ChunkItem[] = [];
  sequences: Int32Array[] = [];
  numTokens = 0;
  rows: Promise<Float32Array[]> = Promise.resolve([]);
  constructor(public end: InputPosition) {}
}

export class OrderedPipeline {
  private current: Chunk;
  private readonly inFlight: Chunk[] = [];
  private numInFlightTokens = 0;

  constructor(
    private readonly embedder: Embedder,
    private readonly output: { readonly dimensions: number; readonly normalize: boolean },
    private readonly limits: PipelineLimits,
    start: InputPosition,
    private readonly consume: (chunk: EmbeddedChunk) => Promise<void>,
  ) {
    this.current = new Chunk(start);
  }

  addDocument(id: DocumentId, tokenIds: Int32Array): void {
    this.current.items.push({ kind: 'document', id, numTokens: tokenIds.length });
    this.current.sequences.push(tokenIds);
    this.current.numTokens += tokenIds.length;
  }

  addBadLine(lineNumber: number, id: DocumentId | undefined, reason: string): void {
    this.current.items.push({ kind: 'bad', lineNumber, id, reason });
  }

  /** Everything up to `end` is in the current chunk (or was a line that makes no item). */
  advanceTo(end: InputPosition): void {
    this.current.end = end;
  }

  get isChunkFull(): boolean {
    return this.current.numTokens >= this.limits.maxTokensPerChunk || this.current.sequences.length >= this.limits.maxDocumentsPerChunk;
  }

  /** Sends the current chunk to the engine, first consuming old chunks while too much is in flight. */
  async submit(): Promise<void> {
    const chunk = this.current;
    if (chunk.items.length === 0) return;
    this.current = new Chunk(chunk.end);
    const { maxInFlightChunks, maxQueuedTokens } = this.limits;
    while (this.inFlight.length > 0 && (this.inFlight.length >= maxInFlightChunks || this.numInFlightTokens + chunk.numTokens > maxQueuedTokens)) {
      await this.consumeOldest();
    }
    if (chunk.sequences.length > 0) {
      chunk.rows = this.embedder.embedSequences(chunk.sequences, this.output).then((result) => result.rows);
      // Awaited in order by consumeOldest; this only keeps an early rejection from being reported as unhandled.
      chunk.rows.catch(() => {});
    }
    chunk.sequences = [];
    this.inFlight.push(chunk);
    this.numInFlightTokens += chunk.numTokens;
  }

  /** Submits what is collected and consumes everything in flight. */
  async drain(): Promise<void> {
    await this.submit();
    while (this.inFlight.length > 0) await this.consumeOldest();
  }

  private async consumeOldest(): Promise<void> {
    const chunk = this.inFlight.shift()!;
    this.numInFlightTokens -= chunk.numTokens;
    const rows = await chunk.rows;
    await this.consume({ items: chunk.items, rows, end: chunk.end });
  }
}
