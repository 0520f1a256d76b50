// The reference ops: the oracle every native (C++) and WebGPU kernel is compared with, op by op.
// This API is a contract for the kernel tests; change it only by adding.
//
// Conventions shared by every op:
// - inputs are any ArrayLike<number> (Float32Array, Float64Array, number[]), row-major;
// - outputs are new Float64Array and every sum is accumulated in float64, left to right, so results are
//   reproducible and as exact as float64 allows;
// - a torch.nn.Linear weight is [outFeatures, inFeatures] (y = x W^T + b), as checkpoints store it;
// - ragged batches: sequence i owns rows [cuSeqLens[i], cuSeqLens[i+1]); there is never any padding;
// - inconsistent sizes throw a RangeError naming the argument, never read out of bounds.
import type { ActivationKind, GatedActivationKind, PoolingMode } from '../types.js';
import { erf } from './erf.js';

export type { ActivationKind } from '../types.js';

function expectLength(name: string, values: ArrayLike<number>, expected: number): void {
  if (values.length !== expected) {
    throw new RangeError(`${name} has ${values.length} values, expected ${expected}`);
  }
}

function expectCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
}

/**
 * Checks cuSeqLens against the number of rows and returns the number of sequences.
 * Empty sequences are allowed here (ops that cannot handle them check for themselves).
 */
function checkCuSeqLens(cuSeqLens: ArrayLike<number>, numRows: number): number {
  if (cuSeqLens.length < 1) throw new RangeError('cuSeqLens must have at least one entry (0)');
  if (cuSeqLens[0] !== 0) throw new RangeError(`cuSeqLens[0] must be 0, got ${cuSeqLens[0]}`);
  for (let i = 1; i < cuSeqLens.length; i++) {
    if (!Number.isInteger(cuSeqLens[i]) || cuSeqLens[i] < cuSeqLens[i - 1]) {
      throw new RangeError(`cuSeqLens must be non-decreasing integers; cuSeqLens[${i}] = ${cuSeqLens[i]}`);
    }
  }
  const last = cuSeqLens[cuSeqLens.length - 1];
  if (last !== numRows) throw new RangeError(`cuSeqLens ends at ${last} but there are ${numRows} rows`);
  return cuSeqLens.length - 1;
}

/** y[r, o] = sum_i x[r, i] * weight[o, i] + bias[o]. x is [numRows, inFeatures], weight [outFeatures, inFeatures]. */
export function linear(
  x: ArrayLike<number>,
  numRows: number,
  inFeatures: number,
  weight: ArrayLike<number>,
  bias: ArrayLike<number> | null,
  outFeatures: number,
): Float64Array {
  expectCount('numRows', numRows);
  expectCount('inFeatures', inFeatures);
  expectCount('outFeatures', outFeatures);
  expectLength('x', x, numRows * inFeatures);
  expectLength('weight', weight, outFeatures * inFeatures);
  if (bias !== null) expectLength('bias', bias, outFeatures);
  const y = new Float64Array(numRows * outFeatures);
  for (let r = 0; r < numRows; r++) {
    const xRow = r * inFeatures;
    for (let o = 0; o < outFeatures; o++) {
      const wRow = o * inFeatures;
      let sum = 0;
      for (let i = 0; i < inFeatures; i++) sum += x[xRow + i] * weight[wRow + i];
      y[r * outFeatures + o] = bias === null ? sum : sum + bias[o];
    }
  }
  return y;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). transformers activations.py GELUActivation. */
function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/**
 * Tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). transformers activations.py
 * NewGELUActivation ('gelu_new') and PytorchGELUTanh ('gelu_pytorch_tanh', torch gelu approximate='tanh') are
 * the same function; they differ upstream only in which kernel evaluates it.
 */
function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

/** Elementwise activation, named as config.json `hidden_act` names it (transformers ACT2FN keys). */
export function activation(x: ArrayLike<number>, kind: ActivationKind): Float64Array {
  let f: (value: number) => number;
  switch (kind) {
    case 'gelu':
      f = geluErf;
      break;
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      f = geluTanh;
      break;
    case 'relu':
      f = (value) => (value > 0 ? value : 0);
      break;
    default:
      throw new RangeError(`unknown activation '${String(kind)}'`);
  }
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = f(x[i]);
  return y;
}

