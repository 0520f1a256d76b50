// `npm run bench:serve`: HTTP serving throughput and latency next to the engine's own throughput on the same
// inputs, measured side by side in one run (both share this machine, so the ratio is what matters).
//
//   server rows: concurrency 1, 4, 16, 64 x requests of 1 text and of 32 texts, over loopback HTTP
//   engine row:  the same texts submitted straight to the scheduler (no HTTP, no JSON), best of 3 chunk sizes
//
// Targets (issue "Serving under load"): at 32-text requests the server adds <= 5% over the engine
// (ratio >= 0.95), and single-text requests at concurrency 64 reach >= 80% of the engine's batched throughput.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

import type { BackendName } from '../backends/backend.js';
import { ensureSyntheticModel } from '../model/synthetic_cache.js';
import { Embedder } from '../engine/embedder.js';
import { buildServer } from '../server/app.js';
import { formatTable, quantile } from './stats.js';
import { syntheticTexts } from './synthetic_texts.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    model: { type: 'string' },
    words: { type: 'string', default: '48' },
    texts: { type: 'string', default: '2048' },
    concurrency: { type: 'string', default: '1,4,16,64' },
  },
});

async function main(): Promise<void> {
  const modelPath = values.model ?? (await ensureSyntheticModel('bge-small', { seed: 7, label: 'bench' }));
  const embedder = await Embedder.load(modelPath, { backend: values.backend as BackendName, threads: cpus().length });
  const numTexts = Number(values.texts);
  const texts = syntheticTexts(numTexts, Number(values.words));
  const sequences = texts.map((t) => embedder.tokenize(t));
  const numTokens = sequences.reduce((n, s) => n + s.length, 0);
  console.log(
    `model ${modelPath}\nbackend ${embedder.backend.name}, ${cpus().length} cores, ${numTexts} texts, ${(numTokens / numTexts).toFixed(1)} tokens/text`,
  );

  // Warm up (first-touch allocations, JIT) before any timing.
  await embedder.embedSequences(sequences.slice(0, 64));

  // The engine's best batched throughput: the same sequences straight to the scheduler, in chunks of several
  // sizes (all at once included); the best chunk size is the bar the server is measured against.
  let engineSeconds = Infinity;
  for (const chunk of [32, 128, numTexts]) {
    const started = performance.now();
    for (let i = 0; i < numTexts; i += chunk) await embedder.embedSequences(sequences.slice(i, i + chunk));
    engineSeconds = Math.min(engineSeconds, (performance.now() - started) / 1000);
  }
  const engineTextsPerSecond = numTexts / engineSeconds;

  const app = buildServer(embedder, { maxInputsPerRequest: 64 });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const rows: string[][] = [];
  rows.push(['engine', '-', '-', engineTextsPerSecond.toFixed(1), (numTokens / engineSeconds).toFixed(0), '-', '-', '1.000']);
  for (const textsPerRequest of [1, 32]) {
    for (const concurrency of String(values.concurrency).split(',').map(Number)) {
      const bodies: string[] = [];
      for (let i = 0; i < numTexts; i += textsPerRequest) bodies.push(JSON.stringify({ input: texts.slice(i, i + textsPerRequest) }));
      const latencies: number[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < bodies.length) {
            const body = bodies[next++];
            const t0 = performance.now();
            const res = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
            if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
            await res.arrayBuffer();
            latencies.push(performance.now() - t0);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const tps = numTexts / seconds;
      rows.push([
        `server`,
        String(textsPerRequest),
        String(concurrency),
        tps.toFixed(1),
        (numTokens / seconds).toFixed(0),
        quantile(latencies, 0.5).toFixed(1),
        quantile(latencies, 0.99).toFixed(1),
        (tps / engineTextsPerSecond).toFixed(3),
      ]);
    }
  }
  await app.close();
  await embedder.close();
  console.log(`\n${formatTable(['path', 'texts/req', 'concurrency', 'texts/s', 'tokens/s', 'p50 ms', 'p99 ms', 'ratio vs engine'], rows)}`);
  console.log('\ntargets: 32 texts/req ratio >= 0.95; 1 text/req at concurrency 64 ratio >= 0.80');
}

await main();
