// `npm run bench:event-loop`: how long the JS thread waits while the native engine computes. Forwards run back to
// back for --seconds on a seeded random-weight bge-small (full size unless shrunk), a 10 ms interval timer ticks
// alongside, and monitorEventLoopDelay samples the loop. The test (test/unit/native_event_loop.test.ts) only checks
// that the loop turns while a forward is pending; the delays here depend on the machine and its load, so they are
// measured, not asserted.
//
// Reading the numbers: with every core busy in the forward, the JS thread waits for the OS scheduler now and then
// (a few ms); a forward computed on the JS thread would delay the loop by the whole forward (see "forward ms").
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { buildRaggedBatch } from '../backends/backend.js';
import { createNativeBackend } from '../backends/native/backend.js';
import { loadModel } from '../model/load.js';
import { ensureSyntheticModel } from '../model/synthetic_cache.js';
import { formatTable } from './stats.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    layers: { type: 'string' }, // default: the model's 12
    sequences: { type: 'string', default: '16' },
    tokens: { type: 'string', default: '256' },
    threads: { type: 'string' }, // default: the backend's
    seconds: { type: 'string', default: '3' },
  },
});

const positive = (name: keyof typeof values, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, got ${text}`);
  return n;
};

const numLayers = positive('layers', values.layers);
const modelDir =
  values.model ?? (await ensureSyntheticModel('bge-small', { seed: 0, label: 'bench', shape: numLayers === undefined ? undefined : { numLayers } }));
const model = await loadModel(modelDir);
const backend = await createNativeBackend(model, { threads: positive('threads', values.threads) });
try {
  const V = model.config.vocabSize;
  const numSequences = positive('sequences', values.sequences)!;
  const numTokens = positive('tokens', values.tokens)!;
  const sequences = Array.from({ length: numSequences }, (_, s) => Array.from({ length: numTokens }, (_, i) => (i * 31 + s * 977) % V));
  const batch = buildRaggedBatch(sequences, { pooling: 'cls' });
  await backend.forward(buildRaggedBatch([[101, 102]], { pooling: 'cls' })); // warm-up: buffers, threads

  const histogram = monitorEventLoopDelay({ resolution: 5 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  histogram.enable();
  const start = performance.now();
  let rounds = 0;
  while (performance.now() - start < positive('seconds', values.seconds)! * 1000) {
    await backend.forward(batch);
    rounds++;
  }
  const elapsedMs = performance.now() - start;
  histogram.disable();
  clearInterval(timer);

  const ms = (nanoseconds: number): string => (nanoseconds / 1e6).toFixed(1);
  console.log(
    `native ${backend.threads} threads, ${numSequences} x ${numTokens} tokens per forward, ${model.config.numLayers} layers, hidden ${model.config.hiddenSize}`,
  );
  console.log(
    formatTable(
      ['forward ms', 'forwards', 'delay p50 ms', 'delay p99 ms', 'delay max ms', 'ticks', 'ticks expected'],
      [
        [
          (elapsedMs / rounds).toFixed(0),
          String(rounds),
          ms(histogram.percentile(50)),
          ms(histogram.percentile(99)),
          ms(histogram.max),
          String(ticks),
          String(Math.floor(elapsedMs / 10)),
        ],
      ],
    ),
  );
} finally {
  await backend.dispose();
}
