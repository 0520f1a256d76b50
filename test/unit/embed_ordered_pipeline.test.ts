// The ordered pipeline: chunks sized like scheduler steps, a bounded number in flight (what keeps memory flat), the
// scheduler's queue limit respected, bad lines kept in place, and chunks consumed strictly in input order even when
// the engine finishes them out of order.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { Embedder } from '../../src/engine/embedder.js';
import { OrderedPipeline, type EmbeddedChunk, type PipelineLimits } from '../../src/embed/ordered_pipeline.js';

/** An engine whose submissions finish when the test says, each row [first token id, length]. */
class ManualEngine {
  readonly pending: { resolve: () => void; numTokens: number }[] = [];
  maxPending = 0;
  embedSequences(sequences: readonly Int32Array[]) {
    return new Promise<{ rows: Float32Array[] }>((resolve) => {
      const numTokens = sequences.reduce((n, s) => n + s.length, 0);
      this.pending.push({ numTokens, resolve: () => resolve({ rows: sequences.map((s) => Float32Array.of(s[0], s.length)) }) });
      this.maxPending = Math.max(this.maxPending, this.pending.length);
    });
  }
  finishAll(): void {
    for (const p of this.pending.splice(0)) p.resolve();
  }
}

const LIMITS: PipelineLimits = { maxTokensPerChunk: 10, maxDocumentsPerChunk: 3, maxQueuedTokens: 1000, maxInFlightChunks: 2 };

function setup(limits = LIMITS) {
  const engine = new ManualEngine();
  const consumed: EmbeddedChunk[] = [];
  const pipeline = new OrderedPipeline(
    engine as unknown as Embedder,
    { dimensions: 0, normalize: true },
    limits,
    { inputOffset: 0, nextLineNumber: 1 },
    async (chunk) => {
      consumed.push(chunk);
    },
  );
  return { engine, consumed, pipeline };
}

const doc = (first: number, length: number) => Int32Array.from({ length }, (_, i) => first + i);

test('a chunk is full at the token budget or the document cap', () => {
  const { pipeline } = setup();
  pipeline.addDocument('a', doc(1, 4));
  pipeline.addDocument('b', doc(2, 4));
  assert.equal(pipeline.isChunkFull, false);
  pipeline.addDocument('c', doc(3, 1));
  assert.equal(pipeline.isChunkFull, true, '3 documents');
  const other = setup().pipeline;
  other.addDocument('x', doc(1, 10));
  assert.equal(other.isChunkFull, true, '10 tokens');
});

test('at most maxInFlightChunks wait in the engine; more waits for the oldest to be consumed', async () => {
  const { engine, consumed, pipeline } = setup();
  let lineNumber = 1;
  const addChunk = async (id: string) => {
    pipeline.addDocument(id, doc(lineNumber, 10));
    pipeline.advanceTo({ inputOffset: lineNumber * 100, nextLineNumber: lineNumber + 1 });
    lineNumber++;
    await pipeline.submit();
  };
  await addChunk('a');
  await addChunk('b');
  assert.equal(engine.pending.length, 2);
  const third = addChunk('c'); // blocks: two are in flight
  await new Promise((r) => setImmediate(r));
  assert.equal(engine.pending.length, 2, 'the third chunk waits');
  assert.equal(consumed.length, 0);
  engine.finishAll();
  await third;
  assert.deepEqual(
    consumed.map((c) => c.items.map((i) => (i.kind === 'document' ? i.id : '?'))),
    [['a']],
  );
  engine.finishAll();
  await pipeline.drain();
  engine.finishAll();
  assert.equal(engine.maxPending, 2);
  assert.deepEqual(
    consumed.map((c) => c.end),
    [
      { inputOffset: 100, nextLineNumber: 2 },
      { inputOffset: 200, nextLineNumber: 3 },
      { inputOffset: 300, nextLineNumber: 4 },
    ],
  );
});

test('the scheduler queue limit bounds the tokens in flight', async () => {
  const { engine, pipeline } = setup({ ...LIMITS, maxTokensPerChunk: 6, maxQueuedTokens: 12, maxInFlightChunks: 10 });
  pipeline.addDocument('a', doc(1, 6));
  await pipeline.submit();
  pipeline.addDocument('b', doc(2, 6));
  await pipeline.submit();
  pipeline.addDocument('c', doc(3, 6));
  const third = pipeline.submit();
  await new Promise((r) => setImmediate(r));
  assert.equal(engine.pending.length, 2, '12 tokens in flight: the third chunk would exceed the queue limit');
  engine.finishAll();
  await third;
  assert.equal(engine.pending.length, 1);
  engine.finishAll();
  await pipeline.drain();
});

test('bad lines keep their place between documents, rows pair with their documents', async () => {
  const { engine, consumed, pipeline } = setup({ ...LIMITS, maxInFlightChunks: 1 });
  pipeline.addDocument('a', doc(10, 2));
  pipeline.addBadLine(2, undefined, 'not valid JSON');
  pipeline.addDocument('c', doc(30, 3));
  pipeline.addBadLine(4, 'd', 'empty text');
  pipeline.advanceTo({ inputOffset: 40, nextLineNumber: 5 });
  const drained = pipeline.drain();
  await new Promise((r) => setImmediate(r));
  engine.finishAll();
  await drained;
  assert.equal(consumed.length, 1);
  assert.deepEqual(consumed[0].items, [
    { kind: 'document', id: 'a', numTokens: 2 },
    { kind: 'bad', lineNumber: 2, id: undefined, reason: 'not valid JSON' },
    { kind: 'document', id: 'c', numTokens: 3 },
    { kind: 'bad', lineNumber: 4, id: 'd', reason: 'empty text' },
  ]);
  assert.deepEqual(
    consumed[0].rows.map((r) => Array.from(r)),
    [
      [10, 2],
      [30, 3],
    ],
  );
});

test('a chunk of only bad lines needs no engine call and still comes out in order', async () => {
  const { engine, consumed, pipeline } = setup();
  pipeline.addBadLine(1, undefined, 'empty line');
  pipeline.advanceTo({ inputOffset: 1, nextLineNumber: 2 });
  await pipeline.drain();
  assert.equal(engine.maxPending, 0);
  assert.equal(consumed.length, 1);
  assert.deepEqual(consumed[0].rows, []);
});

test('chunks finished out of order by the engine are still consumed in input order', async () => {
  const { engine, consumed, pipeline } = setup({ ...LIMITS, maxInFlightChunks: 3 });
  for (const id of ['a', 'b', 'c']) {
    pipeline.addDocument(id, doc(id.charCodeAt(0), 10));
    await pipeline.submit();
  }
  // Finish the newest first.
  for (const p of engine.pending.splice(0).reverse()) p.resolve();
  await pipeline.drain();
  assert.deepEqual(
    consumed.map((c) => (c.items[0].kind === 'document' ? c.items[0].id : '?')),
    ['a', 'b', 'c'],
  );
});
