// The contract between the engine (scheduler) and every backend (reference, native, webgpu).
import type { LoadedModel, PoolingMode } from '../model/types.js';

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
}

/** One pooled row per sequence, in batch order; row i has dimensions[i] values (or hidden size). */
export type PooledRows = Float32Array[];

export type BackendName = 'reference' | 'cpu' | 'webgpu';

export interface Backend {
  readonly name: BackendName;
  /** Run the encoder and the pooling over a ragged batch. */
  forward(batch: RaggedBatch): Promise<PooledRows>;
  dispose(): Promise<void>;
}

/** Builds a backend for a loaded model; throws ModelLoadError when the architecture/dtype is unsupported. */
export type BackendFactory = (model: LoadedModel) => Promise<Backend>;

/** Builds a RaggedBatch from per-sequence token ids (positions from 0, token types 0). */
export function buildRaggedBatch(
  sequences: readonly (readonly number[] | Int32Array)[],
  opts: { pooling: PoolingMode; dimensions?: readonly number[]; normalize?: readonly boolean[]; positionOffset?: number },
): RaggedBatch {
  const n = sequences.length;
  const cuSeqLens = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) cuSeqLens[i + 1] = cuSeqLens[i] + sequences[i].length;
  const total = cuSeqLens[n];
  const tokenIds = new Int32Array(total);
  const positions = new Int32Array(total);
  const offset = opts.positionOffset ?? 0;
  for (let i = 0; i < n; i++) {
    const seq = sequences[i];
    const start = cuSeqLens[i];
    for (let t = 0; t < seq.length; t++) {
      tokenIds[start + t] = seq[t];
      positions[start + t] = offset + t;
    }
  }
  const dimensions = new Int32Array(n);
  const normalize = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    dimensions[i] = opts.dimensions?.[i] ?? 0;
    normalize[i] = opts.normalize?.[i] ? 1 : 0;
  }
  return { tokenIds, positions, tokenTypeIds: new Int32Array(total), cuSeqLens, pooling: opts.pooling, dimensions, normalize };
}