/** SiLU (nn.SiLU, ACT2FN['silu']): x * sigmoid(x) = x / (1 + e^-x). */
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/**
 * A gated MLP's gating, elementwise: act(activated[i]) * other[i]. Which projection is `activated` is the family's
 * convention (Qwen3MLP: act_fn(gate_proj(x)) * up_proj(x); ModernBertMLP: `input, gate = Wi(x).chunk(2)`,
 * act(input) * gate, so the first half of Wi's output is the activated one).
 */
export function gatedActivation(activated: ArrayLike<number>, other: ArrayLike<number>, kind: GatedActivationKind): Float64Array {
  if (other.length !== activated.length) throw new RangeError(`gatedActivation: ${other.length} multipliers for ${activated.length} activated values`);
  let f: (value: number) => number;
  switch (kind) {
    case 'silu':
      f = silu;
      break;
    case 'gelu':
      f = geluErf;
      break;
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      f = geluTanh;
      break;
    default:
      throw new RangeError(`unknown gated activation '${String(kind)}'`);
  }
  const y = new Float64Array(activated.length);
  for (let i = 0; i < activated.length; i++) y[i] = f(activated[i]) * other[i];
  return y;
}

/**
 * torch.nn.LayerNorm over the last dimension: (x - mean) / sqrt(var + eps) * gamma + beta, with the biased
 * variance (divide by numCols), eps inside the square root.
 */
export function layerNorm(
  x: ArrayLike<number>,
  numRows: number,
  numCols: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps: number,
): Float64Array {
  expectCount('numRows', numRows);
  expectCount('numCols', numCols);
  if (numCols === 0) throw new RangeError('layerNorm needs numCols > 0');
  if (!(eps >= 0)) throw new RangeError(`eps must be >= 0, got ${eps}`);
  expectLength('x', x, numRows * numCols);
  expectLength('gamma', gamma, numCols);
  expectLength('beta', beta, numCols);
  const y = new Float64Array(numRows * numCols);
  for (let r = 0; r < numRows; r++) {
    const start = r * numCols;
    let sum = 0;
    for (let c = 0; c < numCols; c++) sum += x[start + c];
    const mean = sum / numCols;
    // Two passes (mean, then squared deviations) rather than E[x^2] - E[x]^2, which cancels badly.
    let squares = 0;
    for (let c = 0; c < numCols; c++) {
      const deviation = x[start + c] - mean;
      squares += deviation * deviation;
    }
    const inverseStd = 1 / Math.sqrt(squares / numCols + eps);
    for (let c = 0; c < numCols; c++) y[start + c] = (x[start + c] - mean) * inverseStd * gamma[c] + beta[c];
  }
  return y;
}

/** x + residual, elementwise. */
export function addResidual(x: ArrayLike<number>, residual: ArrayLike<number>): Float64Array {
  expectLength('residual', residual, x.length);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] + residual[i];
  return y;
}

function gatherCheck(name: string, index: number, numRowsInTable: number, at: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= numRowsInTable) {
    throw new RangeError(`${name}[${at}] = ${index} is outside the embedding table [0, ${numRowsInTable})`);
  }
}

/**
 * BertEmbeddings.forward (transformers models/bert/modeling_bert.py, class BertEmbeddings): word + position +
 * token type embeddings, summed in that order, then LayerNorm (dropout is the identity at inference).
 * Tables are [numEntries, hiddenSize]; the output is [T, hiddenSize]. `addedRow` [hiddenSize], when given, is added to
 * every token last, before LayerNorm (ERNIE's task_type_embeddings[0], ErnieEmbeddings.forward).
 */
