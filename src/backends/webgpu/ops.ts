// Op-level entry points of the WebGPU backend, with the same argument conventions as the reference ops
// (src/model/reference/ops.ts), for the kernel tests and the kernel benchmark. Each op uploads its inputs,
// dispatches one kernel and reads the result back; `prepare*` variants leave the dispatch ready to be timed.
/// <reference types="@webgpu/types" />
import type { ActivationKind } from '../../model/types.js';
import type { PoolingMode } from '../../model/types.js';
import { WebGpuContext, type WebGpuDeviceOptions } from './device.js';
import { createBuffer, createBufferWithData, float32Data, readBack, UNIFORM_USAGE, weightBytes } from './gpu_buffers.js';
import { type CachedPipeline, PipelineCache } from './pipeline_cache.js';
import type { WeightType } from './shader_source.js';
import { activationParams, activationPipelineKey, activationWorkgroups } from './kernels/activation.js';
import { type AttentionTiling, attentionFlops, attentionParams, attentionPipelineKey, attentionTiles, DEFAULT_ATTENTION_TILING } from './kernels/attention.js';
import { embeddingsParams, embeddingsPipelineKey, embeddingsWorkgroups, packTokens } from './kernels/embeddings.js';
import {
  checkTiling,
  DEFAULT_GEMM_TILING,
  gemmFlops,
  type GemmEpilogue,
  gemmParams,
  gemmPipelineKey,
  gemmWorkgroups,
  type GemmTiling,
} from './kernels/gemm.js';
import {
  DEFAULT_ROW_PANEL_TILING,
  gemmResidualLayerNormParams,
  gemmResidualLayerNormPipelineKey,
  gemmResidualLayerNormWorkgroups,
} from './kernels/gemm_residual_layernorm.js';
import { layerNormParams, layerNormPipelineKey, layerNormWorkgroups } from './kernels/layer_norm.js';
import { packSequenceOptions, poolingParams, poolingPipelineKey, poolingWorkgroups } from './kernels/pooling.js';

/** One kernel dispatch with its inputs on the GPU, ready to run (repeatedly, for timing) and read back. */
export interface PreparedOp {
  readonly label: string;
  /** Floating-point operations of one run (0 where counting them makes no sense). */
  readonly flops: number;
  /** Records `iterations` back-to-back dispatches in one command buffer and waits for the GPU to finish. */
  run(iterations?: number): Promise<void>;
  /** The output buffer's values after the last run. */
  read(): Promise<Float32Array>;
  destroy(): void;
}

function expectLength(name: string, values: ArrayLike<unknown>, expected: number): void {
  if (values.length !== expected) throw new RangeError(`${name} has ${values.length} values, expected ${expected}`);
}

function concatLnParams(gamma: ArrayLike<number>, beta: ArrayLike<number>): Float32Array {
  const packed = new Float32Array(gamma.length + beta.length);
  packed.set(float32Data(gamma), 0);
  packed.set(float32Data(beta), gamma.length);
  return packed;
}

export interface LinearOptions {
  readonly epilogue?: GemmEpilogue;
  /** [numRows, outFeatures], for epilogue 'residual'. */
  readonly residual?: ArrayLike<number>;
  readonly weightType?: WeightType;
  readonly tiling?: GemmTiling;
}

export class WebGpuOps {
  private constructor(
    readonly ctx: WebGpuContext,
    readonly pipelines: PipelineCache,
    private readonly ownsContext: boolean,
  ) {}

  static async create(opts: WebGpuDeviceOptions = {}): Promise<WebGpuOps> {
    const ctx = await WebGpuContext.open(opts);
    return new WebGpuOps(ctx, new PipelineCache(ctx), true);
  }

  /** Ops on a device someone else owns (dispose() then leaves the device alone). */
  static onContext(ctx: WebGpuContext, pipelines: PipelineCache = new PipelineCache(ctx)): WebGpuOps {
    return new WebGpuOps(ctx, pipelines, false);
  }

