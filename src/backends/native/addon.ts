// The only place that loads the compiled addon (build/Release/pooled_native.node, built by `npm ci` through
// cmake-js). POOLED_NATIVE_ADDON=/path/to/file.node picks another build (the AddressSanitizer one in CI).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatedActivationKind } from '../../model/types.js';

export type CheckpointDType = 'F32' | 'F16' | 'BF16';
export type Precision = 'float32' | 'bfloat16' | 'int8';
export type NativeActivation = 'none' | 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu';
export type NativePooling = 'cls' | 'mean' | 'last';
/** Which half of a gated activation's packed rows goes through the activation. */
export type GatedHalf = 'first' | 'second';

export interface CpuFeatures {
  readonly arch: string;
  readonly avx2: boolean;
  readonly fma: boolean;
  readonly f16c: boolean;
  readonly avx512f: boolean;
  readonly avx512bw: boolean;
  readonly avx512vl: boolean;
  readonly avx512bf16: boolean;
  readonly avx512vnni: boolean;
  readonly avxvnni: boolean;
  /** int8 GEMMs use a VNNI dot product (else they widen to 16 bits, same exact sums); POOLED_INT8_DOT=0 forces that. */
  readonly int8Dot: boolean;
  readonly neon: boolean;
  /** The kernel variant this process runs: 'avx512' | 'avx2' | 'scalar'. */
  readonly isa: string;
}

export interface NativeTensorSpec {
  readonly name: string;
  readonly dtype: CheckpointDType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** The dimensions every engine's spec.config starts with (what ../graph_builder.ts's engineDimensions copies). */
export interface NativeModelDimensions {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  readonly maxPositionEmbeddings: number;
}

/** spec.config of a BERT engine (BERT, RoBERTa / XLM-RoBERTa and ERNIE all run it). */
export interface NativeBertConfig extends NativeModelDimensions {
  readonly typeVocabSize: number;
  /** Rows of embeddings.task_type_embeddings.weight (ERNIE use_task_id), 0 without that table. */
  readonly taskTypeVocabSize: number;
  readonly layerNormEps: number;
  readonly hiddenAct: string;
}

/** spec.config of a Qwen3 engine. */
export interface NativeQwen3Config extends NativeModelDimensions {
  readonly numKeyValueHeads: number;
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
}

/** spec.config of a rotary-BERT engine (NomicBERT and GTE: native/engine/graphs/rotary_bert.cpp). */
export interface NativeRotaryBertConfig extends NativeModelDimensions {
  /** Whose tensor names the checkpoint uses. */
  readonly architecture: 'nomic_bert' | 'gte';
  readonly maxPositionEmbeddings: number;
  /** 0: no token type table. */
  readonly typeVocabSize: number;
  readonly layerNormEps: number;
  readonly ropeTheta: number;
  /** GTE's NTK factor; 1 = plain rotary. */
  readonly ropeNtkFactor: number;
  /** The gate's activation: 'silu' or 'gelu'. */
  readonly hiddenAct: string;
  /** Bias flags as 0 / 1 (the engine reads numbers and strings only). */
  readonly attentionBias: 0 | 1;
  readonly mlpUpBias: 0 | 1;
  readonly mlpDownBias: 0 | 1;
}

/** spec.config of a ModernBERT engine (native/engine/graphs/modernbert.cpp). */
export interface NativeModernBertConfig extends NativeModelDimensions {
  readonly normEps: number;
  readonly hiddenAct: string;
  readonly globalRopeTheta: number;
  readonly localRopeTheta: number;
  /** Half-width of the local layers' window (local_attention // 2). */
  readonly slidingWindow: number;
  /** One per layer, comma-separated: 'full_attention' or 'sliding_attention'. */
  readonly layerTypes: string;
}

interface NativeEngineSpecBase {
  readonly dtype: Precision;
  /** 0 = one per hardware thread. */
  readonly threads: number;
  readonly tensors: readonly NativeTensorSpec[];
}

