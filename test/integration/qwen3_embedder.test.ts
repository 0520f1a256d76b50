// End to end through the library API: a shrunk generated Qwen3-Embedding checkpoint (real tokenizer and
// sentence-transformers files: LAST pooling, Normalize, the "query" instruction prompt) served by the Embedder on its
// default backend for Qwen3 (the native engine, float32), which picks the decoder scheduler (paged KV, prefix caching,
// chunked prefill).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { PagedReferenceBackend } from '../../src/backends/reference/backend.js';
import { DecoderScheduler } from '../../src/engine/decoder_scheduler.js';
import { Embedder } from '../../src/engine/embedder.js';
import { Scheduler } from '../../src/engine/scheduler.js';
import { fixtureModel } from '../fixtures/generate.js';
import { maxAbsDiff, qwen3FixtureDir } from '../helpers/qwen3_fixture.js';
import { assertRowClose, WHOLE_MODEL_INIT_STD, type RowTolerance } from '../helpers/whole_model.js';

const QUERY_PROMPT = 'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:';
// float32 rows (unit vectors) vs the float64 oracle, on the std-0.1 fixture: measured worst 1 - cos 1.8e-13, max abs
// 2.2e-7 (test/unit/native_qwen3.test.ts); the native float32 bars. Also the bound between two float32 computations.
const TOLERANCE = 1e-6;
const VS_ORACLE: RowTolerance = { cosineDistance: 1e-9, maxAbs: TOLERANCE };

let dir: string;
let embedder: Embedder;
let oracle: PagedReferenceBackend;

function decoderStats(e: Embedder) {
  assert.ok(e.scheduler instanceof DecoderScheduler);
  return e.scheduler.stats;
}

before(async () => {
  dir = await qwen3FixtureDir('BF16', { initStd: WHOLE_MODEL_INIT_STD });
  embedder = await Embedder.load(dir, { tokenizerWorkers: 0, limits: { maxNumBatchedTokens: 16 }, kvCache: { blockSize: 4, numKvBlocks: 256 } });
  oracle = await PagedReferenceBackend.create(embedder.model);
});

after(async () => {
  await embedder?.close();
});

function expectedRow(tokens: Int32Array): Float64Array {
  return oracle.forward64(buildRaggedBatch([tokens], { pooling: 'last', normalize: [true] }))[0];
}

