// `pooled embed` throughput next to the engine's own throughput on the same inputs, measured side by side in one
// process (both share this machine, so the ratio is what matters):
//
//   engine forward     the corpus pre-tokenized, submitted straight to the scheduler: the compute ceiling
//   engine embed()     Embedder.embed(texts) on the whole corpus in memory: tokenization + compute, the library's
//                      best case and the reference for the target
//   pooled embed       runEmbedJob on the corpus as a JSONL file: read, parse, tokenize, compute, write, fsync,
//                      journal; once into .jsonl and once into .npy
//
// Target (issue "Offline batch embedding"): pooled embed within 5% of the engine (ratio >= 0.95 to engine embed()).
// Each measurement runs `rounds` times, interleaved, and the best round counts, so a noisy neighbour hurts all alike.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Embedder } from '../engine/embedder.js';
import { runEmbedJob } from '../embed/job.js';

export interface EmbedBenchmarkOptions {
  readonly texts: readonly string[];
  readonly rounds: number;
  /** Where the corpus and outputs go; a fresh temporary folder (removed afterwards) by default. */
  readonly workDir?: string;
}

export interface ThroughputRow {
  readonly name: string;
  readonly seconds: number;
  readonly docsPerSecond: number;
  readonly tokensPerSecond: number;
}

export interface EmbedBenchmarkResult {
  readonly numDocs: number;
  readonly numTokens: number;
  readonly engineForward: ThroughputRow;
  readonly engineEmbed: ThroughputRow;
  readonly pooledJsonl: ThroughputRow;
  readonly pooledNpy: ThroughputRow;
}

export const TARGET_RATIO = 0.95;

async function timeIt(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

export async function runEmbedBenchmark(embedder: Embedder, opts: EmbedBenchmarkOptions): Promise<EmbedBenchmarkResult> {
  const workDir = opts.workDir ?? (await mkdtemp(join(tmpdir(), 'pooled-bench-embed-')));
  try {
    const texts = opts.texts;
    const input = join(workDir, 'corpus.jsonl');
    await writeFile(input, texts.map((text, i) => `${JSON.stringify({ id: `doc-${i}`, text })}\n`).join(''));
    const sequences = texts.map((t) => embedder.tokenize(t));
    const numTokens = sequences.reduce((n, s) => n + s.length, 0);

    // Warm up (JIT, first-touch allocations, tokenizer caches) before any timing.
    await embedder.embed(texts.slice(0, 64));

    const best = { forward: Infinity, embed: Infinity, jsonl: Infinity, npy: Infinity };
    for (let round = 0; round < opts.rounds; round++) {
      best.forward = Math.min(best.forward, await timeIt(() => embedder.embedSequences(sequences)));
      best.embed = Math.min(best.embed, await timeIt(() => embedder.embed(texts)));
      for (const format of ['jsonl', 'npy'] as const) {
        const seconds = await timeIt(async () => {
          const summary = await runEmbedJob(embedder, { input, output: join(workDir, `out.${format}`), overwrite: true, progress: 'none' });
          if (summary.numTokens !== numTokens || summary.numDocuments !== texts.length) {
            throw new Error(`pooled embed counted ${summary.numDocuments} docs / ${summary.numTokens} tokens, the engine ${texts.length} / ${numTokens}`);
          }
        });
        best[format] = Math.min(best[format], seconds);
      }
    }
    const row = (name: string, seconds: number): ThroughputRow => ({
      name,
      seconds,
      docsPerSecond: texts.length / seconds,
      tokensPerSecond: numTokens / seconds,
    });
    return {
      numDocs: texts.length,
      numTokens,
      engineForward: row('engine forward (pre-tokenized)', best.forward),
      engineEmbed: row('engine embed(texts)', best.embed),
      pooledJsonl: row('pooled embed -> .jsonl', best.jsonl),
      pooledNpy: row('pooled embed -> .npy', best.npy),
    };
  } finally {
    if (!opts.workDir) await rm(workDir, { recursive: true, force: true });
  }
}
