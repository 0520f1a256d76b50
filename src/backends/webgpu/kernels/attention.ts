// Host side of shaders/attention.wgsl: ragged bidirectional attention with online softmax.
import type { KernelSpec, PipelineKey } from '../kernel_spec.js';
import { uniformBlock } from '../gpu_buffers.js';

export const ATTENTION_KERNEL: KernelSpec = {
  name: 'attention',
  file: 'attention.wgsl',
  readsWeights: false,
  // qkv, cu_seq_lens, tiles, out, params
  bindings: ['read', 'read', 'read', 'write', 'uniform'],
};

export interface AttentionTiling {
  /** Query rows per workgroup (= invocations per workgroup). */
  readonly queryTile: number;
  /** Key/value rows staged in shared memory per step (<= 64). */
  readonly kvTile: number;
}

export const DEFAULT_ATTENTION_TILING: AttentionTiling = { queryTile: 64, kvTile: 32 };

/** Largest head size the kernel's register arrays hold (MAX_HEAD_DIM in attention.wgsl). */
export const MAX_HEAD_DIM = 128;
const MAX_KV_TILE = 64;

export function attentionPipelineKey(headDim: number, tiling: AttentionTiling = DEFAULT_ATTENTION_TILING): PipelineKey {
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim > MAX_HEAD_DIM) {
    throw new RangeError(`attention kernel supports head sizes 1..${MAX_HEAD_DIM}, got ${headDim}`);
  }
  if (tiling.kvTile > MAX_KV_TILE || tiling.kvTile <= 0) throw new RangeError(`attention kvTile must be in 1..${MAX_KV_TILE}`);
  return { kernel: ATTENTION_KERNEL, weightType: 'f32', constants: { HEAD_DIM: headDim, QUERY_TILE: tiling.queryTile, KV_TILE: tiling.kvTile } };
}

export interface AttentionLayout {
  /** Floats per input row (3H for a fused qkv buffer). */
  readonly rowStride: number;
  readonly qOffset: number;
  readonly kOffset: number;
  readonly vOffset: number;
  /** Floats per output row. */
  readonly outStride: number;
}

/** `window`: half-width of a sliding window (|query - key| <= window), 0 = every key of the sequence. */
export function attentionParams(layout: AttentionLayout, headDim: number, window = 0): ArrayBuffer {
  if (!Number.isInteger(window) || window < 0 || window >= 2 ** 31) throw new RangeError(`attention window must be an integer in 0..2^31-1, got ${window}`);
  return uniformBlock([
    ['u32', layout.rowStride],
    ['u32', layout.qOffset],
    ['u32', layout.kOffset],
    ['u32', layout.vOffset],
    ['u32', layout.outStride],
    ['f32', 1 / Math.sqrt(headDim)],
    ['u32', window],
  ]);
}

/**
 * One (sequence, first query row) pair per workgroup: ceil(len / queryTile) tiles per sequence, so no workgroup
 * straddles two sequences and short sequences cost one small tile, not a padded one.
 */
export function attentionTiles(cuSeqLens: ArrayLike<number>, queryTile: number): Uint32Array {
  let numTiles = 0;
  for (let s = 0; s + 1 < cuSeqLens.length; s++) numTiles += Math.ceil((cuSeqLens[s + 1] - cuSeqLens[s]) / queryTile);
  const tiles = new Uint32Array(numTiles * 2);
  let next = 0;
  for (let s = 0; s + 1 < cuSeqLens.length; s++) {
    for (let start = cuSeqLens[s]; start < cuSeqLens[s + 1]; start += queryTile) {
      tiles[2 * next] = s;
      tiles[2 * next + 1] = start;
      next++;
    }
  }
  return tiles;
}

/** Upper bound on the tile count of any batch of at most `maxTokens` tokens in at most `maxSequences` sequences. */
export function maxAttentionTiles(maxTokens: number, maxSequences: number, queryTile: number): number {
  return Math.floor(maxTokens / queryTile) + maxSequences;
}

/**
 * Multiply-adds of q k^T and p v, counted as 2 flops each: 4 * sum(keys per query) * hidden, keys per query being the
 * sequence length (len^2 per sequence) or at most 2 window + 1 with a sliding window.
 */
export function attentionFlops(cuSeqLens: ArrayLike<number>, numHeads: number, headDim: number, window = 0): number {
  let pairs = 0;
  for (let s = 0; s + 1 < cuSeqLens.length; s++) {
    const len = cuSeqLens[s + 1] - cuSeqLens[s];
    pairs += window > 0 ? len * Math.min(len, 2 * window + 1) : len * len;
  }
  return 4 * pairs * numHeads * headDim;
}
