// A forward computes off the JS thread: while a long batch runs on the native engine, timers keep firing on time.
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'node:test';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { createNativeBackend } from '../../src/backends/native/backend.js';
import { loadModel } from '../../src/model/load.js';
import { fixtureModel } from '../fixtures/generate.js';

test('the event loop stays responsive during a long forward', async () => {
  const model = await loadModel(await fixtureModel('bge-small'));
  const backend = await createNativeBackend(model);
  try {
    const V = model.config.vocabSize;
    const sequences = Array.from({ length: 16 }, (_, s) => Array.from({ length: 256 }, (_, i) => (i * 31 + s * 977) % V));
    const batch = buildRaggedBatch(sequences, { pooling: 'cls' });
    await backend.forward(buildRaggedBatch([[101, 102]], { pooling: 'cls' })); // warm-up: buffers, threads

    const histogram = monitorEventLoopDelay({ resolution: 5 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    histogram.enable();
    const start = performance.now();
    let rounds = 0;
    // At least ~1 s of native compute, so a blocked loop could not hide between samples.
    while (performance.now() - start < 1000) {
      await backend.forward(batch);
      rounds++;
    }
    const elapsed = performance.now() - start;
    histogram.disable();
    clearInterval(timer);

    const maxDelayMs = histogram.max / 1e6;
    const p99DelayMs = histogram.percentile(99) / 1e6;
    // Every core is busy with the forward, so the JS thread waits for the scheduler now and then (a few ms);
    // a forward on the JS thread would block it for the whole batch (hundreds of ms).
    const forwardMs = elapsed / rounds;
    assert.ok(p99DelayMs < 50, `p99 event-loop delay ${p99DelayMs.toFixed(1)} ms (forward ${forwardMs.toFixed(0)} ms)`);
    assert.ok(maxDelayMs < Math.max(100, forwardMs / 2), `max event-loop delay ${maxDelayMs.toFixed(1)} ms (forward ${forwardMs.toFixed(0)} ms)`);
    assert.ok(ticks >= (elapsed / 10) * 0.5, `only ${ticks} timer ticks in ${elapsed.toFixed(0)} ms`);
    console.log(`# forward ${forwardMs.toFixed(0)} ms x ${rounds}; event-loop delay p99 ${p99DelayMs.toFixed(1)} ms, max ${maxDelayMs.toFixed(1)} ms; ${ticks} ticks`);
  } finally {
    await backend.dispose();
  }
});
