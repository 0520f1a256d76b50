// `npm run bench:aiperf-parity`: the real AIPerf (the pinned one in test/upstream/.venv-aiperf) and `pooled profile`
// put the same load on the same `pooled serve` process, one after the other, alternating which goes first, for
// several rounds; prints each run's request throughput and latency p50/p99 side by side, the medians, and the
// ratios pooled / AIPerf. Both clients run as their own processes, as a user runs them; the server is a third.
//
// "Same load": the same concurrency, request count, warm-up count and texts per request, and synthetic texts of the
// same length. The two tools make different texts, so the bench also reads the server's /metrics around each run
// and prints the tokens the server really embedded per request: a difference there is a different load, not a
// different measurement. It also prints the server's own mean compute and queue time per request (from the same
// /metrics) and each client's CPU time (GNU time, when installed): on a machine where client and server share the
// cores, a client that burns CPU slows the server down, and these two columns show it. `--server-cpus 0
// --client-cpus 1` pins the server and the clients to separate cores (taskset) to take that effect out.
// docs/profile.md records the numbers and explains the differences.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { ensureSyntheticModel } from '../model/synthetic_cache.js';
import { formatTable, quantile } from './stats.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    backend: { type: 'string', default: 'cpu' },
    concurrency: { type: 'string', default: '4' },
    'request-count': { type: 'string', default: '200' },
    // 0: the server's counters around a run then cover exactly the measured requests; the server is warmed
    // once, before the first round, instead.
    'warmup-request-count': { type: 'string', default: '0' },
    'input-tokens': { type: 'string', default: '64' },
    'batch-size': { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    aiperf: { type: 'string' },
    'server-cpus': { type: 'string' },
    'client-cpus': { type: 'string' },
    out: { type: 'string', default: '.artifacts/aiperf-parity' },
  },
});

type Tool = 'aiperf' | 'pooled';

interface RunFigures {
  readonly tool: Tool;
  readonly round: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** Tokens the server embedded per request during the run (warm-up included), from its /metrics. */
  readonly serverTokensPerRequest: number;
  /** Tokens per request as the tool itself counted them (client tokenizer, no special tokens). */
  readonly clientTokensPerRequest: number | null;
  /**
   * The server's mean x-inference-time and x-queue-time over the run's requests, ms (with --warmup-request-count,
   * the warm-up requests are in these means but not in the client's latencies).
   */
  readonly serverComputeMs: number;
  readonly serverQueueMs: number;
  /**
   * Mean latency the client measured minus the server's mean time in the request (tokenization + queue +
   * compute): what the client, the network and HTTP add. A server slowed by a neighbour moves both terms, so
   * this stays comparable between runs when throughput does not.
   */
  readonly outsideServerMs: number;
  /** User + system CPU seconds of the client process tree, start-up included; null without GNU time. */
  readonly clientCpuS: number | null;
}

const AIPERF = values.aiperf ?? join(process.env.POOLED_AIPERF_VENV ?? 'test/upstream/.venv-aiperf', 'bin', 'aiperf');

/** The pooled CLI from the sources (tsx), as the other benches run; no dist/ build needed. */
function pooledCommand(args: readonly string[]): [string, string[]] {
  const entry = resolve('src/cli/main.ts');
  const script = `const { main } = await import(${JSON.stringify(entry)}); process.exitCode = await main(process.argv.slice(1));`;
  return [process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script, ...args]];
}

/** `taskset -c CPUS command args` when a CPU list is given (Linux), else the command as it is. */
function pinned(cpuList: string | undefined, command: string, args: readonly string[]): [string, string[]] {
  return cpuList === undefined ? [command, [...args]] : ['taskset', ['-c', cpuList, command, ...args]];
}

/** How many CPUs a taskset list such as "0", "0,2" or "0-3" names. */
function countCpus(cpuList: string): number {
  return cpuList.split(',').reduce((n, part) => {
    const [from, to] = part.split('-').map(Number);
    return n + (to === undefined ? 1 : to - from! + 1);
  }, 0);
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`${command} exited with ${code}:\n${output.slice(-3000)}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function startServer(modelPath: string, port: number): Promise<ChildProcess> {
  const serverCpus = values['server-cpus'];
  // Pinned, the server computes with one thread per CPU it was given, not one per core of the machine.
  const threads = serverCpus === undefined ? [] : ['--threads', String(countCpus(serverCpus))];
  const [command, args] = pinned(
    serverCpus,
    ...pooledCommand(['serve', '--model', modelPath, '--port', String(port), '--backend', values.backend!, '--log-level', 'warn', ...threads]),
  );
  const child = spawn(command, args, { stdio: 'inherit' });
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`pooled serve exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) return child;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill();
  throw new Error('pooled serve was not ready within 300 s');
}

