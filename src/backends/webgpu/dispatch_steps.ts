// What every encoder's forward shares (./bert_encoder.ts, ./rotary_bert_encoder.ts, ./modernbert_encoder.ts): the
// dispatch list built once with its bind groups, the batch layout written per forward (cu_seq_lens, attention tiles,
// sequence options), and recording the list plus pooling into one compute pass, the pooled rows copied to staging.
/// <reference types="@webgpu/types" />
import type { WebGpuContext } from './device.js';
import type { EncoderInputs } from './encoder_builder.js';
import { grid2d, writeBytes } from './gpu_buffers.js';
import type { KernelSpec } from './kernel_spec.js';
import { type AttentionLayout, attentionTiles } from './kernels/attention.js';
import { POOLING_KERNEL, packSequenceOptions } from './kernels/pooling.js';
import type { CachedPipeline, PipelineCache } from './pipeline_cache.js';

/** The batch sizes a step's workgroup count depends on. */
export type Sizes = { readonly numTokens: number; readonly numSequences: number; readonly numTiles: number };

/** One dispatch of a forward: its pipeline and bind group are fixed, its grid follows the batch. */
export interface Step {
  readonly label: string;
  readonly pipeline: CachedPipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: (sizes: Sizes) => [number, number, number];
}

/** A bind group with `buffers` at bindings 0, 1, ... */
export function bindBuffers(ctx: WebGpuContext, label: string, layout: GPUBindGroupLayout, buffers: GPUBuffer[]): GPUBindGroup {
  return ctx.device.createBindGroup({ label, layout, entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
}

/** The pooling kernel's bind group: hidden rows [T, H] in, pooled rows out. */
export function poolingBindGroup(
  ctx: WebGpuContext,
  pipelines: PipelineCache,
  buffers: { readonly cuSeqLens: GPUBuffer; readonly sequenceOptions: GPUBuffer; readonly pooled: GPUBuffer },
  hidden: GPUBuffer,
  params: GPUBuffer,
): GPUBindGroup {
  return bindBuffers(ctx, 'pooling', pipelines.bindGroupLayout(POOLING_KERNEL as KernelSpec), [
    hidden,
    buffers.cuSeqLens,
    buffers.sequenceOptions,
    buffers.pooled,
    params,
  ]);
}

/** Attention over a fused qkv buffer [T, 3H] (Q | K | V) into context [T, H]. */
export function fusedQkvLayout(hiddenSize: number): AttentionLayout {
  return { rowStride: 3 * hiddenSize, qOffset: 0, kOffset: hiddenSize, vOffset: 2 * hiddenSize, outStride: hiddenSize };
}

/** Writes `data` at the start of `buffer`. */
export function writeInput(ctx: WebGpuContext, buffer: GPUBuffer, data: ArrayBufferView | ArrayBuffer): void {
  writeBytes(ctx, buffer, 0, data instanceof ArrayBuffer ? new Uint8Array(data) : data);
}

/** Writes the batch's sequence layout (cu_seq_lens, attention tiles, per-sequence options); returns the tile count. */
export function writeBatchLayout(
  ctx: WebGpuContext,
  buffers: { readonly cuSeqLens: GPUBuffer; readonly attentionTiles: GPUBuffer; readonly sequenceOptions: GPUBuffer },
  inputs: EncoderInputs,
  queryTile: number,
): number {
  const tiles = attentionTiles(inputs.cuSeqLens, queryTile);
  writeInput(ctx, buffers.cuSeqLens, new Uint32Array(inputs.cuSeqLens.buffer, inputs.cuSeqLens.byteOffset, inputs.cuSeqLens.length));
  writeInput(ctx, buffers.attentionTiles, tiles);
  writeInput(ctx, buffers.sequenceOptions, packSequenceOptions(inputs.dimensions, inputs.normalize));
  return tiles.length / 2;
}

export interface Forward {
  /** Label of the command encoder and its compute pass. */
  readonly label: string;
  readonly steps: readonly Step[];
  readonly sizes: Sizes;
  readonly pooling: CachedPipeline;
  readonly poolingBindGroup: GPUBindGroup;
  readonly hiddenSize: number;
  readonly pooled: GPUBuffer;
  readonly staging: GPUBuffer;
}

/**
 * Records every step and the pooling dispatch into one compute pass, copies the pooled rows to staging and submits.
 * Returns how many floats of pooled rows staging holds.
 */
export function recordAndSubmit(ctx: WebGpuContext, forward: Forward): number {
  const { sizes } = forward;
  const encoder = ctx.device.createCommandEncoder({ label: forward.label });
  const pass = encoder.beginComputePass({ label: forward.label });
  for (const step of forward.steps) {
    pass.setPipeline(step.pipeline.pipeline);
    pass.setBindGroup(0, step.bindGroup);
    pass.dispatchWorkgroups(...step.workgroups(sizes));
  }
  pass.setPipeline(forward.pooling.pipeline);
  pass.setBindGroup(0, forward.poolingBindGroup);
  pass.dispatchWorkgroups(...grid2d(sizes.numSequences, ctx.limit('maxComputeWorkgroupsPerDimension')));
  pass.end();
  const pooledFloats = sizes.numSequences * forward.hiddenSize;
  encoder.copyBufferToBuffer(forward.pooled, 0, forward.staging, 0, pooledFloats * 4);
  ctx.device.queue.submit([encoder.finish()]);
  return pooledFloats;
}

/** The batch's rows of a host-side embedding table (storage format, `rowBytes` each), for WORD_ROWS_PREGATHERED. */
export function gatherTableRows(table: Uint8Array, tokenIds: Int32Array, rowBytes: number): Uint8Array {
  const rows = new Uint8Array(tokenIds.length * rowBytes);
  for (let t = 0; t < tokenIds.length; t++) rows.set(table.subarray(tokenIds[t] * rowBytes, (tokenIds[t] + 1) * rowBytes), t * rowBytes);
  return rows;
}
