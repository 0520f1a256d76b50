// The ModernBERT encoder as a fixed list of dispatches over buffers allocated once for a token capacity. Pipelines and
// bind groups are built once (weights and buffers never move), so a forward only writes the batch's inputs and uniform
// blocks, records the dispatches into one compute pass and copies the pooled rows to the staging buffer.
//
// With T tokens (ModernBertModel in transformers' modeling_modernbert.py; pre-norm, no biases):
//   embeddings        token rows [T,H] + zero position / type rows, LayerNorm (embeddings.norm)  -> hidden
//   per layer:
//   layer_norm        hidden -> normed (attn_norm; layer 0 reads hidden itself: nn.Identity)
//   gemm              normed -> qkv [T,3H] (Wqkv)
//   rope              q and k columns of qkv in place, the layer type's theta (global / local inverse frequencies)
//   attention         qkv -> context [T,H]; local layers: |query - key| <= local_attention // 2
//   gemm + residual   context, hidden -> afterAttention [T,H] (attn.Wo)
//   layer_norm        afterAttention -> normed (mlp_norm)
//   gemm              normed -> wi [T,2I] (mlp.Wi)
//   gated_activation  wi -> gated [T,I]: act(first half) * second half (GeGLU)
//   gemm + residual   gated, afterAttention -> hidden (mlp.Wo)
//   layer_norm        hidden -> normed (final_norm), then pooling of normed
/// <reference types="@webgpu/types" />
import type { ModernBertConfig, PoolingMode } from '../../model/types.js';
import type { WebGpuContext } from './device.js';
import {
  bindBuffers,
  fusedQkvLayout,
  gatherTableRows,
  poolingBindGroup,
  recordAndSubmit,
  type Sizes,
  type Step,
  writeBatchLayout,
  writeInput,
} from './dispatch_steps.js';
import type { EncoderInputs } from './encoder_builder.js';
import { BufferUsage } from './gpu_constants.js';
import { createBuffer, createBufferWithData, grid2d, UNIFORM_USAGE, writeBytes } from './gpu_buffers.js';
import { type AttentionTiling, attentionParams, attentionPipelineKey, maxAttentionTiles } from './kernels/attention.js';
import { embeddingsParams, embeddingsPipelineKey, packTokens } from './kernels/embeddings.js';
import { gatedActivationParams, gatedActivationPipelineKey, gatedActivationWorkgroups } from './kernels/gated_activation.js';
import { DEFAULT_GEMM_TILING, gemmParams, gemmPipelineKey, gemmWorkgroups } from './kernels/gemm.js';
import { layerNormParams, layerNormPipelineKey } from './kernels/layer_norm.js';
import { poolingParams, poolingPipelineKey } from './kernels/pooling.js';
import { ropeInverseFrequencies32, ropeParams, ropePipelineKey, ropeWorkgroups } from './kernels/rope.js';
import type { ModernBertGpuWeights } from './modernbert_weights.js';
import type { CachedPipeline, PipelineCache } from './pipeline_cache.js';

/** Largest float count per token of any activation (what one storage binding must hold per token). */
export function modernBertFloatsPerToken(config: ModernBertConfig): number {
  return Math.max(3 * config.hiddenSize, 2 * config.intermediateSize);
}

const UNIFORM_NAMES = ['embeddings', 'layerNorm', 'qkv', 'rope', 'attentionGlobal', 'attentionLocal', 'wo', 'wi', 'gated', 'mlpWo', 'pooling'] as const;
type UniformName = (typeof UNIFORM_NAMES)[number];

/** The per-batch buffers: inputs, one layer's activations (layers run in sequence), pooled rows and their readback. */
class ModernBertBuffers {
  readonly tokens: GPUBuffer;
  readonly positions: GPUBuffer;
  readonly tokenRows: GPUBuffer | null;
  readonly cuSeqLens: GPUBuffer;
  readonly attentionTiles: GPUBuffer;
  readonly sequenceOptions: GPUBuffer;
  readonly hidden: GPUBuffer;
  readonly afterAttention: GPUBuffer;
  readonly normed: GPUBuffer;
  readonly qkv: GPUBuffer;
  readonly context: GPUBuffer;
  readonly wi: GPUBuffer;
  readonly gated: GPUBuffer;
  readonly pooled: GPUBuffer;
  readonly staging: GPUBuffer;
  readonly uniforms: Readonly<Record<UniformName, GPUBuffer>>;
  readonly bytes: number;

