// The native CPU backend ('cpu') for encoder families, and the base class of ./paged_backend.ts (decoders): the C++
// engine in native/ (one NativeEngine binding for every family), loaded through ./addon.ts with the graph a family's
// builder names (./graphs/). Weights go to native code once, as views of the checkpoint's bytes (packed there; the
// word embedding table is read in place), and each forward runs off the JS thread, so the event loop stays free while
// a batch computes. ./backend.ts picks the class for a model's architecture.
import { ModelLoadError } from '../../errors.js';
import type { LoadedModel } from '../../model/types.js';
import type { Backend, PooledRows, RaggedBatch } from '../backend.js';
import { checkEncoderBatch } from '../batch_checks.js';
import { loadAddon, type NativeEngine, type NativeTensorSpec, type Precision } from './addon.js';
import type { NativeGraphBuilder } from './graph_builder.js';
import { DEFAULT_RELEASE_WORKING_MEMORY_AFTER_SECONDS, IdleRelease } from './idle_release.js';

export interface NativeBackendOptions {
  /**
   * GEMM weights as float32, bfloat16 with float32 accumulation, or int8 (--quantization int8: per-channel int8
   * weights, per-token uint8 activations, int32 sums; everything else float32). Default float32.
   */
  readonly dtype?: Precision;
  /** Compute threads; 0 or absent = one per core. */
  readonly threads?: number;
  /** Seconds without a forward before the working buffers go back to the OS; 0 = keep them. Default 10. */
  readonly releaseWorkingMemoryAfterSeconds?: number;
}

export class NativeBackend implements Backend {
  readonly name = 'cpu' as const;
  // Forwards run one after another: the engine has one set of activation buffers and one thread pool, and
  // queueing here keeps libuv's threads free instead of blocked on the engine's lock.
  private tail: Promise<unknown> = Promise.resolve();
  private readonly idleRelease: IdleRelease;

  protected constructor(
    protected readonly model: LoadedModel,
    protected native: NativeEngine | null,
    options: NativeBackendOptions,
  ) {
    this.idleRelease = new IdleRelease(options.releaseWorkingMemoryAfterSeconds ?? DEFAULT_RELEASE_WORKING_MEMORY_AFTER_SECONDS, () => {
      void this.releaseWorkingMemory();
    });
  }

  /**
   * Loads a checkpoint's weights into the native engine of `graph` (the family's builder, ./graphs/). Throws
   * ModelLoadError for bad options or weights. createNativeBackend (./backend.ts) sends families with a KV cache to
   * NativePagedBackend instead.
   */
  static async create(model: LoadedModel, options: NativeBackendOptions, graph: NativeGraphBuilder): Promise<NativeBackend> {
    return new NativeBackend(model, await NativeBackend.loadEngine(model, options, graph), options);
  }

  /**
   * Checks the options, then hands the checkpoint's tensors (as views, minus the ones no graph reads: I64 buffers such
   * as embeddings.position_ids, whose positions come with each batch, and lm_head.weight, which embeddings never use)
   * to the engine `graph` names. Throws ModelLoadError.
   */
  protected static async loadEngine(model: LoadedModel, options: NativeBackendOptions, graph: NativeGraphBuilder): Promise<NativeEngine> {
    if (model.config.architecture !== graph.spec.name) {
      throw new ModelLoadError(`the cpu backend's ${graph.spec.displayName} graph cannot run '${model.config.architecture}' (model ${model.id})`);
    }
    const dtype = options.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'bfloat16' && dtype !== 'int8') {
      throw new ModelLoadError(`the cpu backend packs its weights as float32, bfloat16 or int8, not ${String(dtype)}`);
    }
    const threads = options.threads ?? 0;
    if (!Number.isInteger(threads) || threads < 0) throw new ModelLoadError(`threads must be a non-negative integer, got ${threads}`);
    const tensors: NativeTensorSpec[] = [];
    for (const [name, view] of model.weights) {
      if (view.dtype === 'I64' || name === 'lm_head.weight') continue;
      tensors.push({ name, dtype: view.dtype, shape: view.shape, bytes: view.bytes });
    }
    try {
      return await loadAddon().loadEngine({ ...graph.engineChoice(model.config), dtype, threads, tensors });
    } catch (error) {
      throw new ModelLoadError(`cpu backend: cannot load ${model.id}: ${(error as Error).message}`);
    }
  }

  get dtype(): Precision {
    return this.native?.dtype ?? 'float32';
  }

  get threads(): number {
    return this.native?.threads ?? 0;
  }

  /** Bytes the engine allocated (packed weights, tables); reported to V8 as external memory too. */
  get nativeBytes(): number {
    return this.native?.nativeBytes ?? 0;
  }

  /** The engine's per-batch working buffers now (activations, scratch), as reported to V8 and /metrics. */
  get workingBufferBytes(): number {
    return this.native?.workingBytes ?? 0;
  }

  forward(batch: RaggedBatch): Promise<PooledRows> {
    this.idleRelease.forwardQueued();
    const run = this.tail.then(() => this.forwardNow(batch));
    this.tail = run.catch(() => undefined).finally(() => this.idleRelease.forwardSettled());
    return run;
  }

  /**
   * Returns the working buffers to the OS, queued behind running forwards (the next forward maps them again); runs by
   * itself after releaseWorkingMemoryAfterSeconds idle. Resolves to the bytes released.
   */
  releaseWorkingMemory(): Promise<number> {
    const run = this.tail.then(() => this.native?.releaseWorkingMemory() ?? 0);
    this.tail = run.catch(() => undefined);
    return run;
  }

  protected async forwardNow(batch: RaggedBatch): Promise<PooledRows> {
    const native = this.native;
    if (native === null) throw new Error('cpu backend: forward after dispose()');
    const { hiddenSize } = this.model.config;
    const numSequences = checkEncoderBatch(batch, this.model.config);
    const flat = await native.forward({
      tokenIds: batch.tokenIds,
      positions: batch.positions,
      tokenTypeIds: batch.tokenTypeIds,
      cuSeqLens: batch.cuSeqLens,
      pooling: batch.pooling,
      dimensions: batch.dimensions,
      normalize: batch.normalize,
    });
    const rows: Float32Array[] = [];
    let offset = 0;
    for (let i = 0; i < numSequences; i++) {
      const size = batch.dimensions[i] === 0 ? hiddenSize : batch.dimensions[i];
      rows.push(flat.subarray(offset, offset + size));
      offset += size;
    }
    return rows;
  }

  async dispose(): Promise<void> {
    this.idleRelease.cancel();
    const native = this.native;
    this.native = null;
    await this.tail;
    native?.dispose();
  }
}
