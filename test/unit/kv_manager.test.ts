// The KV manager: per-sequence block tables, prefix reuse that always leaves the last token to compute, shared
// blocks with ref counts, caching of committed full blocks only, tail-first freeing (and so tail-first eviction),
// salts, and exhaustion answered with null and no side effects.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvManager } from '../../src/engine/kv/kv_manager.js';

const SEED = new Uint8Array(32).fill(1);
const range = (start: number, length: number): number[] => Array.from({ length }, (_, i) => start + i);

function manager(numBlocks: number, enablePrefixCaching = true): KvManager {
  return new KvManager({ numBlocks, blockSize: 4, enablePrefixCaching, hashSeed: SEED });
}

/** Admits a sequence with whatever prefix is cached and reserves blocks for all of its remaining tokens. */
function admit(kv: KvManager, seqId: number, tokens: number[], salt: string | null = null): { blocks: number[] | null; numCached: number } {
  const prefix = kv.findCachedPrefix(tokens, salt);
  const blocks = kv.allocateSlots(seqId, tokens.length - prefix.numTokens, { tokenIds: tokens, salt, prefix });
  return { blocks, numCached: blocks === null ? 0 : prefix.numTokens };
}

describe('KvManager', () => {
  it('gives each sequence an append-only block table covering its tokens', () => {
    const kv = manager(10);
    const tokens = range(0, 10);
    assert.deepEqual(kv.allocateSlots(1, 3, { tokenIds: tokens, salt: null }), [1]);
    kv.commitComputed(1, 3);
    assert.deepEqual(kv.allocateSlots(1, 2), [2], 'positions 3..4 need a second block');
    kv.commitComputed(1, 2);
    assert.deepEqual(kv.allocateSlots(1, 3), [], 'positions 5..7 still fit in block 2');
    kv.commitComputed(1, 3);
    assert.deepEqual(kv.allocateSlots(1, 2), [3]);
    assert.deepEqual([...kv.blockTable(1)], [1, 2, 3]);
    assert.equal(kv.numComputedTokens(1), 8);
    assert.throws(() => kv.allocateSlots(1, 3), /exceed its 10 tokens/);
    assert.throws(() => kv.allocateSlots(2, 1), /unknown/);
    assert.throws(() => kv.allocateSlots(1, 1, { tokenIds: tokens, salt: null }), /already allocated/);
  });

  it('reuses the longest cached prefix of full blocks and always leaves at least the last token to compute', () => {
    const kv = manager(20);
    const prompt = range(1000, 12); // 3 full blocks
    const first = admit(kv, 1, [...prompt, 5, 6]);
    assert.equal(first.numCached, 0);
    kv.commitComputed(1, 14);
    const table1 = [...kv.blockTable(1)];
    kv.free(1);
    // Same 12-token prefix, different tail: 3 blocks reused.
    const second = admit(kv, 2, [...prompt, 7, 8, 9]);
    assert.equal(second.numCached, 12);
    assert.deepEqual([...kv.blockTable(2)].slice(0, 3), table1.slice(0, 3));
    assert.equal(second.blocks!.length, 1, 'only the 3-token tail needs a fresh block');
    assert.ok(!table1.slice(0, 3).includes(second.blocks![0]));
    kv.free(2);
    // An input that IS the cached prefix, ending exactly on a block boundary: the last block is recomputed.
    assert.equal(kv.findCachedPrefix(prompt, null).numTokens, 8);
    // One token past the boundary: all 3 blocks reused, the extra token computed.
    assert.equal(kv.findCachedPrefix([...prompt, 1], null).numTokens, 12);
    // A different first token shares nothing (chain hashes).
    assert.equal(kv.findCachedPrefix([0, ...prompt.slice(1), 1], null).numTokens, 0);
    const stats = kv.stats.prefixCache!;
    assert.equal(stats.numQueriedTokens, 14 + 15);
    assert.equal(stats.numHitTokens, 12);
  });

  it('shares blocks between concurrent sequences with ref counts and keeps them until the last owner leaves', () => {
    const kv = manager(20);
    const tokens = range(0, 9);
    admit(kv, 1, tokens);
    kv.commitComputed(1, 9); // blocks 0, 1 full -> cached; block 2 partial -> never cached
    const table1 = [...kv.blockTable(1)];
    const hit = admit(kv, 2, tokens);
    assert.equal(hit.numCached, 8);
    const table2 = [...kv.blockTable(2)];
    assert.deepEqual(table2.slice(0, 2), table1.slice(0, 2));
    assert.notEqual(table2[2], table1[2], 'the partial block is private');
    assert.equal(kv.pool.refCount(table1[0]), 2);
    kv.free(1);
    assert.equal(kv.pool.refCount(table1[0]), 1);
    assert.equal(kv.pool.isBlockFree(table1[2]), true);
    kv.free(2);
    assert.equal(kv.pool.refCount(table1[0]), 0);
    assert.equal(kv.stats.usage, 0);
  });

  it('caches a block only once the tokens filling it are committed', () => {
    const kv = manager(20);
    const tokens = range(50, 8);
    admit(kv, 1, tokens);
    assert.equal(kv.findCachedPrefix([...tokens, 1], null).numTokens, 0, 'reserved but not computed');
    kv.commitComputed(1, 5);
    assert.equal(kv.findCachedPrefix([...tokens, 1], null).numTokens, 4);
    kv.commitComputed(1, 3);
    assert.equal(kv.findCachedPrefix([...tokens, 1], null).numTokens, 8);
    assert.throws(() => kv.commitComputed(1, 1), /beyond its 2 blocks/);
  });

  it('frees tail first, so a freed sequence loses its tail blocks to eviction before its prefix', () => {
    const kv = manager(5); // 4 usable blocks
    const a = range(0, 16);
    admit(kv, 1, a);
    kv.commitComputed(1, 16);
    const tableA = [...kv.blockTable(1)];
    kv.free(1);
    assert.deepEqual(kv.pool.freeBlockIds(), [...tableA].reverse());
    // A 1-block newcomer evicts a's LAST block; a's first three blocks still serve a hit.
    admit(kv, 2, range(500, 3));
    assert.deepEqual([...kv.blockTable(2)], [tableA[3]]);
    assert.equal(kv.stats.numEvictedBlocks, 1);
    assert.equal(kv.findCachedPrefix(a, null).numTokens, 12);
    // Two more blocks: a's blocks 2 and 1 go, in that order; block 0 is still cached.
    admit(kv, 3, range(600, 8));
    assert.deepEqual([...kv.blockTable(3)], [tableA[2], tableA[1]]);
    assert.equal(kv.findCachedPrefix(a, null).numTokens, 4);
  });

  it('answers exhaustion with null and leaves everything as it was, counting touched prefix blocks as taken', () => {
    const kv = manager(5); // 4 usable blocks
    const prompt = range(0, 8);
    admit(kv, 1, [...prompt, 1]);
    kv.commitComputed(1, 9);
    kv.free(1); // 3 free blocks, 2 of them hold the cached prompt
    admit(kv, 2, range(900, 4)); // the LRU head: block 4, never used
    assert.equal(kv.pool.numFreeBlocks, 3);
    // Needs the 2 cached blocks + 2 fresh ones, but only 1 free block is not part of its own prefix.
    const before = kv.pool.freeBlockIds();
    const prefix = kv.findCachedPrefix([...prompt, 2, 3, 4, 5, 6], null);
    assert.equal(prefix.numTokens, 8);
    assert.equal(kv.allocateSlots(3, 5, { tokenIds: [...prompt, 2, 3, 4, 5, 6], salt: null, prefix }), null);
    assert.deepEqual(kv.pool.freeBlockIds(), before);
    assert.equal(kv.has(3), false);
    assert.equal(kv.stats.prefixCache!.numQueriedSequences, 2, 'a refused admission is not counted as a query');
    // With 1 fresh block needed it fits: 2 reused + 1 new.
    assert.deepEqual(admit(kv, 4, [...prompt, 2, 3]).numCached, 8);
    assert.equal(kv.pool.numFreeBlocks, 0);
    assert.equal(admit(kv, 5, [1]).blocks, null, 'a full pool refuses even one block');
  });

  it('isolates cache salts and does nothing when prefix caching is off', () => {
    const kv = manager(20);
    const tokens = range(0, 9);
    admit(kv, 1, tokens, 'tenant-a');
    kv.commitComputed(1, 9);
    assert.equal(kv.findCachedPrefix(tokens, 'tenant-a').numTokens, 8);
    assert.equal(kv.findCachedPrefix(tokens, 'tenant-b').numTokens, 0);
    assert.equal(kv.findCachedPrefix(tokens, null).numTokens, 0);

    const off = manager(20, false);
    admit(off, 1, tokens);
    off.commitComputed(1, 9);
    off.free(1);
    assert.equal(off.findCachedPrefix(tokens, null).numTokens, 0);
    assert.equal(off.stats.prefixCache, null);
    assert.equal(off.stats.numEvictedBlocks, 0);
  });
});
