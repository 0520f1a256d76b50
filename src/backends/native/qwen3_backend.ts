// Qwen3 decoders on the native CPU engine (native/engine/graphs/qwen3.*): a NativeBackend that is also a
// PagedKvBackend. The engine owns a float32 KV cache ([numBlocks][blockSize][numKvHeads][headDim] per layer, K and V),
// allocated by initKvCache; paged batches (blockTables / numCachedTokens / isLastChunk) write each chunk's K/V through
// the block tables and attend causally over cached + new tokens, and return rows only for sequences whose input ends
// in the chunk (LAST pooling, then dimensions and normalize, in float32). Batches without the decoder fields run
// one-shot (whole sequences, any pooling), needing no cache.
import { ModelLoadError } from '../../errors.js';
import type { LoadedModel, Qwen3Config } from '../../model/types.js';
import type { KvCacheSpec, PagedKvBackend, PooledRows, RaggedBatch } from '../backend.js';
import { checkDecoderBatch, type KvGeometry } from '../batch_checks.js';
import type { NativeEngine } from './addon.js';
import { NativeBackend, type NativeBackendOptions } from './bert_backend.js';

/** The engine stores K and V as float32. */
const KV_BYTES_PER_VALUE = 4;

export class NativeQwen3Backend extends NativeBackend implements PagedKvBackend {
  readonly kvBytesPerToken: number;
  private kv: KvGeometry | null = null;

  private constructor(
    model: LoadedModel,
    private readonly config: Qwen3Config,
    native: NativeEngine,
    options: NativeBackendOptions,
  ) {
    super(model, native, options);
    this.kvBytesPerToken = 2 * config.numLayers * config.numKeyValueHeads * config.headDim * KV_BYTES_PER_VALUE;
  }

  /** Loads a Qwen3 checkpoint into the engine. Throws ModelLoadError for anything else or bad weights. */
  static async createQwen3(model: LoadedModel, options: NativeBackendOptions = {}): Promise<NativeQwen3Backend> {
    const { config } = model;
    if (config.architecture !== 'qwen3') throw new ModelLoadError(`NativeQwen3Backend runs Qwen3 decoders only, not '${config.architecture}'`);
    const native = await NativeBackend.loadEngine(model, options, {
      family: 'qwen3',
      config: {
        vocabSize: config.vocabSize,
        hiddenSize: config.hiddenSize,
        numLayers: config.numLayers,
        numHeads: config.numHeads,
        numKeyValueHeads: config.numKeyValueHeads,
        headDim: config.headDim,
        intermediateSize: config.intermediateSize,
        maxPositionEmbeddings: config.maxPositionEmbeddings,
        rmsNormEps: config.rmsNormEps,
        ropeTheta: config.ropeTheta,
      },
    });
    return new NativeQwen3Backend(model, config, native, options);
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
    const { hiddenSize } = this.config;
    const numSequences = checkDecoderBatch(batch, this.config, this.kv);
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
