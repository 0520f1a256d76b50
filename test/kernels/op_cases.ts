// One table of op cases (ggml test-backend-ops style): each case names its op, builds its seeded inputs, and is
// compared with the float64 reference ops (src/model/reference/ops.ts, decoder_ops.ts) under the tolerance written
// beside it, with its metric. Every backend runs every case its ops support (ops_cpu.test.ts, ops_webgpu.test.ts, and
// ops_cpu.test.ts again under each POOLED_ISA in isa_variants.test.ts); a case a backend does not support is listed
// there as a skipped test with the reason. Not a test file itself.
//
// The kernels differ in where they round (the native RoPE forms its angles in float64, the WGSL one in f32; the
// native GELU is erfc-based, the WGSL one A&S 7.1.26), so an op's tolerance is stated per backend, each from that
// kernel's error analysis, and the worst measured value is printed as a diagnostic on every run.
import assert from 'node:assert/strict';
import * as ref from '../../src/model/reference/ops.js';
import * as dec from '../../src/model/reference/decoder_ops.js';
import type { ActivationKind } from '../../src/model/reference/ops.js';
import type { AttentionTiling } from '../../src/backends/webgpu/kernels/attention.js';
import type { GemmTiling } from '../../src/backends/webgpu/kernels/gemm.js';
import type { GatedActivationKind, PoolingMode } from '../../src/model/types.js';
import { int8QuantizationBound, quantizeRowsU8, quantizeWeightsInt8 } from './int8_reference.js';
import { randomArray, roundToBf16 } from './native_helpers.js';
import { cuSeqLensOf, roundToF16, seededInts, seededValues } from './webgpu_support.js';
import { absValues, maxAbs } from '../helpers/metrics.js';

export type BackendName = 'cpu' | 'webgpu';
/** Weight storage of a GEMM: float32, bfloat16 or int8 (native packing) or float16 (WGSL storage). */
export type DType = 'float32' | 'bfloat16' | 'float16' | 'int8';

/**
 * How an error is measured. max_abs: max |got - want|. max_rel: max |got - want| / (|want| + floor). scaled:
 * max |got - want| / scale_i, the scale being a per-element magnitude (sum |terms| of a dot product, a bound, ...).
 */
export type Tolerance =
  | { readonly metric: 'max_abs'; readonly max: number }
  | { readonly metric: 'max_rel'; readonly max: number; readonly floor: number }
  | { readonly metric: 'scaled'; readonly max: number; readonly scaleName: string; readonly scale: Float64Array };

/** What a backend's kernel does differently that the reference must model (bf16 GEMMs may round activations too). */
export interface BackendTraits {
  readonly bf16RoundsActivations: boolean;
}

// ---- op inputs ------------------------------------------------------------------------------------------------

export type GemmEpilogue =
  | { readonly kind: 'none' }
  | { readonly kind: 'activation'; readonly activation: ActivationKind }
  | { readonly kind: 'residual'; readonly residual: Float32Array }
  | { readonly kind: 'residual_layernorm'; readonly residual: Float32Array; readonly gamma: Float32Array; readonly beta: Float32Array; readonly eps: number };

export interface GemmInput {
  readonly x: Float32Array;
  readonly m: number;
  readonly k: number;
  readonly w: Float32Array;
  readonly n: number;
  readonly bias: Float32Array | null;
  readonly epilogue: GemmEpilogue;
  readonly dtype: DType;
  /** WebGPU override constants; the native kernel picks its own register tile. */
  readonly tiling?: GemmTiling;
  /** float16 only: compare with the float32 weights (storage error) instead of the f16-rounded ones. */
  readonly againstUnroundedWeights?: boolean;
  /** int8 only: compare with the float32 product (quantization error) instead of the product of the quantized values. */
  readonly againstUnquantized?: boolean;
}
export interface LayerNormInput {
  readonly x: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly eps: number;
  /** add_layer_norm: LayerNorm(x + residual). */
  readonly residual?: Float32Array;
}
export interface BiasActivationInput {
  readonly x: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly bias: Float32Array | null;
  readonly activation: ActivationKind | 'none';
}
export interface EmbeddingsInput {
  readonly tokenIds: Int32Array;
  readonly positions: Int32Array;
  readonly tokenTypeIds: Int32Array;
  readonly word: Float32Array;
  readonly position: Float32Array;
  readonly tokenType: Float32Array;
  readonly hidden: number;
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly eps: number;
}
export interface AttentionInput {
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly v: Float32Array;
  readonly cuSeqLens: Int32Array;
  readonly numHeads: number;
  readonly headDim: number;
  /** WebGPU query/kv tiles; the native kernel has fixed tiles. */
  readonly tiling?: AttentionTiling;
  /** Sliding-window half-width: query i sees keys j with |i - j| <= window; absent or 0 = every key. */
  readonly window?: number;
}
export interface PoolingInput {
  readonly states: Float32Array;
  readonly cuSeqLens: Int32Array;
  readonly hidden: number;
  readonly mode: PoolingMode;
  /** Per sequence: 0 = all of hidden. */
  readonly dimensions: readonly number[];
  readonly normalize: readonly boolean[];
}
export interface RmsNormInput {
  readonly x: Float32Array;
  readonly rows: number;
  /** Per-head norms: each row holds `groups` groups of `cols`, each normalized on its own. */
  readonly groups: number;
  readonly cols: number;
  readonly weight: Float32Array;
  readonly eps: number;
}
export interface RopeInput {
  readonly x: Float32Array;
  readonly positions: Int32Array;
  readonly numHeads: number;
  readonly headDim: number;
  readonly theta: number;
  /** Multiplies every inverse frequency (GTE's NTK rope); absent = 1. */
  readonly inverseFrequencyScale?: number;
  readonly maxPosition: number;
  /** |x| <= amplitude: what the error bounds scale with. */
  readonly amplitude: number;
}
export interface GatedActivationInput {
  /** The half that goes through the activation, [rows, cols]. */
  readonly activated: Float32Array;
  /** The half it multiplies, [rows, cols]. */
  readonly multiplier: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly activation: GatedActivationKind;
  /** Where the activated half sits in each packed row of the fused projection. */
  readonly activatedHalf: 'first' | 'second';
}
export interface CausalAttentionInput {
  readonly q: Float32Array;
  /** The new tokens' K/V, [T, numKvHeads * headDim]. */
  readonly k: Float32Array;
  readonly v: Float32Array;
  readonly cuSeqLens: Int32Array;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
}
export interface PagedAttentionInput extends CausalAttentionInput {
  readonly numBlocks: number;
  readonly blockSize: number;
  /** Cache contents before the op writes the new K/V through the block tables (kv_write). */
  readonly cacheKeys: Float32Array;
  readonly cacheValues: Float32Array;
  readonly blockTables: readonly Int32Array[];
  readonly numCachedTokens: Int32Array;
}

export interface OpInputs {
  gemm: GemmInput;
  layer_norm: LayerNormInput;
  add_layer_norm: LayerNormInput;
  bias_activation: BiasActivationInput;
  embeddings: EmbeddingsInput;
  attention: AttentionInput;
  pooling: PoolingInput;
  rms_norm: RmsNormInput;
  rope: RopeInput;
  gated_activation: GatedActivationInput;
  causal_attention: CausalAttentionInput;
  paged_attention: PagedAttentionInput;
}
export type OpName = keyof OpInputs;

export interface OpCase<O extends OpName = OpName> {
  readonly op: O;
  readonly name: string;
  readonly input: () => OpInputs[O];
  /** Per backend; a backend with no entry here uses the op's default (OP_TOLERANCES). */
  readonly tolerance?: Partial<Record<BackendName, (input: OpInputs[O], want: Float64Array) => Tolerance>>;
  /** A claim about the inputs the case relies on (e.g. that eps matters for these rows), checked before comparing. */
  readonly precondition?: (input: OpInputs[O]) => void;
  /** An exact property of any correct output, asserted on every backend. */
  readonly exact?: (input: OpInputs[O], got: Float32Array) => void;
}

/** A backend runs an op on a case's inputs, or says why it cannot (op, dtype or variant not supported). */
export interface OpBackend {
  readonly name: BackendName;
  readonly traits: BackendTraits;
  unsupported(c: AnyOpCase): string | null;
  run(c: AnyOpCase, input: OpInputs[OpName]): Promise<Float32Array>;
}

export type AnyOpCase = { [O in OpName]: OpCase<O> }[OpName];

function defineCase<O extends OpName>(c: OpCase<O>): AnyOpCase {
  return c as unknown as AnyOpCase;
}

// ---- references -----------------------------------------------------------------------------------------------

/**
 * What the kernel multiplies: bf16 weights rounded to nearest even (and activations on a bf16 dot-product path), f16
 * weights rounded, int8 activations and weights quantized (int8_reference.ts) and read back exactly in float64.
 */
export function effectiveGemmInputs(input: GemmInput, traits: BackendTraits): { x: ArrayLike<number>; w: ArrayLike<number> } {
  const { x, w, dtype } = input;
  if (dtype === 'int8' && input.againstUnquantized !== true) {
    return { x: quantizeRowsU8(x, input.m, input.k).dequantized, w: quantizeWeightsInt8(w, input.n, input.k).dequantized };
  }
  if (dtype === 'bfloat16') return { x: traits.bf16RoundsActivations ? roundToBf16(x) : x, w: roundToBf16(w) };
  if (dtype === 'float16' && input.againstUnroundedWeights !== true) return { x, w: roundToF16(w) };
  return { x, w };
}

