// Reference ops of decoder models (Qwen3): the oracle the native and WebGPU decoder kernels are compared with, op
// by op. Same conventions as ./ops.ts (row-major ArrayLike inputs, new Float64Array outputs, float64 sums left to
// right, RangeError on inconsistent sizes). Upstream: transformers src/transformers/models/qwen3/modeling_qwen3.py.
//
// Head layout: q is [T, numHeads * headDim], k and v are [T, numKvHeads * headDim]; head h occupies columns
// h*headDim .. (h+1)*headDim - 1 (the `.view(*input_shape, -1, head_dim)` of Qwen3Attention.forward).
import { gatedActivation } from './ops.js';

function expectLength(name: string, values: ArrayLike<number>, expected: number): void {
  if (values.length !== expected) throw new RangeError(`${name} has ${values.length} values, expected ${expected}`);
}

function expectPositive(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

/**
 * Qwen3RMSNorm.forward over the last dimension: weight * x / sqrt(mean(x^2) + eps) (no mean subtraction, no bias;
 * eps inside the square root). Upstream computes the statistic in float32 whatever the input dtype; here float64.
 * Used for input_layernorm / post_attention_layernorm / norm ([T, H]) and, with numCols = head_dim, for the per-head
 * q_norm / k_norm ([T * heads, head_dim]).
 */
export function rmsNorm(x: ArrayLike<number>, numRows: number, numCols: number, weight: ArrayLike<number>, eps: number): Float64Array {
  if (!Number.isInteger(numRows) || numRows < 0) throw new RangeError(`numRows must be a non-negative integer, got ${numRows}`);
  expectPositive('numCols', numCols);
  if (!(eps >= 0)) throw new RangeError(`eps must be >= 0, got ${eps}`);
  expectLength('x', x, numRows * numCols);
  expectLength('weight', weight, numCols);
  const y = new Float64Array(numRows * numCols);
  for (let r = 0; r < numRows; r++) {
    const start = r * numCols;
    let squares = 0;
    for (let c = 0; c < numCols; c++) squares += x[start + c] * x[start + c];
    const inverseRms = 1 / Math.sqrt(squares / numCols + eps);
    for (let c = 0; c < numCols; c++) y[start + c] = weight[c] * (x[start + c] * inverseRms);
  }
  return y;
}

/**
 * Qwen3RotaryEmbedding.compute_default_rope_parameters: inv_freq[i] = 1 / theta^(2i / headDim), i < headDim / 2, times
 * `scale` (1 but for scaled variants: GTE's NTK rope, see rotary_bert/reference.ts rotaryInverseFrequencies).
 * (Upstream evaluates this and the angles position * inv_freq in float32, whose rounding grows with the position: at
 * position 32767 the angle of the fastest pair is off by up to ~2e-3 rad. The oracle keeps float64.)
 */
export function ropeInverseFrequencies(headDim: number, theta: number, scale = 1): Float64Array {
  expectPositive('headDim', headDim);
  if (headDim % 2 !== 0) throw new RangeError(`headDim must be even for rotate-half RoPE, got ${headDim}`);
  if (!(theta > 0)) throw new RangeError(`theta must be > 0, got ${theta}`);
  if (!(scale > 0 && Number.isFinite(scale))) throw new RangeError(`inverse frequency scale must be finite and > 0, got ${scale}`);
  const half = headDim / 2;
  const inverse = new Float64Array(half);
  for (let i = 0; i < half; i++) inverse[i] = scale / theta ** ((2 * i) / headDim);
  return inverse;
}

/**
 * apply_rotary_pos_emb with rotate_half, for one projection: x * cos + rotate_half(x) * sin, where
 * rotate_half(x) = cat(-x[d/2:], x[:d/2]) and cos/sin = cos/sin(cat(freqs, freqs)), freqs = position * inv_freq. So,
 * per head, for j < d/2:  out[j] = x[j] cos(p f_j) - x[j + d/2] sin(p f_j),
 *                         out[j + d/2] = x[j + d/2] cos(p f_j) + x[j] sin(p f_j).
 * x is [T, numHeads * headDim]; positions[t] is token t's position in its sequence (cached tokens included).
 */
export function applyRotaryEmbedding(
  x: ArrayLike<number>,
  positions: ArrayLike<number>,
  numHeads: number,
  headDim: number,
  theta: number,
  inverseFrequencyScale = 1,
): Float64Array {
  return applyRotaryEmbeddingWith(x, positions, numHeads, headDim, ropeInverseFrequencies(headDim, theta, inverseFrequencyScale));
}

/** applyRotaryEmbedding with given inverse frequencies (headDim / 2 of them), for scaled variants (GTE's NTK). */
export function applyRotaryEmbeddingWith(
  x: ArrayLike<number>,
  positions: ArrayLike<number>,
  numHeads: number,
  headDim: number,
  inverse: ArrayLike<number>,
): Float64Array {
  expectPositive('numHeads', numHeads);
  if (headDim % 2 !== 0 || inverse.length !== headDim / 2) throw new RangeError(`need an even headDim and headDim / 2 inverse frequencies`);
  const width = numHeads * headDim;
  const numTokens = positions.length;
  expectLength('x', x, numTokens * width);
  const half = headDim / 2;
  const y = new Float64Array(x.length);
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let t = 0; t < numTokens; t++) {
    const position = positions[t];
    if (!Number.isInteger(position) || position < 0) throw new RangeError(`positions[${t}] = ${position} is not a non-negative integer`);
    for (let j = 0; j < half; j++) {
      const angle = position * inverse[j];
      cos[j] = Math.cos(angle);
      sin[j] = Math.sin(angle);
    }
    for (let h = 0; h < numHeads; h++) {
      const base = t * width + h * headDim;
      for (let j = 0; j < half; j++) {
        const first = x[base + j];
        const second = x[base + half + j];
        y[base + j] = first * cos[j] - second * sin[j];
        y[base + half + j] = second * cos[j] + first * sin[j];
      }
    }
  }
  return y;
}