  private get maxPerDimension(): number {
    return this.ctx.limit('maxComputeWorkgroupsPerDimension');
  }

  private prepared(
    label: string,
    pipeline: CachedPipeline,
    buffers: GPUBuffer[],
    workgroups: [number, number, number],
    output: GPUBuffer,
    outputFloats: number,
    flops: number,
  ): PreparedOp {
    const { ctx } = this;
    const bindGroup = ctx.device.createBindGroup({
      label: `${label} bind group`,
      layout: pipeline.layout,
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return {
      label,
      flops,
      run: async (iterations = 1) => {
        await ctx.checked(label, async () => {
          const encoder = ctx.device.createCommandEncoder({ label });
          const pass = encoder.beginComputePass({ label });
          pass.setPipeline(pipeline.pipeline);
          pass.setBindGroup(0, bindGroup);
          for (let i = 0; i < iterations; i++) pass.dispatchWorkgroups(...workgroups);
          pass.end();
          ctx.device.queue.submit([encoder.finish()]);
          await ctx.settle(ctx.device.queue.onSubmittedWorkDone(), label);
        });
      },
      read: async () => new Float32Array(await readBack(ctx, output, outputFloats * 4, label)),
      destroy: () => {
        for (const buffer of new Set(buffers)) buffer.destroy();
      },
    };
  }

  private async runOnce(prepared: PreparedOp): Promise<Float32Array> {
    try {
      await prepared.run(1);
      return await prepared.read();
    } finally {
      prepared.destroy();
    }
  }

  private storage(label: string, values: ArrayLike<number>): GPUBuffer {
    return createBufferWithData(this.ctx, label, float32Data(values));
  }

  private uniform(label: string, block: ArrayBuffer): GPUBuffer {
    return createBufferWithData(this.ctx, label, new Uint8Array(block), UNIFORM_USAGE);
  }

  /** y = epilogue(x w^T + bias); x [numRows, inFeatures], weight [outFeatures, inFeatures]. */
  async prepareLinear(
    x: ArrayLike<number>,
    numRows: number,
    inFeatures: number,
    weight: ArrayLike<number>,
    bias: ArrayLike<number> | null,
    outFeatures: number,
    opts: LinearOptions = {},
  ): Promise<PreparedOp> {
    const epilogue = opts.epilogue ?? { kind: 'bias' };
    const tiling = opts.tiling ?? DEFAULT_GEMM_TILING;
    checkTiling(tiling, this.ctx.limit('maxComputeInvocationsPerWorkgroup'), this.ctx.limit('maxComputeWorkgroupStorageSize'));
    expectLength('x', x, numRows * inFeatures);
    expectLength('weight', weight, outFeatures * inFeatures);
    if (bias !== null) expectLength('bias', bias, outFeatures);
    if (epilogue.kind === 'residual') {
      if (opts.residual === undefined) throw new RangeError("epilogue 'residual' needs opts.residual");
      expectLength('residual', opts.residual, numRows * outFeatures);
    }
    const weightType = opts.weightType ?? 'f32';
    const pipeline = await this.pipelines.get(gemmPipelineKey(weightType, epilogue, bias !== null, tiling));
    const label = `gemm ${numRows}x${outFeatures}x${inFeatures} (${epilogue.kind}, ${weightType})`;
    const xBuffer = this.storage(`${label}: x`, x);
    const wBuffer = createBufferWithData(this.ctx, `${label}: w`, weightBytes(weight, weightType));
    const biasBuffer = bias === null ? xBuffer : this.storage(`${label}: bias`, bias);
    const residualBuffer = opts.residual === undefined ? xBuffer : this.storage(`${label}: residual`, opts.residual);
    const yBuffer = createBuffer(this.ctx, `${label}: y`, numRows * outFeatures * 4);
    const params = this.uniform(`${label}: params`, gemmParams(numRows, outFeatures, inFeatures));
    return this.prepared(
      label,
      pipeline,
      [xBuffer, wBuffer, biasBuffer, residualBuffer, yBuffer, params],
      gemmWorkgroups(numRows, outFeatures, tiling),
      yBuffer,
      numRows * outFeatures,
      gemmFlops(numRows, outFeatures, inFeatures),
    );
  }

  async linear(
    x: ArrayLike<number>,
    numRows: number,
    inFeatures: number,
    weight: ArrayLike<number>,
    bias: ArrayLike<number> | null,
    outFeatures: number,
    opts: LinearOptions = {},
  ): Promise<Float32Array> {
    return this.runOnce(await this.prepareLinear(x, numRows, inFeatures, weight, bias, outFeatures, opts));
  }

  /** y = LayerNorm(x w^T + bias + residual) with gamma, beta, eps, in one fused kernel. */
  async prepareLinearResidualLayerNorm(
    x: ArrayLike<number>,
    numRows: number,
    inFeatures: number,
    weight: ArrayLike<number>,
    bias: ArrayLike<number>,
    outFeatures: number,
    residual: ArrayLike<number>,
    gamma: ArrayLike<number>,
    beta: ArrayLike<number>,
    eps: number,
    opts: { weightType?: WeightType; tiling?: GemmTiling } = {},
  ): Promise<PreparedOp> {
    const tiling = opts.tiling ?? DEFAULT_ROW_PANEL_TILING;
    checkTiling(tiling, this.ctx.limit('maxComputeInvocationsPerWorkgroup'), this.ctx.limit('maxComputeWorkgroupStorageSize'));
    expectLength('x', x, numRows * inFeatures);
    expectLength('weight', weight, outFeatures * inFeatures);
    expectLength('bias', bias, outFeatures);
    expectLength('residual', residual, numRows * outFeatures);
    expectLength('gamma', gamma, outFeatures);
    expectLength('beta', beta, outFeatures);
    const weightType = opts.weightType ?? 'f32';
    const pipeline = await this.pipelines.get(gemmResidualLayerNormPipelineKey(weightType, tiling));
    const label = `gemm_residual_layernorm ${numRows}x${outFeatures}x${inFeatures} (${weightType})`;
    const yBuffer = createBuffer(this.ctx, `${label}: y`, numRows * outFeatures * 4);
    return this.prepared(
      label,
      pipeline,
      [
        this.storage(`${label}: x`, x),
        createBufferWithData(this.ctx, `${label}: w`, weightBytes(weight, weightType)),
        this.storage(`${label}: bias`, bias),
        this.storage(`${label}: residual`, residual),
        this.storage(`${label}: ln_params`, concatLnParams(gamma, beta)),
        yBuffer,
        this.uniform(`${label}: params`, gemmResidualLayerNormParams(numRows, outFeatures, inFeatures, eps)),
      ],
      gemmResidualLayerNormWorkgroups(numRows, tiling),
      yBuffer,
      numRows * outFeatures,
      gemmFlops(numRows, outFeatures, inFeatures),
    );
  }

  async linearResidualLayerNorm(...args: Parameters<WebGpuOps['prepareLinearResidualLayerNorm']>): Promise<Float32Array> {
    return this.runOnce(await this.prepareLinearResidualLayerNorm(...args));
  }

  async prepareLayerNorm(
    x: ArrayLike<number>,
    numRows: number,
    numCols: number,
    gamma: ArrayLike<number>,
    beta: ArrayLike<number>,
    eps: number,
  ): Promise<PreparedOp> {
    expectLength('x', x, numRows * numCols);
    expectLength('gamma', gamma, numCols);
    expectLength('beta', beta, numCols);
    const pipeline = await this.pipelines.get(layerNormPipelineKey(numCols));
    const label = `layer_norm ${numRows}x${numCols}`;
    const yBuffer = createBuffer(this.ctx, `${label}: y`, numRows * numCols * 4);
    return this.prepared(
      label,
      pipeline,
      [
        this.storage(`${label}: x`, x),
        this.storage(`${label}: ln_params`, concatLnParams(gamma, beta)),
        yBuffer,
        this.uniform(`${label}: params`, layerNormParams(numRows, eps)),
      ],
      layerNormWorkgroups(numRows, this.maxPerDimension),
      yBuffer,
      numRows * numCols,
      0,
    );
  }

  async layerNorm(...args: Parameters<WebGpuOps['prepareLayerNorm']>): Promise<Float32Array> {
    return this.runOnce(await this.prepareLayerNorm(...args));
  }

  async prepareActivation(x: ArrayLike<number>, kind: ActivationKind): Promise<PreparedOp> {
    const pipeline = await this.pipelines.get(activationPipelineKey(kind));
    const label = `activation ${kind} x${x.length}`;
    const yBuffer = createBuffer(this.ctx, `${label}: y`, x.length * 4);
    return this.prepared(
      label,
      pipeline,
      [this.storage(`${label}: x`, x), yBuffer, this.uniform(`${label}: params`, activationParams(x.length))],
      activationWorkgroups(x.length, this.maxPerDimension),
      yBuffer,
      x.length,
      0,
    );
  }

  async activation(x: ArrayLike<number>, kind: ActivationKind): Promise<Float32Array> {
    return this.runOnce(await this.prepareActivation(x, kind));
  }

  /**
   * BertEmbeddings: gather + sum + LayerNorm. With `pregatherWords` the word rows are gathered on the CPU and
   * uploaded as [T, hidden] (the path the backend takes for word tables larger than one storage binding).
   */
  async prepareEmbeddings(
    tokenIds: ArrayLike<number>,
    positions: ArrayLike<number>,
    tokenTypeIds: ArrayLike<number>,
    wordEmb: ArrayLike<number>,
    posEmb: ArrayLike<number>,
    typeEmb: ArrayLike<number>,
    hiddenSize: number,
    gamma: ArrayLike<number>,
    beta: ArrayLike<number>,
    eps: number,
    opts: { weightType?: WeightType; pregatherWords?: boolean } = {},
  ): Promise<PreparedOp> {
    const numTokens = tokenIds.length;
    expectLength('positions', positions, numTokens);
    expectLength('tokenTypeIds', tokenTypeIds, numTokens);
    const tables: [string, ArrayLike<number>][] = [
      ['wordEmb', wordEmb],
      ['posEmb', posEmb],
      ['typeEmb', typeEmb],
    ];
    for (const [name, table] of tables) {
      if (table.length % hiddenSize !== 0) throw new RangeError(`${name} length ${table.length} is not a multiple of hiddenSize ${hiddenSize}`);
    }
    const tableRows = tables.map(([, table]) => table.length / hiddenSize);
    const ids = [tokenIds, positions, tokenTypeIds];
    ids.forEach((values, which) => {
      for (let t = 0; t < numTokens; t++) {
        if (!Number.isInteger(values[t]) || values[t] < 0 || values[t] >= tableRows[which]) {
          throw new RangeError(`${['tokenIds', 'positions', 'tokenTypeIds'][which]}[${t}] = ${values[t]} is outside [0, ${tableRows[which]})`);
        }
      }
    });
    const weightType = opts.weightType ?? 'f32';
    const pregather = opts.pregatherWords ?? false;
    const pipeline = await this.pipelines.get(embeddingsPipelineKey(weightType, hiddenSize, pregather));
    const label = `embeddings ${numTokens}x${hiddenSize} (${weightType}${pregather ? ', words gathered on CPU' : ''})`;
    let wordRows: ArrayLike<number> = wordEmb;
    if (pregather) {
      const gathered = new Float32Array(numTokens * hiddenSize);
      const table = float32Data(wordEmb);
      for (let t = 0; t < numTokens; t++) gathered.set(table.subarray(tokenIds[t] * hiddenSize, (tokenIds[t] + 1) * hiddenSize), t * hiddenSize);
      wordRows = gathered;
    }
    const yBuffer = createBuffer(this.ctx, `${label}: y`, numTokens * hiddenSize * 4);
    return this.prepared(
      label,
      pipeline,
      [
        createBufferWithData(this.ctx, `${label}: tokens`, packTokens(tokenIds, positions, tokenTypeIds)),
        createBufferWithData(this.ctx, `${label}: word rows`, weightBytes(wordRows, weightType)),
        createBufferWithData(this.ctx, `${label}: position table`, weightBytes(posEmb, weightType)),
        createBufferWithData(this.ctx, `${label}: type table`, weightBytes(typeEmb, weightType)),
        this.storage(`${label}: ln_params`, concatLnParams(gamma, beta)),
        yBuffer,
        this.uniform(`${label}: params`, embeddingsParams(numTokens, eps)),
      ],
      embeddingsWorkgroups(numTokens, this.maxPerDimension),
      yBuffer,
      numTokens * hiddenSize,
      0,
    );
  }

  async embeddings(...args: Parameters<WebGpuOps['prepareEmbeddings']>): Promise<Float32Array> {
    return this.runOnce(await this.prepareEmbeddings(...args));
  }

  /**
   * Ragged multi-head attention; q, k, v, output are [T, numHeads * headDim]. `window` > 0: sliding-window attention,
   * query i sees keys j with |i - j| <= window.
   */
  async prepareAttention(
    q: ArrayLike<number>,
    k: ArrayLike<number>,
    v: ArrayLike<number>,
    cuSeqLens: ArrayLike<number>,
    numHeads: number,
    headDim: number,
    opts: { tiling?: AttentionTiling; window?: number } = {},
  ): Promise<PreparedOp> {
    const width = numHeads * headDim;
    const window = opts.window ?? 0;
    if (q.length % width !== 0) throw new RangeError(`q length ${q.length} is not a multiple of numHeads*headDim = ${width}`);
    const numTokens = q.length / width;
    expectLength('k', k, q.length);
    expectLength('v', v, q.length);
    if (cuSeqLens[0] !== 0 || cuSeqLens[cuSeqLens.length - 1] !== numTokens) throw new RangeError(`cuSeqLens must run from 0 to ${numTokens}`);
    for (let s = 1; s < cuSeqLens.length; s++) {
      if (cuSeqLens[s] <= cuSeqLens[s - 1]) throw new RangeError(`sequence ${s - 1} is empty or cuSeqLens decreases`);
    }
    const tiling = opts.tiling ?? DEFAULT_ATTENTION_TILING;
    const pipeline = await this.pipelines.get(attentionPipelineKey(headDim, tiling));
    const label = `attention ${numTokens} tokens, ${cuSeqLens.length - 1} sequences, ${numHeads}x${headDim}`;
    // The kernel reads one fused [T, 3 * width] buffer (as the encoder's qkv projection writes it).
    const qkv = new Float32Array(numTokens * 3 * width);
    const [qf, kf, vf] = [float32Data(q), float32Data(k), float32Data(v)];
    for (let t = 0; t < numTokens; t++) {
      qkv.set(qf.subarray(t * width, (t + 1) * width), t * 3 * width);
      qkv.set(kf.subarray(t * width, (t + 1) * width), t * 3 * width + width);
      qkv.set(vf.subarray(t * width, (t + 1) * width), t * 3 * width + 2 * width);
    }
    const tiles = attentionTiles(cuSeqLens, tiling.queryTile);
    const outBuffer = createBuffer(this.ctx, `${label}: out`, numTokens * width * 4);
    return this.prepared(
      label,
      pipeline,
      [
        this.storage(`${label}: qkv`, qkv),
        createBufferWithData(this.ctx, `${label}: cu_seq_lens`, Uint32Array.from(cuSeqLens)),
        createBufferWithData(this.ctx, `${label}: tiles`, tiles),
        outBuffer,
        this.uniform(
          `${label}: params`,
          attentionParams({ rowStride: 3 * width, qOffset: 0, kOffset: width, vOffset: 2 * width, outStride: width }, headDim, window),
        ),
      ],
      [tiles.length / 2, numHeads, 1],
      outBuffer,
      numTokens * width,
      attentionFlops(cuSeqLens, numHeads, headDim, window),
    );
  }

  async attention(...args: Parameters<WebGpuOps['prepareAttention']>): Promise<Float32Array> {
    return this.runOnce(await this.prepareAttention(...args));
  }

  /**
   * Pooling fused with post-processing: per sequence keep dimensions[i] values (0 = all), then L2-normalize when
   * normalize[i]. Defaults: all dimensions, no normalization (plain pooling).
   */
  async preparePool(
    hidden: ArrayLike<number>,
    cuSeqLens: ArrayLike<number>,
    hiddenSize: number,
    mode: PoolingMode,
    opts: { dimensions?: ArrayLike<number>; normalize?: ArrayLike<number | boolean> } = {},
  ): Promise<PreparedOp> {
    if (hidden.length % hiddenSize !== 0) throw new RangeError(`hidden length ${hidden.length} is not a multiple of hiddenSize ${hiddenSize}`);
    const numSequences = cuSeqLens.length - 1;
    if (numSequences < 1 || cuSeqLens[0] !== 0 || cuSeqLens[numSequences] !== hidden.length / hiddenSize) {
      throw new RangeError(`cuSeqLens must run from 0 to ${hidden.length / hiddenSize}`);
    }
    for (let s = 0; s < numSequences; s++) {
      if (cuSeqLens[s + 1] <= cuSeqLens[s]) throw new RangeError(`sequence ${s} is empty: nothing to pool`);
    }
    const dimensions = opts.dimensions ?? new Uint32Array(numSequences);
    const normalize = opts.normalize ?? new Uint8Array(numSequences);
    expectLength('dimensions', dimensions, numSequences);
    expectLength('normalize', normalize, numSequences);
    for (let s = 0; s < numSequences; s++) {
      if (!Number.isInteger(dimensions[s]) || dimensions[s] < 0 || dimensions[s] > hiddenSize) {
        throw new RangeError(`dimensions[${s}] = ${dimensions[s]} is outside [0, ${hiddenSize}]`);
      }
    }
    const pipeline = await this.pipelines.get(poolingPipelineKey(hiddenSize, mode));
    const label = `pooling ${mode} ${numSequences} sequences x${hiddenSize}`;
    const outBuffer = createBuffer(this.ctx, `${label}: out`, numSequences * hiddenSize * 4);
    return this.prepared(
      label,
      pipeline,
      [
        this.storage(`${label}: hidden`, hidden),
        createBufferWithData(this.ctx, `${label}: cu_seq_lens`, Uint32Array.from(cuSeqLens)),
        createBufferWithData(this.ctx, `${label}: seq_options`, packSequenceOptions(dimensions, normalize)),
        outBuffer,
        this.uniform(`${label}: params`, poolingParams(numSequences)),
      ],
      poolingWorkgroups(numSequences, this.maxPerDimension),
      outBuffer,
      numSequences * hiddenSize,
      0,
    );
  }

  /** One row per sequence, dimensions[i] values long (hiddenSize when 0). */
  async pool(...args: Parameters<WebGpuOps['preparePool']>): Promise<Float32Array[]> {
    const [, cuSeqLens, hiddenSize, , opts] = args;
    const flat = await this.runOnce(await this.preparePool(...args));
    const rows: Float32Array[] = [];
    for (let s = 0; s + 1 < cuSeqLens.length; s++) {
      const kept = opts?.dimensions?.[s] || hiddenSize;
      rows.push(flat.slice(s * hiddenSize, s * hiddenSize + kept));
    }
    return rows;
  }

  async dispose(): Promise<void> {
    if (this.ownsContext) this.ctx.destroy();
  }
}
