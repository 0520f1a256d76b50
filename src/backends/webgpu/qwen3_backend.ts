// The WebGPU backend for Qwen3 decoders (Qwen3-Embedding), a PagedKvBackend: K/V live in one GPU buffer pair per layer
// sized at initKvCache, written and read through the batch's block tables (chunked prefill, prefix caching). One-shot
// batches (no decoder fields: whole sequences, any pooling) run the same kernels with attention over the chunk's own
// K/V and touch no cache. A forward is one command encoder and one readback of the pooled rows.
//
// Per layer, T tokens (Qwen3DecoderLayer in transformers' modeling_qwen3.py), hidden state in `hidden`:
//   rms_norm         hidden -> normed                                   input_layernorm
//   gemm x3          normed -> q [T, nH*d], k, v [T, nKV*d]              q_proj / k_proj / v_proj (no bias)
//   rms_norm x2      q -> qNormed, k -> kNormed over rows of d          q_norm / k_norm, per head, before RoPE
//   rope x2          qNormed, kNormed in place at the batch's positions
//   kv_write         kNormed, v -> this layer's K/V cache slots          (paged batches only)
//   paged_attention  qNormed, cache (or kNormed / v) -> context           causal GQA, online softmax
//   gemm (residual)  context, hidden -> residual                         o_proj + residual
//   rms_norm         residual -> normed                                  post_attention_layernorm
//   gemm             normed -> gateUp [T, 2I]                            gate_proj | up_proj
//   gated_activation gateUp -> act [T, I] (SwiGLU: silu(gate) * up)
//   gemm (residual)  act, residual -> hidden                             down_proj + residual
// then rms_norm (norm) -> normed, pooling (+ dimensions + L2 normalize) -> pooled rows.
/// <reference types="@webgpu/types" />
import { ModelLoadError } from '../../errors.js';
import { QWEN3 } from '../../model/architectures/qwen3/spec.js';
import { isConfigOf } from '../../model/architectures/registry.js';
import type { LoadedModel, Qwen3Config } from '../../model/types.js';
import type { KvCacheSpec, PagedKvBackend, PooledRows, RaggedBatch } from '../backend.js';
import { checkDecoderBatch } from '../batch_checks.js';
import { embeddingRow } from '../../model/architectures/qwen3/weights.js';
import { WebGpuContext, type WebGpuDeviceOptions } from './device.js';
import { WebGpuError } from './errors.js';
import { BufferUsage, MapMode } from './gpu_constants.js';
import { createBuffer, grid2d, UNIFORM_USAGE, writeBytes } from './gpu_buffers.js';
import type { PipelineKey } from './kernel_spec.js';
import { type CachedPipeline, PipelineCache } from './pipeline_cache.js';
import type { WeightType } from './shader_source.js';
import { DEFAULT_GEMM_TILING, gemmParams, gemmPipelineKey, gemmWorkgroups } from './kernels/gemm.js';
import {
  kvWriteParams,
  kvWritePipelineKey,
  kvWriteWorkgroups,
  packBatchMeta,
  PAGED_ATTENTION_MAX_HEAD_DIM,
  pagedAttentionParams,
  pagedAttentionPipelineKey,
  pagedAttentionWorkgroups,
} from './kernels/paged_attention.js';
import { packSequenceOptions, poolingParams, poolingPipelineKey } from './kernels/pooling.js';
import { rmsNormParams, rmsNormPipelineKey, rmsNormWorkgroups } from './kernels/rms_norm.js';
import { ropeInverseFrequencies32, ropeParams, ropePipelineKey, ropeWorkgroups } from './kernels/rope.js';
import { gatedActivationParams, gatedActivationPipelineKey, gatedActivationWorkgroups } from './kernels/gated_activation.js';
import { destroyQwen3Weights, type Qwen3GpuWeights, uploadQwen3Weights } from './qwen3_weights.js';

