// The WebGPU backend: encoder families on any GPU Dawn reaches (Vulkan, Metal, D3D12) and on Mesa's lavapipe in CI.
// The family's builder (./encoders/) uploads the weights once, compiles the pipelines once and keeps reusable
// activation buffers; a forward is one command encoder and one readback of the pooled rows. Forwards are serialized
// (they share the activation buffers); a batch larger than the capacity runs as consecutive slices of whole sequences.
// Decoders with a paged KV cache run on their own backend class (./qwen3_backend.ts).
/// <reference types="@webgpu/types" />
import { ModelLoadError } from '../../errors.js';
import { QWEN3 } from '../../model/architectures/qwen3/spec.js';
import type { LoadedModel } from '../../model/types.js';
import type { Backend, PooledRows, RaggedBatch } from '../backend.js';
import { checkEncoderBatch } from '../batch_checks.js';
import { capabilities } from './capabilities.js';
import { WebGpuContext } from './device.js';
import type { EncoderInputs, WebGpuEncoderSession } from './encoder_builder.js';
import { webGpuEncoderFor } from './encoders/index.js';
import { WebGpuError } from './errors.js';
import { MapMode } from './gpu_constants.js';
import type { WebGpuBackendOptions } from './options.js';
import { PipelineCache } from './pipeline_cache.js';
import { WebGpuQwen3Backend } from './qwen3_backend.js';
import type { WeightType } from './shader_source.js';

export { DEFAULT_MAX_BATCH_TOKENS, type WebGpuBackendOptions } from './options.js';

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
    private readonly session: WebGpuEncoderSession,
  ) {}

  /** Opens a device and builds the model family's encoder on it (./encoders/). Throws ModelLoadError. */
  static async create(model: LoadedModel, opts: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const builder = webGpuEncoderFor(model.config.architecture);
    if (builder === undefined) throw new ModelLoadError(`the webgpu backend has no encoder for '${model.config.architecture}' (model ${model.id})`);
    const ctx = await WebGpuContext.open(opts);
    try {
      const pipelines = new PipelineCache(ctx);
      const session = await builder.create(ctx, pipelines, model, opts);
      return new WebGpuBackend(model, ctx, pipelines, session);
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
      weightType: this.session.weightType,
      capacityTokens: this.session.capacityTokens,
      wordRowsGatheredOnCpu: this.session.wordRowsGatheredOnCpu,
      weightBytes: this.session.weightBytes,
      activationBytes: this.session.activationBytes,
      dispatchesPerForward: this.session.dispatchesPerForward,
      pipelinesCompiled: this.pipelines.size,
    };
  }

  forward(batch: RaggedBatch): Promise<PooledRows> {
    if (this.disposed) return Promise.reject(new WebGpuError('webgpu backend: forward after dispose()'));
    // Validate before queueing so a bad batch fails at once, with the same errors as the reference backend.
    try {
      checkEncoderBatch(batch, this.model.config);
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
      while (end < numSequences && batch.cuSeqLens[end + 1] - batch.cuSeqLens[first] <= this.session.capacityTokens) end++;
      rows.push(...(await this.runSlice(sliceBatch(batch, first, end))));
      first = end;
    }
    return rows;
  }

  private async runSlice(inputs: EncoderInputs): Promise<PooledRows> {
    const H = this.model.config.hiddenSize;
    const staging = this.session.staging;
    const pooled = await this.ctx.checked('encoder forward', async () => {
      const numFloats = await this.session.encodeAndSubmit(inputs);
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
    this.session.destroy();
    this.ctx.destroy();
  }
}

/**
 * BackendFactory for `--backend webgpu`; the options pick the adapter, weight storage and token capacity. Encoder
 * families run on WebGpuBackend with their builder (./encoders/); Qwen3 on its paged decoder backend.
 */
export async function createWebGpuBackend(model: LoadedModel, opts: WebGpuBackendOptions = {}): Promise<Backend> {
  const architecture = model.config.architecture;
  if (architecture === QWEN3.name) return WebGpuQwen3Backend.create(model, opts); // paged KV through block tables
  if (webGpuEncoderFor(architecture) === undefined) {
    const reason = capabilities.supports({ architecture, dtype: opts.weightType === 'f16' ? 'float16' : 'float32', pagedKv: false, heads: [] });
    throw new ModelLoadError(reason === true ? `the webgpu backend has no encoder for '${architecture}'` : reason);
  }
  return WebGpuBackend.create(model, opts);
}