export function embeddings(
  tokenIds: ArrayLike<number>,
  positions: ArrayLike<number>,
  tokenTypeIds: ArrayLike<number>,
  wordEmb: ArrayLike<number>,
  posEmb: ArrayLike<number>,
  typeEmb: ArrayLike<number>,
  hiddenSize: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps: number,
  addedRow: ArrayLike<number> | null = null,
): Float64Array {
  expectCount('hiddenSize', hiddenSize);
  if (hiddenSize === 0) throw new RangeError('hiddenSize must be > 0');
  if (addedRow !== null) expectLength('addedRow', addedRow, hiddenSize);
  const numTokens = tokenIds.length;
  expectLength('positions', positions, numTokens);
  expectLength('tokenTypeIds', tokenTypeIds, numTokens);
  for (const [name, table] of [
    ['wordEmb', wordEmb],
    ['posEmb', posEmb],
    ['typeEmb', typeEmb],
  ] as const) {
    if (table.length % hiddenSize !== 0) throw new RangeError(`${name} length ${table.length} is not a multiple of hiddenSize ${hiddenSize}`);
  }
  const vocabSize = wordEmb.length / hiddenSize;
  const maxPositions = posEmb.length / hiddenSize;
  const typeVocabSize = typeEmb.length / hiddenSize;
  const summed = new Float64Array(numTokens * hiddenSize);
  for (let t = 0; t < numTokens; t++) {
    gatherCheck('tokenIds', tokenIds[t], vocabSize, t);
    gatherCheck('positions', positions[t], maxPositions, t);
    gatherCheck('tokenTypeIds', tokenTypeIds[t], typeVocabSize, t);
    const word = tokenIds[t] * hiddenSize;
    const position = positions[t] * hiddenSize;
    const type = tokenTypeIds[t] * hiddenSize;
    const out = t * hiddenSize;
    for (let h = 0; h < hiddenSize; h++) summed[out + h] = wordEmb[word + h] + posEmb[position + h] + typeEmb[type + h];
    if (addedRow !== null) for (let h = 0; h < hiddenSize; h++) summed[out + h] += addedRow[h];
  }
  return layerNorm(summed, numTokens, hiddenSize, gamma, beta, eps);
}

/**
 * Multi-head scaled dot-product attention over a ragged batch, bidirectional within each sequence and never
 * across sequences (BertSelfAttention with an all-ones attention mask per sequence, no padding).
 * q, k, v, output: [T, numHeads * headDim], head h in columns [h*headDim, (h+1)*headDim).
 * scores = q k^T / sqrt(headDim); softmax subtracts the row max first so exp never overflows.
 * `window` > 0 makes it sliding-window attention: query i sees only keys j of its sequence with |i - j| <= window
 * (ModernBERT's local layers: transformers masking_utils.py sliding_window_bidirectional_overlay,
 * `abs(q_idx - kv_idx) <= sliding_window` with sliding_window = local_attention // 2); 0 = every key.
 */
export function attention(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  cuSeqLens: ArrayLike<number>,
  numHeads: number,
  headDim: number,
  window = 0,
): Float64Array {
  expectCount('numHeads', numHeads);
  expectCount('headDim', headDim);
  expectCount('window', window);
  if (numHeads === 0 || headDim === 0) throw new RangeError('numHeads and headDim must be > 0');
  const width = numHeads * headDim;
  if (q.length % width !== 0) throw new RangeError(`q length ${q.length} is not a multiple of numHeads*headDim = ${width}`);
  const numTokens = q.length / width;
  expectLength('k', k, q.length);
  expectLength('v', v, q.length);
  const numSequences = checkCuSeqLens(cuSeqLens, numTokens);
  const scale = 1 / Math.sqrt(headDim);
  const output = new Float64Array(q.length);
  for (let s = 0; s < numSequences; s++) {
    const start = cuSeqLens[s];
    const end = cuSeqLens[s + 1];
    const scores = new Float64Array(end - start);
    for (let h = 0; h < numHeads; h++) {
      const column = h * headDim;
      for (let i = start; i < end; i++) {
        // The keys query i sees: its whole sequence, or those within the window.
        const first = window > 0 ? Math.max(start, i - window) : start;
        const last = window > 0 ? Math.min(end - 1, i + window) : end - 1;
        let maxScore = -Infinity;
        for (let j = first; j <= last; j++) {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += q[i * width + column + d] * k[j * width + column + d];
          scores[j - start] = dot * scale;
          if (scores[j - start] > maxScore) maxScore = scores[j - start];
        }
        let denominator = 0;
        for (let j = first; j <= last; j++) {
          scores[j - start] = Math.exp(scores[j - start] - maxScore);
          denominator += scores[j - start];
        }
        for (let d = 0; d < headDim; d++) {
          let sum = 0;
          for (let j = first; j <= last; j++) sum += scores[j - start] * v[j * width + column + d];
          output[i * width + column + d] = sum / denominator;
        }
      }
    }
  }
  return output;
}

