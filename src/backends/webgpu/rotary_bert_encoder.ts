// The rotary-BERT encoder (NomicBERT, GTE) as a fixed list of dispatches over the activation pool, built once like
// BERT's (./bert_encoder.ts): a forward writes the batch's inputs and uniform blocks, records the dispatches into one
// compute pass and copies the pooled rows out. The float64 oracle (src/model/architectures/rotary_bert/reference.ts)
// cites the upstream modules each step matches.
//
// Per layer, with T tokens:
//   gemm                     hidden [T,H] -> qkv [T,3H]                  (Wqkv / qkv_proj)
//   rope                     qkv's q|k heads in place (2 x heads per row, row stride 3H), NTK-scaled for GTE
//   attention                qkv -> context [T,H]                         (ragged, online softmax)
//   gemm_residual_layernorm  context, residual hidden -> attentionOutput  (out_proj, norm1 / o_proj, attn_ln)
//   gemm                     attentionOutput -> intermediate [T,2I]       (up | gate)
//   gated_activation         intermediate -> gated [T,I]                  (act(gate) * up)
//   gemm_residual_layernorm  gated, residual attentionOutput -> hidden    (fc2, norm2 / down_proj, mlp_ln)
/// <reference types="@webgpu/types" />
import type { PoolingMode, RotaryBertConfig } from '../../model/types.js';
import type { ActivationPool } from './activation_pool.js';
import type { WebGpuContext } from './device.js';
import { bindBuffers, fusedQkvLayout, poolingBindGroup, recordAndSubmit, type Step, writeBatchLayout, writeInput } from './dispatch_steps.js';
import type { EncoderInputs } from './encoder_builder.js';
import { grid2d, writeBytes } from './gpu_buffers.js';
import { attentionParams, attentionPipelineKey, DEFAULT_ATTENTION_TILING } from './kernels/attention.js';
import { embeddingsParams, embeddingsPipelineKey, packTokens } from './kernels/embeddings.js';
import { gatedActivationParams, gatedActivationPipelineKey, gatedActivationWorkgroups } from './kernels/gated_activation.js';
import { checkTiling, DEFAULT_GEMM_TILING, gemmParams, gemmPipelineKey, gemmWorkgroups } from './kernels/gemm.js';
import {
  DEFAULT_ROW_PANEL_TILING,
  gemmResidualLayerNormParams,
  gemmResidualLayerNormPipelineKey,
  gemmResidualLayerNormWorkgroups,
} from './kernels/gemm_residual_layernorm.js';
import { poolingParams, poolingPipelineKey } from './kernels/pooling.js';
import { ropeParams, ropePipelineKey, ropeWorkgroups } from './kernels/rope.js';
import type { EncoderTuning } from './options.js';
import type { CachedPipeline, PipelineCache } from './pipeline_cache.js';
import type { RotaryBertGpuWeights } from './rotary_bert_weights.js';

export class RotaryBertEncoder {
  private constructor(
    private readonly ctx: WebGpuContext,
    private readonly pipelines: PipelineCache,
    private readonly config: RotaryBertConfig,
    private readonly weights: RotaryBertGpuWeights,
    private readonly pool: ActivationPool,
    private readonly steps: readonly Step[],
    private readonly poolingBindGroup: GPUBindGroup,
    private readonly queryTile: number,
  ) {}

