// `npm run bench:embed [-- --backend cpu --docs 20000 --words 48 --rounds 3 --model <folder | HF id>]`: prints
// documents/s and tokens/s of `pooled embed` next to the engine's raw throughput on the same inputs, in one run.
// Without --model it uses a seeded random-weight checkpoint in bge-small's exact layout (speed depends on shapes,
// not on weight values); --shape L,H,A,I reshapes it (layers, hidden, heads, intermediate) for slow backends.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

import type { BackendName } from '../backends/backend.js';
import { BACKEND_NAMES } from '../backends/select.js';
import { Embedder } from '../engine/embedder.js';
import { ensureSyntheticModel, type ModelShape } from '../model/synthetic_cache.js';
import { runEmbedBenchmark, TARGET_RATIO, type ThroughputRow } from './embed_bench.js';
import { formatTable } from './stats.js';
import { syntheticTexts } from './synthetic_texts.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    model: { type: 'string' },
    shape: { type: 'string' },
    threads: { type: 'string', default: String(cpus().length) },
    docs: { type: 'string', default: '1000' },
    words: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    'tokenizer-workers': { type: 'string', default: '0' },
  },
});

function parseShape(text: string | undefined): ModelShape | undefined {
  if (text === undefined) return undefined;
  const [numLayers, hiddenSize, numHeads, intermediateSize] = text.split(',').map(Number);
  if (![numLayers, hiddenSize, numHeads, intermediateSize].every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(`--shape takes layers,hidden,heads,intermediate (e.g. 2,128,4,512); got "${text}"`);
  }
  return { numLayers, hiddenSize, numHeads, intermediateSize };
}

async function main(): Promise<number> {
  const backend = values.backend as BackendName;
  if (!BACKEND_NAMES.includes(backend)) throw new Error(`--backend must be one of ${BACKEND_NAMES.join(', ')}`);
  // The reference backend computes in float64 TypeScript: full bge-small would take an hour per thousand documents.
  const shape = parseShape(values.shape ?? (backend === 'reference' && !values.model ? '1,64,2,256' : undefined));
  const modelPath = values.model ?? (await ensureSyntheticModel('bge-small', { seed: 7, shape, label: 'bench' }));
  // Tokenizer workers off by default: pooled embed tokenizes on its own thread, so the engine does too and the ratio
  // measures the job's overhead (reading, parsing, writing, syncing), not a different tokenization strategy.
  const tokenizerWorkers = Number(values['tokenizer-workers']);
  const embedder = await Embedder.load(modelPath, { backend, threads: Number(values.threads), tokenizerWorkers });
  try {
    const texts = syntheticTexts(Number(values.docs), Number(values.words));
    const { hiddenSize, numLayers } = embedder.model.config;
    process.stdout.write(
      `model ${modelPath} (${numLayers} layers, hidden ${hiddenSize})\n` +
        `backend ${embedder.backend.name}, ${values.threads} threads on ${cpus().length} cores, ${tokenizerWorkers} tokenizer workers, ` +
        `${texts.length} docs of ${values.words} words\n`,
    );
    const result = await runEmbedBenchmark(embedder, { texts, rounds: Number(values.rounds) });
    const reference = result.engineEmbed;
    const line = (r: ThroughputRow) => [
      r.name,
      r.seconds.toFixed(2),
      r.docsPerSecond.toFixed(1),
      r.tokensPerSecond.toFixed(0),
      (r.docsPerSecond / reference.docsPerSecond).toFixed(3),
    ];
    process.stdout.write(
      `${result.numTokens} tokens (${(result.numTokens / result.numDocs).toFixed(1)} per doc), best of ${values.rounds} rounds\n\n` +
        formatTable(
          ['', 'seconds', 'docs/s', 'tokens/s', 'vs engine embed()'],
          [line(result.engineForward), line(result.engineEmbed), line(result.pooledJsonl), line(result.pooledNpy)],
        ) +
        '\n\n',
    );
    const worst = Math.min(result.pooledJsonl.docsPerSecond, result.pooledNpy.docsPerSecond) / reference.docsPerSecond;
    const verdict = worst >= TARGET_RATIO ? 'met' : 'NOT met';
    process.stdout.write(`target: pooled embed >= ${TARGET_RATIO} x engine embed() throughput: ${verdict} (worst ratio ${worst.toFixed(3)})\n`);
    return 0;
  } finally {
    await embedder.close();
  }
}

process.exitCode = await main();
