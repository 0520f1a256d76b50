// The contract between the engine (scheduler) and every backend (reference, native, webgpu).
import type { LoadedModel, PoolingMode } from '../model/types.js';
import type { RaggedBatch } from './batch_types.js';
import type { HeadName } from '../model/architectures/spec.js';

// The ragged batch lives in a type file of its own so the model layer's float64 reference forwards can take it too.
export type { RaggedBatch } from './batch_types.js';

/**
 * One pooled row per sequence, in batch order; row i has dimensions[i] values (or hidden size). When the batch has
 * `isLastChunk`, only sequences with isLastChunk[i] = 1 have a row: the rows are theirs, in batch order.
 */
export type PooledRows = Float32Array[];

export type BackendName = 'reference' | 'cpu' | 'webgpu';

/** Weight precision; accumulation and reductions are fp32 (or fp64 in the reference) everywhere. */
export type ComputeDType = 'float32' | 'bfloat16' | 'float16';

/**
 * Weight quantization, named as vLLM's --quantization names a method (the dtype stays what activations, attention,
 * norms and pooling compute in). 'int8': every GEMM's weights int8 per output channel (symmetric, at load), its
 * activations uint8 per token (dynamic), integer dot products; everything else float32.
 */
export type Quantization = 'int8';

/** What a caller asks of a backend before building it (src/backends/select.ts asks every backend the same way). */
export interface BackendSupportQuery {
  /** An ArchitectureSpec name (src/model/architectures/registry.ts). */
  readonly architecture: string;
  readonly dtype: ComputeDType;
  /** Weight quantization; absent or null = none. */
  readonly quantization?: Quantization | null;
  /** Whether the model must run with a paged KV cache (prefix caching, chunked prefill). */
  readonly pagedKv: boolean;
  /** Task heads on top of the pooled rows ('classify': a sequence-classification head). */
  readonly heads: readonly HeadName[];
}

/**
 * What a backend can run, answered without building anything (no addon loaded, no GPU opened): each backend folder
 * exports one as `capabilities`. supports() returns true, or the reason it can't, phrased for a ModelLoadError.
 */
export interface BackendCapabilities {
  readonly name: BackendName;
  supports(query: BackendSupportQuery): true | string;
}

export interface Backend {
  readonly name: BackendName;
  /** Run the encoder and the pooling over a ragged batch. */
  forward(batch: RaggedBatch): Promise<PooledRows>;
  dispose(): Promise<void>;
}

/** Geometry of a paged KV cache: numBlocks blocks (block 0 reserved, never written) of blockSize token slots. */
export interface KvCacheSpec {
  readonly numBlocks: number;
  readonly blockSize: number;
}

/**
 * A backend that runs a decoder with K/V read and written through block tables (batches with blockTables,
 * numCachedTokens and isLastChunk). The engine sizes the cache from --kv-cache-memory / kvBytesPerToken and calls
 * initKvCache once, before the first such batch. Backends without it still run decoders one-shot (whole sequences,
 * causal attention, no KV kept between steps), which gets neither prefix caching nor chunked prefill.
 */
export interface PagedKvBackend extends Backend {
  /** Bytes one token's K and V take over all layers, in the dtype this backend stores them. */
  readonly kvBytesPerToken: number;
  /** Allocates the KV store (discarding any previous contents). */
  initKvCache(spec: KvCacheSpec): void;
  /**
   * The most token slots this device can hold, when it has a hard limit below any sensible --kv-cache-memory (WebGPU
   * binds one buffer per layer for K and for V: lavapipe's 128 MiB binding limit caps it). The default cache size is
   * clamped to it; an explicit --kv-cache-memory above it is still refused, naming the flag.
   */
  readonly maxKvCacheTokens?: number;
}

export function supportsPagedKv(backend: Backend): backend is PagedKvBackend {
  const candidate = backend as Partial<PagedKvBackend>;
  return typeof candidate.initKvCache === 'function' && typeof candidate.kvBytesPerToken === 'number';
}

/** Builds a backend for a loaded model; throws ModelLoadError when the architecture/dtype is unsupported. */
export type BackendFactory = (model: LoadedModel) => Promise<Backend>;

/** Builds a RaggedBatch from per-sequence token ids (positions from 0, token types 0). */
export function buildRaggedBatch(
  sequences: readonly (readonly number[] | Int32Array)[],
  opts: { pooling: PoolingMode; dimensions?: readonly number[]; normalize?: readonly boolean[]; positionOffset?: number },
): RaggedBatch {
  const n = sequences.length;
  const cuSeqLens = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) cuSeqLens[i + 1] = cuSeqLens[i] + sequences[i].length;
  const total = cuSeqLens[n];
  const tokenIds = new Int32Array(total);
  const positions = new Int32Array(total);
  const offset = opts.positionOffset ?? 0;
  for (let i = 0; i < n; i++) {
    const seq = sequences[i];
    const start = cuSeqLens[i];
    for (let t = 0; t < seq.length; t++) {
      tokenIds[start + t] = seq[t];
      positions[start + t] = offset + t;
    }
  }
  const dimensions = new Int32Array(n);
  const normalize = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    dimensions[i] = opts.dimensions?.[i] ?? 0;
    normalize[i] = opts.normalize?.[i] ? 1 : 0;
  }
  return { tokenIds, positions, tokenTypeIds: new Int32Array(total), cuSeqLens, pooling: opts.pooling, dimensions, normalize };
}
