// `npm run bench:prefix`: what paged KV buys a decoder embedding model, measured side by side in one run.
//
//   1. Prefix caching: instruction-prefixed queries (Qwen3-Embedding's "query" prompt + a short query), the same
//      inputs through the decoder scheduler with the prefix cache on and off: throughput of each, the ratio, and
//      the hit rate (cached tokens / queried tokens). Target (issue 6): >= 3x with the cache on for 20-token queries.
//      What the ratio can reach is bounded by total tokens / tokens still computed: the bench prints that bound.
//   2. Chunked prefill: long documents computed in chunks of --chunk tokens (KV kept in blocks between steps) vs in
//      one shot (whole sequence per step, no KV cache): tokens/s and peak memory (max RSS of a child process per
//      mode, so the two don't share a heap), and the largest difference between the two modes' vectors.
//
// Backend: --backend cpu (default: the native engine, paged KV through block tables) or reference (float64
// TypeScript; its speed says nothing about production, but ratios between modes on one backend are meaningful).
// The model is a seeded random-weight checkpoint in Qwen3-Embedding-0.6B's layout, shrunk (--layers, --hidden, ...)
// by default so either backend finishes in minutes.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import type { PagedKvBackend } from '../backends/backend.js';
import { BACKEND_NAMES, createBackend } from '../backends/select.js';
import type { BackendName } from '../backends/backend.js';
import { DecoderScheduler } from '../engine/decoder_scheduler.js';
import { Embedder } from '../engine/embedder.js';
import { Scheduler, type EmbeddingScheduler, type SchedulerLimits } from '../engine/scheduler.js';
import { firstPositionOf } from '../model/architectures/registry.js';
import { loadModel } from '../model/load.js';
import { ensureSyntheticModel } from '../model/synthetic_cache.js';
import { formatTable } from './stats.js';
import { syntheticTexts } from './synthetic_texts.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    model: { type: 'string' },
    layers: { type: 'string', default: '2' },
    hidden: { type: 'string', default: '128' },
    heads: { type: 'string', default: '4' },
    'kv-heads': { type: 'string', default: '2' },
    'head-dim': { type: 'string', default: '32' },
    intermediate: { type: 'string', default: '384' },
    queries: { type: 'string', default: '256' },
    'query-words': { type: 'string', default: '18' }, // about 20 tokens with the trailing <|endoftext|>
    'per-request': { type: 'string', default: '16' },
    'block-size': { type: 'string', default: '16' },
    'max-num-batched-tokens': { type: 'string', default: '2048' },
    docs: { type: 'string', default: '2' },
    'doc-tokens': { type: 'string', default: '2048' },
    chunk: { type: 'string', default: '512' },
    'skip-prefix': { type: 'boolean', default: false },
    'skip-long': { type: 'boolean', default: false },
    'long-doc-worker': { type: 'string' }, // internal: 'one-shot' | 'chunked', run in a child process
  },
});

