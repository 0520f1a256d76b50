// Per-sequence KV block tables over one BlockPool, with optional prefix caching (vLLM v1's KVCacheManager,
// vllm/v1/core/kv_cache_manager.py, for prefill-only work). Pure bookkeeping: no K/V values live here; the backend
// stores them at the block ids this hands out.
//
// Life of a sequence:
//   findCachedPrefix(tokens, salt) -> longest run of cached full blocks, never the whole input: at least the last
//                                     token is always recomputed, because pooling needs its hidden state
//   allocateSlots(seq, n, {prefix})  -> the sequence's table = prefix blocks (shared, ref count + 1) + fresh blocks
//                                     for n more tokens; null (nothing changed) when the pool is short: wait
//   commitComputed(seq, n)          -> n more tokens hold K/V now; blocks they filled become cacheable
//   free(seq)                       -> every block loses this owner, tail first (so the tail is evicted first)
// Block tables are append-only: a sequence's blocks never move or change while it lives.
import { BlockPool } from './block_pool.js';
import { computeBlockHashes, PrefixCache, PROCESS_HASH_SEED, type BlockHash, type PrefixCacheStats } from './prefix_cache.js';

export interface KvManagerOptions {
  /** Total blocks, the reserved null block included. */
  readonly numBlocks: number;
  /** Tokens per block. */
  readonly blockSize: number;
  readonly enablePrefixCaching: boolean;
  /** Seed of the hash chains; default the per-process random seed. */
  readonly hashSeed?: Uint8Array;
}

/** A cached prefix found for a sequence that is not admitted yet. */
export interface CachedPrefix {
  readonly blockIds: readonly number[];
  /** blockIds.length * blockSize. */
  readonly numTokens: number;
  /** Chain hashes of every full block of the input (cached or not), reused when the blocks are committed. */
  readonly blockHashes: readonly BlockHash[];
}

/** What a new sequence brings to allocateSlots. */
export interface NewSequence {
  readonly tokenIds: ArrayLike<number>;
  readonly salt: string | null;
  /** From findCachedPrefix; absent = nothing reused. */
  readonly prefix?: CachedPrefix;
}

interface SequenceState {
  readonly tokenIds: ArrayLike<number>;
  readonly salt: string | null;
  readonly blockTable: number[];
  numComputedTokens: number;
  /** Leading blocks already known to the prefix cache (hit, or committed and inserted). */
  numCachedBlocks: number;
  blockHashes: readonly BlockHash[] | null;
}

export interface KvManagerStats {
  readonly blockSize: number;
  readonly numUsableBlocks: number;
  readonly numUsedBlocks: number;
  readonly numFreeBlocks: number;
  /** Fraction of usable blocks owned by running sequences, 0..1. */
  readonly usage: number;
  readonly numEvictedBlocks: number;
  readonly prefixCachingEnabled: boolean;
  readonly prefixCache: PrefixCacheStats | null;
}

export type SequenceId = number;

export class KvManager {
  readonly blockSize: number;
  readonly pool: BlockPool;
  readonly prefixCache: PrefixCache | null;
  private readonly hashSeed: Uint8Array;
  private readonly sequences = new Map<SequenceId, SequenceState>();

  constructor(opts: KvManagerOptions) {
    if (!Number.isSafeInteger(opts.blockSize) || opts.blockSize <= 0) throw new RangeError(`block size must be a positive integer, got ${opts.blockSize}`);
    this.blockSize = opts.blockSize;
    this.hashSeed = opts.hashSeed ?? PROCESS_HASH_SEED;
    this.prefixCache = opts.enablePrefixCaching ? new PrefixCache(opts.blockSize, this.hashSeed) : null;
    const cache = this.prefixCache;
    this.pool = new BlockPool(opts.numBlocks, cache === null ? null : (blockId) => cache.evict(blockId));
  }

  /** Tokens the whole pool can hold: the longest input that can ever be admitted. */
  get maxTokensPerSequence(): number {
    return this.pool.numUsableBlocks * this.blockSize;
  }

  /** Blocks needed to hold `numTokens` positions. */
  numBlocksFor(numTokens: number): number {
    return Math.ceil(numTokens / this.blockSize);
  }

  /**
   * The longest cached prefix of `tokenIds` under `salt`, in whole blocks, leaving at least the last token to compute
   * (an input of exactly k full blocks reuses at most k - 1). Changes nothing; empty when caching is off.
   */
  findCachedPrefix(tokenIds: ArrayLike<number>, salt: string | null): CachedPrefix {
    if (this.prefixCache === null) return { blockIds: [], numTokens: 0, blockHashes: [] };
    const blockHashes = computeBlockHashes(tokenIds, this.blockSize, salt, this.hashSeed);
    const maxReusableBlocks = Math.floor((tokenIds.length - 1) / this.blockSize);
    const blockIds = this.prefixCache.lookup(blockHashes.slice(0, maxReusableBlocks));
    return { blockIds, numTokens: blockIds.length * this.blockSize, blockHashes };
  }