  static async create(
    ctx: WebGpuContext,
    pipelines: PipelineCache,
    config: RotaryBertConfig,
    weights: RotaryBertGpuWeights,
    pool: ActivationPool,
    defaultPooling: PoolingMode,
    tuning: EncoderTuning = {},
  ): Promise<RotaryBertEncoder> {
    const H = config.hiddenSize;
    const I = config.intermediateSize;
    const headDim = H / config.numHeads;
    const maxPerDimension = ctx.limit('maxComputeWorkgroupsPerDimension');
    const gemmTiling = tuning.gemmTiling ?? DEFAULT_GEMM_TILING;
    const rowPanelTiling = tuning.rowPanelTiling ?? DEFAULT_ROW_PANEL_TILING;
    const attentionTiling = tuning.attentionTiling ?? DEFAULT_ATTENTION_TILING;
    checkTiling(gemmTiling, ctx.limit('maxComputeInvocationsPerWorkgroup'), ctx.limit('maxComputeWorkgroupStorageSize'));
    checkTiling(rowPanelTiling, ctx.limit('maxComputeInvocationsPerWorkgroup'), ctx.limit('maxComputeWorkgroupStorageSize'));
    const { weightType } = weights;

    // Compile everything up front (in parallel), so the first request pays no compilation.
    const [embeddings, gemm, rope, attention, residualLn, gated] = await Promise.all([
      pipelines.get(embeddingsPipelineKey(weightType, H, false)),
      pipelines.get(gemmPipelineKey(weightType, { kind: 'bias' }, true, gemmTiling)),
      pipelines.get(ropePipelineKey(headDim)),
      pipelines.get(attentionPipelineKey(headDim, attentionTiling)),
      pipelines.get(gemmResidualLayerNormPipelineKey(weightType, rowPanelTiling)),
      // NewGatedMLP / NomicBertGatedMLP: act(gate) * up, the gate being the second half of up | gate.
      pipelines.get(gatedActivationPipelineKey(config.hiddenAct, 'second')),
      pipelines.get(poolingPipelineKey(H, defaultPooling)),
    ]);
    if (pool.gated === null || pool.positions === null) throw new Error('internal: the activation pool has no gated or positions buffer');
    const gatedRows = pool.gated;
    const positions = pool.positions;

    const bind = (label: string, pipeline: CachedPipeline, buffers: GPUBuffer[]): GPUBindGroup => bindBuffers(ctx, label, pipeline.layout, buffers);
    const u = pool.uniforms;
    const steps: Step[] = [];
    steps.push({
      label: 'embeddings',
      pipeline: embeddings,
      bindGroup: bind('embeddings', embeddings, [
        pool.tokens,
        weights.wordTable,
        weights.positionTable,
        weights.typeTable,
        weights.embeddingLn,
        pool.hidden,
        u.embeddings,
      ]),
      workgroups: ({ numTokens }) => grid2d(numTokens, maxPerDimension),
    });
    const residualLayerNorm = (
      label: string,
      x: GPUBuffer,
      weight: GPUBuffer,
      bias: GPUBuffer,
      residual: GPUBuffer,
      ln: GPUBuffer,
      out: GPUBuffer,
      uniform: GPUBuffer,
    ) =>
      steps.push({
        label,
        pipeline: residualLn,
        bindGroup: bind(label, residualLn, [x, weight, bias, residual, ln, out, uniform]),
        workgroups: ({ numTokens }) => gemmResidualLayerNormWorkgroups(numTokens, rowPanelTiling),
      });

    weights.layers.forEach((layer, i) => {
      const p = `layer ${i}`;
      steps.push({
        label: `${p} qkv gemm`,
        pipeline: gemm,
        // The residual slot is unused (EPILOGUE 0); any read-only buffer fills it.
        bindGroup: bind(`${p} qkv gemm`, gemm, [pool.hidden, layer.qkvWeight, layer.qkvBias, pool.hidden, pool.qkv, u.qkv]),
        workgroups: ({ numTokens }) => gemmWorkgroups(numTokens, 3 * H, gemmTiling),
      });
      steps.push({
        label: `${p} rope q|k`,
        pipeline: rope,
        bindGroup: bind(`${p} rope q|k`, rope, [pool.qkv, positions, weights.inverseFrequencies, u.rope]),
        workgroups: ({ numTokens }) => ropeWorkgroups(numTokens, 2 * config.numHeads, headDim, maxPerDimension),
      });
      steps.push({
        label: `${p} attention`,
        pipeline: attention,
        bindGroup: bind(`${p} attention`, attention, [pool.qkv, pool.cuSeqLens, pool.attentionTiles, pool.context, u.attention]),
        workgroups: ({ numTiles }) => [numTiles, config.numHeads, 1],
      });
      residualLayerNorm(
        `${p} attention output`,
        pool.context,
        layer.attentionOutputWeight,
        layer.attentionOutputBias,
        pool.hidden,
        layer.attentionLn,
        pool.attentionOutput,
        u.attentionOutput,
      );
      steps.push({
        label: `${p} up|gate gemm`,
        pipeline: gemm,
        bindGroup: bind(`${p} up|gate gemm`, gemm, [
          pool.attentionOutput,
          layer.upGateWeight,
          layer.upGateBias,
          pool.attentionOutput,
          pool.intermediate,
          u.intermediate,
        ]),
        workgroups: ({ numTokens }) => gemmWorkgroups(numTokens, 2 * I, gemmTiling),
      });
      steps.push({
        label: `${p} gated activation`,
        pipeline: gated,
        bindGroup: bind(`${p} gated activation`, gated, [pool.intermediate, gatedRows, u.gatedActivation]),
        workgroups: ({ numTokens }) => gatedActivationWorkgroups(numTokens, I, maxPerDimension),
      });
      residualLayerNorm(`${p} mlp output`, gatedRows, layer.downWeight, layer.downBias, pool.attentionOutput, layer.mlpLn, pool.hidden, u.output);
    });

    const pooling = poolingBindGroup(ctx, pipelines, pool, pool.hidden, u.pooling);
    // The attention layout does not depend on the batch: written once.
    writeBytes(ctx, u.attention, 0, new Uint8Array(attentionParams(fusedQkvLayout(H), headDim)));
    return new RotaryBertEncoder(ctx, pipelines, config, weights, pool, steps, pooling, attentionTiling.queryTile);
  }