/** sum_k |x w| + |b|: the magnitude the rounding error of each GEMM output scales with. */
function termMagnitudes(input: GemmInput, traits: BackendTraits): Float64Array {
  const { x, w } = effectiveGemmInputs(input, traits);
  return ref.linear(absValues(x), input.m, input.k, absValues(w), input.bias === null ? null : absValues(input.bias), input.n);
}

/** Rows back to back, as the native pooling op returns them. */
export function flatten<T extends Float32Array | Float64Array>(rows: readonly T[], make: (length: number) => T): T {
  const out = make(rows.reduce((n, r) => n + r.length, 0));
  let offset = 0;
  for (const row of rows) {
    out.set(row, offset);
    offset += row.length;
  }
  return out;
}

/** The cache after kv_write: the new tokens' K/V stored at their (block, slot). */
export function writtenCache(input: PagedAttentionInput): { keys: Float32Array; values: Float32Array } {
  const { numCachedTokens, blockTables, blockSize, cuSeqLens } = input;
  const kvWidth = input.numKvHeads * input.headDim;
  const keys = Float32Array.from(input.cacheKeys);
  const values = Float32Array.from(input.cacheValues);
  for (let s = 0; s + 1 < cuSeqLens.length; s++) {
    for (let token = cuSeqLens[s]; token < cuSeqLens[s + 1]; token++) {
      const position = numCachedTokens[s] + token - cuSeqLens[s];
      const row = blockTables[s][Math.floor(position / blockSize)] * blockSize + (position % blockSize);
      keys.set(input.k.subarray(token * kvWidth, (token + 1) * kvWidth), row * kvWidth);
      values.set(input.v.subarray(token * kvWidth, (token + 1) * kvWidth), row * kvWidth);
    }
  }
  return { keys, values };
}

type Reference<O extends OpName> = (input: OpInputs[O], traits: BackendTraits) => Float64Array;

const REFERENCES: { [O in OpName]: Reference<O> } = {
  gemm: (input, traits) => {
    const { x, w } = effectiveGemmInputs(input, traits);
    const { m, k, n, bias, epilogue } = input;
    const y = ref.linear(x, m, k, w, bias, n);
    switch (epilogue.kind) {
      case 'none':
        return y;
      case 'activation':
        return ref.activation(y, epilogue.activation);
      case 'residual':
        return ref.addResidual(y, epilogue.residual);
      case 'residual_layernorm':
        return ref.layerNorm(ref.addResidual(y, epilogue.residual), m, n, epilogue.gamma, epilogue.beta, epilogue.eps);
    }
  },
  layer_norm: (i) => ref.layerNorm(i.x, i.rows, i.cols, i.gamma, i.beta, i.eps),
  // The kernel adds in float32 first, as the unfused sum would.
  add_layer_norm: (i) => ref.layerNorm(Float32Array.from(ref.addResidual(i.x, i.residual ?? [])), i.rows, i.cols, i.gamma, i.beta, i.eps),
  bias_activation: (i) => {
    const pre = new Float32Array(i.x.length);
    for (let r = 0; r < i.rows; r++) for (let c = 0; c < i.cols; c++) pre[r * i.cols + c] = i.x[r * i.cols + c] + (i.bias?.[c] ?? 0);
    return i.activation === 'none' ? Float64Array.from(pre) : ref.activation(pre, i.activation);
  },
  embeddings: (i) => ref.embeddings(i.tokenIds, i.positions, i.tokenTypeIds, i.word, i.position, i.tokenType, i.hidden, i.gamma, i.beta, i.eps),
  attention: (i) => ref.attention(i.q, i.k, i.v, i.cuSeqLens, i.numHeads, i.headDim, i.window ?? 0),
  pooling: (i) =>
    flatten(
      ref.pool(i.states, i.cuSeqLens, i.hidden, i.mode).map((row, s) => ref.postprocess(row, i.dimensions[s], i.normalize[s])),
      (n) => new Float64Array(n),
    ),
  rms_norm: (i) => dec.rmsNorm(i.x, i.rows * i.groups, i.cols, i.weight, i.eps),
  rope: (i) => dec.applyRotaryEmbedding(i.x, i.positions, i.numHeads, i.headDim, i.theta, i.inverseFrequencyScale),
  gated_activation: (i) => ref.gatedActivation(i.activated, i.multiplier, i.activation),
  causal_attention: (i) => dec.causalAttention(i.q, i.k, i.v, i.cuSeqLens, i.numHeads, i.numKvHeads, i.headDim),
  paged_attention: (i) => {
    const { keys, values } = writtenCache(i);
    const kvWidth = i.numKvHeads * i.headDim;
    const rowOf = (block: number, slot: number) => (block * i.blockSize + slot) * kvWidth;
    const cache: dec.PagedKeyValues = {
      blockSize: i.blockSize,
      key: (block, slot) => keys.subarray(rowOf(block, slot), rowOf(block, slot) + kvWidth),
      value: (block, slot) => values.subarray(rowOf(block, slot), rowOf(block, slot) + kvWidth),
    };
    return dec.pagedCausalAttention(i.q, i.cuSeqLens, i.numCachedTokens, i.blockTables, cache, i.numHeads, i.numKvHeads, i.headDim);
  },
};

export function referenceOf(c: AnyOpCase, input: OpInputs[OpName], traits: BackendTraits): Float64Array {
  return (REFERENCES[c.op] as Reference<OpName>)(input, traits);
}

// ---- tolerances -----------------------------------------------------------------------------------------------

const perElement = (length: number, f: (i: number) => number): Float64Array => Float64Array.from({ length }, (_, i) => f(i));

// Native float32 GEMM: summation of k products in any order: |error| <= k * 2^-24 * scale in the worst case,
// ~sqrt(k) * 2^-24 in practice. 1e-5 * scale holds for k <= 1537 with margin and is far below what a wrong index produces.
const CPU_DOT_TOLERANCE = 1e-5;
// Native int8 GEMM against the float64 product of the quantized values: the int32 sums are exact, so only the float32
// epilogue rounds: the sum converted to float32 (2^-24 relative), the product of the two scales (2^-24), the multiply
// by it and the bias added (2^-24 each, fused or not): <= 4 * 2^-24 ~ 2.4e-7 of sum|terms| + |bias|. Bound 1e-6.
const CPU_INT8_EPILOGUE_TOLERANCE = 1e-6;
// WGSL f32 GEMM: each output is a K-term dot product summed in f32 (with fma). Its rounding error is bounded by
// about K * 2^-24 * sum_k |x_k w_k|; in practice it grows like sqrt(K). The tolerance is stated against that
// magnitude (|bias| included): 4e-7 * sum |terms| is below the worst case for every K tested (>= 8 terms) and
// far above a real indexing or tiling bug, which gives errors of order 1.
const WEBGPU_GEMM_F32_TOLERANCE = 4e-7;
// Activation on top of the WGSL GEMM adds the activation's own error (A&S erf: 1.5e-7 absolute).
const WEBGPU_GEMM_ACTIVATION_TOLERANCE = 6e-7;
// WGSL layer-normalized outputs are O(1) after division by the row's standard deviation: absolute error.
const WEBGPU_GEMM_LAYER_NORM_TOLERANCE = 2e-5;
// WGSL LayerNorm outputs are O(gamma): f32 sums over the row and the division by std give a few ulps of O(1)
// values; 1e-5 absolute leaves a wide margin and catches any wrong mean, variance or column.
const WEBGPU_LAYER_NORM_TOLERANCE = 1e-5;
// WGSL GELU uses A&S 7.1.26 for erf (|error| <= 1.5e-7), scaled by 0.5|x|; tanh GELU and relu are a few ulps.
const WEBGPU_ACTIVATION_TOLERANCE = 2e-7;
// Native attention outputs are convex combinations of V rows (|v| <= 1): float32 scores, exp and sums err by ~1e-6 absolute.
const CPU_ATTENTION_TOLERANCE = 1e-5;
// WGSL attention: each output is a softmax-weighted average of v rows, so its error is relative to max |v|: f32 dot
// products over the head dimension perturb the scores by ~1e-7 relative, exp and the running rescale add a few ulps,
// and the average of up to 512 rows adds ~512 * 2^-24 at worst. 1e-5 * max|v| covers that with margin; an indexing
// or masking bug (attending across sequences) moves outputs by O(max|v|).
const WEBGPU_ATTENTION_TOLERANCE = 1e-5;
// WGSL pooling: CLS/LAST copy, MEAN sums up to 512 rows in f32 (error <~ 512 * 2^-24 relative to max|hidden| at
// worst, ~1e-6 in practice); the L2 norm adds a few ulps.
const WEBGPU_POOLING_TOLERANCE = 1e-5;
// Native RMSNorm: y_i = w_i * x_i * s, s = 1 / sqrt(sum(x^2) / n + eps): every element carries s's relative error plus
// two roundings. A float32 sum of n squares errs by at most n * 2^-24 relative (any lane count, worst case), the square
// root halves it, so (n / 2 + 4) * 2^-24 bounds the relative error of every element; the floor only guards exact zeros.
const cpuRmsNormTolerance = (cols: number): number => (cols / 2 + 4) * 2 ** -24;
// WGSL RMSNorm outputs are O(weight): an f32 sum of squares over <= 64 values and inverseSqrt give a few ulps of O(1)
// values (measured ~2e-7); 2e-6 absolute catches a wrong eps placement, column or a missing 1/COLS.
const WEBGPU_RMS_NORM_TOLERANCE = 2e-6;
// Native RoPE: angles, cos and sin are computed in float64 and rounded once to float32; x cos - y sin then rounds three
// times. With |x|, |y| <= amplitude: |error| <= amplitude * (2 * 2^-24 (cos, sin) + 3 * 2 * 2^-24 (products,
// difference)) < amplitude * 2^-20.
const CPU_ROPE_TOLERANCE_PER_UNIT = 2 ** -20;
// WGSL RoPE: the angle position * inv_freq is formed in f32 (relative error <= 2^-23 after rounding inv_freq and the
// product), so the error grows with the position: |error| <= max|x| * (2e-6 + position * 2.4e-7). At position 32767
// that allows ~8e-3 * max|x|; at positions < 100, ~2.6e-5.
const WEBGPU_ROPE_BASE_TOLERANCE = 2e-6;
const WEBGPU_ROPE_PER_POSITION = 2.4e-7;
// Native SwiGLU: e^x is ~1 ulp (simd.h), then 1 + e, a division and a product: relative error under 8 * 2^-24. The
// floor (1e-20, an absolute error that is 0 to anything downstream) covers gate < -88, where e^-gate is clamped to e^88
// and silu(gate) ~ gate * e^gate < 1e-36 comes out as gate / (1 + e^88) ~ -6e-37 (measured: relative error 1.6e5 at
// gate = -100, 2e-8 at -87).
const CPU_SWIGLU_REL_TOLERANCE = 8 * 2 ** -24;
// WGSL SwiGLU: f32 exp and one division: a few ulps of max(1, |silu(g) u|).
const WEBGPU_SWIGLU_TOLERANCE = 1e-6;
// Native GeGLU: simd.h's GELU (erfc-based or tanh via exp: < 2e-6 relative plus 1e-7 absolute, as bias_activation's
// bound) times the multiplier, then one rounding: 2e-6 |y| + 1e-7 |multiplier|.
const CPU_GEGLU_RELATIVE = 2e-6;
const CPU_GEGLU_ABSOLUTE = 1e-7;
// WGSL GeGLU: the activation fragment's GELU (A&S erf, 1.5e-7 absolute on Phi, times |x|; tanh a few ulps) times the
// multiplier: 4e-7 of max(1, |activated|) * max(1, |multiplier|).
const WEBGPU_GEGLU_TOLERANCE = 4e-7;
// Paged (and one-shot causal) attention, both backends: outputs are convex combinations of V rows (|v| <= 1). Scores
// (|s| <~ 6) carry float32 dot-product error of about headDim * 2^-24 * |q||k| <~ 1e-6 relative, which moves the
// softmax weights by that much relative; exp is ~1 ulp and the running sums round once per key. Measured max error
// ~1e-7; bound 2e-6.
const PAGED_ATTENTION_TOLERANCE = 2e-6;

