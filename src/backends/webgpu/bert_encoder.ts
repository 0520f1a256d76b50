// The BERT encoder as a fixed list of dispatches over the activation pool. Pipelines and bind groups are built
// once (the weights and the pooled buffers never move), so a forward only writes the batch's inputs and uniform
// blocks, records the dispatches into one compute pass of one command encoder, and reads back the pooled rows.
//
// Per layer, with T tokens (BertLayer in transformers' modeling_bert.py):
//   gemm                     hidden [T,H] -> qkv [T,3H]                 (query|key|value projections)
//   attention                qkv -> context [T,H]                        (ragged, online softmax)
//   gemm_residual_layernorm  context, residual hidden -> attentionOutput (BertSelfOutput)
//   gemm (+ activation)      attentionOutput -> intermediate [T,I]       (BertIntermediate)
//   gemm_residual_layernorm  intermediate, residual attentionOutput -> hidden (BertOutput)
// With layerNormFusion 'separate' each gemm_residual_layernorm becomes gemm (residual epilogue) into preNorm,
// then layer_norm: the same math with more workgroups, and the unfused composition the tests compare against.
/// <reference types="@webgpu/types" />
import type { PoolingMode, BertEncoderConfig } from '../../model/types.js';
import type { ActivationPool } from './activation_pool.js';
import type { EncoderInputs } from './encoder_builder.js';
import type { EncoderTuning } from './options.js';
import type { BertGpuWeights } from './bert_weights.js';
import type { WebGpuContext } from './device.js';
import { bindBuffers, fusedQkvLayout, gatherTableRows, poolingBindGroup, recordAndSubmit, type Step, writeBatchLayout, writeInput } from './dispatch_steps.js';
import { grid2d, writeBytes } from './gpu_buffers.js';
import type { CachedPipeline, PipelineCache } from './pipeline_cache.js';
import { attentionParams, attentionPipelineKey, DEFAULT_ATTENTION_TILING } from './kernels/attention.js';
import { embeddingsParams, embeddingsPipelineKey, packTokens } from './kernels/embeddings.js';
import { checkTiling, DEFAULT_GEMM_TILING, gemmParams, gemmPipelineKey, gemmWorkgroups } from './kernels/gemm.js';
import {
  DEFAULT_ROW_PANEL_TILING,
  gemmResidualLayerNormParams,
  gemmResidualLayerNormPipelineKey,
  gemmResidualLayerNormWorkgroups,
} from './kernels/gemm_residual_layernorm.js';
import { layerNormParams, layerNormPipelineKey } from './kernels/layer_norm.js';
import { poolingParams, poolingPipelineKey } from './kernels/pooling.js';

export class BertEncoder {
  private constructor(
    private readonly ctx: WebGpuContext,
    private readonly pipelines: PipelineCache,
    private readonly config: BertEncoderConfig,
    private readonly weights: BertGpuWeights,
    private readonly pool: ActivationPool,
    private readonly steps: readonly Step[],
    private readonly poolingBindGroup: GPUBindGroup,
    private readonly queryTile: number,
  ) {}

