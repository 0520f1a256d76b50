// Op-level entry points of the WebGPU decoder kernels (rms_norm, rope, gated_activation, kv_write + paged_attention), with the
// argument conventions of the reference decoder ops (src/model/reference/decoder_ops.ts), for the kernel tests.
// Each op uploads its inputs, records its dispatch(es) into one command encoder and reads the result back.
/// <reference types="@webgpu/types" />
import type { GatedActivationKind } from '../../model/types.js';
import type { WebGpuContext } from './device.js';
import { createBuffer, createBufferWithData, float32Data, readBack, UNIFORM_USAGE } from './gpu_buffers.js';
import type { PipelineCache } from './pipeline_cache.js';
import type { PipelineKey } from './kernel_spec.js';
import {
  kvWriteParams,
  kvWritePipelineKey,
  kvWriteWorkgroups,
  packBatchMeta,
  pagedAttentionParams,
  pagedAttentionPipelineKey,
  pagedAttentionWorkgroups,
} from './kernels/paged_attention.js';
import { rmsNormParams, rmsNormPipelineKey, rmsNormWorkgroups } from './kernels/rms_norm.js';
import { ropeInverseFrequencies32, ropeParams, ropePipelineKey, ropeWorkgroups } from './kernels/rope.js';
import { gatedActivationParams, gatedActivationPipelineKey, gatedActivationWorkgroups } from './kernels/gated_activation.js';

interface Dispatch {
  readonly key: PipelineKey;
  readonly buffers: GPUBuffer[];
  readonly workgroups: [number, number, number];
}

function expectLength(name: string, values: ArrayLike<number>, expected: number): void {
  if (values.length !== expected) throw new RangeError(`${name} has ${values.length} values, expected ${expected}`);
}

/** The paged K/V one paged-attention op starts from: cache contents per (block, slot), and the geometry. */
export interface PagedCacheInput {
  readonly numBlocks: number;
  readonly blockSize: number;
  /** [numBlocks * blockSize, numKvHeads * headDim] initial contents (slots the batch reads before writing). */
  readonly keys: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

export class WebGpuDecoderOps {
  constructor(
    readonly ctx: WebGpuContext,
    readonly pipelines: PipelineCache,
  ) {}

  private get maxPerDimension(): number {
    return this.ctx.limit('maxComputeWorkgroupsPerDimension');
  }

  private storage(label: string, values: ArrayLike<number> | Uint32Array): GPUBuffer {
    return createBufferWithData(this.ctx, label, values instanceof Uint32Array ? values : float32Data(values));
  }

  private uniform(label: string, block: ArrayBuffer): GPUBuffer {
    return createBufferWithData(this.ctx, label, new Uint8Array(block), UNIFORM_USAGE);
  }

  /** Runs the dispatches in order in one compute pass, reads `output`, destroys every buffer. */
  private async run(label: string, dispatches: Dispatch[], output: GPUBuffer, outputFloats: number): Promise<Float32Array> {
    const { ctx } = this;
    try {
      const pipelines = await Promise.all(dispatches.map((dispatch) => this.pipelines.get(dispatch.key)));
      await ctx.checked(label, async () => {
        const encoder = ctx.device.createCommandEncoder({ label });
        const pass = encoder.beginComputePass({ label });
        dispatches.forEach((dispatch, i) => {
          pass.setPipeline(pipelines[i].pipeline);
          pass.setBindGroup(
            0,
            ctx.device.createBindGroup({
              label: `${label} #${i}`,
              layout: pipelines[i].layout,
              entries: dispatch.buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
            }),
          );
          pass.dispatchWorkgroups(...dispatch.workgroups);
        });
        pass.end();
        ctx.device.queue.submit([encoder.finish()]);
        await ctx.settle(ctx.device.queue.onSubmittedWorkDone(), label);
      });
      return new Float32Array(await readBack(ctx, output, outputFloats * 4, label));
    } finally {
      for (const buffer of new Set(dispatches.flatMap((dispatch) => dispatch.buffers))) buffer.destroy();
    }
  }

  /** rmsNorm(x [numRows, numCols], weight [numCols], eps), as decoder_ops.rmsNorm. */
  async rmsNorm(x: ArrayLike<number>, numRows: number, numCols: number, weight: ArrayLike<number>, eps: number): Promise<Float32Array> {
    expectLength('x', x, numRows * numCols);
    expectLength('weight', weight, numCols);
    const label = `rms_norm ${numRows}x${numCols}`;
    const y = createBuffer(this.ctx, `${label}: y`, numRows * numCols * 4);
    return this.run(
      label,
      [
        {
          key: rmsNormPipelineKey(numCols),
          buffers: [this.storage(`${label}: x`, x), this.storage(`${label}: weight`, weight), y, this.uniform(`${label}: params`, rmsNormParams(numRows, eps))],
          workgroups: rmsNormWorkgroups(numRows, this.maxPerDimension),
        },
      ],
      y,
      numRows * numCols,
    );
  }