/** A plain product (+ residual): error / (sum|terms| + |residual|). */
function dotTolerance(input: GemmInput, scale: Float64Array, max: number): Tolerance {
  if (input.epilogue.kind !== 'residual') return { metric: 'scaled', max, scaleName: 'sum|terms|', scale };
  const residual = input.epilogue.residual;
  return { metric: 'scaled', max, scaleName: 'sum|terms| + |residual|', scale: perElement(scale.length, (i) => scale[i] + Math.abs(residual[i])) };
}

type DefaultTolerance<O extends OpName> = (input: OpInputs[O], want: Float64Array, traits: BackendTraits) => Tolerance;

/** Each op's tolerance per backend, unless a case states its own. */
const OP_TOLERANCES: { [O in OpName]: Record<BackendName, DefaultTolerance<O>> } = {
  gemm: {
    cpu: (input, want, traits) => {
      const scale = termMagnitudes(input, traits);
      switch (input.epilogue.kind) {
        case 'none':
        case 'residual':
          return dotTolerance(input, scale, input.dtype === 'int8' ? CPU_INT8_EPILOGUE_TOLERANCE : CPU_DOT_TOLERANCE);
        case 'activation':
          // |gelu'| <= 1.13 carries the dot error through; the erfc-based GELU adds < 1e-6 relative.
          return {
            metric: 'scaled',
            max: 1,
            scaleName: 'its bound 1.13 * 1e-5 * sum|terms| + 1e-6 |y| + 1e-7',
            scale: perElement(scale.length, (i) => 1.13 * CPU_DOT_TOLERANCE * scale[i] + 1e-6 * Math.abs(want[i]) + 1e-7),
          };
        case 'residual_layernorm':
          // LayerNorm divides the pre-norm error by the row's std (>= 1 with residual ~ U(-4, 4)); outputs are O(1).
          return { metric: 'max_abs', max: input.n === 1 ? 1e-6 : 2e-4 };
      }
    },
    webgpu: (input, _want, traits) => {
      const scale = termMagnitudes(input, traits);
      switch (input.epilogue.kind) {
        case 'none':
        case 'residual':
          return dotTolerance(input, scale, WEBGPU_GEMM_F32_TOLERANCE);
        case 'activation':
          return { metric: 'scaled', max: WEBGPU_GEMM_ACTIVATION_TOLERANCE, scaleName: 'max(1, sum|terms|)', scale: scale.map((m) => Math.max(m, 1)) };
        case 'residual_layernorm':
          return { metric: 'max_abs', max: WEBGPU_GEMM_LAYER_NORM_TOLERANCE };
      }
    },
  },
  layer_norm: {
    // Normalized values are O(1) (|x - mean| / std <= sqrt(cols)); float32 statistics err by a few ulps of that.
    cpu: (input) => ({ metric: 'max_abs', max: 2e-6 * Math.sqrt(input.cols) }),
    webgpu: () => ({ metric: 'max_abs', max: WEBGPU_LAYER_NORM_TOLERANCE }),
  },
  add_layer_norm: {
    cpu: (input) => ({ metric: 'max_abs', max: 2e-6 * Math.sqrt(input.cols) }),
    webgpu: () => ({ metric: 'max_abs', max: WEBGPU_LAYER_NORM_TOLERANCE }),
  },
  bias_activation: {
    // float32 results: relative 2e-6 of the value plus 1e-7 absolute for the tail near 0 (erfc-based GELU is accurate
    // to ~1e-7 relative, the exp polynomial to ~1 ulp).
    cpu: (input, want) =>
      input.activation === 'none'
        ? { metric: 'max_abs', max: 0 }
        : { metric: 'scaled', max: 1, scaleName: 'its bound 2e-6 |y| + 1e-7', scale: want.map((y) => 2e-6 * Math.abs(y) + 1e-7) },
    webgpu: (input) => ({
      metric: 'scaled',
      max: WEBGPU_ACTIVATION_TOLERANCE,
      scaleName: 'max(1, |x|)',
      scale: perElement(input.x.length, (i) => Math.max(1, Math.abs(input.x[i]))),
    }),
  },
  embeddings: {
    // LayerNorm of a float32 sum: a few ulps of O(1) outputs (hidden 1 normalizes to exactly beta).
    cpu: (input) => ({ metric: 'max_abs', max: 2e-6 * Math.sqrt(input.hidden) }),
    webgpu: () => ({ metric: 'max_abs', max: WEBGPU_LAYER_NORM_TOLERANCE }),
  },
  attention: {
    cpu: () => ({ metric: 'max_abs', max: CPU_ATTENTION_TOLERANCE }),
    webgpu: (input) => ({
      metric: 'scaled',
      max: WEBGPU_ATTENTION_TOLERANCE,
      scaleName: 'max|v|',
      scale: new Float64Array(input.q.length).fill(maxAbs(input.v)),
    }),
  },
  pooling: {
    // A float32 mean over up to 512 rows of |x| <= 3: sum error ~ 512 * 2^-24 * 3 / 512; normalized rows O(1).
    cpu: () => ({ metric: 'max_abs', max: 2e-6 }),
    webgpu: (input, want) => {
      // Normalized rows are O(1); the others are held relative to their largest value.
      const scale = new Float64Array(want.length);
      let offset = 0;
      input.dimensions.forEach((dims, s) => {
        const length = dims || input.hidden;
        const row = want.subarray(offset, offset + length);
        scale.fill(input.normalize[s] ? 1 : maxAbs(row), offset, offset + length);
        offset += length;
      });
      return { metric: 'scaled', max: WEBGPU_POOLING_TOLERANCE, scaleName: 'normalize ? 1 : max|row|', scale };
    },
  },
  rms_norm: {
    cpu: (input) => ({ metric: 'max_rel', max: cpuRmsNormTolerance(input.cols), floor: 1e-30 }),
    webgpu: () => ({ metric: 'max_abs', max: WEBGPU_RMS_NORM_TOLERANCE }),
  },
  rope: {
    cpu: (input) => ({ metric: 'max_abs', max: input.amplitude * CPU_ROPE_TOLERANCE_PER_UNIT }),
    webgpu: (input) => {
      const width = input.numHeads * input.headDim;
      const scale = maxAbs(input.x);
      return {
        metric: 'scaled',
        max: 1,
        scaleName: 'its bound max|x| (2e-6 + position * 2.4e-7)',
        scale: perElement(input.x.length, (i) => scale * (WEBGPU_ROPE_BASE_TOLERANCE + input.positions[Math.floor(i / width)] * WEBGPU_ROPE_PER_POSITION)),
      };
    },
  },
  gated_activation: {
    cpu: (input, want) =>
      input.activation === 'silu'
        ? { metric: 'max_rel', max: CPU_SWIGLU_REL_TOLERANCE, floor: 1e-20 }
        : {
            metric: 'scaled',
            max: 1,
            scaleName: 'its bound 2e-6 |y| + 1e-7 |multiplier|',
            scale: perElement(want.length, (i) => CPU_GEGLU_RELATIVE * Math.abs(want[i]) + CPU_GEGLU_ABSOLUTE * Math.abs(input.multiplier[i])),
          },
    webgpu: (input, want) =>
      input.activation === 'silu'
        ? { metric: 'scaled', max: WEBGPU_SWIGLU_TOLERANCE, scaleName: 'max(1, |y|)', scale: want.map((y) => Math.max(1, Math.abs(y))) }
        : {
            metric: 'scaled',
            max: WEBGPU_GEGLU_TOLERANCE,
            scaleName: 'max(1, |activated|) max(1, |multiplier|)',
            scale: perElement(want.length, (i) => Math.max(1, Math.abs(input.activated[i])) * Math.max(1, Math.abs(input.multiplier[i]))),
          },
  },
  causal_attention: {
    cpu: () => ({ metric: 'max_abs', max: PAGED_ATTENTION_TOLERANCE }),
    webgpu: () => ({ metric: 'max_abs', max: PAGED_ATTENTION_TOLERANCE }),
  },
  paged_attention: {
    cpu: () => ({ metric: 'max_abs', max: PAGED_ATTENTION_TOLERANCE }),
    webgpu: () => ({ metric: 'max_abs', max: PAGED_ATTENTION_TOLERANCE }),
  },
};