/**
 * The kv head a query head reads under grouped-query attention: repeat_kv repeats each kv head n_rep =
 * numHeads / numKvHeads times consecutively (expand on a new axis after the head axis, then reshape), so query heads
 * h*n_rep .. h*n_rep + n_rep - 1 share kv head h.
 */
export function kvHeadOf(queryHead: number, numHeads: number, numKvHeads: number): number {
  if (numHeads % numKvHeads !== 0) throw new RangeError(`numHeads ${numHeads} is not a multiple of numKvHeads ${numKvHeads}`);
  return Math.floor(queryHead / (numHeads / numKvHeads));
}

/**
 * One query row against the keys/values of positions 0..lastPosition (causal): softmax(q k^T * headDim^-0.5) v for
 * every query head, each reading its kv head (eager_attention_forward with repeat_kv and the causal mask; the row
 * max is subtracted before exp so it never overflows). keys[p] / values[p] are position p's rows
 * [numKvHeads * headDim]. Writes [numHeads * headDim] into out at outOffset.
 */
function attendOneQuery(
  q: ArrayLike<number>,
  qOffset: number,
  keys: readonly ArrayLike<number>[],
  values: readonly ArrayLike<number>[],
  lastPosition: number,
  numHeads: number,
  numKvHeads: number,
  headDim: number,
  out: Float64Array,
  outOffset: number,
): void {
  const scale = 1 / Math.sqrt(headDim); // Qwen3Attention.scaling = head_dim ** -0.5
  const numKeys = lastPosition + 1;
  const scores = new Float64Array(numKeys);
  for (let h = 0; h < numHeads; h++) {
    const qBase = qOffset + h * headDim;
    const kvBase = kvHeadOf(h, numHeads, numKvHeads) * headDim;
    let maxScore = -Infinity;
    for (let p = 0; p < numKeys; p++) {
      let dot = 0;
      for (let d = 0; d < headDim; d++) dot += q[qBase + d] * keys[p][kvBase + d];
      scores[p] = dot * scale;
      if (scores[p] > maxScore) maxScore = scores[p];
    }
    let denominator = 0;
    for (let p = 0; p < numKeys; p++) {
      scores[p] = Math.exp(scores[p] - maxScore);
      denominator += scores[p];
    }
    for (let d = 0; d < headDim; d++) {
      let sum = 0;
      for (let p = 0; p < numKeys; p++) sum += scores[p] * values[p][kvBase + d];
      out[outOffset + h * headDim + d] = sum / denominator;
    }
  }
}

function checkCuSeqLens(cuSeqLens: ArrayLike<number>, numTokens: number): number {
  if (cuSeqLens.length < 1 || cuSeqLens[0] !== 0) throw new RangeError('cuSeqLens must start with 0');
  for (let i = 1; i < cuSeqLens.length; i++) {
    if (!Number.isInteger(cuSeqLens[i]) || cuSeqLens[i] < cuSeqLens[i - 1])
      throw new RangeError(`cuSeqLens must be non-decreasing; cuSeqLens[${i}] = ${cuSeqLens[i]}`);
  }
  if (cuSeqLens[cuSeqLens.length - 1] !== numTokens)
    throw new RangeError(`cuSeqLens ends at ${cuSeqLens[cuSeqLens.length - 1]} but there are ${numTokens} tokens`);
  return cuSeqLens.length - 1;
}

/**
 * One-shot causal grouped-query attention over a ragged batch of whole sequences (no KV cache): token i of a
 * sequence attends to tokens 0..i of the same sequence, never across sequences. q [T, nH*d], k and v [T, nKV*d]
 * (already normed and rotated), output [T, nH*d].
 */