  /** Number of dispatches one forward records (for logs and tests). */
  get numDispatches(): number {
    return this.steps.length + 1;
  }

  /** Writes the batch inputs, records every dispatch, copies the pooled rows to staging and submits; returns their float count. */
  async encodeAndSubmit(inputs: EncoderInputs): Promise<number> {
    const { ctx, pool, config } = this;
    const H = config.hiddenSize;
    const I = config.intermediateSize;
    const eps = config.layerNormEps;
    const numTokens = inputs.tokenIds.length;
    const numSequences = inputs.cuSeqLens.length - 1;
    if (numTokens > pool.capacityTokens || numSequences > pool.capacitySequences) {
      throw new RangeError(`internal: batch of ${numTokens} tokens exceeds the activation pool (${pool.capacityTokens})`);
    }
    const poolingPipeline = await this.pipelines.get(poolingPipelineKey(H, inputs.pooling));
    const write = (buffer: GPUBuffer, data: ArrayBufferView | ArrayBuffer): void => writeInput(ctx, buffer, data);

    // The embeddings kernel reads row 0 of the one-row zero position table (and of the zero token type table when the
    // model has none); the positions go to rope instead.
    const zeros = new Int32Array(numTokens);
    write(pool.tokens, packTokens(inputs.tokenIds, zeros, this.weights.hasTokenTypes ? inputs.tokenTypeIds : undefined));
    write(pool.positions!, new Uint32Array(inputs.positions.buffer, inputs.positions.byteOffset, numTokens));
    const numTiles = writeBatchLayout(ctx, pool, inputs, this.queryTile);
    const u = pool.uniforms;
    write(u.embeddings, embeddingsParams(numTokens, eps));
    write(u.qkv, gemmParams(numTokens, 3 * H, H));
    write(u.rope, ropeParams(numTokens, 2 * config.numHeads, H / config.numHeads, 3 * H));
    write(u.attentionOutput, gemmResidualLayerNormParams(numTokens, H, H, eps));
    write(u.intermediate, gemmParams(numTokens, 2 * I, H));
    write(u.gatedActivation, gatedActivationParams(numTokens, I));
    write(u.output, gemmResidualLayerNormParams(numTokens, H, I, eps));
    write(u.pooling, poolingParams(numSequences));

    return recordAndSubmit(ctx, {
      label: `${config.architecture} forward`,
      steps: this.steps,
      sizes: { numTokens, numSequences, numTiles },
      pooling: poolingPipeline,
      poolingBindGroup: this.poolingBindGroup,
      hiddenSize: H,
      pooled: pool.pooled,
      staging: pool.staging,
    });
  }
}
