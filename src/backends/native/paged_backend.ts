// Decoder families on the native CPU engine (today Qwen3: native/engine/graphs/qwen3.*): a NativeBackend that is also
// a PagedKvBackend. The engine owns a float32 KV cache ([numBlocks][blockSize][numKvHeads][headDim] per layer, K and V),
// allocated by initKvCache; paged batches (blockTables / numCachedTokens / isLastChunk) write each chunk's K/V through
// the block tables and attend causally over cached + new tokens, and return rows only for sequences whose input ends
// in the chunk (LAST pooling, then dimensions and normalize, in float32). Batches without the decoder fields run
// one-shot (whole sequences, any pooling), needing no cache.
import { ModelLoadError } from '../../errors.js';
import type { LoadedModel } from '../../model/types.js';
import type { KvCacheSpec, PagedKvBackend, PooledRows, RaggedBatch } from '../backend.js';
import { checkDecoderBatch, type KvGeometry } from '../batch_checks.js';
import type { NativeEngine } from './addon.js';
import type { NativeGraphBuilder } from './graph_builder.js';
import { NativeBackend, type NativeBackendOptions } from './native_backend.js';

export class NativePagedBackend extends NativeBackend implements PagedKvBackend {
  readonly kvBytesPerToken: number;
  private kv: KvGeometry | null = null;

  private constructor(model: LoadedModel, native: NativeEngine, options: NativeBackendOptions, kvBytesPerToken: number) {
    super(model, native, options);
    this.kvBytesPerToken = kvBytesPerToken;
  }

  /** Loads a decoder checkpoint into the engine of `graph`. Throws ModelLoadError for a family without a KV cache or bad weights. */
  static override async create(model: LoadedModel, options: NativeBackendOptions, graph: NativeGraphBuilder): Promise<NativePagedBackend> {
    const kvBytesPerToken = graph.spec.kvBytesPerToken?.(model.config, 'float32');
    if (kvBytesPerToken === undefined)
      throw new ModelLoadError(`NativePagedBackend runs families with a KV cache, not ${graph.spec.displayName} (model ${model.id})`);
    return new NativePagedBackend(model, await NativeBackend.loadEngine(model, options, graph), options, kvBytesPerToken);
  }

  initKvCache(spec: KvCacheSpec): void {
    const native = this.native;
    if (native === null) throw new Error('cpu backend: initKvCache after dispose()');
    this.kv = null;
    native.initKvCache(spec.numBlocks, spec.blockSize);
    this.kv = { numBlocks: spec.numBlocks, blockSize: spec.blockSize };
  }

  protected override async forwardNow(batch: RaggedBatch): Promise<PooledRows> {
    const native = this.native;
    if (native === null) throw new Error('cpu backend: forward after dispose()');
    const { hiddenSize } = this.model.config;
    const numSequences = checkDecoderBatch(batch, this.model.config, this.kv);
    const paged = batch.blockTables !== undefined;
    if (paged && batch.pooling !== 'last') throw new RangeError(`paged decoder batches pool 'last' only, not '${batch.pooling}'`);
    const flat = await native.forward({
      tokenIds: batch.tokenIds,
      positions: batch.positions,
      cuSeqLens: batch.cuSeqLens,
      pooling: batch.pooling,
      dimensions: batch.dimensions,
      normalize: batch.normalize,
      blockTables: batch.blockTables,
      numCachedTokens: batch.numCachedTokens,
      isLastChunk: batch.isLastChunk,
    });
    const rows: Float32Array[] = [];
    let offset = 0;
    for (let i = 0; i < numSequences; i++) {
      if (paged && batch.isLastChunk![i] === 0) continue;
      const size = batch.dimensions[i] === 0 ? hiddenSize : batch.dimensions[i];
      rows.push(flat.subarray(offset, offset + size));
      offset += size;
    }
    if (offset !== flat.length) throw new Error(`cpu backend: the engine returned ${flat.length} values, expected ${offset}`);
    return rows;
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    this.kv = null;
  }
}
