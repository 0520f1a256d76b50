// The Qwen3 reference backend on a shrunk generated checkpoint (real layout and tokenizer, random weights): paged forward
// through scattered block tables in chunks of any size vs one shot, rows only for last chunks, loading of the
// Qwen3ForCausalLM layout, and the tokenizer's trailing <|endoftext|> that LAST pooling reads.
// Whether the one-shot arithmetic itself is right (causal mask, RoPE, q/k RMSNorm, GQA, LAST pooling, Normalize) is not
// decided here by the reference against itself: test/upstream/test_transformers_classes.py compares it with transformers'
// Qwen3Model in float64 (1 - cos <= 1e-12). What stays here is what transformers has no counterpart for: paging.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildRaggedBatch, type RaggedBatch } from '../../src/backends/backend.js';
import { createReferenceBackend } from '../../src/backends/reference/backend.js';
import { PagedReferenceBackend } from '../../src/backends/reference/backend.js';
import { loadModel, type LoadedModelWithOrigin } from '../../src/model/load.js';
import { TextTokenizer } from '../../src/tokenizer/tokenizer.js';
import { loadQwen3Fixture, maxAbsDiff, qwen3FixtureDir, randomTokens } from '../helpers/qwen3_fixture.js';

// Paged and one-shot runs do the same float64 arithmetic in the same order; the tolerance only allows for that
// order changing in a future refactor, far below anything a wrong position, block or mask would produce (~1e-2).
const TOLERANCE = 1e-12;

let model: LoadedModelWithOrigin;

before(async () => {
  model = await loadQwen3Fixture('BF16');
});

function oneShot(backend: PagedReferenceBackend, tokens: Int32Array): Float64Array {
  return backend.forward64(buildRaggedBatch([tokens], { pooling: 'last', normalize: [true] }))[0];
}

/** A paged batch of chunks: each [tokens, numCached, blockTable, isLast]. */
function pagedBatch(chunks: [Int32Array, number, Int32Array, boolean][]): RaggedBatch {
  const base = buildRaggedBatch(
    chunks.map(([tokens]) => tokens),
    { pooling: 'last', normalize: chunks.map(() => true) },
  );
  const positions = new Int32Array(base.positions.length);
  chunks.forEach(([tokens, numCached], i) => {
    for (let t = 0; t < tokens.length; t++) positions[base.cuSeqLens[i] + t] = numCached + t;
  });
  return {
    ...base,
    positions,
    blockTables: chunks.map(([, , table]) => table),
    numCachedTokens: Int32Array.from(chunks.map(([, numCached]) => numCached)),
    isLastChunk: Uint8Array.from(chunks.map(([, , , isLast]) => (isLast ? 1 : 0))),
  };
}

