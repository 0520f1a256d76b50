// The ragged batch, the one thing the scheduler hands a backend (src/backends/backend.ts). A type file (a leaf, see
// docs/layering.md) because the families' float64 reference forwards in src/model/architectures/ run it too.
import type { PoolingMode } from '../model/types.js';

/**
 * A ragged (padding-free) batch: n sequences concatenated. Sequence i owns tokens
 * [cuSeqLens[i], cuSeqLens[i+1]). Positions and token types are explicit so a backend never guesses them.
 */
export interface RaggedBatch {
  readonly tokenIds: Int32Array; // [T]
  readonly positions: Int32Array; // [T]
  readonly tokenTypeIds?: Int32Array; // [T], zeros when absent
  readonly cuSeqLens: Int32Array; // [n + 1], cuSeqLens[0] = 0, cuSeqLens[n] = T
  readonly pooling: PoolingMode;
  /** Per sequence: keep the first dimensions[i] values (0 = all), then L2-normalize if normalize[i] is 1. */
  readonly dimensions: Int32Array; // [n]
  readonly normalize: Uint8Array; // [n]
  // ---- Decoder models with paged KV (src/engine/kv/, src/engine/decoder_scheduler.ts); absent for encoders. ----
  // The three fields come together or not at all. Sequence i's tokens in this batch are one chunk of a longer input:
  // they sit at positions numCachedTokens[i] .. numCachedTokens[i] + len_i - 1 of it (and `positions` says exactly
  // that), its earlier numCachedTokens[i] tokens were computed before (a prefix-cache hit or earlier chunks) and their
  // K/V are already in the KV cache. The backend writes the chunk's K/V into the cache, then attends causally: the
  // query at position p reads keys/values of positions 0..p. Position p lives in block blockTables[i][floor(p / B)],
  // slot p % B, B being the KV cache's block size (PagedKvBackend.initKvCache). Block 0 is the reserved null block:
  // it never appears among the blocks a batch writes.
  /** Per sequence, its KV block ids in position order; covers at least numCachedTokens[i] + len_i positions. */
  readonly blockTables?: readonly Int32Array[]; // [n][>= ceil((numCachedTokens[i] + len_i) / B)]
  readonly numCachedTokens?: Int32Array; // [n]
  /**
   * 1 when this chunk ends the input: only then is the sequence pooled (LAST pooling reads the chunk's final token).
   * Sequences with 0 return no row (see PooledRows).
   */
  readonly isLastChunk?: Uint8Array; // [n]
}
