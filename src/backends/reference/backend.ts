// The reference backend: plain TypeScript in float64, slow on purpose and written for clarity. It is the oracle
// the native and WebGPU backends are compared with, and a fallback that runs anywhere Node runs. It knows no family:
// each ArchitectureSpec carries its float64 forward (`reference`, in src/model/architectures/<family>/reference.ts);
// this file checks batches, keeps the K/V store of families that declare paged KV, and rounds rows to float32.
import { ModelLoadError } from '../../errors.js';
import { findArchitecture } from '../../model/architectures/registry.js';
import type { ReferenceForward } from '../../model/architectures/spec.js';
import { ReferenceKvStore } from '../../model/reference/kv_store.js';
import type { LoadedModel, ModelConfig } from '../../model/types.js';
import type { Backend, BackendFactory, KvCacheSpec, PagedKvBackend, PooledRows, RaggedBatch } from '../backend.js';
import { checkEncoderBatch, checkDecoderBatch } from '../batch_checks.js';

/** The model's family's reference forward, weights widened to float64 once. */
function createForward(model: LoadedModel): ReferenceForward {
  const spec = findArchitecture(model.config.architecture);
  if (spec === undefined) throw new ModelLoadError(`no registered architecture '${model.config.architecture}' (model ${model.id})`);
  return spec.reference.create(model.config, model.weights);
}

/**
 * Whole sequences only (no KV cache): every family's one-shot batches. Families that declare paged KV get
 * PagedReferenceBackend from createReferenceBackend.
 */
export class ReferenceBackend implements Backend {
  readonly name = 'reference' as const;
  protected forwardFn: ReferenceForward | null;

  protected constructor(
    readonly config: ModelConfig,
    forward: ReferenceForward,
  ) {
    this.forwardFn = forward;
  }

  /**
   * Checks and widens the weights once (ModelLoadError for an unregistered family or a missing/misshapen tensor). A
   * causal family built this way runs one-shot batches only; createReferenceBackend gives it its KV store.
   */
  static async create(model: LoadedModel): Promise<ReferenceBackend> {
    return ReferenceBackend.fromForward(model, createForward(model));
  }

  /** The backend around a forward already built for `model`. */
  static fromForward(model: LoadedModel, forward: ReferenceForward): ReferenceBackend {
    return new ReferenceBackend(model.config, forward);
  }

  /** Throws unless the batch is well formed for this model (the same errors as the native and WebGPU backends). */
  protected checkBatch(batch: RaggedBatch): void {
    checkEncoderBatch(batch, this.config);
  }

  /** Pooled, post-processed rows in float64 (the oracle's full precision, for tests); see ReferenceForward.forward. */
  forward64(batch: RaggedBatch): Float64Array[] {
    const forward = this.forwardFn;
    if (forward === null) throw new Error('reference backend: forward after dispose()');
    this.checkBatch(batch);
    return forward.forward(batch, this.kvStore);
  }

  /** The KV store (null without one). */
  get kvStore(): ReferenceKvStore | null {
    return null;
  }

  async forward(batch: RaggedBatch): Promise<PooledRows> {
    return this.forward64(batch).map((row) => Float32Array.from(row));
  }

  async dispose(): Promise<void> {
    this.forwardFn = null;
  }
}

/**
 * A family whose reference forward declares paged KV (causal attention): besides one-shot batches it runs paged ones
 * (blockTables / numCachedTokens / isLastChunk), K/V kept in a float64 ReferenceKvStore between calls (chunked
 * prefill, prefix caching).
 */
export class PagedReferenceBackend extends ReferenceBackend implements PagedKvBackend {
  readonly kvBytesPerToken: number;
  private store: ReferenceKvStore | null = null;

  /** Throws ModelLoadError for a family whose reference forward declares no paged KV. */
  static override async create(model: LoadedModel): Promise<PagedReferenceBackend> {
    return PagedReferenceBackend.fromForward(model, createForward(model));
  }

  /** The backend around a forward already built for `model`. */
  static override fromForward(model: LoadedModel, forward: ReferenceForward): PagedReferenceBackend {
    const kvBytesPerToken = findArchitecture(model.config.architecture)?.kvBytesPerToken;
    if (forward.pagedKv === null || kvBytesPerToken == null) {
      throw new ModelLoadError(`the reference forward of '${model.config.architecture}' has no paged KV cache (model ${model.id})`);
    }
    return new PagedReferenceBackend(model.config, forward, kvBytesPerToken(model.config, 'float64'));
  }

  private constructor(config: ModelConfig, forward: ReferenceForward, kvBytesPerToken: number) {
    super(config, forward);
    this.kvBytesPerToken = kvBytesPerToken; // the reference store keeps K and V as float64
  }

  initKvCache(spec: KvCacheSpec): void {
    const { numLayers, numKeyValueHeads, headDim } = this.forwardFn!.pagedKv!;
    this.store = new ReferenceKvStore(numLayers, spec.numBlocks, spec.blockSize, numKeyValueHeads, headDim);
  }

  /** The KV store (null before initKvCache), for tests that look at what was written. */
  override get kvStore(): ReferenceKvStore | null {
    return this.store;
  }

  protected override checkBatch(batch: RaggedBatch): void {
    checkDecoderBatch(batch, this.config, this.store);
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    this.store = null;
  }
}

/** The reference backend for any registered architecture: paged when its reference forward declares paged KV. */
export const createReferenceBackend: BackendFactory = async (model) => {
  const forward = createForward(model);
  if (forward.pagedKv !== null) return PagedReferenceBackend.fromForward(model, forward);
  return ReferenceBackend.fromForward(model, forward);
};