export interface WebGpuQwen3Options extends WebGpuDeviceOptions {
  /** 'f32' (default), 'f16' (needs shader-f16; f32 math) or 'auto'. Norm weights and K/V are always f32. */
  readonly weightType?: WeightType | 'auto';
  /** Token capacity of the activation buffers (default 8192, capped by the storage binding size); larger batches run as slices. */
  readonly maxBatchTokens?: number;
}

const DEFAULT_MAX_BATCH_TOKENS = 8192;
/** K and V are stored as f32. */
const KV_BYTES_PER_VALUE = 4;

interface KvCache {
  readonly numBlocks: number;
  readonly blockSize: number;
  readonly keys: readonly GPUBuffer[]; // per layer [numBlocks * blockSize, nKV * d]
  readonly values: readonly GPUBuffer[];
}

/** A slice of a batch that fits the activation buffers (a paged chunk may be cut into several). */
interface Slice {
  readonly tokenIds: Int32Array;
  readonly positions: Int32Array;
  readonly cuSeqLens: Int32Array;
  readonly dimensions: Int32Array;
  readonly normalize: Uint8Array;
  readonly blockTables?: readonly Int32Array[];
  readonly numCachedTokens?: Int32Array;
  /** Per sequence of the slice: whether its pooled row is returned. */
  readonly emitRow: Uint8Array;
}

type Activations = Record<
  | 'hidden'
  | 'residual'
  | 'normed'
  | 'q'
  | 'qNormed'
  | 'k'
  | 'kNormed'
  | 'v'
  | 'context'
  | 'gateUp'
  | 'act'
  | 'pooled'
  | 'positions'
  | 'cuSeqLens'
  | 'seqOptions',
  GPUBuffer
>;

export class WebGpuQwen3Backend implements PagedKvBackend {
  readonly name = 'webgpu' as const;
  readonly kvBytesPerToken: number;
  private kv: KvCache | null = null;
  private disposed = false;
  private tail: Promise<unknown> = Promise.resolve();
  private meta: GPUBuffer | null = null;
  private metaBytes = 0;

  private constructor(
    readonly model: LoadedModel,
    readonly config: Qwen3Config,
    private readonly ctx: WebGpuContext,
    private readonly pipelines: PipelineCache,
    private readonly weights: Qwen3GpuWeights,
    private readonly act: Activations,
    private readonly staging: GPUBuffer,
    private readonly invFreq: GPUBuffer,
    readonly capacityTokens: number,
  ) {
    this.kvBytesPerToken = QWEN3.kvBytesPerToken!(config, 'float32'); // KV_BYTES_PER_VALUE: f32
  }