const int = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${values[name]}`);
  return n;
};

async function modelPath(): Promise<string> {
  if (values.model !== undefined) return values.model;
  return ensureSyntheticModel('qwen3-embedding', {
    seed: 7,
    label: 'bench',
    shape: {
      numLayers: int('layers'),
      hiddenSize: int('hidden'),
      numHeads: int('heads'),
      numKeyValueHeads: int('kv-heads'),
      headDim: int('head-dim'),
      intermediateSize: int('intermediate'),
    },
  });
}

interface PrefixRun {
  readonly seconds: number;
  readonly hitRate: number;
}

async function runQueries(embedder: Embedder, requests: Int32Array[][]): Promise<PrefixRun> {
  const scheduler = embedder.scheduler;
  if (!(scheduler instanceof DecoderScheduler)) throw new Error('expected the decoder scheduler');
  const before = scheduler.stats.kv.prefixCache;
  const started = performance.now();
  await Promise.all(requests.map((sequences) => embedder.embedSequences(sequences)));
  const seconds = (performance.now() - started) / 1000;
  const after = scheduler.stats.kv.prefixCache;
  const queried = (after?.numQueriedTokens ?? 0) - (before?.numQueriedTokens ?? 0);
  const hits = (after?.numHitTokens ?? 0) - (before?.numHitTokens ?? 0);
  return { seconds, hitRate: queried === 0 ? 0 : hits / queried };
}

async function benchPrefix(path: string): Promise<void> {
  const blockSize = int('block-size');
  const limits = { maxNumBatchedTokens: int('max-num-batched-tokens') };
  const on = await Embedder.load(path, { backend: backendName(), tokenizerWorkers: 0, limits, kvCache: { blockSize, enablePrefixCaching: true } });
  const off = await Embedder.load(path, { backend: backendName(), tokenizerWorkers: 0, limits, kvCache: { blockSize, enablePrefixCaching: false } });
  const numQueries = int('queries');
  const perRequest = int('per-request');
  const numRounds = 2;
  // A fresh set of queries per round (the same set for both modes within a round): a query repeated verbatim would
  // be served from the cache whole, which is not what this measures.
  const rounds = Array.from({ length: numRounds }, (_, round) => {
    const sequences = syntheticTexts(numQueries, int('query-words'), 4242 + round).map((text) => on.tokenize(text, { promptName: 'query' }));
    const requests: Int32Array[][] = [];
    for (let i = 0; i < sequences.length; i += perRequest) requests.push(sequences.slice(i, i + perRequest));
    return { sequences, requests, numTokens: sequences.reduce((n, s) => n + s.length, 0) };
  });
  const promptTokens = on.tokenizer.encode(on.model.settings.prompts.query ?? '', { maxLength: 1 << 20, truncation: 'none' }).length - 1;

  // Warm-up on both: JIT, and (cache on) the steady state of a server that has seen the prompt before.
  const warmup = syntheticTexts(4, int('query-words'), 99).map((text) => on.tokenize(text, { promptName: 'query' }));
  await on.embedSequences(warmup);
  await off.embedSequences(warmup);

  // Interleave the modes so drift of the machine affects both alike; report the sums over the rounds.
  const results: Record<'on' | 'off', PrefixRun[]> = { on: [], off: [] };
  for (const { requests } of rounds) {
    results.off.push(await runQueries(off, requests));
    results.on.push(await runQueries(on, requests));
  }
  const total = (runs: PrefixRun[]): PrefixRun => ({
    seconds: runs.reduce((sum, run) => sum + run.seconds, 0),
    hitRate: runs.reduce((sum, run) => sum + run.hitRate, 0) / runs.length,
  });
  const bestOn = total(results.on);
  const bestOff = total(results.off);
  const allQueries = numQueries * numRounds;
  const allTokens = rounds.reduce((sum, round) => sum + round.numTokens, 0);
  const avgTokens = allTokens / allQueries;
  const avgQueryTokens = avgTokens - promptTokens;
  const cachedPerQuery = Math.floor((promptTokens - 1) / blockSize) * blockSize;
  console.log(
    `\n1. Prefix caching: ${numRounds} rounds of ${numQueries} distinct queries, ${avgTokens.toFixed(1)} tokens each (prompt ${promptTokens} + query ${avgQueryTokens.toFixed(1)} incl. <|endoftext|>), ` +
      `${perRequest} per request, all requests at once; block size ${blockSize}`,
  );
  console.log(
    formatTable(
      ['prefix cache', 'seconds', 'queries/s', 'tokens/s', 'hit rate'],
      [
        ['off', bestOff.seconds.toFixed(3), (allQueries / bestOff.seconds).toFixed(1), (allTokens / bestOff.seconds).toFixed(0), '-'],
        [
          'on',
          bestOn.seconds.toFixed(3),
          (allQueries / bestOn.seconds).toFixed(1),
          (allTokens / bestOn.seconds).toFixed(0),
          `${(100 * bestOn.hitRate).toFixed(1)}%`,
        ],
      ],
    ),
  );
  console.log(
    `throughput ratio on/off: ${(bestOff.seconds / bestOn.seconds).toFixed(2)}x (target >= 3x); ` +
      `bound for these inputs if compute is linear in tokens: ${avgTokens.toFixed(1)} / ${(avgTokens - cachedPerQuery).toFixed(1)} = ` +
      `${(avgTokens / (avgTokens - cachedPerQuery)).toFixed(2)}x (${cachedPerQuery} of the ${promptTokens} prompt tokens fill whole blocks)`,
  );
  await on.close();
  await off.close();
}

interface LongDocResult {
  readonly mode: string;
  readonly seconds: number;
  readonly numTokens: number;
  readonly loadedRssBytes: number;
  readonly peakRssBytes: number;
  readonly peakKvBlocks: number;
  readonly rows: number[][];
}

/** Child-process body: embeds the documents one mode's way and prints a JSON LongDocResult. */
async function longDocWorker(path: string, mode: string): Promise<void> {
  const model = await loadModel(path);
  const backend = await createBackend(backendName(), model, { dtype: 'float32', threads: 0, maxBatchTokens: int('doc-tokens') });
  const docTokens = int('doc-tokens');
  // Token ids from a seeded walk over the vocabulary: every document exactly docTokens long (the weights are random
  // anyway, so real text would measure nothing more).
  const documents = Array.from({ length: int('docs') }, (_, i) => {
    const ids = new Int32Array(docTokens);
    let state = 1000 + i;
    for (let t = 0; t < docTokens; t++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      ids[t] = state % 150000;
    }
    return ids;
  });
  let peakKvBlocks = 0;
  let scheduler: EmbeddingScheduler;
  if (mode === 'chunked') {
    const limits: SchedulerLimits = { maxNumBatchedTokens: int('chunk'), maxNumSeqs: 256, maxQueuedTokens: 1 << 30 };
    const decoder = new DecoderScheduler(backend as PagedKvBackend, 'last', limits, {
      blockSize: int('block-size'),
      numKvBlocks: Math.ceil(docTokens / int('block-size')) * documents.length + 1,
      enablePrefixCaching: false,
    });
    decoder.onStep = () => {
      peakKvBlocks = Math.max(peakKvBlocks, decoder.stats.kv.numUsedBlocks);
    };
    scheduler = decoder;
  } else {
    // One shot: the whole document in one step, attention over it computed without any KV cache.
    scheduler = new Scheduler(backend, 'last', { maxNumBatchedTokens: docTokens, maxNumSeqs: 1, maxQueuedTokens: 1 << 30 }, firstPositionOf(model.config));
  }
  const loadedRssBytes = process.memoryUsage().rss;
  const started = performance.now();
  const { rows } = await scheduler.submit(documents, { dimensions: 0, normalize: true });
  const seconds = (performance.now() - started) / 1000;
  const result: LongDocResult = {
    mode,
    seconds,
    numTokens: docTokens * documents.length,
    loadedRssBytes,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    peakKvBlocks,
    rows: rows.map((row) => Array.from(row)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runWorker(mode: string): Promise<LongDocResult> {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2), '--long-doc-worker', mode];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`long-document worker (${mode}) exited with ${code}`));
      resolve(JSON.parse(output.trim().split('\n').pop()!) as LongDocResult);
    });
  });
}

async function benchLongDocuments(): Promise<void> {
  const chunked = await runWorker('chunked');
  const oneShot = await runWorker('one-shot');
  let maxDiff = 0;
  oneShot.rows.forEach((row, i) => row.forEach((value, j) => (maxDiff = Math.max(maxDiff, Math.abs(value - chunked.rows[i][j])))));
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  console.log(`\n2. Long documents: ${int('docs')} x ${int('doc-tokens')} tokens, chunks of ${int('chunk')} tokens vs one shot`);
  console.log(
    formatTable(
      ['mode', 'seconds', 'tokens/s', 'RSS after load MiB', 'peak RSS MiB', 'peak KV blocks'],
      [oneShot, chunked].map((r) => [
        r.mode,
        r.seconds.toFixed(2),
        (r.numTokens / r.seconds).toFixed(0),
        mib(r.loadedRssBytes),
        mib(r.peakRssBytes),
        r.mode === 'chunked' ? String(r.peakKvBlocks) : '-',
      ]),
    ),
  );
  console.log(`largest |chunked - one-shot| over the pooled vectors: ${maxDiff.toExponential(2)}`);
}

function backendName(): BackendName {
  const name = values.backend as BackendName;
  if (!BACKEND_NAMES.includes(name)) throw new Error(`--backend must be one of ${BACKEND_NAMES.join(', ')}, got '${name}'`);
  return name;
}

async function main(): Promise<void> {
  const path = await modelPath();
  if (values['long-doc-worker'] !== undefined) return longDocWorker(path, values['long-doc-worker']);
  console.log(`model ${path} (RANDOM WEIGHTS, Qwen3-Embedding-0.6B layout), backend ${backendName()}`);
  if (!values['skip-prefix']) await benchPrefix(path);
  if (!values['skip-long']) await benchLongDocuments();
}

await main();
