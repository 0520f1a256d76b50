// Host side of shaders/kv_write.wgsl and shaders/paged_attention.wgsl: the batch metadata both read (token ->
// sequence, per-sequence chunk geometry, block tables, packed into one u32 buffer), uniforms and dispatch sizes.
import type { KernelSpec, PipelineKey } from '../kernel_spec.js';
import { grid2d, uniformBlock } from '../gpu_buffers.js';

export const KV_WRITE_KERNEL: KernelSpec = {
  name: 'kv_write',
  file: 'kv_write.wgsl',
  readsWeights: false,
  // k, v, batch_meta, k_cache, v_cache, params
  bindings: ['read', 'read', 'read', 'write', 'write', 'uniform'],
};

export const PAGED_ATTENTION_KERNEL: KernelSpec = {
  name: 'paged_attention',
  file: 'paged_attention.wgsl',
  readsWeights: false,
  // q, keys, values, batch_meta, out, params
  bindings: ['read', 'read', 'read', 'read', 'write', 'uniform'],
};

export const KV_WRITE_WORKGROUP_SIZE = 256;
export const PAGED_ATTENTION_WORKGROUP_SIZE = 64;
/** MAX_HEAD_DIM of paged_attention.wgsl (private arrays need a constant size). */
export const PAGED_ATTENTION_MAX_HEAD_DIM = 256;

export function kvWritePipelineKey(): PipelineKey {
  return { kernel: KV_WRITE_KERNEL, weightType: 'f32', constants: { WORKGROUP_SIZE: KV_WRITE_WORKGROUP_SIZE } };
}

export function pagedAttentionPipelineKey(headDim: number): PipelineKey {
  if (headDim > PAGED_ATTENTION_MAX_HEAD_DIM) throw new RangeError(`paged_attention supports head sizes up to ${PAGED_ATTENTION_MAX_HEAD_DIM}, got ${headDim}`);
  return { kernel: PAGED_ATTENTION_KERNEL, weightType: 'f32', constants: { HEAD_DIM: headDim, WORKGROUP_SIZE: PAGED_ATTENTION_WORKGROUP_SIZE } };
}

/** The u32 metadata of one batch, and where its per-sequence records start. */
export interface BatchMeta {
  readonly data: Uint32Array;
  readonly seqOffset: number;
}

/**
 * [0, T): token -> sequence; at seqOffset + 4 s: (first token, new tokens, cached tokens, table offset); then the
 * block tables. One-shot batches (no tables) get cached = 0 and an empty table.
 */
export function packBatchMeta(cuSeqLens: ArrayLike<number>, numCachedTokens?: ArrayLike<number>, blockTables?: readonly ArrayLike<number>[]): BatchMeta {
  const numSequences = cuSeqLens.length - 1;
  const numTokens = cuSeqLens[numSequences];
  const seqOffset = numTokens;
  let tableWords = 0;
  if (blockTables !== undefined) for (const table of blockTables) tableWords += table.length;
  const data = new Uint32Array(Math.max(1, numTokens + 4 * numSequences + tableWords));
  let tableOffset = seqOffset + 4 * numSequences;
  for (let s = 0; s < numSequences; s++) {
    for (let t = cuSeqLens[s]; t < cuSeqLens[s + 1]; t++) data[t] = s;
    const record = seqOffset + 4 * s;
    data[record] = cuSeqLens[s];
    data[record + 1] = cuSeqLens[s + 1] - cuSeqLens[s];
    data[record + 2] = numCachedTokens?.[s] ?? 0;
    data[record + 3] = tableOffset;
    const table = blockTables?.[s];
    if (table !== undefined) {
      for (let b = 0; b < table.length; b++) data[tableOffset + b] = table[b];
      tableOffset += table.length;
    }
  }
  return { data, seqOffset };
}

export function kvWriteParams(numTokens: number, kvWidth: number, seqOffset: number, blockSize: number): ArrayBuffer {
  return uniformBlock([
    ['u32', numTokens],
    ['u32', kvWidth],
    ['u32', seqOffset],
    ['u32', blockSize],
  ]);
}

export function kvWriteWorkgroups(numTokens: number, kvWidth: number, maxPerDimension: number): [number, number, number] {
  return grid2d(Math.ceil((numTokens * kvWidth) / KV_WRITE_WORKGROUP_SIZE), maxPerDimension);
}

export interface PagedAttentionShape {
  readonly numTokens: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly seqOffset: number;
  /** 0 for one-shot batches (keys/values bound to the chunk's own rows). */
  readonly blockSize: number;
  readonly paged: boolean;
}

export function pagedAttentionParams(shape: PagedAttentionShape): ArrayBuffer {
  return uniformBlock([
    ['u32', shape.numTokens],
    ['u32', shape.numHeads],
    ['u32', shape.numKvHeads],
    ['u32', shape.seqOffset],
    ['u32', Math.max(1, shape.blockSize)],
    ['u32', shape.paged ? 1 : 0],
    ['f32', 1 / Math.sqrt(shape.headDim)], // Qwen3Attention.scaling = head_dim ** -0.5
    ['u32', 0],
  ]);
}

export function pagedAttentionWorkgroups(numTokens: number, numHeads: number, maxPerDimension: number): [number, number, number] {
  return grid2d(Math.ceil((numTokens * numHeads) / PAGED_ATTENTION_WORKGROUP_SIZE), maxPerDimension);
}