  constructor(
    ctx: WebGpuContext,
    config: ModernBertConfig,
    readonly capacityTokens: number,
    queryTile: number,
    tokenRowBytes: number | null,
  ) {
    const H = config.hiddenSize;
    const I = config.intermediateSize;
    const T = capacityTokens;
    let bytes = 0;
    const make = (label: string, byteLength: number, usage?: number): GPUBuffer => {
      bytes += byteLength;
      return createBuffer(ctx, label, byteLength, usage);
    };
    this.tokens = make('embeddings: tokens', T * 16);
    this.positions = make('rope: positions', T * 4);
    this.tokenRows = tokenRowBytes === null ? null : make('embeddings: token rows gathered on the CPU', T * tokenRowBytes);
    this.cuSeqLens = make('attention/pooling: cu_seq_lens', (T + 1) * 4);
    this.attentionTiles = make('attention: tiles', maxAttentionTiles(T, T, queryTile) * 8);
    this.sequenceOptions = make('pooling: sequence options', T * 8);
    this.hidden = make('hidden', T * H * 4);
    this.afterAttention = make('hidden after attention', T * H * 4);
    this.normed = make('layer_norm: normed', T * H * 4);
    this.qkv = make('gemm: qkv', T * 3 * H * 4);
    this.context = make('attention: context', T * H * 4);
    this.wi = make('gemm: Wi', T * 2 * I * 4);
    this.gated = make('gated_activation: gated', T * I * 4);
    this.pooled = make('pooling: pooled rows', T * H * 4);
    this.staging = make('pooling: pooled rows readback', T * H * 4, BufferUsage.MAP_READ | BufferUsage.COPY_DST);
    const uniforms = {} as Record<UniformName, GPUBuffer>;
    for (const name of UNIFORM_NAMES) uniforms[name] = make(`${name}: params`, 32, UNIFORM_USAGE);
    this.uniforms = uniforms;
    this.bytes = bytes;
  }

  destroy(): void {
    const { uniforms, ...rest } = this;
    for (const value of [...Object.values(rest), ...Object.values(uniforms)]) {
      if (value !== null && typeof value === 'object' && 'destroy' in value) (value as GPUBuffer).destroy();
    }
  }
}

export class ModernBertEncoder {
  private constructor(
    private readonly ctx: WebGpuContext,
    private readonly pipelines: PipelineCache,
    private readonly config: ModernBertConfig,
    private readonly weights: ModernBertGpuWeights,
    readonly buffers: ModernBertBuffers,
    private readonly invFreq: readonly GPUBuffer[],
    private readonly steps: readonly Step[],
    private readonly poolingBindGroup: GPUBindGroup,
    private readonly queryTile: number,
  ) {}