export function toleranceOf(c: AnyOpCase, backend: BackendName, input: OpInputs[OpName], want: Float64Array, traits: BackendTraits): Tolerance {
  const own = (c.tolerance as Partial<Record<BackendName, (i: OpInputs[OpName], w: Float64Array) => Tolerance>> | undefined)?.[backend];
  if (own !== undefined) return own(input, want);
  return (OP_TOLERANCES[c.op][backend] as DefaultTolerance<OpName>)(input, want, traits);
}

/** The error under the tolerance's metric (NaN counts as infinitely wrong). */
export function measure(tolerance: Tolerance, got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length, 'length mismatch');
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const diff = Math.abs(got[i] - want[i]);
    const error =
      tolerance.metric === 'max_abs'
        ? diff
        : tolerance.metric === 'max_rel'
          ? diff / (Math.abs(want[i]) + tolerance.floor)
          : diff / Math.max(tolerance.scale[i], 1e-30);
    if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
  }
  return worst;
}

export function describeTolerance(t: Tolerance): string {
  if (t.metric === 'max_abs') return `max abs error <= ${t.max}`;
  if (t.metric === 'max_rel') return `max |error| / (|want| + ${t.floor}) <= ${t.max.toExponential(2)}`;
  return `max error / ${t.scaleName} <= ${t.max}`;
}

// ---- the cases ------------------------------------------------------------------------------------------------

const ACTIVATIONS: readonly ActivationKind[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

/** f16 weight storage against the float32 weights: f16 rounding (relative 2^-11 per weight) dominates. */
const f16StorageTolerance = (input: GemmInput): Tolerance => ({
  metric: 'scaled',
  max: 2 ** -11,
  scaleName: 'sum|terms|',
  scale: termMagnitudes(input, { bf16RoundsActivations: false }),
});

/** int8 against the float32 product: the quantization bound plus the float32 epilogue's rounding. */
const int8QuantizationTolerance = (input: GemmInput): Tolerance => {
  const bound = int8QuantizationBound(input.x, input.m, input.k, input.w, input.n);
  const terms = termMagnitudes(input, { bf16RoundsActivations: false });
  return {
    metric: 'scaled',
    max: 1,
    scaleName: 'the quantization bound + 1e-6 sum|terms|',
    scale: perElement(bound.length, (i) => bound[i] + CPU_INT8_EPILOGUE_TOLERANCE * terms[i]),
  };
};

function gemmCases(): AnyOpCase[] {
  const cases: AnyOpCase[] = [];
  // Native shapes [m, k, n], not multiples of the register tile (12 x 32 on AVX-512, 6 x 16 on AVX2, 4 x 16 portable)
  // or of the k pass (384 / 512): single elements, tile remainders in every direction, k split into several passes.
  const nativeShapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 384, 384],
    [7, 17, 33],
    [13, 64, 31],
    [25, 3, 100],
    [97, 1000, 65],
    [30, 1537, 40],
    [200, 40, 70],
  ];
  for (const dtype of ['float32', 'bfloat16', 'int8'] as const) {
    for (const [m, k, n] of nativeShapes) {
      const seed = m * 1_000_003 + k * 1009 + n;
      const base = () => ({ x: randomArray(m * k, seed), m, k, w: randomArray(n * k, seed + 1), n, dtype });
      cases.push(defineCase({ op: 'gemm', name: `${dtype} ${m}x${k} * ${n}x${k}^T`, input: () => ({ ...base(), bias: null, epilogue: { kind: 'none' } }) }));
      cases.push(
        defineCase({
          op: 'gemm',
          name: `${dtype} bias + gelu ${m}x${k}x${n}`,
          input: () => ({ ...base(), bias: randomArray(n, seed + 2), epilogue: { kind: 'activation', activation: 'gelu' } }),
        }),
      );
      cases.push(
        defineCase({
          op: 'gemm',
          name: `${dtype} bias + residual + LayerNorm ${m}x${k}x${n}`,
          input: () => ({
            ...base(),
            bias: randomArray(n, seed + 2),
            epilogue: {
              kind: 'residual_layernorm',
              residual: randomArray(m * n, seed + 3, 4),
              gamma: randomArray(n, seed + 4),
              beta: randomArray(n, seed + 5),
              eps: 1e-12,
            },
          }),
        }),
      );
    }
  }
  // int8 against the float32 product: what quantization costs. The tolerance is the per-element bound of
  // int8QuantizationBound (rounding error <= half a step on each side, summed with the other operand's magnitudes),
  // which holds for any inputs; random signs make the measured error a small fraction of it (printed). Rows with a
  // large offset (all positive, like GELU outputs) use the asymmetric range; k up to the BERT FFN's 1536.
  for (const [m, k, n, offset] of [
    [1, 384, 384, 0],
    [13, 64, 31, 0],
    [30, 1537, 40, 0],
    [25, 384, 100, 0.8],
  ] as const) {
    const seed = m * 7919 + k * 31 + n;
    cases.push(
      defineCase({
        op: 'gemm',
        name: `int8 ${m}x${k}x${n}${offset !== 0 ? ` (activations offset by +${offset})` : ''} vs the float32 product`,
        input: () => ({
          x: randomArray(m * k, seed).map((v) => v + offset),
          m,
          k,
          w: randomArray(n * k, seed + 1, 0.1),
          n,
          bias: randomArray(n, seed + 2),
          epilogue: { kind: 'none' },
          dtype: 'int8',
          againstUnquantized: true,
        }),
        tolerance: { cpu: int8QuantizationTolerance },
      }),
    );
  }
  // WGSL shapes [rows, in, out], not tile multiples, with and without bias.
  for (const [M, K, N] of [
    [1, 1, 1],
    [1, 384, 7],
    [7, 19, 33],
    [65, 129, 70],
    [130, 200, 3],
    [64, 64, 64],
  ] as const) {
    for (const withBias of [true, false]) {
      cases.push(
        defineCase({
          op: 'gemm',
          name: `float32 ${M}x${K} * ${K}x${N} bias=${withBias}`,
          input: () => ({
            x: seededValues(M * K, M * 7 + K, 1),
            m: M,
            k: K,
            w: seededValues(N * K, N * 13 + K, 0.5),
            n: N,
            bias: withBias ? seededValues(N, N, 0.5) : null,
            epilogue: { kind: 'none' },
            dtype: 'float32',
          }),
        }),
      );
    }
  }
  for (const activation of ACTIVATIONS) {
    const [M, K, N] = [37, 45, 70];
    cases.push(
      defineCase({
        op: 'gemm',
        name: `float32 bias + ${activation} epilogue ${M}x${K}x${N}`,
        input: () => ({
          x: seededValues(M * K, 1, 1),
          m: M,
          k: K,
          w: seededValues(N * K, 2, 0.6),
          n: N,
          bias: seededValues(N, 3, 0.5),
          epilogue: { kind: 'activation', activation },
          dtype: 'float32',
        }),
      }),
    );
  }
  {
    const [M, K, N] = [19, 31, 45];
    cases.push(
      defineCase({
        op: 'gemm',
        name: `float32 bias + residual epilogue ${M}x${K}x${N}`,
        input: () => ({
          x: seededValues(M * K, 7, 1),
          m: M,
          k: K,
          w: seededValues(N * K, 8, 0.5),
          n: N,
          bias: seededValues(N, 9, 0.5),
          epilogue: { kind: 'residual', residual: seededValues(M * N, 10, 2) },
          dtype: 'float32',
        }),
      }),
    );
  }
  // Other WGSL tile sizes set through override constants (the native kernel ignores them: its own tile again).
  const tilings: GemmTiling[] = [
    { tileM: 32, tileN: 32, tileK: 8, microM: 2, microN: 2 },
    { tileM: 16, tileN: 64, tileK: 4, microM: 1, microN: 8 },
    { tileM: 128, tileN: 64, tileK: 8, microM: 8, microN: 4 },
  ];
  for (const tiling of tilings) {
    const [M, K, N] = [71, 43, 97];
    cases.push(
      defineCase({
        op: 'gemm',
        name: `float32 71x43x97 with tiling ${JSON.stringify(tiling)}`,
        input: () => ({
          x: seededValues(M * K, 11, 1),
          m: M,
          k: K,
          w: seededValues(N * K, 12, 0.5),
          n: N,
          bias: seededValues(N, 13, 0.5),
          epilogue: { kind: 'none' },
          dtype: 'float32',
          tiling,
        }),
      }),
    );
  }
  // f16 weight storage, f32 accumulation: against the f16-rounded weights only the f32 accumulation error remains;
  // against the f32 weights f16 rounding (relative 2^-11 per weight) dominates.
  for (const againstUnroundedWeights of [false, true]) {
    const [M, K, N] = [23, 77, 41];
    cases.push(
      defineCase({
        op: 'gemm',
        name: `float16 weights ${M}x${K}x${N} vs ${againstUnroundedWeights ? 'the float32 weights' : 'the f16-rounded weights'}`,
        input: () => ({
          x: seededValues(M * K, 14, 1),
          m: M,
          k: K,
          w: seededValues(N * K, 15, 0.5),
          n: N,
          bias: seededValues(N, 16, 0.5),
          epilogue: { kind: 'none' },
          dtype: 'float16',
          againstUnroundedWeights,
        }),
        tolerance: againstUnroundedWeights ? { cpu: f16StorageTolerance, webgpu: f16StorageTolerance } : undefined,
      }),
    );
  }
  // WGSL gemm_residual_layernorm inputs: gamma ~ 1 +- 0.3, residual optionally far from 0.
  const lnInputs = (M: number, K: number, N: number, seed: number, residualOffset: number, eps: number, dtype: DType = 'float32'): GemmInput => ({
    x: seededValues(M * K, seed, 1),
    m: M,
    k: K,
    w: seededValues(N * K, seed + 1, 0.5),
    n: N,
    bias: seededValues(N, seed + 2, 0.5),
    epilogue: {
      kind: 'residual_layernorm',
      residual: seededValues(M * N, seed + 3, 1, residualOffset),
      gamma: seededValues(N, seed + 4, 0.3, 1),
      beta: seededValues(N, seed + 5, 0.3),
      eps,
    },
    dtype,
  });
  for (const [M, K, N] of [
    [1, 1, 1],
    [1, 384, 64],
    [17, 45, 70],
    [40, 130, 384],
    [33, 64, 129],
  ] as const) {
    cases.push(
      defineCase({ op: 'gemm', name: `float32 bias + residual + LayerNorm ${M}x${K}x${N} (row panels)`, input: () => lnInputs(M, K, N, M + K + N, 0, 1e-12) }),
    );
  }
  cases.push(
    defineCase({
      op: 'gemm',
      // Rows near 300 with spread ~1: E[x^2] - E[x]^2 in f32 would lose about 17 of 24 bits here.
      name: 'float32 bias + residual + LayerNorm 9x20x96, rows near 300 (two-pass variance)',
      input: () => lnInputs(9, 20, 96, 50, 300, 1e-5),
      // The inputs themselves carry f32 rounding of 300 * 2^-24 ~ 2e-5 before normalization by std ~ 1.
      tolerance: { webgpu: () => ({ metric: 'max_abs', max: 1e-4 }) },
    }),
  );
  cases.push(
    defineCase({
      op: 'gemm',
      name: 'float32 bias + residual + LayerNorm 21x50x150, row-panel tiling 8x32x8 / 1x2',
      input: () => ({ ...lnInputs(21, 50, 150, 70, 0, 1e-12), tiling: { tileM: 8, tileN: 32, tileK: 8, microM: 1, microN: 2 } }),
    }),
  );
  cases.push(
    defineCase({ op: 'gemm', name: 'float16 weights bias + residual + LayerNorm 21x50x150', input: () => lnInputs(21, 50, 150, 70, 0, 1e-12, 'float16') }),
  );
  return cases;
}