interface ServerCounters {
  readonly tokens: number;
  readonly requests: number;
  readonly inferenceS: number;
  readonly queueS: number;
  readonly tokenizationS: number;
  readonly timedRequests: number;
}

/** The server's counters that a run moves: tokens embedded, requests served, stage seconds. */
async function serverCounters(url: string): Promise<ServerCounters> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string): number => Number(text.match(new RegExp(`^${name.replace(/[{}"/]/g, '\\$&')} (\\S+)$`, 'm'))?.[1] ?? 0);
  return {
    tokens: value('pooled_input_tokens_sum'),
    requests: value('pooled_requests_total{route="/v1/embeddings",status="200"}'),
    inferenceS: value('pooled_inference_duration_seconds_sum'),
    queueS: value('pooled_queue_duration_seconds_sum'),
    tokenizationS: value('pooled_tokenization_duration_seconds_sum'),
    timedRequests: value('pooled_inference_duration_seconds_count'),
  };
}

const GNU_TIME = '/usr/bin/time';

/** Runs the client under GNU time when it is installed; returns its user + system CPU seconds (children included). */
async function runTimed(command: string, args: readonly string[], cpuFile: string, env?: NodeJS.ProcessEnv): Promise<number | null> {
  if (!existsSync(GNU_TIME)) {
    await run(command, args, env);
    return null;
  }
  await run(GNU_TIME, ['-f', '%U %S', '-o', cpuFile, command, ...args], env);
  const [user, system] = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  return user! + system!;
}

function loadArgs(url: string, modelName: string, modelPath: string): string[] {
  return [
    '--model',
    modelName,
    '--url',
    url,
    '--endpoint-type',
    'embeddings',
    '--tokenizer',
    modelPath,
    '--concurrency',
    values.concurrency!,
    '--request-count',
    values['request-count']!,
    // AIPerf refuses --warmup-request-count 0; leaving the flag out means no warm-up in both tools.
    ...(Number(values['warmup-request-count']) > 0 ? ['--warmup-request-count', values['warmup-request-count']!] : []),
    '--synthetic-input-tokens-mean',
    values['input-tokens']!,
    '--synthetic-input-tokens-stddev',
    '0',
    '--batch-size-text',
    values['batch-size']!,
    '--ui-type',
    'none',
  ];
}

async function profileOnce(tool: Tool, round: number, url: string, modelName: string, modelPath: string, outDir: string): Promise<RunFigures> {
  const dir = join(outDir, `round${round}-${tool}`);
  rmSync(dir, { recursive: true, force: true });
  const args = [...loadArgs(url, modelName, modelPath), '--artifact-dir', dir];
  const before = await serverCounters(url);
  const cpuFile = join(outDir, `round${round}-${tool}.cpu`);
  let clientCpuS: number | null;
  if (tool === 'aiperf') {
    // AIPerf 0.13.0's offline mode cannot load a tokenizer folder (test/upstream/aiperf_tool.py says why).
    const { HF_HUB_OFFLINE: _h, TRANSFORMERS_OFFLINE: _t, ...env } = process.env;
    clientCpuS = await runTimed(...pinned(values['client-cpus'], AIPERF, ['profile', ...args]), cpuFile, env);
  } else {
    clientCpuS = await runTimed(...pinned(values['client-cpus'], ...pooledCommand(['profile', ...args, '--server-metrics-url', 'none'])), cpuFile);
  }
  const after = await serverCounters(url);
  const timed = Math.max(1, after.timedRequests - before.timedRequests);
  const aggregate = JSON.parse(readFileSync(join(dir, 'profile_export_aiperf.json'), 'utf8'));
  return {
    tool,
    round,
    requestsPerSecond: aggregate.request_throughput.avg,
    p50Ms: aggregate.request_latency.p50,
    p99Ms: aggregate.request_latency.p99,
    errors: aggregate.error_request_count?.avg ?? 0,
    serverTokensPerRequest: (after.tokens - before.tokens) / Math.max(1, after.requests - before.requests),
    clientTokensPerRequest: aggregate.input_sequence_length?.avg ?? null,
    serverComputeMs: ((after.inferenceS - before.inferenceS) / timed) * 1000,
    serverQueueMs: ((after.queueS - before.queueS) / timed) * 1000,
    outsideServerMs:
      aggregate.request_latency.avg -
      ((after.inferenceS - before.inferenceS + after.queueS - before.queueS + after.tokenizationS - before.tokenizationS) / timed) * 1000,
    clientCpuS,
  };
}

