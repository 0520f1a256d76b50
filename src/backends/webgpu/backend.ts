// The WebGPU backend: BERT encoders on any GPU Dawn reaches (Vulkan, Metal, D3D12) and on Mesa's lavapipe in CI.
// Weights are uploaded once, pipelines compiled once, activation buffers reused; a forward is one command
// encoder and one readback of the pooled rows. Forwards are serialized (they share the activation pool); a batch
// larger than the pool is run as consecutive slices of whole sequences.
/// <reference types="@webgpu/types" />
import { ModelLoadError } from '../../errors.js';
import { BERT } from '../../model/architectures/bert/spec.js';
import { QWEN3 } from '../../model/architectures/qwen3/spec.js';
import { isConfigOf } from '../../model/architectures/registry.js';
import type { LoadedModel } from '../../model/types.js';
import type { Backend, PooledRows, RaggedBatch } from '../backend.js';
import { checkBertBatch } from '../batch_checks.js';
import { ActivationPool, floatsPerTokenOfWidestActivation } from './activation_pool.js';
import { BertEncoder, type EncoderInputs, type EncoderTuning } from './bert_encoder.js';
import { type BertGpuWeights, destroyBertWeights, uploadBertWeights } from './bert_weights.js';
import { WebGpuContext, type WebGpuDeviceOptions } from './device.js';
import { WebGpuError } from './errors.js';
import { MapMode } from './gpu_constants.js';
import { DEFAULT_ATTENTION_TILING, MAX_HEAD_DIM } from './kernels/attention.js';
import { PipelineCache } from './pipeline_cache.js';
import type { WeightType } from './shader_source.js';
import { WebGpuQwen3Backend } from './qwen3_backend.js';
import { capabilities, type WebGpuFamilyName } from './capabilities.js';

export interface WebGpuBackendOptions extends WebGpuDeviceOptions, EncoderTuning {
  /**
   * Weight storage: 'f32' (default; matches the reference to ~1e-6), 'f16' (half the memory and bandwidth, f32
   * accumulation; needs shader-f16), or 'auto' (f16 when the device has shader-f16, else f32).
   */
  readonly weightType?: WeightType | 'auto';
  /** Token capacity of the activation pool: the scheduler's token budget (default 8192). */
  readonly maxBatchTokens?: number;
  /** Keep the word-embedding table on the host and gather rows on the CPU even when it fits one binding. */
  readonly forceCpuWordGather?: boolean;
}

export const DEFAULT_MAX_BATCH_TOKENS = 8192;

export interface WebGpuBackendInfo {
  readonly adapter: string;
  readonly shaderF16: boolean;
  readonly subgroups: boolean;
  readonly weightType: WeightType;
  readonly capacityTokens: number;
  readonly wordRowsGatheredOnCpu: boolean;
  readonly weightBytes: number;
  readonly activationBytes: number;
  readonly dispatchesPerForward: number;
  readonly pipelinesCompiled: number;
}