function layerNormCases(): AnyOpCase[] {
  const cases: AnyOpCase[] = [];
  // Native widths that are not multiples of the vector width (16 / 8 / 1).
  for (const [rows, cols] of [
    [1, 1],
    [3, 7],
    [5, 17],
    [33, 384],
    [2, 1000],
    [9, 768],
  ] as const) {
    cases.push(
      defineCase({
        op: 'layer_norm',
        name: `${rows} x ${cols}`,
        input: () => ({
          x: randomArray(rows * cols, rows * 31 + cols, 3),
          rows,
          cols,
          gamma: randomArray(cols, cols + 1),
          beta: randomArray(cols, cols + 2),
          eps: 1e-12,
        }),
      }),
    );
    cases.push(
      defineCase({
        op: 'add_layer_norm',
        name: `${rows} x ${cols} with residual = LayerNorm of the sum`,
        input: () => ({
          x: randomArray(rows * cols, rows + cols * 3, 3),
          residual: randomArray(rows * cols, rows + cols * 5, 3),
          rows,
          cols,
          gamma: randomArray(cols, 4),
          beta: randomArray(cols, 5),
          eps: 1e-5,
        }),
      }),
    );
  }
  cases.push(
    defineCase({
      op: 'layer_norm',
      name: '1 x 257 rows near 1000 (two-pass variance)',
      input: () => ({
        x: Float32Array.from(randomArray(257, 77), (v) => 1000 + v),
        rows: 1,
        cols: 257,
        gamma: new Float32Array(257).fill(1),
        beta: new Float32Array(257),
        eps: 1e-12,
      }),
      // 1000 + v keeps v to ~6e-5 in float32; the normalized values (std ~0.58) keep that relative precision.
      tolerance: { cpu: () => ({ metric: 'max_abs', max: 1e-4 }), webgpu: () => ({ metric: 'max_abs', max: 1e-4 }) },
    }),
  );
  // Rows of std ~1e-3 (variance 1e-6) with eps 1e-5: the output scale is 1 / sqrt(1e-6 + 1e-5), about 0.3 of what it
  // would be without eps, so a dropped, misplaced (outside the square root) or replaced eps fails by ~0.1.
  const epsMatters = (i: LayerNormInput) =>
    assert.ok(
      maxAbsDiff(ref.layerNorm(i.x, i.rows, i.cols, i.gamma, i.beta, 1e-12), ref.layerNorm(i.x, i.rows, i.cols, i.gamma, i.beta, i.eps)) > 0.1,
      'eps changes these rows materially',
    );
  for (const cols of [7, 17, 384]) {
    cases.push(
      defineCase({
        op: 'layer_norm',
        name: `2 x ${cols}, std 1e-3 below eps 1e-5`,
        input: () => ({
          x: randomArray(2 * cols, cols + 9, Math.sqrt(3) * 1e-3),
          rows: 2,
          cols,
          gamma: randomArray(cols, cols + 10),
          beta: randomArray(cols, cols + 11),
          eps: 1e-5,
        }),
        precondition: epsMatters,
        // Outputs are O(1); float32 statistics err by a few ulps of that (measured <= 8.4e-8); eps 1e-12 instead errs by 0.85..1.2.
        tolerance: { cpu: () => ({ metric: 'max_abs', max: 2e-6 }) },
      }),
    );
  }
  cases.push(
    defineCase({
      op: 'layer_norm',
      name: '3 x 384, std 1e-3 below eps 1e-5 (gamma ~ 1)',
      input: () => ({
        x: seededValues(3 * 384, 21, Math.sqrt(3) * 1e-3),
        rows: 3,
        cols: 384,
        gamma: seededValues(384, 22, 0.3, 1),
        beta: seededValues(384, 23, 0.3),
        eps: 1e-5,
      }),
      precondition: epsMatters,
    }),
  );
  for (const [rows, cols, offset] of [
    [1, 1, 0],
    [5, 37, 0],
    [3, 384, 0],
    [2, 1000, 100],
  ] as const) {
    cases.push(
      defineCase({
        op: 'layer_norm',
        name: `${rows} x ${cols}, gamma ~ 1${offset ? `, rows near ${offset}` : ''}`,
        input: () => ({
          x: seededValues(rows * cols, rows + cols, 1, offset),
          rows,
          cols,
          gamma: seededValues(cols, 3, 0.3, 1),
          beta: seededValues(cols, 4, 0.3),
          eps: 1e-12,
        }),
        // Rows around 100 with spread ~1: a one-pass E[x^2] - E[x]^2 in f32 loses ~1e-3 of the variance here. The f32
        // row sum (~1e5) is only good to ~ulp(1e5) = 2^-7, i.e. ~1e-5 on the mean, amplified by 1 / std ~ 1.7: 1e-4
        // still separates two-pass from one-pass (~1e-3).
        tolerance: offset === 0 ? undefined : { cpu: () => ({ metric: 'max_abs', max: 1e-4 }), webgpu: () => ({ metric: 'max_abs', max: 1e-4 }) },
      }),
    );
  }
  return cases;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function activationCases(): AnyOpCase[] {
  const cases: AnyOpCase[] = [];
  /** Inputs spanning the interesting range of GELU: deep negative tail, around 0, large positive. */
  const spread = (length: number, seed: number): Float32Array => {
    const x = randomArray(length, seed, 8);
    x[0] = 0;
    if (length > 3) {
      x[1] = -12;
      x[2] = 12;
      x[3] = -1e-6;
    }
    return x;
  };
  for (const activation of ACTIVATIONS) {
    for (const [rows, cols] of [
      [1, 1],
      [3, 17],
      [7, 100],
      [2, 1536],
    ] as const) {
      cases.push(
        defineCase({
          op: 'bias_activation',
          name: `${activation} ${rows} x ${cols}`,
          input: () => ({ x: spread(rows * cols, rows * 7 + cols), rows, cols, bias: randomArray(cols, cols), activation }),
        }),
      );
    }
    // 1001 values on [-12, 12]: a count that is not a workgroup multiple.
    cases.push(
      defineCase({
        op: 'bias_activation',
        name: `${activation} on 1001 points of [-12, 12], no bias`,
        input: () => ({ x: Float32Array.from({ length: 1001 }, (_, i) => -12 + (24 * i) / 1000), rows: 1, cols: 1001, bias: null, activation }),
      }),
    );
  }
  cases.push(
    defineCase({
      op: 'bias_activation',
      name: 'gelu tail -3..-7 keeps relative accuracy (no 1 + erf cancellation)',
      input: () => ({ x: Float32Array.from([-3, -4, -5, -6, -7]), rows: 1, cols: 5, bias: null, activation: 'gelu' }),
      // The WGSL A&S erf is accurate in absolute terms only: it keeps its default (max(1, |x|)-scaled) bound here.
      tolerance: { cpu: () => ({ metric: 'max_rel', max: 1e-5, floor: 0 }) },
    }),
  );
  cases.push(
    defineCase({
      op: 'bias_activation',
      name: 'none, no bias = identity',
      input: () => ({ x: randomArray(33, 1), rows: 3, cols: 11, bias: null, activation: 'none' }),
    }),
  );
  return cases;
}

function embeddingsCases(): AnyOpCase[] {
  const cases: AnyOpCase[] = [];
  for (const hidden of [1, 7, 64, 384]) {
    cases.push(
      defineCase({
        op: 'embeddings',
        name: `hidden ${hidden}, 7 tokens`,
        input: () => ({
          tokenIds: Int32Array.from([0, 49, 7, 7, 3, 12, 1]),
          positions: Int32Array.from([0, 1, 2, 39, 0, 1, 2]),
          tokenTypeIds: Int32Array.from([0, 0, 1, 1, 0, 1, 0]),
          // Word values on a 1/1024 grid in (-1, 1) (the native tests read the same grid from f16 / bf16 tables).
          word: Float32Array.from(randomArray(50 * hidden, hidden), (v) => Math.round(v * 1024) / 1024),
          position: randomArray(40 * hidden, hidden + 1),
          tokenType: randomArray(2 * hidden, hidden + 2),
          hidden,
          gamma: randomArray(hidden, hidden + 3),
          beta: randomArray(hidden, hidden + 4),
          eps: 1e-12,
        }),
      }),
    );
  }
  cases.push(defineCase({ op: 'embeddings', name: 'hidden 37, 23 seeded tokens, gamma ~ 1', input: () => webGpuEmbeddingsInput() }));
  return cases;
}

/** The WGSL tests' embeddings inputs (also used by ops_webgpu.test.ts for its pregather and f16 paths). */
export function webGpuEmbeddingsInput(): EmbeddingsInput & { readonly vocab: number } {
  const hidden = 37;
  const [vocab, maxPositions, typeVocab] = [50, 20, 2];
  const numTokens = 23;
  return {
    vocab,
    tokenIds: seededInts(numTokens, 1, vocab),
    positions: seededInts(numTokens, 2, maxPositions),
    tokenTypeIds: seededInts(numTokens, 3, typeVocab),
    word: seededValues(vocab * hidden, 4, 1),
    position: seededValues(maxPositions * hidden, 5, 0.5),
    tokenType: seededValues(typeVocab * hidden, 6, 0.5),
    hidden,
    gamma: seededValues(hidden, 7, 0.3, 1),
    beta: seededValues(hidden, 8, 0.3),
    eps: 1e-12,
  };
}

function attentionCases(): AnyOpCase[] {
  const cases: AnyOpCase[] = [];
  const native: [string, number[], number, number][] = [
    ['one sequence of one token', [1], 2, 8],
    ['one-token sequences only', [1, 1, 1], 3, 5],
    ['odd head dim and head count', [7, 3, 11], 3, 17],
    ['lengths around the key tile', [15, 16, 17, 63, 64, 65, 130], 2, 32],
    ['bge-small head shape', [40, 9], 12, 32],
    ['bge-base head shape', [33], 12, 64],
    ['head dim 1', [5, 2], 4, 1],
    ['batch mixing 1 and 512 tokens', [1, 512, 1, 3], 2, 32],
  ];
  for (const [name, lengths, numHeads, headDim] of native) {
    cases.push(
      defineCase({
        op: 'attention',
        name: `${name}: lengths [${lengths.join(', ')}], ${numHeads} heads x ${headDim}`,
        input: () => {
          const tokens = lengths.reduce((a, b) => a + b, 0);
          const width = numHeads * headDim;
          const seed = tokens * 131 + width;
          // Scores up to ~|q||k| = headDim / 3 * scale: wide enough that the softmax is far from uniform.
          return {
            q: randomArray(tokens * width, seed, 2),
            k: randomArray(tokens * width, seed + 1, 2),
            v: randomArray(tokens * width, seed + 2),
            cuSeqLens: cuSeqLensOf(lengths),
            numHeads,
            headDim,
          };
        },
      }),
    );
  }
  cases.push(
    defineCase({
      op: 'attention',
      name: 'large scores (+-60 squared) do not overflow: the running max is subtracted',
      input: () => ({
        q: Float32Array.from({ length: 12 }, (_, i) => (i % 2 ? 60 : -60)),
        k: Float32Array.from({ length: 12 }, (_, i) => (i % 3 ? 60 : -60)),
        v: randomArray(12, 5),
        cuSeqLens: cuSeqLensOf([3]),
        numHeads: 1,
        headDim: 4,
      }),
      exact: (_input, got) => assert.ok(got.every(Number.isFinite), 'every output is finite'),
    }),
  );
  const wgsl: [string, { lengths: number[]; numHeads: number; headDim: number; scale?: number; tiling?: AttentionTiling }][] = [
    ['1-token sequences', { lengths: [1, 1, 1], numHeads: 3, headDim: 32 }],
    ['a 1-token and a 512-token sequence', { lengths: [1, 512], numHeads: 2, headDim: 16 }],
    ['lengths around the tile sizes', { lengths: [3, 31, 32, 33, 63, 64, 65, 129], numHeads: 2, headDim: 64 }],
    ['an odd head size', { lengths: [5, 70, 1], numHeads: 3, headDim: 7 }],
    ['the largest head size', { lengths: [40, 9], numHeads: 1, headDim: 128 }],
    ['small query and kv tiles', { lengths: [1, 50, 17], numHeads: 2, headDim: 24, tiling: { queryTile: 16, kvTile: 8 } }],
    ['kv tile of 64 (the maximum)', { lengths: [100, 2], numHeads: 2, headDim: 32, tiling: { queryTile: 32, kvTile: 64 } }],
    ['large scores', { lengths: [45, 80], numHeads: 2, headDim: 32, scale: 6 }],
  ];
  for (const [name, c] of wgsl) {
    const seed = name.length;
    cases.push(
      defineCase({
        op: 'attention',
        name: `${name}: lengths [${c.lengths.join(', ')}], ${c.numHeads} heads x ${c.headDim}${c.scale ? `, q and k scaled ${c.scale}` : ''}`,
        input: () => {
          const width = c.numHeads * c.headDim;
          const cuSeqLens = cuSeqLensOf(c.lengths);
          const numTokens = cuSeqLens[cuSeqLens.length - 1];
          return {
            q: seededValues(numTokens * width, seed, c.scale ?? 1),
            k: seededValues(numTokens * width, seed + 1, c.scale ?? 1),
            v: seededValues(numTokens * width, seed + 2, 1),
            cuSeqLens,
            numHeads: c.numHeads,
            headDim: c.headDim,
            tiling: c.tiling,
          };
        },
        // Scores in the hundreds: exp without subtracting the running max would overflow f32. A score of ~500 carries an
        // f32 rounding error of ~500 * 2^-24 * sqrt(32) ~ 2e-4 relative weight change at worst, so this case is held to
        // 5e-5 rather than 1e-5.
        tolerance:
          c.scale === undefined
            ? undefined
            : {
                cpu: () => ({ metric: 'max_abs', max: 5e-5 }),
                webgpu: (input) => ({ metric: 'scaled', max: 5e-5, scaleName: 'max|v|', scale: new Float64Array(input.q.length).fill(maxAbs(input.v)) }),
              },
      }),
    );
  }
  // Sliding-window attention (ModernBERT's local layers): windows smaller and larger than a key tile (native: 16
  // keys on AVX2, 64 on AVX-512, 8 portable; WGSL: kvTile 32 by default), sequences shorter and longer than the
  // window and than 2 window + 1, one-token sequences beside long ones, and small WGSL tiles.
  const windowed: [string, { lengths: number[]; numHeads: number; headDim: number; window: number; tiling?: AttentionTiling }][] = [
    ['window 1 (three keys per query)', { lengths: [1, 2, 7, 40], numHeads: 2, headDim: 16, window: 1 }],
    ['window 8, below every key tile', { lengths: [5, 17, 130, 200], numHeads: 2, headDim: 32, window: 8 }],
    ['window 64 (ModernBERT local_attention 128)', { lengths: [3, 65, 129, 300], numHeads: 2, headDim: 32, window: 64 }],
    ['window 100, above every key tile', { lengths: [50, 99, 101, 201, 350], numHeads: 1, headDim: 24, window: 100 }],
    ['window longer than every sequence (= full attention)', { lengths: [10, 70, 1], numHeads: 3, headDim: 8, window: 1000 }],
    ['window 10 with small query and kv tiles', { lengths: [1, 50, 33], numHeads: 2, headDim: 24, window: 10, tiling: { queryTile: 16, kvTile: 8 } }],
  ];
  for (const [name, c] of windowed) {
    const seed = 7 * name.length + c.window;
    cases.push(
      defineCase({
        op: 'attention',
        name: `sliding ${name}: lengths [${c.lengths.join(', ')}], ${c.numHeads} heads x ${c.headDim}`,
        input: () => {
          const width = c.numHeads * c.headDim;
          const cuSeqLens = cuSeqLensOf(c.lengths);
          const numTokens = cuSeqLens[cuSeqLens.length - 1];
          return {
            q: seededValues(numTokens * width, seed, 2),
            k: seededValues(numTokens * width, seed + 1, 2),
            v: seededValues(numTokens * width, seed + 2, 1),
            cuSeqLens,
            numHeads: c.numHeads,
            headDim: c.headDim,
            tiling: c.tiling,
            window: c.window,
          };
        },
      }),
    );
  }
  return cases;
}

function poolingCases(): AnyOpCase[] {
  const cases: AnyOpCase[] = [];
  const lengths = [1, 5, 512, 2, 17];
  for (const hidden of [1, 7, 384]) {
    for (const mode of ['cls', 'mean', 'last'] as const) {
      cases.push(
        defineCase({
          op: 'pooling',
          name: `${mode}, hidden ${hidden}, lengths [${lengths.join(', ')}], with dimensions and normalize`,
          input: () => ({
            states: randomArray(lengths.reduce((a, b) => a + b, 0) * hidden, hidden, 3),
            cuSeqLens: cuSeqLensOf(lengths),
            hidden,
            mode,
            dimensions: lengths.map((_, i) => (hidden > 1 && i % 2 === 1 ? Math.ceil(hidden / 3) : 0)),
            normalize: lengths.map((_, i) => i % 3 !== 0),
          }),
        }),
      );
    }
  }
  for (const mode of ['cls', 'mean', 'last'] as const) {
    const webLengths = [1, 512, 7, 64];
    cases.push(
      defineCase({
        op: 'pooling',
        name: `${mode}, hidden 45, lengths [${webLengths.join(', ')}], dimensions [0, 5, 45, 16]`,
        input: () => ({
          states: seededValues((1 + 512 + 7 + 64) * 45, 11, 2),
          cuSeqLens: cuSeqLensOf(webLengths),
          hidden: 45,
          mode,
          dimensions: [0, 5, 45, 16],
          normalize: [true, true, false, true],
        }),
      }),
    );
  }
  cases.push(
    defineCase({
      op: 'pooling',
      name: 'a zero row stays zero when normalized (norm floored at 1e-12), not NaN',
      input: () => ({ states: new Float32Array(2 * 45), cuSeqLens: Int32Array.of(0, 2), hidden: 45, mode: 'mean', dimensions: [0], normalize: [true] }),
      exact: (_input, got) => assert.deepEqual(Array.from(got), new Array(45).fill(0)),
    }),
  );
  return cases;
}

function rmsNormCases(): AnyOpCase[] {
  const cases: AnyOpCase[] = [];
  // Native widths that are not multiples of the vector width (16 / 8 / 1), several groups (heads) per row.
  for (const [rows, groups, cols] of [
    [1, 1, 1],
    [3, 1, 7],
    [5, 1, 17],
    [33, 1, 64],
    [2, 1, 1000],
    [7, 4, 16],
    [5, 3, 24],
    [3, 2, 128],
    [4, 5, 9],
  ] as const) {
    cases.push(
      defineCase({
        op: 'rms_norm',
        name: `${rows} rows x ${groups} groups of ${cols}`,
        input: () => ({
          x: randomArray(rows * groups * cols, rows * 31 + cols + groups, 3),
          rows,
          groups,
          cols,
          weight: randomArray(cols, cols + 1, 2),
          eps: 1e-6,
        }),
      }),
    );
  }
  // eps enters the statistic exactly as upstream: inside the square root.
  for (const eps of [1e-6, 0.5, 1e6]) {
    cases.push(
      defineCase({
        op: 'rms_norm',
        name: `2 x 257 near 1000, eps ${eps}`,
        input: () => ({ x: Float32Array.from(randomArray(2 * 257, 77), (v) => 1000 + v), rows: 2, groups: 1, cols: 257, weight: randomArray(257, 78), eps }),
      }),
    );
  }
  // WGSL shapes: hidden rows and per-head rows (7 tokens x 3 heads of 16), more columns than the 128 invocations.
  for (const [rows, cols] of [
    [1, 1],
    [5, 37],
    [3, 64],
    [7 * 3, 16],
    [2, 200],
  ] as const) {
    cases.push(
      defineCase({
        op: 'rms_norm',
        name: `${rows} x ${cols}, weight ~ 1`,
        input: () => ({ x: seededValues(rows * cols, rows * 31 + cols, 1.5), rows, groups: 1, cols, weight: seededValues(cols, cols + 7, 0.4, 1), eps: 1e-6 }),
      }),
    );
  }
  return cases;
}

function ropeCases(): AnyOpCase[] {
  const cases: AnyOpCase[] = [];
  const positionZeroIsIdentity = (input: RopeInput, got: Float32Array) => {
    const width = input.numHeads * input.headDim;
    input.positions.forEach((position, row) => {
      if (position === 0)
        assert.deepEqual(got.subarray(row * width, (row + 1) * width), input.x.subarray(row * width, (row + 1) * width), 'position 0 is the identity');
    });
  };
  // Qwen3's theta and small ones, positions up to max_position_embeddings - 1.
  for (const [numHeads, headDim, theta] of [
    [1, 2, 10000],
    [4, 16, 1000000],
    [3, 10, 10000],
    [2, 64, 1000000],
    [5, 34, 500],
  ] as const) {
    const positions = Int32Array.of(0, 1, 2, 7, 63, 64, 1000, 32767, 40959);
    cases.push(
      defineCase({
        op: 'rope',
        name: `${numHeads} heads of ${headDim}, theta ${theta}, positions up to 40959`,
        input: () => ({
          x: randomArray(positions.length * numHeads * headDim, numHeads * 13 + headDim, 2),
          positions,
          numHeads,
          headDim,
          theta,
          maxPosition: 40960,
          amplitude: 2,
        }),
        exact: positionZeroIsIdentity,
      }),
    );
  }
  for (const { numHeads, headDim, theta, positions } of [
    { numHeads: 3, headDim: 16, theta: 1_000_000, positions: [0, 1, 2, 5, 13, 47, 99] },
    { numHeads: 1, headDim: 10, theta: 10_000, positions: [3, 0, 8] },
    { numHeads: 2, headDim: 16, theta: 1_000_000, positions: [1000, 4095, 32767, 40959] },
  ]) {
    const width = numHeads * headDim;
    cases.push(
      defineCase({
        op: 'rope',
        name: `${numHeads} heads of ${headDim}, theta ${theta}, positions [${positions.join(', ')}]`,
        input: () => ({
          x: seededValues(positions.length * width, width + positions.length, 1),
          positions: Int32Array.from(positions),
          numHeads,
          headDim,
          theta,
          maxPosition: 40960,
          amplitude: 1,
        }),
        exact: positionZeroIsIdentity,
      }),
    );
  }
  // GTE's NTK rope (new-impl NTKScalingRotaryEmbedding): base theta * factor, every inverse frequency times
  // factor^(-2 / d); gte-base-en-v1.5 has theta 500000, factor 2, head size 64, 8192 positions.
  for (const { numHeads, headDim, theta, factor } of [
    { numHeads: 2, headDim: 64, theta: 500_000, factor: 2 },
    { numHeads: 3, headDim: 16, theta: 10_000, factor: 4 },
  ]) {
    const positions = Int32Array.of(0, 1, 5, 511, 4096, 8191);
    const width = numHeads * headDim;
    cases.push(
      defineCase({
        op: 'rope',
        name: `${numHeads} heads of ${headDim}, NTK theta ${theta} x ${factor}, positions up to 8191`,
        input: () => ({
          x: seededValues(positions.length * width, width + factor, 1),
          positions,
          numHeads,
          headDim,
          theta: theta * factor,
          inverseFrequencyScale: factor ** (-2 / headDim),
          maxPosition: 8192,
          amplitude: 1,
        }),
        exact: positionZeroIsIdentity,
      }),
    );
  }
  return cases;
}

/** Splits packed rows [rows, 2 * cols] into the activated half and the multiplier, as the kernels read them. */
function splitHalves(
  packed: Float32Array,
  rows: number,
  cols: number,
  activatedHalf: 'first' | 'second',
): { activated: Float32Array; multiplier: Float32Array } {
  const first = new Float32Array(rows * cols);
  const second = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    first.set(packed.subarray(r * 2 * cols, r * 2 * cols + cols), r * cols);
    second.set(packed.subarray(r * 2 * cols + cols, (r + 1) * 2 * cols), r * cols);
  }
  return activatedHalf === 'first' ? { activated: first, multiplier: second } : { activated: second, multiplier: first };
}