/**
 * One pooled vector per sequence, as sentence-transformers models/Pooling.py (Pooling.forward) computes it
 * when no padding exists: 'cls' = the sequence's first token (pooling_mode_cls_token), 'mean' = the mean over
 * all its tokens, special tokens included (pooling_mode_mean_tokens), 'last' = its last token
 * (pooling_mode_lasttoken). hidden is [T, hiddenSize]. Empty sequences are an error (nothing to pool).
 */
export function pool(hidden: ArrayLike<number>, cuSeqLens: ArrayLike<number>, hiddenSize: number, mode: PoolingMode): Float64Array[] {
  expectCount('hiddenSize', hiddenSize);
  if (hiddenSize === 0) throw new RangeError('hiddenSize must be > 0');
  if (hidden.length % hiddenSize !== 0) throw new RangeError(`hidden length ${hidden.length} is not a multiple of hiddenSize ${hiddenSize}`);
  const numSequences = checkCuSeqLens(cuSeqLens, hidden.length / hiddenSize);
  const rows: Float64Array[] = [];
  for (let s = 0; s < numSequences; s++) {
    const start = cuSeqLens[s];
    const end = cuSeqLens[s + 1];
    if (end === start) throw new RangeError(`sequence ${s} is empty: nothing to pool`);
    const row = new Float64Array(hiddenSize);
    switch (mode) {
      case 'cls':
        for (let h = 0; h < hiddenSize; h++) row[h] = hidden[start * hiddenSize + h];
        break;
      case 'last':
        for (let h = 0; h < hiddenSize; h++) row[h] = hidden[(end - 1) * hiddenSize + h];
        break;
      case 'mean':
        for (let t = start; t < end; t++) {
          for (let h = 0; h < hiddenSize; h++) row[h] += hidden[t * hiddenSize + h];
        }
        for (let h = 0; h < hiddenSize; h++) row[h] /= end - start;
        break;
      default:
        throw new RangeError(`unknown pooling mode '${String(mode)}'`);
    }
    rows.push(row);
  }
  return rows;
}

/**
 * torch.nn.functional.normalize's floor on the norm (eps=1e-12), which sentence-transformers models/Normalize.py
 * uses: a zero vector divides by 1e-12 and stays zero instead of becoming NaN.
 */
const NORMALIZE_EPS = 1e-12;

/**
 * Per-request post-processing of one pooled row: keep the first `dimensions` values (0 = all), THEN L2-normalize
 * if asked. Truncating first is the Matryoshka rule (sentence-transformers truncate_dim, vLLM `dimensions`):
 * normalizing first would leave a truncated vector whose norm is below 1.
 */
export function postprocess(row: ArrayLike<number>, dimensions: number, normalize: boolean): Float64Array {
  if (!Number.isInteger(dimensions) || dimensions < 0 || dimensions > row.length) {
    throw new RangeError(`dimensions must be an integer in [0, ${row.length}] (0 = all), got ${dimensions}`);
  }
  const kept = dimensions === 0 ? row.length : dimensions;
  const out = new Float64Array(kept);
  for (let i = 0; i < kept; i++) out[i] = row[i];
  if (normalize) {
    let squares = 0;
    for (let i = 0; i < kept; i++) squares += out[i] * out[i];
    const norm = Math.max(Math.sqrt(squares), NORMALIZE_EPS);
    for (let i = 0; i < kept; i++) out[i] /= norm;
  }
  return out;
}

/**
 * pool, then postprocess each row: what a one-shot forward returns for a batch's last hidden states [T, hiddenSize]
 * (pooling mode, per-sequence dimensions and normalize flags as in a RaggedBatch).
 */
export function pooledRows(
  hidden: ArrayLike<number>,
  hiddenSize: number,
  batch: {
    readonly cuSeqLens: ArrayLike<number>;
    readonly pooling: PoolingMode;
    readonly dimensions: ArrayLike<number>;
    readonly normalize: ArrayLike<number>;
  },
): Float64Array[] {
  return pool(hidden, batch.cuSeqLens, hiddenSize, batch.pooling).map((row, i) => postprocess(row, batch.dimensions[i], batch.normalize[i] !== 0));
}
