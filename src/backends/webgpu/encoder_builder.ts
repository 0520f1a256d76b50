// What the WebGPU backend needs from one encoder family: a builder that uploads the family's weights, allocates its
// activation buffers and compiles its pipelines on an open device, giving back a session that encodes ragged batch
// slices. One file per family in ./encoders/, listed in ./encoders/index.ts; WebGpuBackend (./backend.ts) does the
// rest for every family alike (validation, queueing, slicing a batch to the capacity, readback, row assembly).
/// <reference types="@webgpu/types" />
import { ModelLoadError } from '../../errors.js';
import type { ArchitectureSpec } from '../../model/architectures/spec.js';
import type { LoadedModel, ModelConfig, PoolingMode } from '../../model/types.js';
import type { WebGpuContext } from './device.js';
import { DEFAULT_ATTENTION_TILING, MAX_HEAD_DIM } from './kernels/attention.js';
import type { WebGpuBackendOptions } from './options.js';
import { DEFAULT_MAX_BATCH_TOKENS } from './options.js';
import type { PipelineCache } from './pipeline_cache.js';
import type { WeightType } from './shader_source.js';

/** A ragged batch slice as an encoder consumes it (already validated, within the session's capacity). */
export interface EncoderInputs {
  readonly tokenIds: Int32Array;
  readonly positions: Int32Array;
  readonly tokenTypeIds?: Int32Array;
  readonly cuSeqLens: Int32Array;
  readonly dimensions: Int32Array;
  readonly normalize: Uint8Array;
  readonly pooling: PoolingMode;
}

/** One model's weights, buffers and pipelines on a device. */
export interface WebGpuEncoderSession {
  /** Most tokens (and sequences) one encodeAndSubmit takes. */
  readonly capacityTokens: number;
  /** MAP_READ buffer the pooled rows ([n, hiddenSize] float32) are copied to. */
  readonly staging: GPUBuffer;
  readonly weightType: WeightType;
  readonly wordRowsGatheredOnCpu: boolean;
  readonly weightBytes: number;
  readonly activationBytes: number;
  readonly dispatchesPerForward: number;
  /** Writes the inputs, records and submits one forward; returns the float count of pooled rows in `staging`. */
  encodeAndSubmit(inputs: EncoderInputs): Promise<number>;
  destroy(): void;
}

export interface WebGpuEncoderBuilder<C extends ModelConfig = ModelConfig> {
  readonly spec: ArchitectureSpec<C>;
  /** Builds the session; throws ModelLoadError for what this device or encoder cannot run (naming the limit). */
  create(ctx: WebGpuContext, pipelines: PipelineCache, model: LoadedModel & { readonly config: C }, opts: WebGpuBackendOptions): Promise<WebGpuEncoderSession>;
}

/** Builds a builder with its config type checked against its spec, stored under the common type. */
export function webGpuEncoder<C extends ModelConfig>(builder: WebGpuEncoderBuilder<C>): WebGpuEncoderBuilder {
  return builder as unknown as WebGpuEncoderBuilder;
}

/** Throws ModelLoadError when the attention kernel cannot take this model's head size (hidden / heads). */
export function checkHeadDim(hiddenSize: number, numHeads: number): void {
  const headDim = hiddenSize / numHeads;
  if (headDim > MAX_HEAD_DIM) throw new ModelLoadError(`the webgpu attention kernel supports head sizes up to ${MAX_HEAD_DIM}, this model has ${headDim}`);
}

/** The weight storage the options ask for on this device. Throws ModelLoadError for f16 without shader-f16. */
export function resolveWeightType(ctx: WebGpuContext, opts: WebGpuBackendOptions): WeightType {
  const requested = opts.weightType ?? 'f32';
  const weightType: WeightType = requested === 'auto' ? (ctx.features.shaderF16 ? 'f16' : 'f32') : requested;
  if (weightType === 'f16' && !ctx.features.shaderF16) {
    throw new ModelLoadError(`f16 weights need the shader-f16 feature, which ${ctx.adapterName} lacks (use weightType 'f32' or 'auto')`);
  }
  return weightType;
}

/**
 * Token capacity of an encoder's activation buffers: the requested budget, at least one whole longest sequence, and
 * at most what one storage binding holds of the widest activation (`floatsPerToken` floats per token) and what one
 * grid dimension of attention workgroups covers. Throws ModelLoadError when not even one longest sequence fits.
 */
export function encoderCapacityTokens(ctx: WebGpuContext, opts: WebGpuBackendOptions, floatsPerToken: number, maxSequenceTokens: number): number {
  const tokensPerBinding = Math.floor(ctx.limit('maxStorageBufferBindingSize') / (4 * floatsPerToken));
  if (tokensPerBinding < maxSequenceTokens) {
    throw new ModelLoadError(
      `${ctx.adapterName} binds at most ${ctx.limit('maxStorageBufferBindingSize')} bytes per buffer: too few for one ${maxSequenceTokens}-token sequence of this model`,
    );
  }
  const requestedTokens = opts.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS;
  if (!Number.isInteger(requestedTokens) || requestedTokens <= 0) throw new ModelLoadError(`maxBatchTokens must be a positive integer, got ${requestedTokens}`);
  // At least one whole sequence must fit, whatever the token budget says (the scheduler runs a sequence longer than its
  // budget alone). Attention dispatches one workgroup per query tile, up to T / queryTile + n <= T * (1 + 1 / queryTile)
  // of them along one grid dimension.
  const queryTile = (opts.attentionTiling ?? DEFAULT_ATTENTION_TILING).queryTile;
  const tokensPerGrid = Math.floor(ctx.limit('maxComputeWorkgroupsPerDimension') / (1 + 1 / queryTile));
  return Math.min(Math.max(requestedTokens, maxSequenceTokens), tokensPerBinding, tokensPerGrid);
}
