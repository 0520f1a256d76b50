// A forward computes off the JS thread: while a batch runs on the native engine, the event loop keeps turning.
// Only the behaviour is asserted (the loop turned while the forward was pending); how long the loop waits depends on
// the machine and its load and is measured by `npm run bench:event-loop` (src/bench/event_loop.ts) instead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { createNativeBackend } from '../../src/backends/native/backend.js';
import { loadModel } from '../../src/model/load.js';
import { fixtureModel } from '../fixtures/generate.js';

test('the event loop keeps turning while a forward is pending', async () => {
  const model = await loadModel(await fixtureModel('bge-small'));
  const backend = await createNativeBackend(model);
  try {
    const V = model.config.vocabSize;
    // 12 layers x 4 x 256 tokens: far longer than one turn of the loop however fast the machine.
    const sequences = Array.from({ length: 4 }, (_, s) => Array.from({ length: 256 }, (_, i) => (i * 31 + s * 977) % V));
    const batch = buildRaggedBatch(sequences, { pooling: 'cls' });
    await backend.forward(buildRaggedBatch([[101, 102]], { pooling: 'cls' })); // warm-up: buffers, threads

    let settled = false;
    let turnsWhilePending = 0;
    const pending = backend.forward(batch).finally(() => (settled = true));
    // A forward computed on the JS thread would return an already-settled promise (its .finally runs as a microtask,
    // before any timer), so it would count no turns at all. Turns are 1 ms timers, not setImmediate, so counting
    // them does not spin a core the forward's threads need.
    await new Promise<void>((resolve) => {
      const turn = (): void => {
        if (settled) {
          resolve();
          return;
        }
        turnsWhilePending++;
        setTimeout(turn, 1);
      };
      setTimeout(turn, 1);
    });
    const rows = await pending;
    assert.equal(rows.length, sequences.length);
    assert.ok(turnsWhilePending > 0, 'the event loop turned while the forward was pending');
    console.log(`# ${turnsWhilePending} event-loop turns during one forward`);
  } finally {
    await backend.dispose();
  }
});
