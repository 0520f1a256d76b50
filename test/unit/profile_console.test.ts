import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarize } from '../../src/profile/aggregate.js';
import { formatSummary, formatSweep, renderTable } from '../../src/profile/console_table.js';
import { ProgressReporter } from '../../src/profile/progress.js';
import type { RequestRecord } from '../../src/profile/records.js';

const T0 = 1_700_000_000_000_000_000n;
const MS = 1_000_000n;

function record(n: number, latencyMs: number, error: RequestRecord['error'] = null): RequestRecord {
  return {
    sessionNum: n,
    xRequestId: `${n}`,
    conversationId: 'c',
    workerId: 'w',
    phase: 'profiling',
    requestStartNs: T0 + BigInt(n * 100) * MS,
    requestAckNs: null,
    requestEndNs: T0 + BigInt(n * 100 + latencyMs) * MS,
    batchSize: 1,
    inputSequenceLength: 8,
    usageInputTokens: error ? null : 10,
    timeToFirstTokenMs: null,
    interTokenLatencyMs: null,
    outputTokens: null,
    serverTiming: null,
    error,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('on a terminal progress rewrites one line in place; elsewhere it prints plain lines', async () => {
  let live = '';
  const tty = new ProgressReporter(
    { write: (t) => void (live += t) },
    { mode: 'live', intervalS: 0.02, label: 'concurrency4', requestCount: 3, durationS: null },
  );
  tty.record(record(0, 10));
  tty.record(record(1, 10, { code: 429, type: 'HTTPError', message: 'slow down' }));
  await sleep(70);
  tty.record(record(2, 10));
  tty.finish();
  const frames = live.split('\r\x1b[2K').filter(Boolean);
  assert.ok(frames.length >= 2, `${frames.length} frames`);
  assert.ok(
    frames.slice(0, -1).every((f) => !f.includes('\n')),
    'intermediate frames stay on one line',
  );
  assert.match(frames[frames.length - 1]!, /^\[concurrency4\] 3\/3 requests, 1 errors, [\d.]+ req\/s, \d+ tokens\/s, [\d.]+s\n$/);

  let plain = '';
  const log = new ProgressReporter({ write: (t) => void (plain += t) }, { mode: 'plain', intervalS: 10, label: 'c1', requestCount: null, durationS: 5 });
  log.record(record(0, 10));
  log.finish();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: plain output must hold no terminal escapes
  assert.doesNotMatch(plain, /\r|\x1b/);
  assert.match(plain, /^\[c1\] 1 requests, 0 errors, .* [\d.]+\/5s\n$/);

  let silent = '';
  const none = new ProgressReporter({ write: (t) => void (silent += t) }, { mode: 'none', intervalS: 0.01, label: 'x', requestCount: 1, durationS: null });
  none.record(record(0, 1));
  await sleep(30);
  none.finish();
  assert.equal(silent, '');
});

test('while running, throughput is the trailing window; the final line is the whole-run average', async () => {
  let out = '';
  const progress = new ProgressReporter(
    { write: (t) => void (out += t) },
    { mode: 'plain', intervalS: 60, label: 'p', requestCount: 7, durationS: null, windowS: 0.1 },
  );
  for (let i = 0; i < 5; i++) progress.record(record(i, 1));
  await sleep(150); // the first five leave the window
  progress.record(record(5, 1));
  progress.record(record(6, 1));
  const current = /, ([\d.]+) req\/s, (\d+) tokens\/s/.exec(progress.line())!;
  assert.equal(Number(current[1]), 20); // 2 requests in a 0.1 s window
  assert.equal(Number(current[2]), 200); // 2 x 10 tokens in 0.1 s
  progress.finish();
  const final = /, ([\d.]+) req\/s, (\d+) tokens\/s, ([\d.]+)s\n$/.exec(out)!;
  const elapsed = Number(final[3]);
  // The elapsed time is printed to 0.1 s, so the average is checked against that rounding.
  assert.ok(Number(final[1]) >= 7 / (elapsed + 0.05) && Number(final[1]) <= 7 / (elapsed - 0.05), `${final[1]} req/s over ${elapsed} s`);
});

test('the console table lists latency statistics, throughputs and errors by status', () => {
  const summary = summarize([record(0, 10), record(1, 20), record(2, 30), record(3, 5, { code: 500, type: 'HTTPError', message: 'HTTP 500: oops' })], {
    request_latency: 25,
  });
  const text = formatSummary(summary, 'bge | embeddings | concurrency1');
  const lines = text.split('\n');
  assert.equal(lines[0], 'bge | embeddings | concurrency1');
  assert.match(text, /│ Metric +│ +avg │ +min │ +max │ +p1 │ +p5 │ +p25 │ +p50 │ +p75 │ +p90 │ +p95 │ +p99 │ +std │/);
  assert.match(text, /│ Request Latency \(ms\) +│ +20 │ +10 │ +30 │ +10\.20 │ +11 │/);
  assert.match(text, /│ Input Token Throughput \(tokens\/sec\) +│ +98\.36 │/); // 30 tokens from 0 to 305 ms
  assert.match(text, /│ Good Request Count \(requests\) +│ +2 │/);
  assert.match(text, /│ 500 +│ +1 │/);
  assert.match(text, /1 x HTTPError 500: HTTP 500: oops/);
  const widths = new Set(
    lines
      .filter((l) => l.startsWith('│ Request Latency') || l.startsWith('│ Metric'))
      .slice(0, 2)
      .map((l) => l.length),
  );
  assert.equal(widths.size, 1, 'rows line up');
  assert.match(formatSummary(summarize([record(0, 5, { code: null, type: 'ConnectionError', message: 'ECONNREFUSED' })], null), 't'), /No request succeeded/);
  const sweep = formatSweep([{ folder: 'concurrency1', load: { mode: 'concurrency', concurrency: 1 }, variant: null, summary }]);
  assert.match(sweep, /│ concurrency1 │ +9\.84 │ +98\.36 │ +20 │ +28 │ +29\.80 │ +1 │/);
  assert.equal(renderTable(['a', 'b'], [['x', '1']]).split('\n').length, 5);
  assert.doesNotMatch(text, /Latency breakdown/, 'no stage-time headers, no breakdown table');
});

test('the console prints the latency breakdown when the server sent its stage times', () => {
  const timed = (n: number, latencyMs: number, inferenceMs: number): RequestRecord => ({
    ...record(n, latencyMs),
    serverTiming: { tokenizationMs: 1, queueMs: 3, inferenceMs, totalMs: null },
  });
  const text = formatSummary(summarize([timed(0, 20, 10), timed(1, 40, 30)], null), 't');
  assert.match(text, /Latency breakdown \(server x-\*-time headers, 2 requests\)/);
  assert.match(text, /│ Network \+ HTTP +│ +6 │ +6 │ +6 │ +20\.0% │/);
  assert.match(text, /│ Compute +│ +20 │ +20 │ +29\.80 │ +66\.7% │/);
  assert.match(text, /│ Request latency +│ +30 │ +│ +│ +100\.0% │/);
});
