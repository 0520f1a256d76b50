// The reference backend for Qwen3 decoders: plain TypeScript in float64, the oracle for the native and WebGPU decoder
// kernels. It runs both kinds of batch the contract allows (src/backends/backend.ts):
// - one-shot: whole sequences, causal attention, any pooling; nothing is kept between calls;
// - paged: chunks with blockTables / numCachedTokens / isLastChunk, K/V kept in a ReferenceKvStore between calls
//   (chunked prefill, prefix caching), LAST pooling on the chunk that ends each input.
import { ModelLoadError } from '../../errors.js';
import { QWEN3 } from '../../model/architectures/qwen3/spec.js';
import { isConfigOf } from '../../model/architectures/registry.js';
import type { LoadedModel, Qwen3Config } from '../../model/types.js';
import type { KvCacheSpec, PagedKvBackend, PooledRows, RaggedBatch } from '../backend.js';
import { checkDecoderBatch } from '../batch_checks.js';
import { ReferenceKvStore } from './kv_store.js';
import { pool, postprocess } from './ops.js';
import { qwen3Forward } from './qwen3.js';
import { loadQwen3Weights, type Qwen3Weights } from '../../model/architectures/qwen3/weights.js';


export class ReferenceQwen3Backend implements PagedKvBackend {
  readonly name = 'reference' as const;
  readonly kvBytesPerToken: number;
  private weights: Qwen3Weights | null;
  private store: ReferenceKvStore | null = null;

  private constructor(
    readonly config: Qwen3Config,
    weights: Qwen3Weights,
  ) {
    this.weights = weights;
    this.kvBytesPerToken = QWEN3.kvBytesPerToken!(config, 'float64'); // the reference store keeps K and V as float64
  }

  /** Checks and widens the weights once. Throws ModelLoadError for anything but a Qwen3 decoder. */
  static async create(model: LoadedModel): Promise<ReferenceQwen3Backend> {
    const { config } = model;
    if (!isConfigOf(config, QWEN3)) {
      throw new ModelLoadError(`ReferenceQwen3Backend runs Qwen3 decoders only, not '${config.architecture}' (model ${model.id})`);
    }
    return new ReferenceQwen3Backend(config, loadQwen3Weights(config, model.weights));
  }

  initKvCache(spec: KvCacheSpec): void {
    const { numLayers, numKeyValueHeads, headDim } = this.config;
    this.store = new ReferenceKvStore(numLayers, spec.numBlocks, spec.blockSize, numKeyValueHeads, headDim);
  }

  /** The KV store (null before initKvCache), for tests that look at what was written. */
  get kvStore(): ReferenceKvStore | null {
    return this.store;
  }

  /**
   * Pooled, post-processed rows in float64. One-shot batches: one row per sequence, pooled by batch.pooling. Paged
   * batches: one row per sequence whose isLastChunk is 1 (in batch order), LAST-pooled.
   */
  forward64(batch: RaggedBatch): Float64Array[] {
    const weights = this.weights;
    if (weights === null) throw new Error('reference backend: forward after dispose()');
    const { config, store } = this;
    checkDecoderBatch(batch, config, store);
    const H = config.hiddenSize;
    const { blockTables, numCachedTokens, isLastChunk, cuSeqLens } = batch;
    if (blockTables === undefined || numCachedTokens === undefined || isLastChunk === undefined) {
      const hidden = qwen3Forward(config, weights, batch, null);
      return pool(hidden, cuSeqLens, H, batch.pooling).map((row, i) => postprocess(row, batch.dimensions[i], batch.normalize[i] !== 0));
    }
    // Only LAST pooling survives chunking and prefix hits: the hidden states of earlier chunks and of cached tokens
    // are never computed in this call (vLLM likewise turns both features off for other pooling types).
    if (batch.pooling !== 'last') throw new RangeError(`paged decoder batches pool 'last' only, not '${batch.pooling}'`);
    const hidden = qwen3Forward(config, weights, batch, { store: store!, blockTables, numCachedTokens });
    const rows: Float64Array[] = [];
    for (let i = 0; i < cuSeqLens.length - 1; i++) {
      if (isLastChunk[i] === 0) continue;
      const last = cuSeqLens[i + 1] - 1;
      rows.push(postprocess(hidden.subarray(last * H, (last + 1) * H), batch.dimensions[i], batch.normalize[i] !== 0));
    }
    return rows;
  }

  async forward(batch: RaggedBatch): Promise<PooledRows> {
    return this.forward64(batch).map((row) => Float32Array.from(row));
  }

  async dispose(): Promise<void> {
    this.weights = null;
    this.store = null;
  }
}