const median = (xs: readonly number[]): number =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
const spread = (xs: readonly number[]): string => `${((100 * (Math.max(...xs) - Math.min(...xs))) / median(xs)).toFixed(0)}%`;

async function main(): Promise<void> {
  if (!existsSync(AIPERF)) throw new Error(`no AIPerf at ${AIPERF}: run \`bash test/upstream/setup.sh\` (or pass --aiperf PATH)`);
  const modelPath = values.model ?? (await ensureSyntheticModel('bge-small', { seed: 7, label: 'bench' }));
  const modelName = modelPath.replace(/\/+$/, '').split('/').pop()!;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const outDir = resolve(values.out!);
  mkdirSync(outDir, { recursive: true });
  const server = await startServer(modelPath, port);
  const runs: RunFigures[] = [];
  try {
    console.log(
      `model ${modelPath} (${values.backend}), ${cpus().length} cores; concurrency ${values.concurrency}, ${values['request-count']} requests ` +
        `(+${values['warmup-request-count']} warm-up), ${values['input-tokens']} tokens x ${values['batch-size']} texts per request, ${values.rounds} rounds` +
        (values['server-cpus'] === undefined ? '' : `; server on CPUs ${values['server-cpus']}, clients on CPUs ${values['client-cpus'] ?? 'any'}`),
    );
    // Round 0 warms the server (first-touch allocations, JIT) and is not reported.
    await profileOnce('pooled', 0, url, modelName, modelPath, outDir);
    for (let round = 1; round <= Number(values.rounds); round++) {
      // Alternate who goes first, so a drift of the machine (thermal, a neighbour) does not always favour one side.
      const order: Tool[] = round % 2 === 1 ? ['aiperf', 'pooled'] : ['pooled', 'aiperf'];
      for (const tool of order) {
        const figures = await profileOnce(tool, round, url, modelName, modelPath, outDir);
        runs.push(figures);
        console.log(
          `round ${round} ${tool.padEnd(6)} ${figures.requestsPerSecond.toFixed(1)} req/s  p50 ${figures.p50Ms.toFixed(2)} ms  p99 ${figures.p99Ms.toFixed(2)} ms  errors ${figures.errors}`,
        );
      }
    }
  } finally {
    server.kill('SIGTERM');
  }

  const rows = runs.map((r) => [
    String(r.round),
    r.tool,
    r.requestsPerSecond.toFixed(1),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    String(r.errors),
    r.serverTokensPerRequest.toFixed(1),
    r.clientTokensPerRequest === null ? '-' : r.clientTokensPerRequest.toFixed(1),
    r.serverComputeMs.toFixed(2),
    r.serverQueueMs.toFixed(2),
    r.outsideServerMs.toFixed(2),
    r.clientCpuS === null ? '-' : r.clientCpuS.toFixed(1),
  ]);
  console.log(
    `\n${formatTable(['round', 'tool', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'server tok/req', 'client ISL', 'server compute ms', 'server queue ms', 'outside server ms', 'client CPU s'], rows)}`,
  );

  const of = (tool: Tool, pick: (r: RunFigures) => number): number[] => runs.filter((r) => r.tool === tool).map(pick);
  const metrics: [string, (r: RunFigures) => number][] = [
    ['request throughput (req/s)', (r) => r.requestsPerSecond],
    ['latency p50 (ms)', (r) => r.p50Ms],
    ['latency p99 (ms)', (r) => r.p99Ms],
    ['server tokens / request', (r) => r.serverTokensPerRequest],
    ['server compute ms / request', (r) => r.serverComputeMs],
    ['server queue ms / request', (r) => r.serverQueueMs],
    ['outside the server ms / request', (r) => r.outsideServerMs],
  ];
  const summary = metrics.map(([name, pick]) => {
    const aiperf = of('aiperf', pick);
    const pooled = of('pooled', pick);
    return [name, median(aiperf).toFixed(2), spread(aiperf), median(pooled).toFixed(2), spread(pooled), (median(pooled) / median(aiperf)).toFixed(3)];
  });
  console.log(`\nMedians over ${values.rounds} rounds (spread = (max - min) / median, the run-to-run noise)`);
  console.log(formatTable(['metric', 'AIPerf', 'spread', 'pooled', 'spread', 'pooled / AIPerf'], summary));
  console.log(`artifacts of every run: ${outDir}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