  static async create(
    ctx: WebGpuContext,
    pipelines: PipelineCache,
    config: BertEncoderConfig,
    weights: BertGpuWeights,
    pool: ActivationPool,
    defaultPooling: PoolingMode,
    tuning: EncoderTuning = {},
  ): Promise<BertEncoder> {
    const H = config.hiddenSize;
    const I = config.intermediateSize;
    const headDim = H / config.numHeads;
    const maxPerDimension = ctx.limit('maxComputeWorkgroupsPerDimension');
    const maxInvocations = ctx.limit('maxComputeInvocationsPerWorkgroup');
    const maxWorkgroupBytes = ctx.limit('maxComputeWorkgroupStorageSize');
    const gemmTiling = tuning.gemmTiling ?? DEFAULT_GEMM_TILING;
    const rowPanelTiling = tuning.rowPanelTiling ?? DEFAULT_ROW_PANEL_TILING;
    const attentionTiling = tuning.attentionTiling ?? DEFAULT_ATTENTION_TILING;
    checkTiling(gemmTiling, maxInvocations, maxWorkgroupBytes);
    checkTiling(rowPanelTiling, maxInvocations, maxWorkgroupBytes);
    const separate = tuning.layerNormFusion === 'separate';
    const { weightType } = weights;

    // Compile everything up front (in parallel), so the first request pays no compilation.
    const [embeddings, qkvGemm, attention, residualLn, residualGemm, layerNorm, intermediateGemm] = await Promise.all([
      pipelines.get(embeddingsPipelineKey(weightType, H, weights.wordTable === null)),
      pipelines.get(gemmPipelineKey(weightType, { kind: 'bias' }, true, gemmTiling)),
      pipelines.get(attentionPipelineKey(headDim, attentionTiling)),
      separate ? null : pipelines.get(gemmResidualLayerNormPipelineKey(weightType, rowPanelTiling)),
      separate ? pipelines.get(gemmPipelineKey(weightType, { kind: 'residual' }, true, gemmTiling)) : null,
      separate ? pipelines.get(layerNormPipelineKey(H)) : null,
      pipelines.get(gemmPipelineKey(weightType, { kind: 'activation', activation: config.hiddenAct }, true, gemmTiling)),
      pipelines.get(poolingPipelineKey(H, defaultPooling)),
    ]);

    const bind = (label: string, pipeline: CachedPipeline, buffers: GPUBuffer[]): GPUBindGroup => bindBuffers(ctx, label, pipeline.layout, buffers);
    const u = pool.uniforms;
    const steps: Step[] = [];
    const wordRows = weights.wordTable ?? pool.wordRows;
    if (wordRows === null) throw new Error('internal: no word rows buffer');
    steps.push({
      label: 'embeddings',
      pipeline: embeddings,
      bindGroup: bind('embeddings', embeddings, [
        pool.tokens,
        wordRows,
        weights.positionTable,
        weights.typeTable,
        weights.embeddingLn,
        pool.hidden,
        u.embeddings,
      ]),
      workgroups: ({ numTokens }) => grid2d(numTokens, maxPerDimension),
    });

    /** dense + bias + residual + LayerNorm, fused or as gemm then layer_norm. */
    const addResidualLayerNorm = (
      label: string,
      x: GPUBuffer,
      weight: GPUBuffer,
      bias: GPUBuffer,
      residual: GPUBuffer,
      lnParams: GPUBuffer,
      out: GPUBuffer,
      uniform: GPUBuffer,
      n: number,
    ): void => {
      if (residualLn !== null) {
        steps.push({
          label,
          pipeline: residualLn,
          bindGroup: bind(label, residualLn, [x, weight, bias, residual, lnParams, out, uniform]),
          workgroups: ({ numTokens }) => gemmResidualLayerNormWorkgroups(numTokens, rowPanelTiling),
        });
        return;
      }
      if (residualGemm === null || layerNorm === null || pool.preNorm === null) throw new Error('internal: separate LayerNorm pipelines missing');
      steps.push({
        label: `${label} (gemm)`,
        pipeline: residualGemm,
        bindGroup: bind(`${label} (gemm)`, residualGemm, [x, weight, bias, residual, pool.preNorm, uniform]),
        workgroups: ({ numTokens }) => gemmWorkgroups(numTokens, n, gemmTiling),
      });
      steps.push({
        label: `${label} (layer_norm)`,
        pipeline: layerNorm,
        bindGroup: bind(`${label} (layer_norm)`, layerNorm, [pool.preNorm, lnParams, out, u.layerNorm]),
        workgroups: ({ numTokens }) => grid2d(numTokens, maxPerDimension),
      });
    };

    weights.layers.forEach((layer, i) => {
      const p = `encoder.layer.${i}`;
      steps.push({
        label: `${p} qkv gemm`,
        pipeline: qkvGemm,
        // The residual slot is unused (EPILOGUE 0); any read-only buffer fills it.
        bindGroup: bind(`${p} qkv gemm`, qkvGemm, [pool.hidden, layer.qkvWeight, layer.qkvBias, pool.hidden, pool.qkv, u.qkv]),
        workgroups: ({ numTokens }) => gemmWorkgroups(numTokens, 3 * H, gemmTiling),
      });
      steps.push({
        label: `${p} attention`,
        pipeline: attention,
        bindGroup: bind(`${p} attention`, attention, [pool.qkv, pool.cuSeqLens, pool.attentionTiles, pool.context, u.attention]),
        workgroups: ({ numTiles }) => [numTiles, config.numHeads, 1],
      });
      addResidualLayerNorm(
        `${p} attention.output`,
        pool.context,
        layer.attentionOutputWeight,
        layer.attentionOutputBias,
        pool.hidden,
        layer.attentionOutputLn,
        pool.attentionOutput,
        u.attentionOutput,
        H,
      );
      steps.push({
        label: `${p} intermediate gemm`,
        pipeline: intermediateGemm,
        bindGroup: bind(`${p} intermediate gemm`, intermediateGemm, [
          pool.attentionOutput,
          layer.intermediateWeight,
          layer.intermediateBias,
          pool.attentionOutput,
          pool.intermediate,
          u.intermediate,
        ]),
        workgroups: ({ numTokens }) => gemmWorkgroups(numTokens, I, gemmTiling),
      });
      addResidualLayerNorm(
        `${p} output`,
        pool.intermediate,
        layer.outputWeight,
        layer.outputBias,
        pool.attentionOutput,
        layer.outputLn,
        pool.hidden,
        u.output,
        H,
      );
    });

    const pooling = poolingBindGroup(ctx, pipelines, pool, pool.hidden, u.pooling);
    // The attention layout does not depend on the batch: written once.
    writeBytes(ctx, u.attention, 0, new Uint8Array(attentionParams(fusedQkvLayout(H), headDim)));
    return new BertEncoder(ctx, pipelines, config, weights, pool, steps, pooling, attentionTiling.queryTile);
  }

