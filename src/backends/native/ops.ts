// Op-level entry points of the native CPU kernels, for kernel tests and microbenchmarks. Each call is synchronous
// and runs on the calling thread plus the op pool (setOpThreads). Layouts follow src/model/reference/ops.ts:
// row-major, a Linear weight is [outFeatures, inFeatures], ragged batches are described by cuSeqLens.
import {
  loadAddon,
  type PagedAttentionSpec,
  type CheckpointDType,
  type GatedHalf,
  type GemmEpilogueSpec,
  type NativeActivation,
  type NativePooling,
  type PackedWeights,
  type Precision,
} from './addon.js';

import type { GatedActivationKind } from '../../model/types.js';

export type { GatedHalf, GemmEpilogueSpec, NativeActivation, NativePooling, PackedWeights, Precision } from './addon.js';

/** Packs a Linear weight [outFeatures, inFeatures] for the GEMM (once; reuse it for every call). */
export function packLinear(
  weight: Float32Array | Uint16Array,
  outFeatures: number,
  inFeatures: number,
  dtype: Precision,
  sourceDType: CheckpointDType = 'F32',
): PackedWeights {
  return loadAddon().ops.packWeights(weight, sourceDType, outFeatures, inFeatures, dtype);
}

/**
 * y = x W^T, then the epilogue in this order: + bias, activation, + residual, row LayerNorm. x is
 * [numRows, inFeatures]; the result [numRows, outFeatures] is written into `out` when given.
 */
export function linear(x: Float32Array, numRows: number, weight: PackedWeights, epilogue?: GemmEpilogueSpec, out?: Float32Array): Float32Array {
  return loadAddon().ops.gemm(x, numRows, weight, epilogue ?? null, out ?? null);
}

/** activation(x + bias) elementwise over [rows, cols]; bias may be null. Written into `out` when given (may be x). */
export function biasActivation(
  x: Float32Array,
  rows: number,
  cols: number,
  bias: Float32Array | null,
  kind: NativeActivation,
  out?: Float32Array,
): Float32Array {
  return loadAddon().ops.biasActivation(x, rows, cols, bias, kind, out ?? null);
}

/** LayerNorm(x + residual) over each row of `cols` values (residual optional); written into `out` when given. */
export function layerNorm(
  x: Float32Array,
  rows: number,
  cols: number,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
  residual?: Float32Array,
  out?: Float32Array,
): Float32Array {
  return loadAddon().ops.layerNorm(x, rows, cols, gamma, beta, eps, residual ?? null, out ?? null);
}

/** BertEmbeddings: word + position + token type rows, then LayerNorm (into spec.out when given). */
export function embeddings(spec: Parameters<ReturnType<typeof loadAddon>['ops']['embeddings']>[0]): Float32Array {
  return loadAddon().ops.embeddings(spec);
}

/**
 * Bidirectional attention per sequence and head; q, k, v are [T, numHeads * headDim]. With onlyQuery (per
 * sequence, an index within it), only those output rows are computed (the rest are 0): what CLS / LAST pooling
 * needs from the last layer. With window > 0, sliding-window attention: query i sees keys j with |i - j| <= window.
 */
export function attention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  cuSeqLens: Int32Array,
  numHeads: number,
  headDim: number,
  onlyQuery?: Int32Array,
  out?: Float32Array,
  window = 0,
): Float32Array {
  return loadAddon().ops.attention(q, k, v, cuSeqLens, numHeads, headDim, onlyQuery ?? null, out ?? null, window);
}

/**
 * Attention in the engine's layout: qkv [T, 3 * numHeads * headDim] as the fused Q/K/V projection writes it (q, k, v
 * side by side in each row, row stride 3 * width), out [T, numHeads * headDim].
 */
export function attentionQkv(
  qkv: Float32Array,
  cuSeqLens: Int32Array,
  numHeads: number,
  headDim: number,
  onlyQuery?: Int32Array,
  out?: Float32Array,
): Float32Array {
  return loadAddon().ops.attentionQkv(qkv, cuSeqLens, numHeads, headDim, onlyQuery ?? null, out ?? null);
}

/** Fused pooling + dimensions + L2 normalize; rows back to back (row i has dimensions[i] || hiddenSize values). */
export function pool(
  hidden: Float32Array,
  cuSeqLens: Int32Array,
  hiddenSize: number,
  mode: NativePooling,
  dimensions: Int32Array,
  normalize: Uint8Array,
  out?: Float32Array,
): Float32Array {
  return loadAddon().ops.pool(hidden, cuSeqLens, hiddenSize, mode, dimensions, normalize, out ?? null);
}

/** Multiply-add throughput of the op pool, in GFLOP/s (bf16 dot products when asked and available). */
export function peakGflops(bf16: boolean, seconds = 0.5): number {
  return loadAddon().ops.peakGflops(bf16, seconds);
}

/** Memory bandwidth of the op pool in GB/s: a STREAM triad over three arrays of bytesPerArray (counted 3x per pass). */
export function memoryBandwidth(bytesPerArray = 128 * 2 ** 20, seconds = 0.5): number {
  return loadAddon().ops.memoryBandwidth(bytesPerArray, seconds);
}

/** Resizes the op pool (0 = one thread per core); returns the thread count. */
export function setOpThreads(threads: number): number {
  return loadAddon().ops.setOpThreads(threads);
}

export function kernelInfo(): ReturnType<ReturnType<typeof loadAddon>['ops']['kernelInfo']> {
  return loadAddon().ops.kernelInfo();
}

/** Qwen3RMSNorm over each of `groups` groups of `cols` values per row (groups = heads for q_norm / k_norm). */
export function rmsNorm(x: Float32Array, rows: number, groups: number, cols: number, weight: Float32Array, eps: number): Float32Array {
  return loadAddon().ops.rmsNorm(x, rows, groups, cols, weight, eps);
}

/**
 * Rotate-half RoPE of x [T, numHeads * headDim] at each token's position (a rotated copy); every inverse frequency
 * 1 / theta^(2j / headDim) is multiplied by inverseFrequencyScale (1: plain rotary; GTE's NTK rope scales them).
 */
export function rope(
  x: Float32Array,
  positions: Int32Array,
  numHeads: number,
  headDim: number,
  theta: number,
  maxPosition: number,
  inverseFrequencyScale = 1,
): Float32Array {
  return loadAddon().ops.rope(x, positions, numHeads, headDim, theta, maxPosition, inverseFrequencyScale);
}

/**
 * Gated activation over rows of two halves ([rows, 2 * cols] -> [rows, cols]): act(a) * b, a the half named by
 * `activatedHalf` ('first' for Qwen3's SwiGLU and ModernBERT's GeGLU), b the other.
 */
export function gatedActivation(packed: Float32Array, rows: number, cols: number, activation: GatedActivationKind, activatedHalf: GatedHalf): Float32Array {
  return loadAddon().ops.gatedActivation(packed, rows, cols, activation, activatedHalf);
}

/** Causal GQA of new tokens over cached + new K/V read through block tables (K/V already in the caches). */
export function pagedAttention(spec: PagedAttentionSpec): Float32Array {
  return loadAddon().ops.pagedAttention(spec);
}