  static async create(model: LoadedModel, opts: WebGpuQwen3Options = {}): Promise<WebGpuQwen3Backend> {
    const { config } = model;
    if (!isConfigOf(config, QWEN3)) throw new ModelLoadError(`WebGpuQwen3Backend runs Qwen3 decoders only, not '${config.architecture}' (model ${model.id})`);
    const { hiddenSize: H, intermediateSize: I, numHeads: nH, numKeyValueHeads: nKV, headDim: d } = config;
    if (d > PAGED_ATTENTION_MAX_HEAD_DIM)
      throw new ModelLoadError(`the webgpu paged attention kernel supports head sizes up to ${PAGED_ATTENTION_MAX_HEAD_DIM}, this model has ${d}`);
    if (d % 2 !== 0) throw new ModelLoadError(`head_dim ${d} is odd: rotate-half RoPE needs an even head size`);
    if (nH % nKV !== 0) throw new ModelLoadError(`num_attention_heads ${nH} is not a multiple of num_key_value_heads ${nKV}`);
    const ctx = await WebGpuContext.open(opts);
    try {
      const requested = opts.weightType ?? 'f32';
      const weightType: WeightType = requested === 'auto' ? (ctx.features.shaderF16 ? 'f16' : 'f32') : requested;
      if (weightType === 'f16' && !ctx.features.shaderF16) {
        throw new ModelLoadError(`f16 weights need the shader-f16 feature, which ${ctx.adapterName} lacks (use weightType 'f32' or 'auto')`);
      }
      const widest = Math.max(2 * I, nH * d, H);
      const tokensPerBinding = Math.floor(ctx.limit('maxStorageBufferBindingSize') / (4 * widest));
      const requestedTokens = opts.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS;
      if (!Number.isInteger(requestedTokens) || requestedTokens <= 0)
        throw new ModelLoadError(`maxBatchTokens must be a positive integer, got ${requestedTokens}`);
      const capacityTokens = Math.min(requestedTokens, tokensPerBinding);
      const pipelines = new PipelineCache(ctx);
      const weights = await ctx.checked('weight upload', () => uploadQwen3Weights(ctx, config, model.weights, weightType));
      const T = capacityTokens;
      const buffer = (label: string, floats: number): GPUBuffer => createBuffer(ctx, `qwen3 ${label}`, floats * 4);
      const act: Activations = await ctx.checked('activation buffers', () => ({
        hidden: buffer('hidden', T * H),
        residual: buffer('residual', T * H),
        normed: buffer('normed', T * H),
        q: buffer('q', T * nH * d),
        qNormed: buffer('q normed', T * nH * d),
        k: buffer('k', T * nKV * d),
        kNormed: buffer('k normed', T * nKV * d),
        v: buffer('v', T * nKV * d),
        context: buffer('context', T * nH * d),
        gateUp: buffer('gate_up', T * 2 * I),
        act: buffer('act', T * I),
        pooled: buffer('pooled', T * H),
        positions: buffer('positions', T),
        cuSeqLens: buffer('cu_seq_lens', T + 1),
        seqOptions: buffer('sequence options', 2 * T),
      }));
      const staging = ctx.device.createBuffer({ label: 'qwen3 pooled staging', size: T * H * 4, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
      const invFreq = createBuffer(ctx, 'rope: inv_freq', (d / 2) * 4);
      writeBytes(ctx, invFreq, 0, ropeInverseFrequencies32(d, config.ropeTheta));
      // Compile up front, so the first request pays no compilation.
      await ctx.checked('pipeline creation', () =>
        Promise.all(
          [
            rmsNormPipelineKey(H),
            rmsNormPipelineKey(d),
            ropePipelineKey(d),
            gemmPipelineKey(weightType, { kind: 'bias' }, false),
            gemmPipelineKey(weightType, { kind: 'residual' }, false),
            gatedActivationPipelineKey('silu', 'first'),
            kvWritePipelineKey(),
            pagedAttentionPipelineKey(d),
            poolingPipelineKey(H, 'last'),
          ].map((key) => pipelines.get(key)),
        ),
      );
      return new WebGpuQwen3Backend(model, config, ctx, pipelines, weights, act, staging, invFreq, capacityTokens);
    } catch (error) {
      ctx.destroy();
      if (error instanceof ModelLoadError) throw error;
      throw new ModelLoadError(`webgpu backend for ${model.id}: ${(error as Error).message}`);
    }
  }

  get adapterName(): string {
    return this.ctx.adapterName;
  }

  /**
   * One K and one V buffer per layer of numBlocks * blockSize slots. A layer's buffer must fit one storage binding
   * (128 MiB on lavapipe): a larger cache is refused, naming --kv-cache-memory, rather than split across bindings.
   */
  /** Token slots of the largest K (or V) buffer of one layer that this device binds. */
  get maxKvCacheTokens(): number {
    const maxBinding = Math.min(this.ctx.limit('maxStorageBufferBindingSize'), this.ctx.limit('maxBufferSize'));
    const { numKeyValueHeads, headDim } = this.config;
    return Math.floor(maxBinding / (numKeyValueHeads * headDim * KV_BYTES_PER_VALUE));
  }

  initKvCache(spec: KvCacheSpec): void {
    if (this.disposed) throw new WebGpuError('webgpu backend: initKvCache after dispose()');
    const { numBlocks, blockSize } = spec;
    if (!Number.isInteger(numBlocks) || numBlocks < 2) throw new RangeError(`KV cache needs at least 2 blocks (block 0 is reserved), got ${numBlocks}`);
    if (!Number.isInteger(blockSize) || blockSize <= 0) throw new RangeError(`KV cache block size must be a positive integer, got ${blockSize}`);
    const { numLayers, numKeyValueHeads, headDim } = this.config;
    const bytesPerLayer = numBlocks * blockSize * numKeyValueHeads * headDim * KV_BYTES_PER_VALUE;
    const maxBinding = Math.min(this.ctx.limit('maxStorageBufferBindingSize'), this.ctx.limit('maxBufferSize'));
    if (bytesPerLayer > maxBinding) {
      const maxTotal = this.maxKvCacheTokens * this.kvBytesPerToken;
      throw new RangeError(
        `webgpu KV cache: ${numBlocks} blocks of ${blockSize} tokens need ${bytesPerLayer} bytes of K (and as many of V) per layer, more than the ` +
          `${maxBinding} bytes ${this.ctx.adapterName} binds per buffer; lower --kv-cache-memory to at most ${maxTotal} bytes`,
      );
    }
    this.releaseKv();
    const keys: GPUBuffer[] = [];
    const values: GPUBuffer[] = [];
    for (let layer = 0; layer < numLayers; layer++) {
      keys.push(createBuffer(this.ctx, `kv_write/paged_attention: layers.${layer} K cache`, bytesPerLayer));
      values.push(createBuffer(this.ctx, `kv_write/paged_attention: layers.${layer} V cache`, bytesPerLayer));
    }
    this.kv = { numBlocks, blockSize, keys, values };
  }

  private releaseKv(): void {
    if (this.kv === null) return;
    for (const buffer of [...this.kv.keys, ...this.kv.values]) buffer.destroy();
    this.kv = null;
  }

  forward(batch: RaggedBatch): Promise<PooledRows> {
    if (this.disposed) return Promise.reject(new WebGpuError('webgpu backend: forward after dispose()'));
    try {
      checkDecoderBatch(batch, this.config, this.kv);
      const paged = batch.blockTables !== undefined;
      if (paged && batch.pooling !== 'last') throw new RangeError(`paged decoder batches pool 'last' only, not '${batch.pooling}'`);
      if (!paged) {
        for (let s = 0; s + 1 < batch.cuSeqLens.length; s++) {
          const length = batch.cuSeqLens[s + 1] - batch.cuSeqLens[s];
          if (length > this.capacityTokens) {
            throw new RangeError(
              `a one-shot sequence of ${length} tokens exceeds the webgpu activation capacity (${this.capacityTokens}); use paged (chunked) batches`,
            );
          }
        }
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const result = this.tail.then(() => this.forwardNow(batch));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async forwardNow(batch: RaggedBatch): Promise<PooledRows> {
    const rows: PooledRows = [];
    for (const slice of this.slices(batch)) rows.push(...(await this.runSlice(slice, batch.pooling)));
    return rows;
  }

  /**
   * Cuts the batch into slices of at most capacityTokens tokens. One-shot sequences stay whole; a paged chunk may be
   * cut anywhere, each piece continuing from the cached tokens of the previous one (its K/V are written first).
   */
  private slices(batch: RaggedBatch): Slice[] {
    const numSequences = batch.cuSeqLens.length - 1;
    const paged = batch.blockTables !== undefined;
    const capacity = this.capacityTokens;
    if (batch.tokenIds.length <= capacity) {
      const emitRow = paged ? Uint8Array.from(batch.isLastChunk!) : new Uint8Array(numSequences).fill(1);
      return [{ ...batch, emitRow }];
    }
    type Piece = { seq: number; from: number; to: number };
    const groups: Piece[][] = [[]];
    let used = 0;
    for (let s = 0; s < numSequences; s++) {
      let from = batch.cuSeqLens[s];
      const end = batch.cuSeqLens[s + 1];
      while (from < end) {
        if (!paged && used + (end - from) > capacity && used > 0) {
          groups.push([]);
          used = 0;
        }
        const take = paged ? Math.min(end - from, capacity - used) : end - from;
        groups[groups.length - 1].push({ seq: s, from, to: from + take });
        used += take;
        from += take;
        if (used >= capacity && (from < end || s + 1 < numSequences)) {
          groups.push([]);
          used = 0;
        }
      }
    }
    return groups
      .filter((pieces) => pieces.length > 0)
      .map((pieces) => {
        const cuSeqLens = new Int32Array(pieces.length + 1);
        pieces.forEach((piece, i) => (cuSeqLens[i + 1] = cuSeqLens[i] + piece.to - piece.from));
        const tokenIds = new Int32Array(cuSeqLens[pieces.length]);
        const positions = new Int32Array(cuSeqLens[pieces.length]);
        pieces.forEach((piece, i) => {
          tokenIds.set(batch.tokenIds.subarray(piece.from, piece.to), cuSeqLens[i]);
          positions.set(batch.positions.subarray(piece.from, piece.to), cuSeqLens[i]);
        });
        const pick = <T extends Int32Array | Uint8Array>(values: T): T =>
          values.constructor === Int32Array ? (Int32Array.from(pieces, (p) => values[p.seq]) as T) : (Uint8Array.from(pieces, (p) => values[p.seq]) as T);
        return {
          tokenIds,
          positions,
          cuSeqLens,
          dimensions: pick(batch.dimensions),
          normalize: pick(batch.normalize),
          blockTables: paged ? pieces.map((p) => batch.blockTables![p.seq]) : undefined,
          numCachedTokens: paged ? Int32Array.from(pieces, (p) => batch.numCachedTokens![p.seq] + (p.from - batch.cuSeqLens[p.seq])) : undefined,
          emitRow: Uint8Array.from(pieces, (p) => (p.to === batch.cuSeqLens[p.seq + 1] && (!paged || batch.isLastChunk![p.seq] === 1) ? 1 : 0)),
        };
      });
  }

  private metaBuffer(byteLength: number): GPUBuffer {
    if (this.meta === null || this.metaBytes < byteLength) {
      this.meta?.destroy();
      this.metaBytes = Math.max(byteLength, 2 * this.metaBytes, 4096);
      this.meta = createBuffer(this.ctx, 'kv_write/paged_attention: batch_meta', this.metaBytes);
    }
    return this.meta;
  }

  private async runSlice(slice: Slice, pooling: RaggedBatch['pooling']): Promise<PooledRows> {
    const { ctx, config, act, weights } = this;
    const { hiddenSize: H, intermediateSize: I, numHeads: nH, numKeyValueHeads: nKV, headDim: d, rmsNormEps: eps } = config;
    const numTokens = slice.tokenIds.length;
    const numSequences = slice.cuSeqLens.length - 1;
    const paged = slice.blockTables !== undefined;
    const kv = this.kv;
    if (paged && kv === null) throw new RangeError('webgpu backend: paged batch before initKvCache');
    const maxPerDimension = ctx.limit('maxComputeWorkgroupsPerDimension');
    const write = (buffer: GPUBuffer, data: ArrayBufferView): void => writeBytes(ctx, buffer, 0, data);

    const hiddenRows = new Float32Array(numTokens * H);
    for (let t = 0; t < numTokens; t++) hiddenRows.set(embeddingRow(weights.embedTokens, slice.tokenIds[t]), t * H);
    const meta = packBatchMeta(slice.cuSeqLens, slice.numCachedTokens, slice.blockTables);
    const metaBuffer = this.metaBuffer(meta.data.byteLength);

    return ctx.checked('qwen3 forward', async () => {
      const uniforms: GPUBuffer[] = [];
      const uniform = (label: string, block: ArrayBuffer): GPUBuffer => {
        const buffer = createBuffer(ctx, `qwen3 ${label} params`, block.byteLength, UNIFORM_USAGE);
        writeBytes(ctx, buffer, 0, new Uint8Array(block));
        uniforms.push(buffer);
        return buffer;
      };
      try {
        write(act.hidden, hiddenRows);
        write(act.positions, Uint32Array.from(slice.positions));
        write(act.cuSeqLens, Uint32Array.from(slice.cuSeqLens));
        write(act.seqOptions, packSequenceOptions(slice.dimensions, slice.normalize));
        write(metaBuffer, meta.data);
        const u = {
          rmsHidden: uniform('rms_norm hidden', rmsNormParams(numTokens, eps)),
          rmsQ: uniform('rms_norm q', rmsNormParams(numTokens * nH, eps)),
          rmsK: uniform('rms_norm k', rmsNormParams(numTokens * nKV, eps)),
          ropeQ: uniform('rope q', ropeParams(numTokens, nH, d)),
          ropeK: uniform('rope k', ropeParams(numTokens, nKV, d)),
          qProj: uniform('q_proj', gemmParams(numTokens, nH * d, H)),
          kvProj: uniform('k_proj/v_proj', gemmParams(numTokens, nKV * d, H)),
          oProj: uniform('o_proj', gemmParams(numTokens, H, nH * d)),
          gateUp: uniform('gate_up', gemmParams(numTokens, 2 * I, H)),
          down: uniform('down_proj', gemmParams(numTokens, H, I)),
          swiglu: uniform('swiglu', gatedActivationParams(numTokens, I)),
          kvWrite: uniform('kv_write', kvWriteParams(numTokens, nKV * d, meta.seqOffset, kv?.blockSize ?? 1)),
          attention: uniform(
            'paged_attention',
            pagedAttentionParams({ numTokens, numHeads: nH, numKvHeads: nKV, headDim: d, seqOffset: meta.seqOffset, blockSize: kv?.blockSize ?? 0, paged }),
          ),
          pooling: uniform('pooling', poolingParams(numSequences)),
        };
        const get = (key: PipelineKey): Promise<CachedPipeline> => this.pipelines.get(key);
        const [rmsHidden, rmsHead, rope, gemm, gemmResidual, swiglu, kvWrite, attention, pool] = await Promise.all([
          get(rmsNormPipelineKey(H)),
          get(rmsNormPipelineKey(d)),
          get(ropePipelineKey(d)),
          get(gemmPipelineKey(weights.weightType, { kind: 'bias' }, false, DEFAULT_GEMM_TILING)),
          get(gemmPipelineKey(weights.weightType, { kind: 'residual' }, false, DEFAULT_GEMM_TILING)),
          get(gatedActivationPipelineKey('silu', 'first')),
          get(kvWritePipelineKey()),
          get(pagedAttentionPipelineKey(d)),
          get(poolingPipelineKey(H, pooling)),
        ]);
        const encoder = ctx.device.createCommandEncoder({ label: 'qwen3 forward' });
        const pass = encoder.beginComputePass({ label: 'qwen3 forward' });
        const dispatch = (label: string, pipeline: CachedPipeline, buffers: GPUBuffer[], workgroups: [number, number, number]): void => {
          pass.setPipeline(pipeline.pipeline);
          pass.setBindGroup(
            0,
            ctx.device.createBindGroup({ label, layout: pipeline.layout, entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) }),
          );
          pass.dispatchWorkgroups(...workgroups);
        };
        const rowsOf = (rows: number): [number, number, number] => rmsNormWorkgroups(rows, maxPerDimension);
        // GEMMs without bias: the bias slot (unused, HAS_BIAS = false) and, without residual, the residual slot take x.
        weights.layers.forEach((layer, i) => {
          const p = `layers.${i}`;
          dispatch(`${p} input_layernorm`, rmsHidden, [act.hidden, layer.inputLayernorm, act.normed, u.rmsHidden], rowsOf(numTokens));
          dispatch(`${p} q_proj`, gemm, [act.normed, layer.qProj, act.normed, act.normed, act.q, u.qProj], gemmWorkgroups(numTokens, nH * d));
          dispatch(`${p} k_proj`, gemm, [act.normed, layer.kProj, act.normed, act.normed, act.k, u.kvProj], gemmWorkgroups(numTokens, nKV * d));
          dispatch(`${p} v_proj`, gemm, [act.normed, layer.vProj, act.normed, act.normed, act.v, u.kvProj], gemmWorkgroups(numTokens, nKV * d));
          dispatch(`${p} q_norm`, rmsHead, [act.q, layer.qNorm, act.qNormed, u.rmsQ], rowsOf(numTokens * nH));
          dispatch(`${p} k_norm`, rmsHead, [act.k, layer.kNorm, act.kNormed, u.rmsK], rowsOf(numTokens * nKV));
          dispatch(`${p} rope q`, rope, [act.qNormed, act.positions, this.invFreq, u.ropeQ], ropeWorkgroups(numTokens, nH, d, maxPerDimension));
          dispatch(`${p} rope k`, rope, [act.kNormed, act.positions, this.invFreq, u.ropeK], ropeWorkgroups(numTokens, nKV, d, maxPerDimension));
          let keys = act.kNormed;
          let values = act.v;
          if (paged) {
            keys = kv!.keys[i];
            values = kv!.values[i];
            dispatch(
              `${p} kv_write`,
              kvWrite,
              [act.kNormed, act.v, metaBuffer, keys, values, u.kvWrite],
              kvWriteWorkgroups(numTokens, nKV * d, maxPerDimension),
            );
          }
          dispatch(
            `${p} paged_attention`,
            attention,
            [act.qNormed, keys, values, metaBuffer, act.context, u.attention],
            pagedAttentionWorkgroups(numTokens, nH, maxPerDimension),
          );
          dispatch(`${p} o_proj`, gemmResidual, [act.context, layer.oProj, act.context, act.hidden, act.residual, u.oProj], gemmWorkgroups(numTokens, H));
          dispatch(`${p} post_attention_layernorm`, rmsHidden, [act.residual, layer.postAttentionLayernorm, act.normed, u.rmsHidden], rowsOf(numTokens));
          dispatch(`${p} gate_up_proj`, gemm, [act.normed, layer.gateUpProj, act.normed, act.normed, act.gateUp, u.gateUp], gemmWorkgroups(numTokens, 2 * I));
          dispatch(`${p} swiglu`, swiglu, [act.gateUp, act.act, u.swiglu], gatedActivationWorkgroups(numTokens, I, maxPerDimension));
          dispatch(`${p} down_proj`, gemmResidual, [act.act, layer.downProj, act.act, act.residual, act.hidden, u.down], gemmWorkgroups(numTokens, H));
        });
        dispatch('norm', rmsHidden, [act.hidden, weights.norm, act.normed, u.rmsHidden], rowsOf(numTokens));
        dispatch('pooling', pool, [act.normed, act.cuSeqLens, act.seqOptions, act.pooled, u.pooling], grid2d(numSequences, maxPerDimension));
        pass.end();
        const pooledBytes = numSequences * H * 4;
        encoder.copyBufferToBuffer(act.pooled, 0, this.staging, 0, pooledBytes);
        ctx.device.queue.submit([encoder.finish()]);
        await ctx.settle(this.staging.mapAsync(MapMode.READ, 0, pooledBytes), 'qwen3 forward readback');
        let pooled: Float32Array;
        try {
          pooled = new Float32Array(this.staging.getMappedRange(0, pooledBytes).slice(0));
        } finally {
          this.staging.unmap();
        }
        const rows: PooledRows = [];
        for (let s = 0; s < numSequences; s++) {
          if (slice.emitRow[s] === 0) continue;
          rows.push(pooled.slice(s * H, s * H + (slice.dimensions[s] || H)));
        }
        return rows;
      } finally {
        for (const buffer of uniforms) buffer.destroy();
      }
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.tail;
    destroyQwen3Weights(this.weights);
    for (const buffer of Object.values(this.act)) buffer.destroy();
    this.staging.destroy();
    this.invFreq.destroy();
    this.meta?.destroy();
    this.releaseKv();
    this.ctx.destroy();
  }
}
