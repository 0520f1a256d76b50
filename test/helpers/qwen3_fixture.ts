// Shrunk Qwen3-Embedding checkpoints for tests (real layout and tokenizer, random weights), and a backend wrapper
// that records the batches a scheduler sends while the real reference backend computes them.
import { buildRaggedBatch, type KvCacheSpec, type PagedKvBackend, type PooledRows, type RaggedBatch } from '../../src/backends/backend.js';
import type { PagedReferenceBackend } from '../../src/backends/reference/backend.js';
import { loadModel, type LoadedModelWithOrigin } from '../../src/model/load.js';
import type { SyntheticFloatDType } from '../../src/model/synthetic_checkpoint.js';
import { fixtureModel, type FixtureOptions } from '../fixtures/generate.js';

/** 2 layers, hidden 64, 4 query heads / 2 kv heads of 16, intermediate 128 (the real 151669-token vocabulary). */
export const QWEN3_TINY_SHRINK = { numLayers: 2, hiddenSize: 64, numHeads: 4, numKeyValueHeads: 2, headDim: 16, intermediateSize: 128 } as const;

export async function qwen3FixtureDir(dtype: SyntheticFloatDType = 'BF16', extra: Omit<FixtureOptions, 'shrink' | 'dtype'> = {}): Promise<string> {
  return fixtureModel('qwen3-embedding', { shrink: QWEN3_TINY_SHRINK, dtype, ...extra });
}

export async function loadQwen3Fixture(
  dtype: SyntheticFloatDType = 'BF16',
  extra: Omit<FixtureOptions, 'shrink' | 'dtype'> = {},
): Promise<LoadedModelWithOrigin> {
  return loadModel(await qwen3FixtureDir(dtype, extra));
}

/** The real reference backend, with every batch it was given kept for inspection. */
export class RecordingBackend implements PagedKvBackend {
  readonly name = 'reference' as const;
  readonly batches: RaggedBatch[] = [];
  kvSpec: KvCacheSpec | null = null;
  /** Called before each forward (e.g. to cancel a request mid-step). */
  beforeForward: ((batch: RaggedBatch) => void) | null = null;

  constructor(readonly inner: PagedReferenceBackend) {}

  get kvBytesPerToken(): number {
    return this.inner.kvBytesPerToken;
  }

  initKvCache(spec: KvCacheSpec): void {
    this.kvSpec = spec;
    this.inner.initKvCache(spec);
  }

  async forward(batch: RaggedBatch): Promise<PooledRows> {
    this.batches.push(batch);
    this.beforeForward?.(batch);
    return this.inner.forward(batch);
  }

  async dispose(): Promise<void> {
    await this.inner.dispose();
  }
}

/** Deterministic pseudo-random token ids below `vocabSize` (an LCG; tests need variety, not quality). */
export function randomTokens(length: number, seed: number, vocabSize = 151669): Int32Array {
  let state = seed >>> 0;
  return Int32Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % vocabSize;
  });
}

/** Largest |a[i] - b[i]|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/**
 * Runs `tokens` (at least 7) through a paged backend by hand in two chunks, tokens 0..5 then 6.., over the scattered
 * blocks 3, 5, 7 (block size 4 or more), asking for 24 normalized dimensions. Returns the rows of each chunk: none
 * for the first (it does not end its input), one for the second.
 */
export async function forwardTwoManualChunks(backend: PagedKvBackend, tokens: Int32Array): Promise<[PooledRows, PooledRows]> {
  const table = Int32Array.of(3, 5, 7);
  const first = await backend.forward({
    ...buildRaggedBatch([tokens.subarray(0, 6)], { pooling: 'last', dimensions: [24], normalize: [true] }),
    blockTables: [table],
    numCachedTokens: Int32Array.of(0),
    isLastChunk: Uint8Array.of(0),
  });
  const second = await backend.forward({
    ...buildRaggedBatch([tokens.subarray(6)], { pooling: 'last', dimensions: [24], normalize: [true], positionOffset: 6 }),
    blockTables: [table],
    numCachedTokens: Int32Array.of(6),
    isLastChunk: Uint8Array.of(1),
  });
  return [first, second];
}

/** Block size and prefix-hash seed of the paged-KV whole-model checks (every backend runs the same inputs). */
export const PAGED_KV_BLOCK_SIZE = 4;
export const PAGED_KV_HASH_SEED = new Uint8Array(32).fill(5);
const PAGED_KV_PROMPT = randomTokens(12, 200); // 3 full blocks
const concatTokens = (...parts: ArrayLike<number>[]): Int32Array => Int32Array.from(parts.flatMap((part) => Array.from(part)));

/** Inputs that end on and off block boundaries, share a cached prompt, are one token long, or need chunking. */
export const PAGED_KV_INPUTS: readonly Int32Array[] = [
  PAGED_KV_PROMPT, // ends exactly on a block boundary
  concatTokens(PAGED_KV_PROMPT, randomTokens(4, 11)), // 16: ends on a block boundary, shares 3 blocks
  concatTokens(PAGED_KV_PROMPT, randomTokens(1, 12)), // 13
  concatTokens(PAGED_KV_PROMPT, randomTokens(7, 13)), // 19
  randomTokens(5, 14),
  randomTokens(1, 15), // a single token
  randomTokens(33, 16), // longer than the budgets 1, 7 and 16: chunked
];