  static async create(
    ctx: WebGpuContext,
    pipelines: PipelineCache,
    config: ModernBertConfig,
    weights: ModernBertGpuWeights,
    capacityTokens: number,
    defaultPooling: PoolingMode,
    attentionTiling: AttentionTiling,
  ): Promise<ModernBertEncoder> {
    const H = config.hiddenSize;
    const I = config.intermediateSize;
    const headDim = H / config.numHeads;
    const maxPerDimension = ctx.limit('maxComputeWorkgroupsPerDimension');
    const { weightType } = weights;
    const gatherOnCpu = weights.tokenTable === null;
    const buffers = new ModernBertBuffers(ctx, config, capacityTokens, attentionTiling.queryTile, gatherOnCpu ? H * (weightType === 'f16' ? 2 : 4) : null);
    const invFreq: GPUBuffer[] = [];
    try {
      // Compile everything up front (in parallel), so the first request pays no compilation.
      const [embeddings, layerNorm, gemm, gemmResidual, rope, attention, gated] = await Promise.all([
        pipelines.get(embeddingsPipelineKey(weightType, H, gatherOnCpu)),
        pipelines.get(layerNormPipelineKey(H)),
        pipelines.get(gemmPipelineKey(weightType, { kind: 'bias' }, false, DEFAULT_GEMM_TILING)),
        pipelines.get(gemmPipelineKey(weightType, { kind: 'residual' }, false, DEFAULT_GEMM_TILING)),
        pipelines.get(ropePipelineKey(headDim)),
        pipelines.get(attentionPipelineKey(headDim, attentionTiling)),
        pipelines.get(gatedActivationPipelineKey(config.hiddenAct, 'first')),
        pipelines.get(poolingPipelineKey(H, defaultPooling)),
      ]);
      // ModernBertRotaryEmbedding: one set of inverse frequencies per layer type (global_rope_theta, local_rope_theta).
      const globalFreq = createBufferWithData(ctx, 'rope: inv_freq (global layers)', ropeInverseFrequencies32(headDim, config.globalRopeTheta));
      const localFreq = createBufferWithData(ctx, 'rope: inv_freq (sliding-window layers)', ropeInverseFrequencies32(headDim, config.localRopeTheta));
      invFreq.push(globalFreq, localFreq);

      const bind = (label: string, pipeline: CachedPipeline, entries: GPUBuffer[]): GPUBindGroup => bindBuffers(ctx, label, pipeline.layout, entries);
      const b = buffers;
      const u = b.uniforms;
      const steps: Step[] = [];
      const rows = ({ numTokens }: Sizes) => grid2d(numTokens, maxPerDimension);
      const tokenRows = weights.tokenTable ?? b.tokenRows;
      if (tokenRows === null) throw new Error('internal: no token rows buffer');
      steps.push({
        label: 'embeddings',
        pipeline: embeddings,
        bindGroup: bind('embeddings', embeddings, [b.tokens, tokenRows, weights.zeroRow, weights.zeroRow, weights.embeddingNorm, b.hidden, u.embeddings]),
        workgroups: rows,
      });
      // GEMMs without bias: the bias slot (HAS_BIAS false) and, without residual, the residual slot take the input.
      weights.layers.forEach((layer, i) => {
        const p = `layers.${i}`;
        const local = config.layerTypes[i] === 'sliding_attention';
        let attentionInput = b.hidden;
        if (layer.attnNorm !== null) {
          steps.push({
            label: `${p} attn_norm`,
            pipeline: layerNorm,
            bindGroup: bind(`${p} attn_norm`, layerNorm, [b.hidden, layer.attnNorm, b.normed, u.layerNorm]),
            workgroups: rows,
          });
          attentionInput = b.normed;
        }
        steps.push({
          label: `${p} Wqkv`,
          pipeline: gemm,
          bindGroup: bind(`${p} Wqkv`, gemm, [attentionInput, layer.wqkv, attentionInput, attentionInput, b.qkv, u.qkv]),
          workgroups: ({ numTokens }) => gemmWorkgroups(numTokens, 3 * H),
        });
        steps.push({
          label: `${p} rope q|k`,
          pipeline: rope,
          bindGroup: bind(`${p} rope q|k`, rope, [b.qkv, b.positions, local ? localFreq : globalFreq, u.rope]),
          workgroups: ({ numTokens }) => ropeWorkgroups(numTokens, 2 * config.numHeads, headDim, maxPerDimension),
        });
        steps.push({
          label: `${p} attention (${local ? 'sliding window' : 'global'})`,
          pipeline: attention,
          bindGroup: bind(`${p} attention`, attention, [b.qkv, b.cuSeqLens, b.attentionTiles, b.context, local ? u.attentionLocal : u.attentionGlobal]),
          workgroups: ({ numTiles }) => [numTiles, config.numHeads, 1],
        });
        steps.push({
          label: `${p} attn.Wo + residual`,
          pipeline: gemmResidual,
          bindGroup: bind(`${p} attn.Wo`, gemmResidual, [b.context, layer.wo, b.context, b.hidden, b.afterAttention, u.wo]),
          workgroups: ({ numTokens }) => gemmWorkgroups(numTokens, H),
        });
        steps.push({
          label: `${p} mlp_norm`,
          pipeline: layerNorm,
          bindGroup: bind(`${p} mlp_norm`, layerNorm, [b.afterAttention, layer.mlpNorm, b.normed, u.layerNorm]),
          workgroups: rows,
        });
        steps.push({
          label: `${p} mlp.Wi`,
          pipeline: gemm,
          bindGroup: bind(`${p} mlp.Wi`, gemm, [b.normed, layer.wi, b.normed, b.normed, b.wi, u.wi]),
          workgroups: ({ numTokens }) => gemmWorkgroups(numTokens, 2 * I),
        });
        steps.push({
          label: `${p} gated_activation`,
          pipeline: gated,
          bindGroup: bind(`${p} gated_activation`, gated, [b.wi, b.gated, u.gated]),
          workgroups: ({ numTokens }) => gatedActivationWorkgroups(numTokens, I, maxPerDimension),
        });
        steps.push({
          label: `${p} mlp.Wo + residual`,
          pipeline: gemmResidual,
          bindGroup: bind(`${p} mlp.Wo`, gemmResidual, [b.gated, layer.mlpWo, b.gated, b.afterAttention, b.hidden, u.mlpWo]),
          workgroups: ({ numTokens }) => gemmWorkgroups(numTokens, H),
        });
      });
      steps.push({
        label: 'final_norm',
        pipeline: layerNorm,
        bindGroup: bind('final_norm', layerNorm, [b.hidden, weights.finalNorm, b.normed, u.layerNorm]),
        workgroups: rows,
      });

      const pooling = poolingBindGroup(ctx, pipelines, b, b.normed, u.pooling);
      // Uniforms that do not depend on the batch: written once.
      const layout = fusedQkvLayout(H);
      writeBytes(ctx, u.attentionGlobal, 0, new Uint8Array(attentionParams(layout, headDim)));
      writeBytes(ctx, u.attentionLocal, 0, new Uint8Array(attentionParams(layout, headDim, config.slidingWindow)));
      return new ModernBertEncoder(ctx, pipelines, config, weights, buffers, invFreq, steps, pooling, attentionTiling.queryTile);
    } catch (error) {
      buffers.destroy();
      for (const buffer of invFreq) buffer.destroy();
      throw error;
    }
  }