/** Which graph (native/engine/engine_factory.cpp picks it by `family`) and that family's config. */
export type NativeEngineChoice =
  | { readonly family: 'bert'; readonly config: NativeBertConfig }
  | { readonly family: 'qwen3'; readonly config: NativeQwen3Config }
  | { readonly family: 'rotary_bert'; readonly config: NativeRotaryBertConfig }
  | { readonly family: 'modernbert'; readonly config: NativeModernBertConfig };

/** What loadEngine takes. */
export type NativeEngineSpec = NativeEngineChoice & NativeEngineSpecBase;

/**
 * The ragged batch (RaggedBatch in ../backend.ts) as the engine takes it. Decoder batches are paged when the three
 * decoder fields are present, else one-shot; encoders take no decoder fields, and decoders ignore tokenTypeIds.
 */
export interface NativeBatch {
  readonly tokenIds: Int32Array;
  readonly positions: Int32Array;
  readonly tokenTypeIds?: Int32Array;
  readonly cuSeqLens: Int32Array;
  readonly pooling: NativePooling;
  readonly dimensions: Int32Array;
  readonly normalize: Uint8Array;
  readonly blockTables?: readonly Int32Array[];
  readonly numCachedTokens?: Int32Array;
  readonly isLastChunk?: Uint8Array;
}

/** One loaded model on the native engine, whatever its family. */
export interface NativeEngine {
  readonly family: string;
  /** Pooled rows back to back, computed on a libuv worker plus the engine's own threads; paged batches give rows only for sequences with isLastChunk = 1. */
  forward(batch: NativeBatch): Promise<Float32Array>;
  /** Decoders only (hasKvCache): allocates the float32 KV cache (zeroed), discarding the previous one. Not while a forward runs. */
  initKvCache(numBlocks: number, blockSize: number): void;
  /** Returns the working buffers to the OS (after a running forward) and trims malloc's free memory; the KV cache stays. Resolves to the bytes released. */
  releaseWorkingMemory(): Promise<number>;
  dispose(): void;
  /** Whether the engine keeps a paged KV cache (decoders); encoders have none. */
  readonly hasKvCache: boolean;
  /** Packed weights and tables, plus the KV cache. */
  readonly nativeBytes: number;
  /** Per-batch working buffers held now (activations, scratch; not the KV cache); reported to V8 as external memory too. */
  readonly workingBytes: number;
  /** 0 without a KV cache. */
  readonly kvBytesPerToken: number;
  readonly threads: number;
  readonly dtype: Precision | undefined;
  readonly disposed: boolean;
}

export interface PagedAttentionSpec {
  readonly q: Float32Array;
  readonly kCache: Float32Array;
  readonly vCache: Float32Array;
  readonly numBlocks: number;
  readonly blockSize: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly cuSeqLens: Int32Array;
  readonly numCachedTokens: Int32Array;
  readonly blockTables: readonly Int32Array[];
}

export interface PackedWeights {
  readonly n: number;
  readonly k: number;
  readonly dtype: Precision;
  readonly nativeBytes: number;
}

export interface GemmEpilogueSpec {
  readonly bias?: Float32Array | null;
  readonly activation?: NativeActivation;
  readonly residual?: Float32Array | null;
  readonly lnGamma?: Float32Array | null;
  readonly lnBeta?: Float32Array | null;
  readonly lnEps?: number;
}

export interface EmbeddingsSpec {
  readonly tokenIds: Int32Array;
  readonly positions: Int32Array;
  readonly tokenTypeIds?: Int32Array | null;
  /** Float32Array for F32, Uint16Array of raw bits for F16 / BF16. */
  readonly word: Float32Array | Uint16Array;
  readonly wordDType: CheckpointDType;
  /** null: no position table (rotary models); positions are then not read. */
  readonly position: Float32Array | null;
  /** null: no token type table (tokenTypeIds must then be absent). */
  readonly tokenType: Float32Array | null;
  readonly hiddenSize: number;
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly eps: number;
  /** [tokenIds.length, hiddenSize], written in place; a new array when absent. */
  readonly out?: Float32Array | null;
}

/**
 * Op entry points. Each optional trailing `out` is a caller's Float32Array of exactly the output's length, written
 * in place and returned (benchmarks time the ops with nothing allocated); absent, a new array is returned.
 */