describe('Qwen3 reference backend', () => {
  it('is chosen by architecture, states its KV footprint, and is batch invariant one-shot', async () => {
    const backend = await createReferenceBackend(model);
    assert.ok(backend instanceof PagedReferenceBackend);
    assert.equal(backend.kvBytesPerToken, 2 * 2 * 2 * 16 * 8); // K and V, 2 layers, 2 kv heads of 16, float64
    const a = randomTokens(9, 1);
    const b = randomTokens(4, 2);
    const alone = oneShot(backend, a);
    const mixed = backend.forward64(buildRaggedBatch([b, a], { pooling: 'last', normalize: [true, true] }));
    assert.ok(maxAbsDiff(mixed[1], alone) <= TOLERANCE);
    // (Unit norm and causality were asserted here against the reference itself; transformers' Qwen3Model now pins both.)
    const meanPooled = backend.forward64(buildRaggedBatch([a], { pooling: 'mean', normalize: [false] }))[0];
    assert.ok(maxAbsDiff(meanPooled, alone) > 1e-3, 'one-shot batches honour other pooling modes');
  });

  it('computes an input in chunks through scattered blocks exactly as in one shot, pooling only on the last chunk', async () => {
    const backend = await PagedReferenceBackend.create(model);
    backend.initKvCache({ numBlocks: 16, blockSize: 4 });
    const tokens = randomTokens(13, 3);
    const expected = oneShot(backend, tokens);
    const table = Int32Array.from([11, 3, 14, 6]); // 13 positions: 4 blocks, in no particular order
    const chunks: [number, number][] = [
      [0, 5], // ends inside block 1
      [5, 8], // ends exactly on a block boundary
      [8, 13],
    ];
    let rows: Float64Array[] = [];
    for (const [start, end] of chunks) {
      rows = backend.forward64(pagedBatch([[tokens.subarray(start, end), start, table, end === tokens.length]]));
      assert.equal(rows.length, end === tokens.length ? 1 : 0, 'a non-last chunk returns no row');
    }
    assert.ok(maxAbsDiff(rows[0], expected) <= TOLERANCE, `chunked vs one-shot: ${maxAbsDiff(rows[0], expected)}`);
    assert.equal(backend.kvStore!.numMaterializedBlocks, 4);
  });

  it('mixes sequences at different stages in one batch, and reuses cached blocks of another sequence', async () => {
    const backend = await PagedReferenceBackend.create(model);
    backend.initKvCache({ numBlocks: 32, blockSize: 4 });
    const prefix = randomTokens(8, 4);
    const x = Int32Array.from([...prefix, ...randomTokens(3, 5)]);
    const y = Int32Array.from([...prefix, ...randomTokens(6, 6)]);
    const tableX = Int32Array.from([1, 2, 3]);
    // x computes 6 tokens; then x finishes while y starts, sharing x's 2 prefix blocks (8 cached tokens) as a hit.
    assert.deepEqual(backend.forward64(pagedBatch([[x.subarray(0, 6), 0, tableX, false]])), []);
    const rows = backend.forward64(
      pagedBatch([
        [x.subarray(6), 6, tableX, true],
        [y.subarray(8), 8, Int32Array.from([1, 2, 20, 21]), true],
      ]),
    );
    assert.equal(rows.length, 2);
    assert.ok(maxAbsDiff(rows[0], oneShot(backend, x)) <= TOLERANCE);
    assert.ok(maxAbsDiff(rows[1], oneShot(backend, y)) <= TOLERANCE);
  });

  it('refuses malformed paged batches with a clear error', async () => {
    const backend = await PagedReferenceBackend.create(model);
    const tokens = randomTokens(5, 7);
    const batch = pagedBatch([[tokens, 0, Int32Array.from([1, 2]), true]]);
    assert.throws(() => backend.forward64(batch), /initKvCache was not called/);
    backend.initKvCache({ numBlocks: 4, blockSize: 4 });
    assert.throws(() => backend.forward64(pagedBatch([[tokens, 0, Int32Array.from([1]), true]])), /too few for 5 positions/);
    assert.throws(() => backend.forward64(pagedBatch([[tokens, 0, Int32Array.from([0, 1]), true]])), /names block 0/);
    assert.throws(() => backend.forward64({ ...batch, positions: new Int32Array(5) }), /has position 0, expected 1/);
    assert.throws(() => backend.forward64({ ...batch, isLastChunk: undefined }), /come together or not at all/);
    assert.throws(() => backend.forward64({ ...batch, pooling: 'mean' }), /pool 'last' only/);
  });

  it('loads the Qwen3ForCausalLM layout (`model.` prefix) to the same embeddings', async () => {
    const prefixed = await loadModel(await qwen3FixtureDir('BF16', { prefix: 'model.' }));
    assert.equal(prefixed.weights.get('embed_tokens.weight')!.name, 'model.embed_tokens.weight', 'stored with the prefix');
    const tokens = randomTokens(6, 8);
    const a = oneShot(await PagedReferenceBackend.create(model), tokens);
    const b = oneShot(await PagedReferenceBackend.create(prefixed), tokens);
    assert.deepEqual(b, a);
  });
});

describe('Qwen3 tokenizer (fixture tokenizer.json)', () => {
  it('appends <|endoftext|> 151643, the token LAST pooling reads', async () => {
    const tokenizer = TextTokenizer.load(await qwen3FixtureDir('BF16'));
    const encode = (text: string) => Array.from(tokenizer.encode(text, { maxLength: 1000, truncation: 'none' }));
    // Upstream's own example (QwenLM/Qwen3-Embedding issue #122).
    assert.deepEqual(encode('test'), [1944, 151643]);
    assert.deepEqual(encode('test again'), [1944, 1549, 151643]);
    assert.equal(tokenizer.numSpecialTokens, 1);
    // Truncation keeps the trailing end-of-text token.
    const cut = Array.from(tokenizer.encode('test again and again', { maxLength: 3, truncation: 'end' }));
    assert.deepEqual(cut, [1944, 1549, 151643]);
  });
});