export function causalAttention(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  cuSeqLens: ArrayLike<number>,
  numHeads: number,
  numKvHeads: number,
  headDim: number,
): Float64Array {
  expectPositive('numHeads', numHeads);
  expectPositive('numKvHeads', numKvHeads);
  expectPositive('headDim', headDim);
  const width = numHeads * headDim;
  const kvWidth = numKvHeads * headDim;
  if (q.length % width !== 0) throw new RangeError(`q length ${q.length} is not a multiple of numHeads*headDim = ${width}`);
  const numTokens = q.length / width;
  expectLength('k', k, numTokens * kvWidth);
  expectLength('v', v, numTokens * kvWidth);
  const numSequences = checkCuSeqLens(cuSeqLens, numTokens);
  const output = new Float64Array(q.length);
  for (let s = 0; s < numSequences; s++) {
    const start = cuSeqLens[s];
    const end = cuSeqLens[s + 1];
    const keys = Array.from({ length: end - start }, (_, p) => sliceRow(k, start + p, kvWidth));
    const values = Array.from({ length: end - start }, (_, p) => sliceRow(v, start + p, kvWidth));
    for (let t = start; t < end; t++) {
      attendOneQuery(q, t * width, keys, values, t - start, numHeads, numKvHeads, headDim, output, t * width);
    }
  }
  return output;
}

function sliceRow(values: ArrayLike<number>, row: number, width: number): ArrayLike<number> {
  if (values instanceof Float64Array || values instanceof Float32Array) return values.subarray(row * width, (row + 1) * width);
  return Array.from({ length: width }, (_, i) => values[row * width + i]);
}

/** K/V of one layer stored in blocks: what paged attention reads through a block table. */
export interface PagedKeyValues {
  readonly blockSize: number;
  key(blockId: number, slot: number): ArrayLike<number>; // [numKvHeads * headDim]
  value(blockId: number, slot: number): ArrayLike<number>;
}

/**
 * Causal grouped-query attention of new tokens over cached + new tokens, reading every K/V through block tables
 * (the new tokens' K/V must already be written). Sequence i's queries are rows cuSeqLens[i].. of q, at positions
 * numCachedTokens[i] + 0, 1, ...; the query at position p attends to positions 0..p, position p being slot
 * p % blockSize of block blockTables[i][floor(p / blockSize)]. Output [T, nH*d], the same values the one-shot
 * causalAttention gives for the whole sequence's rows.
 */
export function pagedCausalAttention(
  q: ArrayLike<number>,
  cuSeqLens: ArrayLike<number>,
  numCachedTokens: ArrayLike<number>,
  blockTables: readonly ArrayLike<number>[],
  cache: PagedKeyValues,
  numHeads: number,
  numKvHeads: number,
  headDim: number,
): Float64Array {
  expectPositive('numHeads', numHeads);
  expectPositive('numKvHeads', numKvHeads);
  expectPositive('headDim', headDim);
  const width = numHeads * headDim;
  if (q.length % width !== 0) throw new RangeError(`q length ${q.length} is not a multiple of numHeads*headDim = ${width}`);
  const numSequences = checkCuSeqLens(cuSeqLens, q.length / width);
  expectLength('numCachedTokens', numCachedTokens, numSequences);
  if (blockTables.length !== numSequences) throw new RangeError(`${blockTables.length} block tables for ${numSequences} sequences`);
  const { blockSize } = cache;
  const output = new Float64Array(q.length);
  for (let s = 0; s < numSequences; s++) {
    const table = blockTables[s];
    const numPositions = numCachedTokens[s] + cuSeqLens[s + 1] - cuSeqLens[s];
    if (table.length * blockSize < numPositions) {
      throw new RangeError(`block table of sequence ${s} covers ${table.length * blockSize} positions, needs ${numPositions}`);
    }
    // Every position this sequence's queries can see, read through the block table once.
    const keys = Array.from({ length: numPositions }, (_, p) => cache.key(table[Math.floor(p / blockSize)], p % blockSize));
    const values = Array.from({ length: numPositions }, (_, p) => cache.value(table[Math.floor(p / blockSize)], p % blockSize));
    for (let t = cuSeqLens[s]; t < cuSeqLens[s + 1]; t++) {
      const position = numCachedTokens[s] + (t - cuSeqLens[s]);
      attendOneQuery(q, t * width, keys, values, position, numHeads, numKvHeads, headDim, output, t * width);
    }
  }
  return output;
}

export { silu } from './ops.js';

/** Qwen3MLP's gating: act_fn(gate_proj(x)) * up_proj(x), elementwise (SwiGLU), before down_proj. */
export function swiGlu(gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  expectLength('up', up, gate.length);
  return gatedActivation(gate, up, 'silu');
}