export interface NativeOps {
  packWeights(weight: Float32Array | Uint16Array, sourceDType: CheckpointDType, n: number, k: number, dtype: Precision): PackedWeights;
  gemm(a: Float32Array, m: number, packed: PackedWeights, epilogue?: GemmEpilogueSpec | null, out?: Float32Array | null): Float32Array;
  /** out may be x itself (in place). */
  biasActivation(x: Float32Array, rows: number, cols: number, bias: Float32Array | null, activation: NativeActivation, out?: Float32Array | null): Float32Array;
  layerNorm(
    x: Float32Array,
    rows: number,
    cols: number,
    gamma: Float32Array,
    beta: Float32Array,
    eps: number,
    residual?: Float32Array | null,
    out?: Float32Array | null,
  ): Float32Array;
  embeddings(spec: EmbeddingsSpec): Float32Array;
  attention(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    cuSeqLens: Int32Array,
    numHeads: number,
    headDim: number,
    onlyQuery?: Int32Array | null,
    out?: Float32Array | null,
    window?: number,
  ): Float32Array;
  /** The engine's layout: qkv [T, 3 * numHeads * headDim] (q | k | v in each row) -> out [T, numHeads * headDim]. */
  attentionQkv(
    qkv: Float32Array,
    cuSeqLens: Int32Array,
    numHeads: number,
    headDim: number,
    onlyQuery?: Int32Array | null,
    out?: Float32Array | null,
  ): Float32Array;
  pool(
    hidden: Float32Array,
    cuSeqLens: Int32Array,
    hiddenSize: number,
    mode: NativePooling,
    dimensions: Int32Array,
    normalize: Uint8Array,
    out?: Float32Array | null,
  ): Float32Array;
  rmsNorm(x: Float32Array, rows: number, groups: number, cols: number, weight: Float32Array, eps: number): Float32Array;
  rope(
    x: Float32Array,
    positions: Int32Array,
    numHeads: number,
    headDim: number,
    theta: number,
    maxPosition: number,
    inverseFrequencyScale?: number,
  ): Float32Array;
  gatedActivation(packed: Float32Array, rows: number, cols: number, activation: GatedActivationKind, activatedHalf: GatedHalf): Float32Array;
  pagedAttention(spec: PagedAttentionSpec): Float32Array;
  peakGflops(bf16: boolean, seconds: number): number;
  /** GB/s of a STREAM triad over three arrays of bytesPerArray on the op pool (3 x bytesPerArray per pass). */
  memoryBandwidth(bytesPerArray: number, seconds: number): number;
  setOpThreads(threads: number): number;
  kernelInfo(): { gemmPanelWidth: number; bf16DotProduct: boolean; hardwareThreads: number; opThreads: number };
}

export interface NativeAddon {
  readonly version: string;
  cpuFeatures(): CpuFeatures;
  /** Loads any family's weights (checked, then packed on a worker thread). */
  loadEngine(spec: NativeEngineSpec): Promise<NativeEngine>;
  /** V8's count of external memory: what every engine reported (weights, KV cache, working buffers) plus V8's own. */
  externalMemoryBytes(): number;
  readonly ops: NativeOps;
}

const ADDON_FILE = join('build', 'Release', 'pooled_native.node');

/** The repository (or installed package) root: the nearest parent folder holding package.json and the build. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('pooled: cannot find the package root to load the native addon from');
    dir = parent;
  }
}

let cached: NativeAddon | null = null;

/** Loads the addon once per process. Throws with the path tried and how to build it when it is missing. */
export function loadAddon(): NativeAddon {
  if (cached !== null) return cached;
  const override = process.env.POOLED_NATIVE_ADDON;
  const path = override !== undefined && override !== '' ? resolve(override) : join(packageRoot(), ADDON_FILE);
  if (!existsSync(path)) {
    throw new Error(`pooled: native addon not found at ${path}; build it with \`npx cmake-js compile\` (npm ci does this)`);
  }
  const require = createRequire(import.meta.url);
  cached = require(path) as NativeAddon;
  return cached;
}