function sliceBatch(batch: RaggedBatch, firstSequence: number, endSequence: number): EncoderInputs {
  const start = batch.cuSeqLens[firstSequence];
  const end = batch.cuSeqLens[endSequence];
  const cuSeqLens = new Int32Array(endSequence - firstSequence + 1);
  for (let s = firstSequence; s <= endSequence; s++) cuSeqLens[s - firstSequence] = batch.cuSeqLens[s] - start;
  return {
    tokenIds: batch.tokenIds.subarray(start, end),
    positions: batch.positions.subarray(start, end),
    tokenTypeIds: batch.tokenTypeIds?.subarray(start, end),
    cuSeqLens,
    dimensions: batch.dimensions.subarray(firstSequence, endSequence),
    normalize: batch.normalize.subarray(firstSequence, endSequence),
    pooling: batch.pooling,
  };
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  private disposed = false;
  /** Tail of the forward queue: forwards share the activation pool, so they run one at a time. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly model: LoadedModel,
    private readonly ctx: WebGpuContext,
    private readonly pipelines: PipelineCache,
    private readonly weights: BertGpuWeights,
    private readonly pool: ActivationPool,
    private readonly encoder: BertEncoder,
  ) {}

  static async create(model: LoadedModel, opts: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const { config } = model;
    const architecture: string = config.architecture;
    if (!isConfigOf(config, BERT)) throw new ModelLoadError(`WebGpuBackend runs BERT encoders only, not '${architecture}' (model ${model.id})`);
    if (config.hiddenSize % config.numHeads !== 0) {
      throw new ModelLoadError(`hidden_size ${config.hiddenSize} is not a multiple of num_attention_heads ${config.numHeads}`);
    }
    const headDim = config.hiddenSize / config.numHeads;
    if (headDim > MAX_HEAD_DIM) throw new ModelLoadError(`the webgpu attention kernel supports head sizes up to ${MAX_HEAD_DIM}, this model has ${headDim}`);

    const ctx = await WebGpuContext.open(opts);
    try {
      const requested = opts.weightType ?? 'f32';
      const weightType: WeightType = requested === 'auto' ? (ctx.features.shaderF16 ? 'f16' : 'f32') : requested;
      if (weightType === 'f16' && !ctx.features.shaderF16) {
        throw new ModelLoadError(`f16 weights need the shader-f16 feature, which ${ctx.adapterName} lacks (use weightType 'f32' or 'auto')`);
      }
      const floatsPerToken = floatsPerTokenOfWidestActivation(config);
      const tokensPerBinding = Math.floor(ctx.limit('maxStorageBufferBindingSize') / (4 * floatsPerToken));
      if (tokensPerBinding < config.maxPositionEmbeddings) {
        throw new ModelLoadError(
          `${ctx.adapterName} binds at most ${ctx.limit('maxStorageBufferBindingSize')} bytes per buffer: too few for one ${config.maxPositionEmbeddings}-token sequence of this model`,
        );
      }
      const requestedTokens = opts.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS;
      if (!Number.isInteger(requestedTokens) || requestedTokens <= 0)
        throw new ModelLoadError(`maxBatchTokens must be a positive integer, got ${requestedTokens}`);
      // At least one whole sequence must fit, whatever the token budget says (the scheduler runs a sequence longer
      // than its budget alone).
      // Attention dispatches one workgroup per query tile, up to T / queryTile + n <= T * (1 + 1 / queryTile) of
      // them along one grid dimension.
      const queryTile = (opts.attentionTiling ?? DEFAULT_ATTENTION_TILING).queryTile;
      const tokensPerGrid = Math.floor(ctx.limit('maxComputeWorkgroupsPerDimension') / (1 + 1 / queryTile));
      const capacityTokens = Math.min(Math.max(requestedTokens, config.maxPositionEmbeddings), tokensPerBinding, tokensPerGrid);

      const pipelines = new PipelineCache(ctx);
      const weights = await ctx.checked('weight upload', () =>
        uploadBertWeights(ctx, config, model.weights, { weightType, forceCpuWordGather: opts.forceCpuWordGather }),
      );
      const attentionTiling = opts.attentionTiling ?? DEFAULT_ATTENTION_TILING;
      const pool = await ctx.checked(
        'activation buffers',
        () =>
          new ActivationPool(ctx, config, capacityTokens, capacityTokens, attentionTiling.queryTile, {
            wordRows: weights.wordTable === null ? weightType : null,
            separateLayerNorm: opts.layerNormFusion === 'separate',
          }),
      );
      const encoder = await ctx.checked('pipeline creation', () => BertEncoder.create(ctx, pipelines, config, weights, pool, model.settings.pooling, opts));
      return new WebGpuBackend(model, ctx, pipelines, weights, pool, encoder);
    } catch (error) {
      ctx.destroy();
      if (error instanceof ModelLoadError) throw error;
      throw new ModelLoadError(`webgpu backend for ${model.id}: ${(error as Error).message}`);
    }
  }

  get info(): WebGpuBackendInfo {
    return {
      adapter: this.ctx.adapterName,
      shaderF16: this.ctx.features.shaderF16,
      subgroups: this.ctx.features.subgroups,
      weightType: this.weights.weightType,
      capacityTokens: this.pool.capacityTokens,
      wordRowsGatheredOnCpu: this.weights.wordTable === null,
      weightBytes: this.weights.gpuBytes,
      activationBytes: this.pool.bytes,
      dispatchesPerForward: this.encoder.numDispatches,
      pipelinesCompiled: this.pipelines.size,
    };
  }

  forward(batch: RaggedBatch): Promise<PooledRows> {
    if (this.disposed) return Promise.reject(new WebGpuError('webgpu backend: forward after dispose()'));
    // Validate before queueing so a bad batch fails at once, with the same errors as the reference backend.
    try {
      checkBertBatch(batch, this.model.config);
    } catch (error) {
      return Promise.reject(error);
    }
    const result = this.tail.then(() => this.forwardNow(batch));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async forwardNow(batch: RaggedBatch): Promise<PooledRows> {
    const numSequences = batch.cuSeqLens.length - 1;
    const rows: PooledRows = [];
    let first = 0;
    while (first < numSequences) {
      // Greedy slices of whole sequences under the pool's capacity (one slice unless the batch is over budget).
      let end = first + 1;
      while (end < numSequences && batch.cuSeqLens[end + 1] - batch.cuSeqLens[first] <= this.pool.capacityTokens) end++;
      rows.push(...(await this.runSlice(sliceBatch(batch, first, end))));
      first = end;
    }
    return rows;
  }

  private async runSlice(inputs: EncoderInputs): Promise<PooledRows> {
    const H = this.model.config.hiddenSize;
    const staging = this.pool.staging;
    const pooled = await this.ctx.checked('bert forward', async () => {
      const numFloats = await this.encoder.encodeAndSubmit(inputs);
      await this.ctx.settle(staging.mapAsync(MapMode.READ, 0, numFloats * 4), 'forward readback');
      try {
        return new Float32Array(staging.getMappedRange(0, numFloats * 4).slice(0));
      } finally {
        staging.unmap();
      }
    });
    const rows: PooledRows = [];
    for (let s = 0; s < inputs.dimensions.length; s++) {
      const kept = inputs.dimensions[s] || H;
      rows.push(pooled.slice(s * H, s * H + kept));
    }
    return rows;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.tail;
    destroyBertWeights(this.weights);
    this.pool.destroy();
    this.ctx.destroy();
  }
}

type WebGpuFamilyCreator = (model: LoadedModel, opts: WebGpuBackendOptions) => Promise<Backend>;

/** One creator per WEBGPU_FAMILIES entry (./capabilities.ts): each family's encoder class. */
const FAMILY_TO_CREATOR: Readonly<Record<WebGpuFamilyName, WebGpuFamilyCreator>> = {
  [BERT.name]: (model, opts) => WebGpuBackend.create(model, opts),
  [QWEN3.name]: (model, opts) => WebGpuQwen3Backend.create(model, opts), // paged KV through block tables
};

/**
 * BackendFactory for `--backend webgpu`; the options pick the adapter, weight storage and token capacity. The model's
 * family picks the encoder class.
 */
export async function createWebGpuBackend(model: LoadedModel, opts: WebGpuBackendOptions = {}): Promise<Backend> {
  const architecture = model.config.architecture;
  if (!Object.hasOwn(FAMILY_TO_CREATOR, architecture)) {
    const reason = capabilities.supports({ architecture, dtype: opts.weightType === 'f16' ? 'float16' : 'float32', pagedKv: false, heads: [] });
    throw new ModelLoadError(reason === true ? `the webgpu backend has no creator for '${architecture}'` : reason);
  }
  return FAMILY_TO_CREATOR[architecture as WebGpuFamilyName](model, opts);
}
