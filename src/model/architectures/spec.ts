// The contract every model family fulfils: one ArchitectureSpec per family (src/model/architectures/<family>/spec.ts),
// all of them listed in ./registry.ts. Everything outside src/model/architectures/ (and the per-family graph builders
// and encoders of the native and WebGPU backends) asks the registry instead of naming a family.
import type { RaggedBatch } from '../../backends/batch_types.js';
import type { TensorSpec } from '../layout_check.js';
import type { ClassificationHead, ClassificationLabels } from '../heads/classification.js';
import type { HeadContext } from '../types.js';
import type { ReferenceKvStore } from '../reference/kv_store.js';
import type { ModelConfig, PoolingMode, TensorView, WeightMap } from '../types.js';

/**
 * How tokens of one sequence see each other. 'bidirectional' (encoders): every token sees every token, so inputs are
 * computed whole and get neither a KV cache, prefix caching nor chunked prefill. 'causal' (decoders): a token sees
 * itself and earlier tokens, which is what makes paged K/V reusable. 'sliding_window': causal within a window (no
 * family uses it yet; named so a spec can declare it and every backend refuses it until one implements it). An encoder
 * whose layers see a bidirectional window (ModernBERT's local layers) is 'bidirectional': the window is a detail of its
 * forward pass, not of how its batches may be scheduled.
 */
/** Heads a family may declare. */
export type HeadName = 'classify';

export type AttentionKind = 'bidirectional' | 'causal' | 'sliding_window';

/** The precision a backend stores K and V in, which sets the KV cache's bytes per token. */
export type KvDType = 'float64' | 'float32' | 'bfloat16' | 'float16';

export const KV_DTYPE_BYTES: Readonly<Record<KvDType, number>> = { float64: 8, float32: 4, bfloat16: 2, float16: 2 };

/** The K/V geometry a causal family's reference forward reads and writes through block tables (float64 values). */
export interface ReferenceKvLayout {
  readonly numLayers: number;
  readonly numKeyValueHeads: number;
  readonly headDim: number;
}

/**
 * One model's float64 forward (the oracle the native and WebGPU backends are checked against), weights widened once.
 * src/backends/reference/ runs it for every family alike: it checks the batch, then calls forward().
 */
export interface ReferenceForward {
  /**
   * Declared by causal families: the layout of the ReferenceKvStore their paged batches (blockTables /
   * numCachedTokens / isLastChunk: chunked prefill, prefix hits) use. null: no KV cache, whole sequences only.
   */
  readonly pagedKv: ReferenceKvLayout | null;
  /**
   * Pooled, post-processed rows (pool -> keep dimensions[i] -> L2-normalize when normalize[i] is 1), in batch order.
   * One-shot batches: one row per sequence. Paged batches (`kv` given, only when pagedKv is declared): one row per
   * sequence whose isLastChunk is 1, LAST-pooled. The batch arrives checked (src/backends/batch_checks.ts).
   */
  forward(batch: RaggedBatch, kv: ReferenceKvStore | null): Float64Array[];
}

/** How a family builds its reference forward: src/model/architectures/<family>/reference.ts. */
export interface ReferenceSpec<C extends ModelConfig> {
  /** Checks and widens the weights to float64 once; throws ModelLoadError for a missing or misshapen tensor. */
  create(config: C, weights: WeightMap): ReferenceForward;
}

/** One model family. C is its config type (the member of ModelConfig whose `architecture` is `name`). */
export interface ArchitectureSpec<C extends ModelConfig = ModelConfig> {
  /** The value of ModelConfig.architecture, and the name backends answer supports() for. */
  readonly name: C['architecture'];
  /** For messages: 'BERT', 'Qwen3'. */
  readonly displayName: string;
  /** What config.json values this family accepts, for "supported: ..." in errors. */
  readonly supportedSummary: string;
  /** True when this family parses this config.json (the registry asks each family in order; the first one wins). */
  claimsConfigJson(json: unknown): boolean;
  /** Validates config.json; `supportedList` (every family's summary) goes into its errors. */
  parseConfig(json: unknown, file: string, supportedList?: string): C;
  readonly attention: AttentionKind;
  /**
   * Position id of a sequence's first token; token t gets firstPosition + t (the scheduler builds positions with it).
   * 0 for BERT and Qwen3; pad_token_id + 1 for RoBERTa, which reserves ids 0..pad for padding. A sequence may hold
   * max_position_embeddings - firstPosition tokens (maxSequenceTokens in ./registry.ts).
   */
  firstPosition(config: C): number;
  /** Pooling modes a forward of this family can produce (sentence-transformers' Pooling module names). */
  readonly poolings: readonly PoolingMode[];
  /** Task heads this family can run on top of the pooled rows ('classify': sequence classification / cross-encoders). */
  readonly heads: readonly HeadName[];
  /**
   * Reads the family's sequence-classification head from a checkpoint whose config.json names a
   * *ForSequenceClassification class (tensors by their stored names); present exactly when `heads` has 'classify'.
   * Throws ModelLoadError for a missing or misshapen head tensor.
   */
  readonly classificationHead?: (
    tensors: ReadonlyMap<string, TensorView>,
    config: C,
    labels: ClassificationLabels,
    file: string,
    context: HeadContext,
  ) => ClassificationHead;
  /**
   * The head's tensors stored outside the encoder's names (BERT: classifier.weight / .bias at the top level, while the
   * pooler sits under `bert.` with the encoder and is in optionalTensorSpecs), by stored name: the synthetic checkpoint
   * generator writes them. Present with classificationHead.
   */
  readonly classificationHeadTensors?: (config: C, numLabels: number) => TensorSpec[];
  /** Every tensor a forward reads, canonical names and shapes (the layout; dtypes: any float, checked at load). */
  tensorSpecs(config: C): TensorSpec[];
  /** Tensors a checkpoint may hold besides those, which a forward never reads (buffers, unused heads). */
  optionalTensorSpecs(config: C): TensorSpec[];
  /** Renames checkpoint tensors to canonical names and checks them against tensorSpecs (views, no copies). */
  canonicalizeWeights(tensors: ReadonlyMap<string, TensorView>, config: C, file: string): WeightMap;
  /** Bytes one token's K and V take over all layers, K/V stored as `kvDType`; null for families without a KV cache. */
  readonly kvBytesPerToken: ((config: C, kvDType: KvDType) => number) | null;
  /** The float64 reference forward (what the reference backend runs); declares paged KV exactly when kvBytesPerToken does. */
  readonly reference: ReferenceSpec<C>;
}
