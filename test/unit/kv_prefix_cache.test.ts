// Prefix-cache hashing and lookup: chain hashes (a block's hash depends on every earlier token), the per-process
// seed, cache salts, longest-prefix lookup that stops at the first miss, duplicate inserts, eviction.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { computeBlockHashes, hashBlockTokens, PrefixCache, PROCESS_HASH_SEED } from '../../src/engine/kv/prefix_cache.js';

const SEED = new Uint8Array(32).fill(7);
const TOKENS = Array.from({ length: 12 }, (_, i) => 100 + i); // 3 full blocks of 4

describe('block hashes', () => {
  it('are SHA-256 over (parent or seed, token count and ids as int32 LE, salt length and bytes)', () => {
    const expected = createHash('sha256')
      .update(SEED)
      .update(Buffer.from([2, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f]))
      .update(Buffer.from([1, 0, 0, 0]))
      .update(Buffer.from('a'))
      .digest('hex');
    assert.equal(hashBlockTokens(null, [1, 0x7fffffff], 'a', SEED), expected);
    const child = createHash('sha256')
      .update(Buffer.from(expected, 'hex'))
      .update(Buffer.from([1, 0, 0, 0, 5, 0, 0, 0]))
      .update(Buffer.alloc(4))
      .digest('hex');
    assert.equal(hashBlockTokens(expected, [5], null, SEED), child);
  });

  it('form a chain: changing one token changes the hash of its block and of every later block, never of earlier ones', () => {
    const base = computeBlockHashes(TOKENS, 4, null, SEED);
    assert.equal(base.length, 3);
    assert.equal(new Set(base).size, 3);
    const changed = [...TOKENS];
    changed[5] = 999; // block 1
    const other = computeBlockHashes(changed, 4, null, SEED);
    assert.equal(other[0], base[0]);
    assert.notEqual(other[1], base[1]);
    assert.notEqual(other[2], base[2], 'block 2 has the same tokens but a different parent');
    // The same tokens give the same block hash only at the same place in the chain.
    const repeated = computeBlockHashes([1, 2, 3, 4, 1, 2, 3, 4], 4, null, SEED);
    assert.notEqual(repeated[0], repeated[1]);
  });

  it('cover full blocks only and are deterministic for a given seed', () => {
    assert.equal(computeBlockHashes(TOKENS.slice(0, 11), 4, null, SEED).length, 2);
    assert.deepEqual(computeBlockHashes(TOKENS, 4, null, SEED), computeBlockHashes(TOKENS, 4, null, SEED));
    assert.deepEqual(computeBlockHashes(TOKENS, 4, null, SEED, 1), computeBlockHashes(TOKENS, 4, null, SEED).slice(0, 1));
    assert.throws(() => computeBlockHashes(TOKENS, 4, null, SEED, 4), /need more than 12 tokens/);
  });

  it('depend on the per-process random seed and on the salt', () => {
    assert.equal(PROCESS_HASH_SEED.length, 32);
    assert.notDeepEqual([...PROCESS_HASH_SEED], new Array(32).fill(0));
    assert.notEqual(computeBlockHashes(TOKENS, 4, null)[0], computeBlockHashes(TOKENS, 4, null, SEED)[0]);
    const plain = computeBlockHashes(TOKENS, 4, null, SEED);
    const tenantA = computeBlockHashes(TOKENS, 4, 'tenant-a', SEED);
    const tenantB = computeBlockHashes(TOKENS, 4, 'tenant-b', SEED);
    for (let b = 0; b < 3; b++) {
      assert.notEqual(tenantA[b], plain[b]);
      assert.notEqual(tenantA[b], tenantB[b]);
    }
    assert.deepEqual(computeBlockHashes(TOKENS, 4, '', SEED), plain, 'the empty salt is no salt');
  });
});

describe('PrefixCache', () => {
  it('finds the longest cached run of a chain and stops at the first miss', () => {
    const cache = new PrefixCache(4, SEED);
    const hashes = computeBlockHashes(TOKENS, 4, null, SEED);
    assert.deepEqual(cache.lookup(hashes), []);
    assert.equal(cache.insert(hashes[0], 7), true);
    assert.equal(cache.insert(hashes[2], 9), true); // without block 1, block 2 is unreachable
    assert.deepEqual(cache.lookup(hashes), [7]);
    assert.equal(cache.insert(hashes[1], 8), true);
    assert.deepEqual(cache.lookup(hashes), [7, 8, 9]);
    assert.deepEqual(cache.lookup(computeBlockHashes(TOKENS, 4, 'other tenant', SEED)), []);
  });

  it('keeps the first block inserted under a hash; evicting forgets both directions', () => {
    const cache = new PrefixCache(4, SEED);
    const [hash] = computeBlockHashes(TOKENS, 4, null, SEED);
    assert.equal(cache.insert(hash, 3), true);
    assert.equal(cache.insert(hash, 4), false, 'a concurrent duplicate stays unnamed');
    assert.deepEqual(cache.lookup([hash]), [3]);
    assert.equal(cache.hashOf(4), undefined);
    assert.equal(cache.evict(4), false);
    assert.equal(cache.evict(3), true);
    assert.deepEqual(cache.lookup([hash]), []);
    assert.equal(cache.hashOf(3), undefined);
    assert.equal(cache.stats.numCachedBlocks, 0);
  });

  it('counts queries and hits in tokens and sequences', () => {
    const cache = new PrefixCache(4, SEED);
    cache.recordQuery(12, 0);
    cache.recordQuery(12, 8);
    assert.deepEqual(cache.stats, { numQueriedTokens: 24, numHitTokens: 8, numQueriedSequences: 2, numHitSequences: 1, numCachedBlocks: 0 });
  });
});