/** The packed rows a fused gate|up (or Wi) GEMM writes, from the two halves: the inverse of splitHalves. */
export function packedHalves(input: GatedActivationInput): Float32Array {
  const { rows, cols } = input;
  const [first, second] = input.activatedHalf === 'first' ? [input.activated, input.multiplier] : [input.multiplier, input.activated];
  const packed = new Float32Array(rows * 2 * cols);
  for (let r = 0; r < rows; r++) {
    packed.set(first.subarray(r * cols, (r + 1) * cols), 2 * r * cols);
    packed.set(second.subarray(r * cols, (r + 1) * cols), (2 * r + 1) * cols);
  }
  return packed;
}

function gatedActivationCases(): AnyOpCase[] {
  const cases: AnyOpCase[] = [];
  // Native widths that are not multiples of the vector width, large |x| where e^-x saturates (SiLU) or Phi reaches 0
  // or 1 (GELU). Both halves come from one [rows, 2 * cols] array (the fused GEMM's output), split at the half the
  // case names: SiLU first is Qwen3's SwiGLU, GELU first is ModernBERT's GeGLU, second is NomicBERT's / GTE's order.
  const shapes = [
    [1, 1, 3],
    [3, 7, 3],
    [5, 17, 6],
    [4, 128, 10],
    [2, 333, 30],
    [3, 50, 120],
  ] as const;
  const variants: [GatedActivationKind, 'first' | 'second'][] = [
    ['silu', 'first'],
    ['silu', 'second'],
    ['gelu', 'first'],
    ['gelu', 'second'],
    ['gelu_pytorch_tanh', 'first'],
  ];
  for (const [activation, activatedHalf] of variants) {
    for (const [rows, cols, scale] of shapes) {
      cases.push(
        defineCase({
          op: 'gated_activation',
          name: `${activation}, activated half ${activatedHalf}: ${rows} x ${cols}, |x| <= ${scale}`,
          input: () => ({
            ...splitHalves(randomArray(rows * 2 * cols, rows * 7 + cols, scale), rows, cols, activatedHalf),
            rows,
            cols,
            activation,
            activatedHalf,
          }),
        }),
      );
    }
  }
  for (const activation of ['silu', 'gelu'] as const) {
    cases.push(
      defineCase({
        op: 'gated_activation',
        name: `${activation}: 5 x 37 (not a workgroup multiple), activated values +-100 (SiLU: exp overflow, the limit is -0; GELU: Phi is 0 or 1)`,
        input: () => {
          const activated = seededValues(5 * 37, 1, 12);
          activated[0] = -100;
          activated[1] = 100;
          return { activated, multiplier: seededValues(5 * 37, 2, 2), rows: 5, cols: 37, activation, activatedHalf: 'first' };
        },
      }),
    );
  }
  return cases;
}

