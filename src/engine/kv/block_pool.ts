// The pool of fixed-size KV blocks (vLLM v1's BlockPool, vllm/v1/core/block_pool.py, without its GPU side): ids
// 0..numBlocks-1, a reference count per block, and a free list in LRU order kept as a doubly-linked list over block
// ids, so taking the least recently freed block, returning one, and pulling a cached block out of the middle of the
// list (a prefix-cache hit) are all O(1).
//
// Block 0 is the reserved null block: never handed out, never freed, so a block table can use 0 as "no block" and a
// backend never has to guard against writing it.
//
// A free block may still hold the K/V of a cached prefix (see prefix_cache.ts): it stays reusable by a hit until the
// pool hands it out again, which is when `onEvict` tells the cache to forget it. The order in which callers free
// blocks is the order of eviction: the KV manager frees a sequence's blocks tail first, so its prefix blocks, the
// ones other requests are most likely to share, are evicted last.

/** The reserved null block id. */
export const NULL_BLOCK_ID = 0;

const NONE = -1;

export class BlockPool {
  readonly numBlocks: number;
  private readonly refCounts: Int32Array;
  // Doubly-linked free list over block ids: head = least recently freed (evicted first), tail = most recent.
  private readonly prevFree: Int32Array;
  private readonly nextFree: Int32Array;
  private readonly isFree: Uint8Array;
  private head = NONE;
  private tail = NONE;
  private numFree = 0;
  private numEvicted = 0;

  /**
   * @param numBlocks total blocks including the null block (so numBlocks - 1 are usable); at least 2.
   * @param onEvict called when a free block is handed out again, before its new owner writes it (the prefix cache
   *   drops the block's hash there).
   */
  constructor(
    numBlocks: number,
    private readonly onEvict: ((blockId: number) => boolean) | null = null,
  ) {
    if (!Number.isSafeInteger(numBlocks) || numBlocks < 2) throw new RangeError(`a block pool needs at least 2 blocks (block 0 is reserved), got ${numBlocks}`);
    this.numBlocks = numBlocks;
    this.refCounts = new Int32Array(numBlocks);
    this.prevFree = new Int32Array(numBlocks).fill(NONE);
    this.nextFree = new Int32Array(numBlocks).fill(NONE);
    this.isFree = new Uint8Array(numBlocks);
    for (let blockId = 1; blockId < numBlocks; blockId++) this.appendFree(blockId);
  }

  /** Blocks that can ever be handed out (all but the null block). */
  get numUsableBlocks(): number {
    return this.numBlocks - 1;
  }

  /** Blocks with no owner, cached content or not: what allocate() can hand out right now. */
  get numFreeBlocks(): number {
    return this.numFree;
  }

  /** Blocks owned by at least one sequence. */
  get numUsedBlocks(): number {
    return this.numUsableBlocks - this.numFree;
  }

  /** Fraction of usable blocks in use, 0..1 (vLLM's kv_cache_usage). */
  get usage(): number {
    return this.numUsedBlocks / this.numUsableBlocks;
  }

  /** Free blocks whose cached content was dropped because the pool handed them out again. */
  get numEvictedBlocks(): number {
    return this.numEvicted;
  }

  refCount(blockId: number): number {
    this.checkId(blockId);
    return this.refCounts[blockId];
  }

  isBlockFree(blockId: number): boolean {
    this.checkId(blockId);
    return this.isFree[blockId] === 1;
  }

  /** Free block ids from the next to be handed out to the last (for tests and debugging; O(free blocks)). */
  freeBlockIds(): number[] {
    const ids: number[] = [];
    for (let blockId = this.head; blockId !== NONE; blockId = this.nextFree[blockId]) ids.push(blockId);
    return ids;
  }

  /**
   * Takes `count` blocks from the head of the free list (least recently freed first), each with ref count 1; a
   * block that still held cached content is evicted from the cache first. Returns null, changing nothing, when
   * fewer than `count` blocks are free: the caller waits.
   */
  allocate(count: number): number[] | null {
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`block count must be a non-negative integer, got ${count}`);
    if (count > this.numFree) return null;
    const blockIds: number[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const blockId = this.head;
      this.unlinkFree(blockId);
      if (this.onEvict?.(blockId)) this.numEvicted++;
      this.refCounts[blockId] = 1;
      blockIds[i] = blockId;
    }
    return blockIds;
  }

  /**
   * Adds an owner to blocks that already hold K/V (a prefix-cache hit): a free one leaves the free list without
   * losing its content.
   */
  touch(blockIds: readonly number[]): void {
    for (const blockId of blockIds) {
      this.checkUsable(blockId);
      if (this.refCounts[blockId] === 0) this.unlinkFree(blockId);
      this.refCounts[blockId]++;
    }
  }

  /**
   * Drops one owner of each block, in the order given; a block whose last owner left goes to the tail of the free
   * list (most recently freed, evicted last), keeping whatever cached content it has.
   */
  free(blockIds: readonly number[]): void {
    for (const blockId of blockIds) {
      this.checkUsable(blockId);
      if (this.refCounts[blockId] <= 0) throw new RangeError(`block ${blockId} is freed more often than it was allocated`);
      this.refCounts[blockId]--;
      if (this.refCounts[blockId] === 0) this.appendFree(blockId);
    }
  }

  private checkId(blockId: number): void {
    if (!Number.isInteger(blockId) || blockId < 0 || blockId >= this.numBlocks) throw new RangeError(`block id ${blockId} is outside [0, ${this.numBlocks})`);
  }

  private checkUsable(blockId: number): void {
    this.checkId(blockId);
    if (blockId === NULL_BLOCK_ID) throw new RangeError('block 0 is the reserved null block');
  }

  private appendFree(blockId: number): void {
    this.prevFree[blockId] = this.tail;
    this.nextFree[blockId] = NONE;
    if (this.tail === NONE) this.head = blockId;
    else this.nextFree[this.tail] = blockId;
    this.tail = blockId;
    this.isFree[blockId] = 1;
    this.numFree++;
  }

  private unlinkFree(blockId: number): void {
    if (this.isFree[blockId] !== 1) throw new Error(`internal: block ${blockId} is not in the free list`);
    const prev = this.prevFree[blockId];
    const next = this.nextFree[blockId];
    if (prev === NONE) this.head = next;
    else this.nextFree[prev] = next;
    if (next === NONE) this.tail = prev;
    else this.prevFree[next] = prev;
    this.prevFree[blockId] = NONE;
    this.nextFree[blockId] = NONE;
    this.isFree[blockId] = 0;
    this.numFree--;
  }
}
