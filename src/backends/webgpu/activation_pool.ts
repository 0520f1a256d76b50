// The encoder's working buffers, allocated once for a token capacity (the scheduler's token budget, capped by
// what one storage binding can hold) and reused by every forward: per-batch inputs, the activations of one layer
// (the layers run in sequence, so one set serves all), the pooled rows and a MAP_READ staging buffer for them.
// Uniform parameter blocks live here too: one per dispatch kind, rewritten each forward because T changes.
/// <reference types="@webgpu/types" />
import type { WebGpuContext } from './device.js';
import { BufferUsage } from './gpu_constants.js';
import { createBuffer, UNIFORM_USAGE } from './gpu_buffers.js';
import { maxAttentionTiles } from './kernels/attention.js';
import type { WeightType } from './shader_source.js';

export type UniformName =
  | 'embeddings'
  | 'qkv'
  | 'rope'
  | 'attention'
  | 'attentionOutput'
  | 'intermediate'
  | 'gatedActivation'
  | 'output'
  | 'layerNorm'
  | 'pooling';

const UNIFORM_NAMES: readonly UniformName[] = [
  'embeddings',
  'qkv',
  'rope',
  'attention',
  'attentionOutput',
  'intermediate',
  'gatedActivation',
  'output',
  'layerNorm',
  'pooling',
];

/**
 * The widths of one encoder layer's activations: hidden H, the feed-forward projection's output (BERT: I; a gated
 * MLP's fused up|gate: 2I), and a gated MLP's act(gate) * up (I), null without one.
 */
export interface EncoderActivationShape {
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly gatedSize: number | null;
}

/** Largest float count per token of any activation: what limits tokens per pass under one binding. */
export function floatsPerTokenOfWidestActivation(shape: EncoderActivationShape): number {
  return Math.max(shape.intermediateSize, 3 * shape.hiddenSize);
}

export class ActivationPool {
  /** [T] (word id, position, token type, unused). */
  readonly tokens: GPUBuffer;
  /** [T, H] word rows gathered on the CPU (only when the word table stays on the host). */
  readonly wordRows: GPUBuffer | null;
  /** [T] u32: each token's position, for rope (rotary families); null otherwise (BERT packs them into tokens). */
  readonly positions: GPUBuffer | null;
  readonly cuSeqLens: GPUBuffer;
  readonly attentionTiles: GPUBuffer;
  /** [n] (dimensions, normalize). */
  readonly sequenceOptions: GPUBuffer;
  /** [T, H]: embeddings output and each layer's output. */
  readonly hidden: GPUBuffer;
  /** [T, H]: each layer's attention output (after its LayerNorm), the residual of the feed-forward block. */
  readonly attentionOutput: GPUBuffer;
  /** [T, 3H]: q | k | v. */
  readonly qkv: GPUBuffer;
  /** [T, H]: attention context. */
  readonly context: GPUBuffer;
  /** [T, I]: feed-forward activations (a gated MLP: [T, 2I], its fused up|gate projection). */
  readonly intermediate: GPUBuffer;
  /** [T, I]: a gated MLP's act(gate) * up; null without one. */
  readonly gated: GPUBuffer | null;
  /** [T, H]: pre-LayerNorm values, only when LayerNorm runs as its own kernel. */
  readonly preNorm: GPUBuffer | null;
  /** [n, H]. */
  readonly pooled: GPUBuffer;
  readonly staging: GPUBuffer;
  readonly uniforms: Readonly<Record<UniformName, GPUBuffer>>;
  readonly bytes: number;

  constructor(
    ctx: WebGpuContext,
    shape: EncoderActivationShape,
    readonly capacityTokens: number,
    readonly capacitySequences: number,
    queryTile: number,
    opts: { wordRows: WeightType | null; separateLayerNorm: boolean; rotaryPositions?: boolean },
  ) {
    const H = shape.hiddenSize;
    const T = capacityTokens;
    let bytes = 0;
    const make = (label: string, byteLength: number, usage?: number): GPUBuffer => {
      bytes += byteLength;
      return createBuffer(ctx, label, byteLength, usage);
    };
    this.tokens = make('embeddings: tokens', T * 16);
    this.wordRows = opts.wordRows === null ? null : make('embeddings: word rows gathered on the CPU', T * H * (opts.wordRows === 'f16' ? 2 : 4));
    this.positions = opts.rotaryPositions === true ? make('rope: positions', T * 4) : null;
    this.cuSeqLens = make('attention/pooling: cu_seq_lens', (capacitySequences + 1) * 4);
    this.attentionTiles = make('attention: tiles', maxAttentionTiles(T, capacitySequences, queryTile) * 8);
    this.sequenceOptions = make('pooling: sequence options', capacitySequences * 8);
    this.hidden = make('embeddings/gemm_residual_layernorm: hidden', T * H * 4);
    this.attentionOutput = make('gemm_residual_layernorm: attention output', T * H * 4);
    this.qkv = make('gemm: qkv', T * 3 * H * 4);
    this.context = make('attention: context', T * H * 4);
    this.intermediate = make('gemm: intermediate', T * shape.intermediateSize * 4);
    this.gated = shape.gatedSize === null ? null : make('gated_activation: act(gate) * up', T * shape.gatedSize * 4);
    this.preNorm = opts.separateLayerNorm ? make('gemm (residual epilogue): pre-LayerNorm', T * H * 4) : null;
    this.pooled = make('pooling: pooled rows', capacitySequences * H * 4);
    this.staging = make('pooling: pooled rows readback', capacitySequences * H * 4, BufferUsage.MAP_READ | BufferUsage.COPY_DST);
    const uniforms = {} as Record<UniformName, GPUBuffer>;
    for (const name of UNIFORM_NAMES) uniforms[name] = make(`${name}: params`, 32, UNIFORM_USAGE);
    this.uniforms = uniforms;
    this.bytes = bytes;
  }

  destroy(): void {
    const buffers = [
      this.tokens,
      this.wordRows,
      this.positions,
      this.cuSeqLens,
      this.attentionTiles,
      this.sequenceOptions,
      this.hidden,
      this.attentionOutput,
      this.qkv,
      this.context,
      this.intermediate,
      this.gated,
      this.preNorm,
      this.pooled,
      this.staging,
      ...Object.values(this.uniforms),
    ];
    for (const buffer of buffers) buffer?.destroy();
  }
}
