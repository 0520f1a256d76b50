import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { Backend, RaggedBatch } from '../../src/backends/backend.js';
import { Scheduler } from '../../src/engine/scheduler.js';
import { OverloadedError } from '../../src/errors.js';

/** A backend that records each batch and returns, per sequence, [first token id, length, dimensions, normalize]. */
class RecordingBackend implements Backend {
  readonly name = 'reference' as const;
  readonly batches: RaggedBatch[] = [];
  failNext = false;
  async forward(batch: RaggedBatch): Promise<Float32Array[]> {
    this.batches.push(batch);
    await new Promise((r) => setImmediate(r));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('backend exploded');
    }
    const rows: Float32Array[] = [];
    for (let i = 0; i + 1 < batch.cuSeqLens.length; i++) {
      const start = batch.cuSeqLens[i];
      rows.push(Float32Array.of(batch.tokenIds[start], batch.cuSeqLens[i + 1] - start, batch.dimensions[i], batch.normalize[i]));
    }
    return rows;
  }
  async dispose(): Promise<void> {}
}

const seq = (first: number, length: number) => Int32Array.from({ length }, (_, i) => first + i);

test('sequences of concurrent requests share ragged batches under the token budget, in FIFO order', async () => {
  const backend = new RecordingBackend();
  const scheduler = new Scheduler(backend, 'mean', { maxNumBatchedTokens: 10, maxNumSeqs: 8, maxQueuedTokens: 1000 }, 0);
  const a = scheduler.submit([seq(100, 4), seq(200, 4)], { dimensions: 0, normalize: true });
  const b = scheduler.submit([seq(300, 3), seq(400, 9)], { dimensions: 2, normalize: false });
  const [{ rows: rowsA }, { rows: rowsB }] = await Promise.all([a, b]);
  assert.deepEqual(
    rowsA.map((r) => Array.from(r)),
    [
      [100, 4, 0, 1],
      [200, 4, 0, 1],
    ],
  );
  assert.deepEqual(
    rowsB.map((r) => Array.from(r)),
    [
      [300, 3, 2, 0],
      [400, 9, 2, 0],
    ],
  );
  // Step 1 starts as soon as a is queued: 4 + 4 = 8 tokens. b arrives during it: 3 + 9 > 10, so 3 then 9.
  const sizes = backend.batches.map((b) => Array.from(b.cuSeqLens));
  assert.deepEqual(sizes, [
    [0, 4, 8],
    [0, 3],
    [0, 9],
  ]);
  // Positions restart at 0 in every sequence; no padding anywhere.
  assert.deepEqual(Array.from(backend.batches[0].positions), [0, 1, 2, 3, 0, 1, 2, 3]);
  assert.equal(scheduler.queuedTokens, 0);
});

test('positions start at the first position the scheduler was given (RoBERTa: pad_token_id + 1)', async () => {
  const backend = new RecordingBackend();
  const scheduler = new Scheduler(backend, 'cls', { maxNumBatchedTokens: 100, maxNumSeqs: 8, maxQueuedTokens: 1000 }, 2);
  await scheduler.submit([seq(5, 3), seq(9, 2)], { dimensions: 0, normalize: true });
  assert.deepEqual(Array.from(backend.batches[0].positions), [2, 3, 4, 2, 3]);
  await scheduler.close();
});

test('a sequence longer than the budget still runs (alone)', async () => {
  const backend = new RecordingBackend();
  const scheduler = new Scheduler(backend, 'cls', { maxNumBatchedTokens: 4, maxNumSeqs: 8, maxQueuedTokens: 1000 }, 0);
  const { rows } = await scheduler.submit([seq(1, 20)], { dimensions: 0, normalize: false });
  assert.equal(rows[0][1], 20);
});

test('the sequence cap limits a step', async () => {
  const backend = new RecordingBackend();
  const scheduler = new Scheduler(backend, 'cls', { maxNumBatchedTokens: 1000, maxNumSeqs: 2, maxQueuedTokens: 1000 }, 0);
  await Promise.all([
    scheduler.submit([seq(1, 1)], { dimensions: 0, normalize: false }),
    scheduler.submit([seq(2, 1), seq(3, 1), seq(4, 1)], { dimensions: 0, normalize: false }),
  ]);
  assert.ok(backend.batches.every((b) => b.cuSeqLens.length - 1 <= 2));
  assert.equal(
    backend.batches.reduce((n, b) => n + b.cuSeqLens.length - 1, 0),
    4,
  );
});