describe('Embedder with a Qwen3 embedding model', () => {
  it('reads the model as sentence-transformers does and runs it with the decoder scheduler', () => {
    assert.equal(embedder.model.settings.pooling, 'last');
    assert.equal(embedder.model.settings.normalize, true);
    assert.equal(embedder.model.settings.prompts.query, QUERY_PROMPT);
    assert.equal(embedder.maxSeqLength, 32768);
    assert.deepEqual(embedder.describeKvCache(), { prefixCaching: true, chunkedPrefill: true, blockSize: 4, numBlocks: 255, maxTokensPerSequence: 1020 });
    assert.equal(embedder.describe().architecture, 'qwen3');
  });

  it('embeds queries with the instruction prompt prepended, pooling the trailing <|endoftext|>, and reuses the prompt blocks', async () => {
    const queries = ['What is the capital of China?', 'Explain gravity'];
    const result = await embedder.embedInputs(queries, { promptName: 'query' });
    const promptIds = embedder.tokenizer.encode(QUERY_PROMPT, { maxLength: 1000, truncation: 'none' });
    const promptLength = promptIds.length - 1; // without its own <|endoftext|>
    queries.forEach((query, i) => {
      const tokens = embedder.tokenize(query, { promptName: 'query' });
      assert.equal(tokens[tokens.length - 1], 151643);
      assert.deepEqual([...tokens.subarray(0, promptLength - 1)], [...promptIds.subarray(0, promptLength - 1)], 'starts with the prompt');
      assertRowClose(result.rows[i], expectedRow(tokens), VS_ORACLE, `query ${i}`);
      assert.ok(Math.abs(Math.hypot(...result.rows[i]) - 1) < 1e-5);
    });
    const hitsBefore = decoderStats(embedder).kv.prefixCache!.numHitTokens;
    const third = await embedder.embedInputs(['How do tides work?'], { promptName: 'query' });
    const hits = decoderStats(embedder).kv.prefixCache!.numHitTokens - hitsBefore;
    assert.ok(hits >= Math.floor((promptLength - 1) / 4) * 4 - 4, `the prompt's full blocks are reused (${hits} tokens)`);
    assertRowClose(third.rows[0], expectedRow(embedder.tokenize('How do tides work?', { promptName: 'query' })), VS_ORACLE, 'third query');
    // The document prompt is empty: a different input, a different vector.
    const [asDocument] = await embedder.embed(['How do tides work?'], { promptName: 'document' });
    assert.ok(maxAbsDiff(asDocument, third.rows[0]) > 1e-3);
  });

  it('chunks a long input over several steps and isolates cache salts', async () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(6);
    const tokens = embedder.tokenize(text);
    assert.ok(tokens.length > 16);
    const chunkedBefore = decoderStats(embedder).numChunkedSequences;
    const a = await embedder.embedSequences([tokens], {}, { cacheSalt: 'tenant-a' });
    assert.equal(decoderStats(embedder).numChunkedSequences, chunkedBefore + 1);
    assertRowClose(a.rows[0], expectedRow(tokens), VS_ORACLE, 'chunked input');
    const hits = () => decoderStats(embedder).kv.prefixCache!.numHitTokens;
    const before = hits();
    await embedder.embedSequences([tokens], {}, { cacheSalt: 'tenant-b' });
    assert.equal(hits(), before, 'another salt reuses nothing');
    const again = await embedder.embedSequences([tokens], {}, { cacheSalt: 'tenant-a' });
    assert.ok(hits() > before);
    assert.ok(maxAbsDiff(again.rows[0], a.rows[0]) <= TOLERANCE);
  });

  it('gives the same vectors with prefix caching off, and says so', async () => {
    const plain = await Embedder.load(dir, { tokenizerWorkers: 0, kvCache: { enablePrefixCaching: false } });
    try {
      const kv = plain.describeKvCache();
      assert.equal(kv.prefixCaching, false);
      assert.equal(kv.chunkedPrefill, true);
      assert.match(kv.reason ?? '', /--no-enable-prefix-caching/);
      const [row] = await plain.embed(['Explain gravity'], { promptName: 'query' });
      const [cached] = await embedder.embed(['Explain gravity'], { promptName: 'query' });
      assert.ok(maxAbsDiff(row, cached) <= TOLERANCE);
    } finally {
      await plain.close();
    }
  });

  it('falls back to whole-sequence causal forwards for pooling that needs every token (and says why)', async () => {
    const meanPooled = await Embedder.load(dir, { tokenizerWorkers: 0, pooling: 'mean' });
    try {
      assert.ok(meanPooled.scheduler instanceof Scheduler);
      const kv = meanPooled.describeKvCache();
      assert.deepEqual([kv.prefixCaching, kv.chunkedPrefill], [false, false]);
      assert.match(kv.reason ?? '', /mean pooling/);
      const tokens = meanPooled.tokenize('Explain gravity');
      const [row] = await meanPooled.embed(['Explain gravity']);
      const want = oracle.forward64(buildRaggedBatch([tokens], { pooling: 'mean', normalize: [true] }))[0];
      assertRowClose(row, want, VS_ORACLE, 'mean pooling');
    } finally {
      await meanPooled.close();
    }
  });

  it('leaves encoder models on the encoder scheduler with neither feature', async () => {
    const bert = await Embedder.load(await fixtureModel('bge-small', { shrink: { numLayers: 1, hiddenSize: 32, numHeads: 2, intermediateSize: 64 } }), {
      tokenizerWorkers: 0,
      kvCache: { enablePrefixCaching: true },
    });
    try {
      assert.ok(bert.scheduler instanceof Scheduler);
      const kv = bert.describeKvCache();
      assert.deepEqual([kv.prefixCaching, kv.chunkedPrefill], [false, false]);
      assert.match(kv.reason ?? '', /encoder model/);
      assert.equal((await bert.embed(['hello'])).length, 1);
    } finally {
      await bert.close();
    }
  });
});
