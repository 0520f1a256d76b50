// `npm run bench:memory`: does the server's memory reach a plateau under steady mixed load, and come back down when
// idle? The server runs in a child process (this file with --serve) so the load generator's own memory never counts.
//
//   warm-up   --warmup seconds of mixed load (default 20), then RSS = the baseline
//   load      --load seconds of the same load (default 60), RSS sampled every second
//   idle      --idle seconds with no request (default 30)
//
// Goal (issue "Memory under load"): RSS after the load < 1.05 x the baseline, and after the idle period within 5% of
// the baseline (at most 1.05 x; less is better: working buffers are released after --release-working-memory-after).
// Printed, not asserted: RSS depends on the machine and on what else runs on it.
//
//   npm run bench:memory -- [--warmup 20] [--load 60] [--idle 30] [--concurrency 64] [--model DIR]
//                           [--layers 4] [--serve-args "--release-working-memory-after 10"]
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { parseServeArgs } from '../cli/serve_options.js';
import { ensureSyntheticModel } from '../model/synthetic_cache.js';
import { startServer } from '../cli/serve.js';
import { formatTable } from './stats.js';
import { syntheticTexts } from './synthetic_texts.js';

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    model: { type: 'string' },
    layers: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '20' },
    load: { type: 'string', default: '60' },
    idle: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '64' },
    'serve-args': { type: 'string', default: '' },
  },
  allowPositionals: true,
});

/** Child mode: start the server with `pooled serve` flags, report its URL to the parent, serve until killed. */
async function serveChild(): Promise<void> {
  const options = parseServeArgs(process.argv.slice(process.argv.indexOf('--') + 1));
  if (options === 'help') throw new Error('--serve needs serve flags after --');
  const server = await startServer(options);
  process.send!({ url: server.url });
}

// The mix: one-text and many-text requests, short and long texts (8 to ~300 words, so batches and buffer sizes vary
// from a few tokens to the token budget), float and base64 answers, the OpenAI and Cohere routes.
const SHORT = syntheticTexts(512, 8, 1);
const MEDIUM = syntheticTexts(512, 48, 2);
const LONG = syntheticTexts(128, 300, 3);

function mixedRequest(i: number): { path: string; body: string } {
  const pick = (texts: string[], n: number) => Array.from({ length: n }, (_, k) => texts[(i * 7 + k) % texts.length]);
  switch (i % 8) {
    case 0:
    case 1:
    case 2:
      return { path: '/v1/embeddings', body: JSON.stringify({ input: pick(SHORT, 1)[0] }) };
    case 3:
      return { path: '/v1/embeddings', body: JSON.stringify({ input: pick(MEDIUM, 1)[0], encoding_format: 'base64' }) };
    case 4:
      return { path: '/v1/embeddings', body: JSON.stringify({ input: pick(MEDIUM, 32) }) };
    case 5:
      return { path: '/v1/embeddings', body: JSON.stringify({ input: pick(LONG, 4), encoding_format: 'base64' }) };
    case 6:
      return { path: '/v2/embed', body: JSON.stringify({ texts: pick(SHORT, 16), embedding_types: ['float'] }) };
    default:
      return { path: '/v1/embeddings', body: JSON.stringify({ input: [...pick(SHORT, 8), ...pick(LONG, 1)] }) };
  }
}

/** Mixed requests from `concurrency` clients until `seconds` pass; returns how many were answered. */
async function drive(url: string, concurrency: number, seconds: number, onSecond: () => void): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let next = 0;
  let done = 0;
  const ticker = setInterval(onSecond, 1000);
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const { path, body } = mixedRequest(next++);
          const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}: ${await res.text()}`);
          await res.arrayBuffer();
          done++;
        }
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  return done;
}

interface Sample {
  readonly rssBytes: number;
  /** From the server's /metrics. */
  readonly heapUsedBytes: number;
  readonly externalBytes: number;
  readonly workingBufferBytes: number;
}

function readRss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

async function sample(url: string, pid: number): Promise<Sample> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const metric = (name: string) => {
    let sum = 0;
    for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
    return sum;
  };
  return {
    rssBytes: readRss(pid),
    heapUsedBytes: metric('pooled_nodejs_heap_size_used_bytes'),
    externalBytes: metric('pooled_nodejs_external_memory_bytes'),
    workingBufferBytes: metric('pooled_native_working_buffer_bytes'),
  };
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const warmupSeconds = Number(values.warmup);
  const loadSeconds = Number(values.load);
  const idleSeconds = Number(values.idle);
  const concurrency = Number(values.concurrency);
  const modelPath = values.model ?? (await ensureSyntheticModel('bge-small', { seed: 7, label: 'bench', shape: { numLayers: Number(values.layers) } }));
  const serveArgs = ['--model', modelPath, '--port', '0', '--log-level', 'warn', ...values['serve-args'].split(/\s+/).filter(Boolean)];
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve', '--', ...serveArgs], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { url: string }).url));
      child.once('exit', (code) => reject(new Error(`server exited with code ${code} before listening`)));
    });
    const pid = child.pid!;
    console.log(`model ${modelPath}\nserver pid ${pid}, flags: ${serveArgs.slice(2).join(' ')}`);
    console.log(`warm-up ${warmupSeconds} s, load ${loadSeconds} s at concurrency ${concurrency}, idle ${idleSeconds} s`);

    const rows: string[][] = [];
    const record = (label: string, s: Sample) => rows.push([label, mb(s.rssBytes), mb(s.heapUsedBytes), mb(s.externalBytes), mb(s.workingBufferBytes)]);
    record('started', await sample(url, pid));
    const warmupRequests = await drive(url, concurrency, warmupSeconds, () => undefined);
    const baseline = await sample(url, pid);
    record('after warm-up', baseline);
    let peakRss = baseline.rssBytes;
    const loadRequests = await drive(url, concurrency, loadSeconds, () => {
      peakRss = Math.max(peakRss, readRss(pid));
    });
    const afterLoad = await sample(url, pid);
    peakRss = Math.max(peakRss, afterLoad.rssBytes);
    record('after load', afterLoad);
    rows.push(['peak during load', mb(peakRss), '', '', '']);
    await sleep(idleSeconds * 1000);
    const afterIdle = await sample(url, pid);
    record(`after ${idleSeconds} s idle`, afterIdle);

    console.log(`requests: ${warmupRequests} in warm-up, ${loadRequests} in load (${(loadRequests / loadSeconds).toFixed(1)}/s)\n`);
    console.log(formatTable(['point', 'RSS MiB', 'JS heap used MiB', 'external MiB', 'working buffers MiB'], rows));
    const loadRatio = afterLoad.rssBytes / baseline.rssBytes;
    const peakRatio = peakRss / baseline.rssBytes;
    const idleRatio = afterIdle.rssBytes / baseline.rssBytes;
    const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
    console.log(`\nRSS after load / after warm-up: ${loadRatio.toFixed(3)} (goal < 1.05: ${verdict(loadRatio < 1.05)}); peak ${peakRatio.toFixed(3)}`);
    console.log(`RSS after idle / after warm-up: ${idleRatio.toFixed(3)} (goal <= 1.05: ${verdict(idleRatio <= 1.05)})`);
  } finally {
    child.kill('SIGTERM');
  }
}

if (values.serve) await serveChild();
else await main();