test('a full queue refuses with OverloadedError (429) instead of waiting', async () => {
  const backend = new RecordingBackend();
  const scheduler = new Scheduler(backend, 'cls', { maxNumBatchedTokens: 4, maxNumSeqs: 8, maxQueuedTokens: 10 }, 0);
  const first = scheduler.submit([seq(1, 8)], { dimensions: 0, normalize: false });
  await assert.rejects(scheduler.submit([seq(1, 8)], { dimensions: 0, normalize: false }), (err: unknown) => {
    assert.ok(err instanceof OverloadedError);
    assert.equal(err.status, 429);
    return true;
  });
  await first;
  // Once drained, the same request is admitted.
  await scheduler.submit([seq(1, 8)], { dimensions: 0, normalize: false });
});

test('a backend failure rejects the requests of that step and the scheduler keeps serving', async () => {
  const backend = new RecordingBackend();
  const scheduler = new Scheduler(backend, 'cls', { maxNumBatchedTokens: 100, maxNumSeqs: 8, maxQueuedTokens: 1000 }, 0);
  backend.failNext = true;
  await assert.rejects(scheduler.submit([seq(1, 3)], { dimensions: 0, normalize: false }), /backend exploded/);
  const { rows } = await scheduler.submit([seq(5, 3)], { dimensions: 0, normalize: false });
  assert.equal(rows[0][0], 5);
  assert.equal(scheduler.queuedTokens, 0);
});

test('close() finishes admitted work, then refuses new work', async () => {
  const backend = new RecordingBackend();
  const scheduler = new Scheduler(backend, 'cls', { maxNumBatchedTokens: 2, maxNumSeqs: 8, maxQueuedTokens: 1000 }, 0);
  const pending = scheduler.submit([seq(1, 2), seq(2, 2), seq(3, 2)], { dimensions: 0, normalize: false });
  const closed = scheduler.close();
  assert.equal((await pending).rows.length, 3);
  await closed;
  await assert.rejects(scheduler.submit([seq(1, 1)], { dimensions: 0, normalize: false }), OverloadedError);
});

test('lower priority runs first; equal priorities keep arrival order', async () => {
  const backend = new RecordingBackend();
  const scheduler = new Scheduler(backend, 'cls', { maxNumBatchedTokens: 1, maxNumSeqs: 1, maxQueuedTokens: 1000 }, 0);
  const order: number[] = [];
  const submit = (first: number, priority: number) =>
    scheduler.submit([seq(first, 1)], { dimensions: 0, normalize: false, priority }).then(() => order.push(first));
  // The first request starts at once; the rest wait and are reordered by priority.
  await Promise.all([submit(1, 0), submit(2, 5), submit(3, -1), submit(4, 5), submit(5, 0)]);
  assert.deepEqual(order, [1, 3, 5, 2, 4]);
});

test('an aborted request is dropped before compute and frees its queued tokens', async () => {
  const backend = new RecordingBackend();
  const scheduler = new Scheduler(backend, 'cls', { maxNumBatchedTokens: 4, maxNumSeqs: 8, maxQueuedTokens: 1000 }, 0);
  const first = scheduler.submit([seq(1, 4)], { dimensions: 0, normalize: false });
  const controller = new AbortController();
  const doomed = scheduler.submit([seq(500, 4), seq(600, 4)], { dimensions: 0, normalize: false, signal: controller.signal });
  assert.equal(scheduler.queuedTokens, 12);
  controller.abort(new Error('client went away'));
  await assert.rejects(doomed, /client went away/);
  assert.equal(scheduler.queuedTokens, 4);
  await first;
  const computed = backend.batches.flatMap((b) => Array.from(b.tokenIds));
  assert.ok(!computed.includes(500) && !computed.includes(600), 'cancelled work must not reach the backend');
});

test('results carry queue and inference time', async () => {
  const backend = new RecordingBackend();
  const scheduler = new Scheduler(backend, 'cls', { maxNumBatchedTokens: 4, maxNumSeqs: 8, maxQueuedTokens: 1000 }, 0);
  const [a, b] = await Promise.all([
    scheduler.submit([seq(1, 4)], { dimensions: 0, normalize: false }),
    scheduler.submit([seq(2, 4)], { dimensions: 0, normalize: false }),
  ]);
  assert.ok(a.inferenceSeconds > 0 && b.inferenceSeconds > 0);
  assert.ok(b.queueSeconds >= a.inferenceSeconds * 0.5, "b waited for a's step");
});
