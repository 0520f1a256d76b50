// The KV block pool: block 0 reserved, allocation from the LRU head, ref counts, frees to the tail, O(1) removal of
// a cached block from the middle of the free list, eviction callbacks, and exhaustion answered with null.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockPool, NULL_BLOCK_ID } from '../../src/engine/kv/block_pool.js';

describe('BlockPool', () => {
  it('never hands out block 0 and starts with every other block free, in id order', () => {
    const pool = new BlockPool(5);
    assert.equal(pool.numUsableBlocks, 4);
    assert.equal(pool.numFreeBlocks, 4);
    assert.deepEqual(pool.freeBlockIds(), [1, 2, 3, 4]);
    assert.deepEqual(pool.allocate(4), [1, 2, 3, 4]);
    assert.equal(pool.allocate(1), null, 'exhausted: null, not a throw');
    assert.throws(() => pool.free([NULL_BLOCK_ID]), /reserved null block/);
    assert.throws(() => pool.touch([NULL_BLOCK_ID]), /reserved null block/);
    assert.throws(() => new BlockPool(1), /at least 2 blocks/);
  });

  it('answers a request it cannot fully satisfy with null and changes nothing', () => {
    const pool = new BlockPool(4);
    assert.deepEqual(pool.allocate(2), [1, 2]);
    assert.equal(pool.allocate(2), null);
    assert.equal(pool.numFreeBlocks, 1);
    assert.deepEqual(pool.freeBlockIds(), [3]);
    assert.deepEqual(pool.allocate(0), []);
    assert.deepEqual(pool.allocate(1), [3]);
  });

  it('counts owners: a block returns to the free list only when its last owner frees it', () => {
    const pool = new BlockPool(4);
    const [a, b] = pool.allocate(2)!;
    pool.touch([a]); // a second sequence shares block a
    assert.equal(pool.refCount(a), 2);
    pool.free([a]);
    assert.equal(pool.refCount(a), 1);
    assert.equal(pool.isBlockFree(a), false);
    pool.free([a, b]);
    assert.equal(pool.refCount(a), 0);
    assert.equal(pool.isBlockFree(a), true);
    assert.throws(() => pool.free([a]), /freed more often than it was allocated/);
    assert.equal(pool.usage, 0);
  });

  it('is LRU: freed blocks join the tail, allocation takes the head, so the order of freeing is the order of eviction', () => {
    const cached = new Set<number>();
    const evicted: number[] = [];
    const pool = new BlockPool(6, (blockId) => {
      if (!cached.delete(blockId)) return false;
      evicted.push(blockId);
      return true;
    });
    const blocks = pool.allocate(5)!; // [1..5]
    for (const blockId of blocks) cached.add(blockId); // say every block got cached content
    pool.free([4, 2, 5]); // a caller freeing a sequence's blocks tail first
    assert.deepEqual(pool.freeBlockIds(), [4, 2, 5]);
    pool.free([1]);
    assert.deepEqual(pool.freeBlockIds(), [4, 2, 5, 1]);
    assert.deepEqual(pool.allocate(2), [4, 2]);
    assert.deepEqual(evicted, [4, 2], 'each reused block is reported to the cache before its new owner gets it');
    assert.equal(pool.numEvictedBlocks, 2);
    assert.equal(blocks.length, 5);
  });

  it('pulls a cached free block out of the middle of the free list in O(1) when a prefix hit touches it', () => {
    const pool = new BlockPool(6);
    pool.allocate(5);
    pool.free([1, 2, 3, 4, 5]);
    pool.touch([3]); // middle
    assert.deepEqual(pool.freeBlockIds(), [1, 2, 4, 5]);
    pool.touch([1]); // head
    pool.touch([5]); // tail
    assert.deepEqual(pool.freeBlockIds(), [2, 4]);
    assert.equal(pool.numFreeBlocks, 2);
    assert.equal(pool.numUsedBlocks, 3);
    pool.free([5, 3, 1]);
    assert.deepEqual(pool.freeBlockIds(), [2, 4, 5, 3, 1]);
    // Allocation never returns a block twice and never the null block, however the list was shuffled.
    const all = pool.allocate(5)!;
    assert.deepEqual([...all].sort(), [1, 2, 3, 4, 5]);
    assert.deepEqual(all, [2, 4, 5, 3, 1]);
  });

  it('counts an eviction only when the callback says the block held cached content', () => {
    const cached = new Set([2]);
    const pool = new BlockPool(4, (blockId) => cached.delete(blockId));
    pool.allocate(3);
    pool.free([1, 2, 3]);
    pool.allocate(3);
    assert.equal(pool.numEvictedBlocks, 1);
    assert.equal(cached.size, 0);
  });
});