  /**
   * Makes room for `numNewTokens` more tokens of `seqId`, whose positions follow its computed ones. A sequence seen
   * for the first time must come with `newSequence` (its tokens, salt and optional cached prefix, which becomes the
   * head of its table). Returns the ids of the blocks allocated now (possibly none), or null, with nothing changed,
   * when the pool has too few free blocks: the caller waits for others to finish.
   */
  allocateSlots(seqId: SequenceId, numNewTokens: number, newSequence?: NewSequence): number[] | null {
    if (!Number.isSafeInteger(numNewTokens) || numNewTokens < 0) throw new RangeError(`numNewTokens must be a non-negative integer, got ${numNewTokens}`);
    let state = this.sequences.get(seqId);
    const prefix = newSequence?.prefix;
    if (state === undefined) {
      if (newSequence === undefined) throw new RangeError(`sequence ${seqId} is unknown: its first allocateSlots needs its tokens`);
      if (prefix !== undefined && prefix.numTokens !== prefix.blockIds.length * this.blockSize) throw new RangeError('cached prefix must be whole blocks');
    } else if (newSequence !== undefined) {
      throw new RangeError(`sequence ${seqId} is already allocated`);
    }
    const prefixBlocks = state === undefined ? (prefix?.blockIds ?? []) : [];
    const numComputed = state === undefined ? (prefix?.numTokens ?? 0) : state.numComputedTokens;
    const tokenIds = state === undefined ? newSequence!.tokenIds : state.tokenIds;
    if (numComputed + numNewTokens > tokenIds.length) {
      throw new RangeError(`sequence ${seqId}: ${numComputed} computed + ${numNewTokens} new tokens exceed its ${tokenIds.length} tokens`);
    }
    const numHeld = state === undefined ? prefixBlocks.length : state.blockTable.length;
    const numNeeded = Math.max(0, this.numBlocksFor(numComputed + numNewTokens) - numHeld);
    // Prefix blocks that sit in the free list stop being free once touched: count them against what is available.
    let numPrefixBlocksFree = 0;
    for (const blockId of prefixBlocks) if (this.pool.refCount(blockId) === 0) numPrefixBlocksFree++;
    if (numNeeded > this.pool.numFreeBlocks - numPrefixBlocksFree) return null;

    if (state === undefined) {
      this.pool.touch(prefixBlocks); // before allocate(), so the cached blocks cannot be evicted by it
      state = {
        tokenIds,
        salt: newSequence!.salt,
        blockTable: [...prefixBlocks],
        numComputedTokens: numComputed,
        numCachedBlocks: prefixBlocks.length,
        blockHashes: prefix?.blockHashes ?? null,
      };
      this.sequences.set(seqId, state);
      this.prefixCache?.recordQuery(tokenIds.length, numComputed);
    }
    const allocated = this.pool.allocate(numNeeded);
    if (allocated === null) throw new Error('internal: the pool refused blocks it had counted as free');
    state.blockTable.push(...allocated);
    return allocated;
  }

  /**
   * Records that `numTokens` more tokens of `seqId` now hold K/V (a forward over them finished). With prefix caching,
   * every block they completed is inserted under its chain hash.
   */
  commitComputed(seqId: SequenceId, numTokens: number): void {
    const state = this.requireSequence(seqId);
    const numComputed = state.numComputedTokens + numTokens;
    if (!Number.isSafeInteger(numTokens) || numTokens < 0 || numComputed > state.blockTable.length * this.blockSize) {
      throw new RangeError(`sequence ${seqId}: cannot commit ${numTokens} tokens beyond its ${state.blockTable.length} blocks`);
    }
    state.numComputedTokens = numComputed;
    const cache = this.prefixCache;
    if (cache === null) return;
    const numFullBlocks = Math.floor(numComputed / this.blockSize);
    if (numFullBlocks <= state.numCachedBlocks) return;
    state.blockHashes ??= computeBlockHashes(state.tokenIds, this.blockSize, state.salt, this.hashSeed);
    for (let b = state.numCachedBlocks; b < numFullBlocks; b++) cache.insert(state.blockHashes[b], state.blockTable[b]);
    state.numCachedBlocks = numFullBlocks;
  }

  /** The sequence's block ids in position order (a copy, ready for a batch). */
  blockTable(seqId: SequenceId): Int32Array {
    return Int32Array.from(this.requireSequence(seqId).blockTable);
  }

  numComputedTokens(seqId: SequenceId): number {
    return this.requireSequence(seqId).numComputedTokens;
  }

  has(seqId: SequenceId): boolean {
    return this.sequences.has(seqId);
  }

  /** Releases the sequence's blocks, last block first, so its tail is evicted before its (more shareable) head. */
  free(seqId: SequenceId): void {
    const state = this.sequences.get(seqId);
    if (state === undefined) return;
    this.sequences.delete(seqId);
    this.pool.free([...state.blockTable].reverse());
  }

  get numSequences(): number {
    return this.sequences.size;
  }

  get stats(): KvManagerStats {
    return {
      blockSize: this.blockSize,
      numUsableBlocks: this.pool.numUsableBlocks,
      numUsedBlocks: this.pool.numUsedBlocks,
      numFreeBlocks: this.pool.numFreeBlocks,
      usage: this.pool.usage,
      numEvictedBlocks: this.pool.numEvictedBlocks,
      prefixCachingEnabled: this.prefixCache !== null,
      prefixCache: this.prefixCache?.stats ?? null,
    };
  }

  private requireSequence(seqId: SequenceId): SequenceState {
    const state = this.sequences.get(seqId);
    if (state === undefined) throw new RangeError(`sequence ${seqId} is unknown (never allocated, or freed)`);
    return state;
  }
}