  /**
   * applyRotaryEmbedding(x [T, numHeads * headDim], positions [T], numHeads, headDim, theta, inverseFrequencyScale) on
   * the first numHeads heads of rows `rowStride` floats apart (default: rows back to back; wider, e.g. q and k of fused
   * q | k | v rows, leaves the other columns as they are).
   */
  async rotaryEmbedding(
    x: ArrayLike<number>,
    positions: ArrayLike<number>,
    numHeads: number,
    headDim: number,
    theta: number,
    inverseFrequencyScale = 1,
    rowStride = numHeads * headDim,
  ): Promise<Float32Array> {
    const numTokens = positions.length;
    expectLength('x', x, numTokens * rowStride);
    const label = `rope ${numTokens}x${numHeads}x${headDim}`;
    const xBuffer = this.storage(`${label}: x`, x);
    return this.run(
      label,
      [
        {
          key: ropePipelineKey(headDim),
          buffers: [
            xBuffer,
            this.storage(`${label}: positions`, Uint32Array.from(positions)),
            this.storage(`${label}: inv_freq`, ropeInverseFrequencies32(headDim, theta, inverseFrequencyScale)),
            this.uniform(`${label}: params`, ropeParams(numTokens, numHeads, headDim, rowStride)),
          ],
          workgroups: ropeWorkgroups(numTokens, numHeads, headDim, this.maxPerDimension),
        },
      ],
      xBuffer,
      numTokens * rowStride,
    );
  }

  /**
   * act(activated) * multiplier, both [numTokens, intermediate], packed here as a fused projection's [T, 2I] rows with
   * the activated half where `activatedHalf` says (SwiGLU: silu, first).
   */
  async gatedActivation(
    activated: ArrayLike<number>,
    multiplier: ArrayLike<number>,
    numTokens: number,
    intermediate: number,
    activation: GatedActivationKind,
    activatedHalf: 'first' | 'second',
  ): Promise<Float32Array> {
    expectLength('activated', activated, numTokens * intermediate);
    expectLength('multiplier', multiplier, numTokens * intermediate);
    const packed = new Float32Array(numTokens * 2 * intermediate);
    const [first, second] = activatedHalf === 'first' ? [activated, multiplier] : [multiplier, activated];
    for (let t = 0; t < numTokens; t++) {
      for (let c = 0; c < intermediate; c++) {
        packed[t * 2 * intermediate + c] = first[t * intermediate + c];
        packed[t * 2 * intermediate + intermediate + c] = second[t * intermediate + c];
      }
    }
    const label = `gated_activation ${activation} ${activatedHalf} ${numTokens}x${intermediate}`;
    const y = createBuffer(this.ctx, `${label}: y`, numTokens * intermediate * 4);
    return this.run(
      label,
      [
        {
          key: gatedActivationPipelineKey(activation, activatedHalf),
          buffers: [this.storage(`${label}: packed`, packed), y, this.uniform(`${label}: params`, gatedActivationParams(numTokens, intermediate))],
          workgroups: gatedActivationWorkgroups(numTokens, intermediate, this.maxPerDimension),
        },
      ],
      y,
      numTokens * intermediate,
    );
  }

  /**
   * Causal GQA attention. With `cache`: kv_write stores the chunk's k/v through the block tables, then
   * paged_attention reads cached + new K/V through them (decoder_ops.pagedCausalAttention). Without: one-shot
   * (decoder_ops.causalAttention). Returns the attention output [T, numHeads * headDim].
   */
  async attention(
    q: ArrayLike<number>,
    k: ArrayLike<number>,
    v: ArrayLike<number>,
    cuSeqLens: ArrayLike<number>,
    numHeads: number,
    numKvHeads: number,
    headDim: number,
    paged?: { readonly cache: PagedCacheInput; readonly blockTables: readonly ArrayLike<number>[]; readonly numCachedTokens: ArrayLike<number> },
  ): Promise<Float32Array> {
    const numTokens = cuSeqLens[cuSeqLens.length - 1];
    const kvWidth = numKvHeads * headDim;
    expectLength('q', q, numTokens * numHeads * headDim);
    expectLength('k', k, numTokens * kvWidth);
    expectLength('v', v, numTokens * kvWidth);
    const label = `paged_attention ${numTokens} tokens ${numHeads}/${numKvHeads}x${headDim}${paged ? '' : ' (one-shot)'}`;
    const meta = packBatchMeta(cuSeqLens, paged?.numCachedTokens, paged?.blockTables);
    const metaBuffer = this.storage(`${label}: batch_meta`, meta.data);
    const kBuffer = this.storage(`${label}: k`, k);
    const vBuffer = this.storage(`${label}: v`, v);
    const out = createBuffer(this.ctx, `${label}: out`, numTokens * numHeads * headDim * 4);
    const dispatches: Dispatch[] = [];
    let keys = kBuffer;
    let values = vBuffer;
    const blockSize = paged?.cache.blockSize ?? 0;
    if (paged !== undefined) {
      const { cache } = paged;
      expectLength('cache keys', cache.keys, cache.numBlocks * cache.blockSize * kvWidth);
      expectLength('cache values', cache.values, cache.numBlocks * cache.blockSize * kvWidth);
      keys = this.storage(`${label}: k_cache`, cache.keys);
      values = this.storage(`${label}: v_cache`, cache.values);
      dispatches.push({
        key: kvWritePipelineKey(),
        buffers: [
          kBuffer,
          vBuffer,
          metaBuffer,
          keys,
          values,
          this.uniform(`${label}: kv_write params`, kvWriteParams(numTokens, kvWidth, meta.seqOffset, blockSize)),
        ],
        workgroups: kvWriteWorkgroups(numTokens, kvWidth, this.maxPerDimension),
      });
    }
    dispatches.push({
      key: pagedAttentionPipelineKey(headDim),
      buffers: [
        this.storage(`${label}: q`, q),
        keys,
        values,
        metaBuffer,
        out,
        this.uniform(
          `${label}: params`,
          pagedAttentionParams({ numTokens, numHeads, numKvHeads, headDim, seqOffset: meta.seqOffset, blockSize, paged: paged !== undefined }),
        ),
      ],
      workgroups: pagedAttentionWorkgroups(numTokens, numHeads, this.maxPerDimension),
    });
    return this.run(label, dispatches, out, numTokens * numHeads * headDim);
  }
}
