// Prefix caching (vLLM v1's automatic prefix caching, vllm/v1/core/kv_cache_utils.py hash_block_tokens and
// block_pool.py): every FULL block of a sequence is named by a hash of (its parent block's hash, its token ids, the
// request's cache salt), so a block's name pins down the whole prefix up to and including it. A new sequence walks
// its own chain of hashes and reuses the blocks of the longest run that is cached.
//
// - The chain starts from a per-process random seed (vLLM's NONE_HASH from os.urandom): hashes are not predictable
//   from outside the process, so a client cannot craft token ids that collide with someone else's cached prefix.
// - The cache salt (vLLM's `cache_salt` request field) goes into every block's hash: requests with different salts
//   never share blocks, so tenants cannot probe each other's prompts through timing.
// - Only full blocks are ever cached; a partly filled last block is always recomputed.
// - Cached blocks live in the block pool's free list once no sequence uses them, and are forgotten only when the
//   pool hands them out again (BlockPool's onEvict).
import { createHash, randomBytes } from 'node:crypto';

/** A block's chain hash (hex SHA-256). */
export type BlockHash = string;

/** The per-process seed every chain starts from. */
export const PROCESS_HASH_SEED: Buffer = randomBytes(32);

/**
 * hash(parent, tokens, salt) = SHA-256 over: the parent hash (or the seed for the first block), the token count and
 * ids as little-endian int32, then the salt's UTF-8 length and bytes. No salt (null) and the empty salt hash the same:
 * both mean "no tenant isolation".
 */
export function hashBlockTokens(parent: BlockHash | null, tokenIds: ArrayLike<number>, salt: string | null, seed: Uint8Array = PROCESS_HASH_SEED): BlockHash {
  const hash = createHash('sha256');
  hash.update(parent === null ? seed : Buffer.from(parent, 'hex'));
  const tokens = Buffer.alloc(4 + 4 * tokenIds.length);
  tokens.writeUInt32LE(tokenIds.length, 0);
  for (let i = 0; i < tokenIds.length; i++) tokens.writeInt32LE(tokenIds[i], 4 + 4 * i);
  hash.update(tokens);
  const saltBytes = Buffer.from(salt ?? '', 'utf8');
  const saltLength = Buffer.alloc(4);
  saltLength.writeUInt32LE(saltBytes.length, 0);
  hash.update(saltLength);
  hash.update(saltBytes);
  return hash.digest('hex');
}

/** The chain hashes of the first `numBlocks` full blocks of `tokenIds` (default: every full block). */
export function computeBlockHashes(
  tokenIds: ArrayLike<number>,
  blockSize: number,
  salt: string | null,
  seed: Uint8Array = PROCESS_HASH_SEED,
  numBlocks = Math.floor(tokenIds.length / blockSize),
): BlockHash[] {
  if (numBlocks * blockSize > tokenIds.length) throw new RangeError(`${numBlocks} full blocks of ${blockSize} need more than ${tokenIds.length} tokens`);
  const hashes: BlockHash[] = [];
  let parent: BlockHash | null = null;
  for (let b = 0; b < numBlocks; b++) {
    const block = Array.prototype.slice.call(tokenIds, b * blockSize, (b + 1) * blockSize) as number[];
    parent = hashBlockTokens(parent, block, salt, seed);
    hashes.push(parent);
  }
  return hashes;
}

export interface PrefixCacheStats {
  /** Tokens looked up by admitted sequences (vLLM's prefix_cache_queries). */
  readonly numQueriedTokens: number;
  /** Of those, tokens served from the cache (vLLM's prefix_cache_hits). */
  readonly numHitTokens: number;
  /** Admitted sequences, and those that reused at least one block. */
  readonly numQueriedSequences: number;
  readonly numHitSequences: number;
  /** Blocks currently reachable by hash. */
  readonly numCachedBlocks: number;
}

/** hash <-> block id maps; which blocks may be reused is the pool's business (ref counts, free list). */
export class PrefixCache {
  private readonly hashToBlock = new Map<BlockHash, number>();
  private readonly blockToHash = new Map<number, BlockHash>();
  private numQueriedTokens = 0;
  private numHitTokens = 0;
  private numQueriedSequences = 0;
  private numHitSequences = 0;

  constructor(
    readonly blockSize: number,
    readonly seed: Uint8Array = PROCESS_HASH_SEED,
  ) {
    if (!Number.isSafeInteger(blockSize) || blockSize <= 0) throw new RangeError(`block size must be a positive integer, got ${blockSize}`);
  }

  /** Block ids of the longest prefix of `hashes` that is cached (stops at the first miss: a chain has no gaps). */
  lookup(hashes: readonly BlockHash[]): number[] {
    const blockIds: number[] = [];
    for (const hash of hashes) {
      const blockId = this.hashToBlock.get(hash);
      if (blockId === undefined) break;
      blockIds.push(blockId);
    }
    return blockIds;
  }

  /**
   * Makes a just-computed full block reachable by `hash`. When the hash is already cached (another sequence
   * computed the same prefix concurrently) the existing block stays the one that is found and this block stays
   * unnamed: returns false.
   */
  insert(hash: BlockHash, blockId: number): boolean {
    if (this.hashToBlock.has(hash)) return false;
    const previous = this.blockToHash.get(blockId);
    if (previous !== undefined) throw new Error(`internal: block ${blockId} is cached twice (${previous} and ${hash})`);
    this.hashToBlock.set(hash, blockId);
    this.blockToHash.set(blockId, hash);
    return true;
  }

  /** Forgets a block's content (the pool is handing it out again). Returns whether it was cached. */
  evict(blockId: number): boolean {
    const hash = this.blockToHash.get(blockId);
    if (hash === undefined) return false;
    this.blockToHash.delete(blockId);
    this.hashToBlock.delete(hash);
    return true;
  }

  hashOf(blockId: number): BlockHash | undefined {
    return this.blockToHash.get(blockId);
  }

  /** Counts one admitted sequence's lookup: `numTokens` queried, `numHitTokens` of them served from the cache. */
  recordQuery(numTokens: number, numHitTokens: number): void {
    this.numQueriedTokens += numTokens;
    this.numHitTokens += numHitTokens;
    this.numQueriedSequences++;
    if (numHitTokens > 0) this.numHitSequences++;
  }

  get stats(): PrefixCacheStats {
    return {
      numQueriedTokens: this.numQueriedTokens,
      numHitTokens: this.numHitTokens,
      numQueriedSequences: this.numQueriedSequences,
      numHitSequences: this.numHitSequences,
      numCachedBlocks: this.hashToBlock.size,
    };
  }
}