/** Block ids 1..count in a seeded order (Fisher-Yates over an LCG). */
function shuffled(count: number, seed: number): number[] {
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  let state = seed >>> 0;
  for (let i = ids.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids;
}

interface PagedShape {
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly blockSize: number;
  /** Per sequence: [cached tokens, new tokens]. */
  readonly seqs: readonly (readonly [number, number])[];
}

/**
 * K/V scattered over shuffled, non-contiguous blocks, every slot filled (block 0 stays 0 and is never named); the new
 * tokens' K/V are the values already at their slots, so kv_write leaves the cache as it is.
 */
function shuffledPagedInput(c: PagedShape, seed: number): PagedAttentionInput {
  const { numHeads, numKvHeads, headDim, blockSize, seqs } = c;
  const kvWidth = numKvHeads * headDim;
  const blocksPerSeq = seqs.map(([cached, fresh]) => Math.ceil((cached + fresh) / blockSize) + 1); // one spare block each
  const numBlocks = blocksPerSeq.reduce((a, b) => a + b, 0) + 1; // + the reserved block 0
  const ids = shuffled(numBlocks - 1, seed);
  const blockTables: Int32Array[] = [];
  let next = 0;
  for (const count of blocksPerSeq) {
    blockTables.push(Int32Array.from(ids.slice(next, next + count)));
    next += count;
  }
  // O(1) keys and values, q scaled so scores span ~[-6, 6].
  const cacheKeys = randomArray(numBlocks * blockSize * kvWidth, seed + 1, 1);
  const cacheValues = randomArray(numBlocks * blockSize * kvWidth, seed + 2, 1);
  cacheKeys.fill(0, 0, blockSize * kvWidth);
  cacheValues.fill(0, 0, blockSize * kvWidth);
  const cuSeqLens = new Int32Array(seqs.length + 1);
  seqs.forEach(([, fresh], i) => (cuSeqLens[i + 1] = cuSeqLens[i] + fresh));
  const numCachedTokens = Int32Array.from(seqs, ([cached]) => cached);
  const numTokens = cuSeqLens[seqs.length];
  const k = new Float32Array(numTokens * kvWidth);
  const v = new Float32Array(numTokens * kvWidth);
  seqs.forEach(([cached, fresh], s) => {
    for (let i = 0; i < fresh; i++) {
      const position = cached + i;
      const row = blockTables[s][Math.floor(position / blockSize)] * blockSize + (position % blockSize);
      k.set(cacheKeys.subarray(row * kvWidth, (row + 1) * kvWidth), (cuSeqLens[s] + i) * kvWidth);
      v.set(cacheValues.subarray(row * kvWidth, (row + 1) * kvWidth), (cuSeqLens[s] + i) * kvWidth);
    }
  });
  const q = randomArray(numTokens * numHeads * headDim, seed + 3, 6 / Math.sqrt(headDim));
  return { q, k, v, cuSeqLens, numHeads, numKvHeads, headDim, numBlocks, blockSize, cacheKeys, cacheValues, blockTables, numCachedTokens };
}

function pagedAttentionCases(): AnyOpCase[] {
  const cases: AnyOpCase[] = [];
  // Cached prefixes crossing the 64-key tile; block sizes 1, 3, 4 and 16; head dims that are not multiples of the vector
  // width; GQA groups of 1, 2 and 3; one-token sequences; a batch mixing 1 and 150 visible keys.
  const shapes: PagedShape[] = [
    { numHeads: 1, numKvHeads: 1, headDim: 16, blockSize: 4, seqs: [[0, 1]] },
    {
      numHeads: 4,
      numKvHeads: 2,
      headDim: 16,
      blockSize: 4,
      seqs: [
        [0, 12],
        [8, 4],
        [12, 1],
        [0, 5],
      ],
    },
    {
      numHeads: 6,
      numKvHeads: 2,
      headDim: 24,
      blockSize: 3,
      seqs: [
        [0, 7],
        [70, 3],
        [2, 1],
      ],
    },
    {
      numHeads: 3,
      numKvHeads: 3,
      headDim: 7,
      blockSize: 1,
      seqs: [
        [5, 2],
        [0, 9],
      ],
    },
    {
      numHeads: 8,
      numKvHeads: 2,
      headDim: 128,
      blockSize: 16,
      seqs: [
        [0, 1],
        [128, 22],
        [63, 2],
        [64, 1],
      ],
    },
    {
      numHeads: 2,
      numKvHeads: 1,
      headDim: 34,
      blockSize: 16,
      seqs: [
        [0, 150],
        [0, 1],
      ],
    },
  ];
  shapes.forEach((c, index) => {
    cases.push(
      defineCase({
        op: 'paged_attention',
        name: `${c.numHeads}/${c.numKvHeads} heads of ${c.headDim}, blocks of ${c.blockSize}, [cached, new] ${JSON.stringify(c.seqs)}`,
        input: () => shuffledPagedInput(c, 1000 + index * 17),
      }),
    );
  });
  cases.push(
    defineCase({
      op: 'paged_attention',
      name: 'kv_write then read: chunks after cached tokens, scrambled block tables, a chunk ending on a block boundary, garbage elsewhere',
      input: () => {
        const [numHeads, numKvHeads, headDim, blockSize, numBlocks] = [4, 2, 16, 3, 12];
        const kvWidth = numKvHeads * headDim;
        // Sequence 0: 5 new tokens, nothing cached. Sequence 1: 1 new after 4 cached. Sequence 2: 3 new after 6 cached
        // (ends exactly at 9 = 3 blocks). Sequence 3: 7 new after 2 cached (a block shared with its cached slots).
        const cuSeqLens = cuSeqLensOf([5, 1, 3, 7]);
        const numTokens = cuSeqLens[4];
        return {
          q: seededValues(numTokens * numHeads * headDim, 21, 1),
          k: seededValues(numTokens * kvWidth, 22, 1),
          v: seededValues(numTokens * kvWidth, 23, 1),
          cuSeqLens,
          numHeads,
          numKvHeads,
          headDim,
          numBlocks,
          blockSize,
          // Random contents everywhere: the cached positions' K/V, and garbage elsewhere.
          cacheKeys: seededValues(numBlocks * blockSize * kvWidth, 24, 1),
          cacheValues: seededValues(numBlocks * blockSize * kvWidth, 25, 1),
          blockTables: [Int32Array.of(7, 2), Int32Array.of(5, 9), Int32Array.of(11, 1, 4), Int32Array.of(3, 6, 8)],
          numCachedTokens: Int32Array.of(0, 4, 6, 2),
        };
      },
    }),
  );
  for (const [numHeads, numKvHeads, headDim] of [
    [4, 2, 16],
    [6, 2, 10],
    [3, 3, 8],
  ] as const) {
    cases.push(
      defineCase({
        op: 'causal_attention',
        name: `one-shot GQA over whole sequences [1, 5, 17], ${numHeads}/${numKvHeads} heads x ${headDim}`,
        input: () => {
          const cuSeqLens = cuSeqLensOf([1, 5, 17]);
          const T = cuSeqLens[3];
          return {
            q: seededValues(T * numHeads * headDim, 11 + headDim, 1),
            k: seededValues(T * numKvHeads * headDim, 12 + headDim, 1),
            v: seededValues(T * numKvHeads * headDim, 13 + headDim, 1),
            cuSeqLens,
            numHeads,
            numKvHeads,
            headDim,
          };
        },
      }),
    );
  }
  return cases;
}

export const OP_CASES: readonly AnyOpCase[] = [
  ...gemmCases(),
  ...layerNormCases(),
  ...activationCases(),
  ...embeddingsCases(),
  ...attentionCases(),
  ...poolingCases(),
  ...rmsNormCases(),
  ...ropeCases(),
  ...gatedActivationCases(),
  ...pagedAttentionCases(),
];