  /** Number of dispatches one forward records (for logs and tests). */
  get numDispatches(): number {
    return this.steps.length + 1;
  }

  /** Writes the batch inputs, records every dispatch, copies the pooled rows to staging and submits. */
  async encodeAndSubmit(inputs: EncoderInputs): Promise<number> {
    const { ctx, buffers: b, config } = this;
    const H = config.hiddenSize;
    const I = config.intermediateSize;
    const numTokens = inputs.tokenIds.length;
    const numSequences = inputs.cuSeqLens.length - 1;
    if (numTokens > b.capacityTokens) throw new RangeError(`internal: batch of ${numTokens} tokens exceeds the buffers (${b.capacityTokens})`);
    const poolingPipeline = await this.pipelines.get(poolingPipelineKey(H, inputs.pooling));
    const write = (buffer: GPUBuffer, data: ArrayBufferView | ArrayBuffer): void => writeInput(ctx, buffer, data);

    // The embeddings kernel adds position and token-type rows: ModernBERT has neither, so every token reads the zero row.
    write(b.tokens, packTokens(inputs.tokenIds, new Int32Array(numTokens), undefined));
    write(b.positions, new Uint32Array(inputs.positions.buffer, inputs.positions.byteOffset, numTokens));
    const numTiles = writeBatchLayout(ctx, b, inputs, this.queryTile);
    const { tokenTableHost } = this.weights;
    if (tokenTableHost !== null && b.tokenRows !== null) {
      write(b.tokenRows, gatherTableRows(tokenTableHost, inputs.tokenIds, H * (this.weights.weightType === 'f16' ? 2 : 4)));
    }
    const u = b.uniforms;
    write(u.embeddings, embeddingsParams(numTokens, config.normEps));
    write(u.layerNorm, layerNormParams(numTokens, config.normEps));
    write(u.qkv, gemmParams(numTokens, 3 * H, H));
    // q and k: the first 2 nH heads of each [3H] qkv row.
    write(u.rope, ropeParams(numTokens, 2 * config.numHeads, H / config.numHeads, 3 * H));
    write(u.wo, gemmParams(numTokens, H, H));
    write(u.wi, gemmParams(numTokens, 2 * I, H));
    write(u.gated, gatedActivationParams(numTokens, I));
    write(u.mlpWo, gemmParams(numTokens, H, I));
    write(u.pooling, poolingParams(numSequences));

    return recordAndSubmit(ctx, {
      label: 'modernbert forward',
      steps: this.steps,
      sizes: { numTokens, numSequences, numTiles },
      pooling: poolingPipeline,
      poolingBindGroup: this.poolingBindGroup,
      hiddenSize: H,
      pooled: b.pooled,
      staging: b.staging,
    });
  }

  destroy(): void {
    this.buffers.destroy();
    for (const buffer of this.invFreq) buffer.destroy();
  }
}