  /** Number of dispatches one forward records (for logs and tests). */
  get numDispatches(): number {
    return this.steps.length + 1;
  }

  /**
   * Writes the batch inputs, records every dispatch into one command encoder, copies the pooled rows to the
   * staging buffer and submits. Returns how many floats of pooled rows to read.
   */
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

    write(pool.tokens, packTokens(inputs.tokenIds, inputs.positions, inputs.tokenTypeIds));
    const numTiles = writeBatchLayout(ctx, pool, inputs, this.queryTile);
    const { wordTableHost } = this.weights;
    if (wordTableHost !== null && pool.wordRows !== null) {
      write(pool.wordRows, gatherTableRows(wordTableHost, inputs.tokenIds, H * (this.weights.weightType === 'f16' ? 2 : 4)));
    }
    const u = pool.uniforms;
    write(u.embeddings, embeddingsParams(numTokens, eps));
    write(u.qkv, gemmParams(numTokens, 3 * H, H));
    // gemm_residual_layernorm params {m, n, k, eps}; the plain gemm of the 'separate' path reads the same block
    // as {m, n, k, unused}.
    write(u.attentionOutput, gemmResidualLayerNormParams(numTokens, H, H, eps));
    write(u.intermediate, gemmParams(numTokens, I, H));
    write(u.output, gemmResidualLayerNormParams(numTokens, H, I, eps));
    write(u.layerNorm, layerNormParams(numTokens, eps));
    write(u.pooling, poolingParams(numSequences));

    return recordAndSubmit(ctx, {
      label: 'bert forward',
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
