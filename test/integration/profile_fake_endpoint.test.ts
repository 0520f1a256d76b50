// `pooled profile` end to end against an independent fake endpoint whose behaviour is scripted per request,
// so every number the profiler reports can be checked against what the fake actually did.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseProfileArgs } from '../../src/profile/options.js';
import { parseJsonlRecords } from '../../src/profile/records_jsonl.js';
import { runProfile, type ProfileRunResult } from '../../src/profile/run_profile.js';
import { runProfileCommand } from '../../src/cli/profile.js';
import { readArtifacts } from '../../src/profile/report/artifact_reader.js';
import { renderReport } from '../../src/profile/report/report_html.js';
import { fakeUsageTokens, startFakeEndpoint, type FakeBehaviour } from './profile_fake_endpoint.js';

const BGE = 'test/fixtures/models/BAAI--bge-small-en-v1.5';
const scratch = mkdtempSync(join(tmpdir(), 'profile-fake-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let runNumber = 0;

interface ProfiledRun {
  readonly result: ProfileRunResult;
  readonly dir: string;
  readonly out: string;
  readonly err: string;
}

async function profile(url: string, args: string[]): Promise<ProfiledRun> {
  const dir = join(scratch, `run${runNumber++}`);
  const options = parseProfileArgs([
    '--model',
    'BAAI/bge-small-en-v1.5',
    '--url',
    url,
    '--tokenizer',
    BGE,
    '--artifact-dir',
    dir,
    '--ui-type',
    'simple',
    ...args,
  ])!;
  let out = '';
  let err = '';
  const result = await runProfile(options, { out: { write: (t) => void (out += t) }, err: { write: (t) => void (err += t), isTTY: false } });
  return { result, dir, out, err };
}

const readJson = (path: string): Record<string, any> => JSON.parse(readFileSync(path, 'utf8'));

test('known server delays come back as the right latencies, percentiles, counts and usage tokens', async () => {
  // Request n waits (n + 1) * 20 ms: 20, 40, ..., 200 ms, one at a time.
  const fake = await startFakeEndpoint({ behaviour: (n) => ({ kind: 'ok', delayMs: (n + 1) * 20 }) });
  try {
    const runStarted = performance.now();
    const { result, dir, err } = await profile(fake.url, [
      '--concurrency',
      '1',
      '--request-count',
      '10',
      '--synthetic-input-tokens-mean',
      '32',
      '--batch-size-text',
      '2',
    ]);
    const summary = result.points[0]!.summary;
    assert.equal(summary.request_count.avg, 10);
    assert.equal(summary.error_request_count.avg, 0);
    assert.equal(fake.received.length, 10);

    const records = parseJsonlRecords(readFileSync(join(dir, 'profile_export.jsonl'), 'utf8'));
    assert.equal(records.length, 10);
    // Server timers may fire a fraction of a millisecond early relative to the client's clock: hence `- 2`. No upper
    // bounds on wall time (the machine may be slow); that each latency is its own request's and not a running total
    // shows structurally: one at a time, the latencies add up to no more than the whole run took.
    const runMs = performance.now() - runStarted;
    const latencies = records.map((record) => record.metrics.request_latency!.value);
    latencies.forEach((latency, n) => assert.ok(latency >= (n + 1) * 20 - 2, `request ${n}: ${latency} ms for a ${(n + 1) * 20} ms delay`));
    assert.ok(latencies.reduce((a, b) => a + b, 0) <= runMs, `latencies sum to ${latencies.reduce((a, b) => a + b, 0)} ms in a ${runMs} ms run`);
    // Percentiles by linear interpolation over the records' own latencies (for 20..200 exactly: p25 65, p50 110, p90 182).
    const sorted = [...latencies].sort((a, b) => a - b);
    const percentile = (q: number): number => {
      const rank = q * (sorted.length - 1);
      const low = Math.floor(rank);
      return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (rank - low);
    };
    const latency = summary.request_latency!;
    for (const [key, expected] of [
      ['p25', percentile(0.25)],
      ['p50', percentile(0.5)],
      ['p90', percentile(0.9)],
      ['min', sorted[0]],
      ['max', sorted[sorted.length - 1]],
    ] as const) {
      assert.ok(Math.abs(latency[key] - expected) < 1e-6, `${key} ${latency[key]} vs ${expected}`);
    }

    // Tokens: the fake reports words + 2 per text; the profiler must take them from usage, not count them itself.
    const expectedUsage = fake.received.map((r) => (r.body.input as string[]).reduce((sum, t) => sum + fakeUsageTokens(t), 0));
    assert.deepEqual(
      records.map((r) => r.metrics.input_tokens!.value),
      expectedUsage,
    );
    assert.equal(
      summary.total_input_tokens!.avg,
      expectedUsage.reduce((a, b) => a + b, 0),
    );
    assert.ok(Math.abs(summary.input_token_throughput!.avg - summary.total_input_tokens!.avg / summary.benchmark_duration.avg) < 1e-6);
    assert.ok(Math.abs(summary.request_throughput.avg - 10 / summary.benchmark_duration.avg) < 1e-6);
    // Client-side length: 32 tokens per text by the model's tokenizer, 2 texts per request.
    assert.ok(records.every((r) => r.metrics.input_sequence_length!.value === 64 && r.metrics.batch_size!.value === 2));
    for (const r of fake.received) assert.equal((r.body.input as string[]).length, 2);
    assert.match(fake.received[0]!.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/);

    // Every artifact is there, and inputs.json holds what was sent.
    for (const file of [
      'profile_export_aiperf.json',
      'profile_export_aiperf.csv',
      'inputs.json',
      'server_metrics_before.txt',
      'server_metrics_after.txt',
      'server_metrics_delta.json',
    ]) {
      assert.ok(existsSync(join(dir, file)), file);
    }
    const inputs = readJson(join(dir, 'inputs.json'));
    assert.deepEqual(inputs.data[0].payloads[0], fake.received[0]!.body);
    assert.deepEqual(readJson(join(dir, 'server_metrics_delta.json')), { 'fake_requests_total{route="embed"}': 10 });
    assert.match(err, /\[concurrency1\] 10\/10 requests, 0 errors/);
  } finally {
    await fake.close();
  }
});

test('errors are classified: 429, 500, dropped connections, timeout, short answer', async () => {
  const script: FakeBehaviour[] = [
    { kind: 'ok' },
    { kind: 'status', status: 429 },
    { kind: 'ok' },
    { kind: 'status', status: 500 },
    { kind: 'drop' },
    { kind: 'ok', delayMs: 600 },
    { kind: 'short' },
    { kind: 'status', status: 429 },
    { kind: 'reset' },
    { kind: 'ok' },
    { kind: 'ok' },
  ];
  const fake = await startFakeEndpoint({ behaviour: (n) => script[n] ?? { kind: 'ok' } });
  try {
    const { result, dir, out } = await profile(fake.url, [
      '--request-count',
      '11',
      '--synthetic-input-tokens-mean',
      '8',
      '--batch-size-text',
      '2',
      '--request-timeout-seconds',
      '0.3',
    ]);
    const summary = result.points[0]!.summary;
    assert.deepEqual(summary.error_count_by_status, { '429': 2, '500': 1, ConnectionError: 2, TimeoutError: 1, InvalidResponse: 1 });
    assert.equal(summary.request_count.avg, 4);
    assert.equal(summary.error_request_count.avg, 7);
    const records = parseJsonlRecords(readFileSync(join(dir, 'profile_export.jsonl'), 'utf8'));
    assert.deepEqual(
      records.map((r) => r.error?.type ?? 'ok'),
      ['ok', 'HTTPError', 'ok', 'HTTPError', 'ConnectionError', 'TimeoutError', 'InvalidResponse', 'HTTPError', 'ConnectionError', 'ok', 'ok'],
    );
    assert.equal(records[4]!.error!.code, 200, 'dropped mid-body: the status had arrived');
    assert.equal(records[8]!.error!.code, null, 'reset before any byte: no status');
    assert.match(records[8]!.error!.message, /ECONNRESET|socket hang up/);
    assert.equal(records[1]!.error!.message, 'HTTP 429: injected 429');
    assert.equal(records[6]!.error!.message, 'expected 2 embeddings, got 1');
    const timedOut = records[5]!.metrics.error_request_latency!.value;
    // Not before the 300 ms timeout (timers run on the event loop's cached clock, so they may fire a hair before 300 ms
    // of hrtime). No upper bound: the TimeoutError above already shows the 600 ms response was cut short, and how late
    // a loaded machine fires the timer is not the profiler's behaviour.
    assert.ok(timedOut >= 295, `timeout after ${timedOut} ms`);
    assert.match(out, /│ 429 +│ +2 │/);
    assert.match(out, /│ TimeoutError +│ +1 │/);
  } finally {
    await fake.close();
  }
});

test('--concurrency N keeps N requests in flight at the server; goodput counts requests under the SLO', async () => {
  const fake = await startFakeEndpoint({ behaviour: (n) => ({ kind: 'ok', delayMs: n % 2 === 0 ? 10 : 120 }) });
  try {
    const { result } = await profile(fake.url, [
      '--concurrency',
      '4',
      '--request-count',
      '16',
      '--synthetic-input-tokens-mean',
      '8',
      '--goodput',
      'request_latency:80',
    ]);
    assert.equal(fake.maxInFlight(), 4);
    const summary = result.points[0]!.summary;
    assert.equal(summary.request_count.avg, 16);
    assert.equal(summary.good_request_count!.avg, 8);
    assert.ok(Math.abs(summary.goodput!.avg - 8 / summary.benchmark_duration.avg) < 1e-6);
  } finally {
    await fake.close();
  }
});

test('request rate (constant) issues on schedule; a duration bounds the run; warm-up is not measured', async () => {
  const fake = await startFakeEndpoint({ behaviour: () => ({ kind: 'ok', delayMs: 5 }) });
  try {
    const { dir, result } = await profile(fake.url, [
      '--request-rate',
      '40',
      '--arrival-pattern',
      'constant',
      '--benchmark-duration',
      '0.5',
      '--synthetic-input-tokens-mean',
      '8',
      '--warmup-request-count',
      '3',
    ]);
    const records = parseJsonlRecords(readFileSync(join(dir, 'profile_export.jsonl'), 'utf8'));
    // 40/s for 0.5 s: arrivals at 0, 25, ..., 475 ms -> 20 requests (a late timer may drop the last arrival or two).
    assert.ok(records.length >= 18 && records.length <= 20, `${records.length} requests`);
    const starts = records.map((r) => r.metadata.request_start_ns / 1e6);
    const span = starts[starts.length - 1]! - starts[0]!;
    assert.ok(Math.abs(span - (records.length - 1) * 25) < 45, `span ${span} ms`);
    assert.equal(fake.received.length, records.length + 3);
    assert.ok(records.every((r) => r.metadata.benchmark_phase === 'profiling'));
    assert.deepEqual(readJson(join(dir, 'profile_export_aiperf.json')).warmup, { request_count: 3, error_count: 0 });
    assert.deepEqual(result.points[0]!.load, { mode: 'request_rate', requestRate: 40, maxConcurrency: null });
  } finally {
    await fake.close();
  }
});

test('streaming chat: time to first token, inter-token latency and output tokens', async () => {
  const fake = await startFakeEndpoint({ chatChunks: 6, chatFirstChunkDelayMs: 60, chatChunkIntervalMs: 25 });
  try {
    const { result } = await profile(fake.url, [
      '--endpoint-type',
      'chat',
      '--streaming',
      '--request-count',
      '4',
      '--synthetic-input-tokens-mean',
      '16',
      '--output-tokens-mean',
      '6',
    ]);
    const summary = result.points[0]!.summary;
    assert.equal(summary.request_count.avg, 4);
    // Lower bounds from the fake's delays; no upper bounds on wall time (the machine may be slow). That TTFT is the
    // first token and ITL the spacing after it shows structurally: TTFT + 5 ITL is the last token's time, which no
    // request's end precedes (AIPerf's definitions), and TTFT stays below the whole latency.
    assert.ok(summary.time_to_first_token!.min >= 58, `ttft ${summary.time_to_first_token!.avg}`);
    assert.ok(summary.inter_token_latency!.min >= 20, `itl ${summary.inter_token_latency!.avg}`);
    assert.ok(summary.time_to_first_token!.avg + 5 * summary.inter_token_latency!.avg <= summary.request_latency!.avg + 1e-6);
    assert.ok(summary.time_to_first_token!.max < summary.request_latency!.max);
    assert.equal(summary.output_sequence_length!.avg, 6);
    assert.equal(summary.input_tokens!.avg, 16 + 2); // the fake counts 16 words + 2
    assert.ok(summary.request_latency!.min >= 60 + 5 * 25 - 2);
    const body = fake.received[0]!.body;
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(body.max_tokens, 6);
  } finally {
    await fake.close();
  }
});

test("chat with images: synthetic PNG data URIs, or the input file's URLs", async () => {
  const fake = await startFakeEndpoint({ chatChunks: 2 });
  try {
    await profile(fake.url, [
      '--endpoint-type',
      'chat',
      '--request-count',
      '2',
      '--synthetic-input-tokens-mean',
      '4',
      '--image-width-mean',
      '32',
      '--image-height-mean',
      '24',
    ]);
    const content = (fake.received[0]!.body.messages as { content: { type: string; text?: string; image_url?: { url: string } }[] }[])[0]!.content;
    assert.deepEqual(
      content.map((p) => p.type),
      ['text', 'image_url'],
    );
    assert.match(content[1]!.image_url!.url, /^data:image\/png;base64,/);

    const file = join(scratch, 'vlm.jsonl');
    writeFileSync(file, `${JSON.stringify({ text: 'what is this', image: 'https://example.com/cat.png' })}\n`);
    const { result } = await profile(fake.url, [
      '--endpoint-type',
      'chat',
      '--request-count',
      '2',
      '--input-file',
      file,
      '--custom-dataset-type',
      'single_turn',
    ]);
    assert.equal(result.points[0]!.summary.request_count.avg, 2);
    const fromFile = (fake.received[2]!.body.messages as { content: unknown }[])[0]!.content;
    assert.deepEqual(fromFile, [
      { type: 'text', text: 'what is this' },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
    ]);
  } finally {
    await fake.close();
  }
});

test('Cohere v2 embed: texts in, tokens from meta.billed_units; credentials travel as headers', async () => {
  const fake = await startFakeEndpoint({ requiredHeader: ['authorization', 'Bearer sk-test'] });
  try {
    const { result } = await profile(fake.url, [
      '--endpoint-type',
      'cohere_embed',
      '--request-count',
      '3',
      '--synthetic-input-tokens-mean',
      '10',
      '--batch-size-text',
      '3',
      '--api-key',
      'sk-test',
      '-H',
      'X-Tenant: bench',
    ]);
    const summary = result.points[0]!.summary;
    assert.equal(summary.request_count.avg, 3);
    assert.equal(summary.input_tokens!.avg, 3 * (10 + 2));
    assert.equal(fake.received[0]!.path, '/v2/embed');
    assert.equal(fake.received[0]!.headers['x-tenant'], 'bench');
    assert.deepEqual(Object.keys(fake.received[0]!.body).sort(), ['embedding_types', 'input_type', 'model', 'texts']);
    const config = readJson(join(result.artifactDir, 'profile_export_aiperf.json')).pooled_config;
    assert.equal(config.headers.authorization, '<redacted>');
    assert.equal(readFileSync(join(result.artifactDir, 'profile_export_aiperf.json'), 'utf8').includes('sk-test'), false, 'the API key is not written to disk');

    const refused = await profile(fake.url, ['--endpoint-type', 'cohere_embed', '--request-count', '2', '--synthetic-input-tokens-mean', '4']);
    assert.deepEqual(refused.result.points[0]!.summary.error_count_by_status, { '401': 2 });
  } finally {
    await fake.close();
  }
});

test('a sweep runs each point in turn and writes a summary per point and for the sweep', async () => {
  const fake = await startFakeEndpoint({ behaviour: () => ({ kind: 'ok', delayMs: 20 }) });
  try {
    const { result, dir, out } = await profile(fake.url, ['--concurrency', '1,3', '--request-count', '6', '--synthetic-input-tokens-mean', '8']);
    assert.deepEqual(
      result.points.map((p) => p.summary.request_count.avg),
      [6, 6],
    );
    assert.ok(existsSync(join(dir, 'concurrency1', 'profile_export_aiperf.json')));
    assert.ok(existsSync(join(dir, 'concurrency3', 'profile_export.jsonl')));
    const sweep = readJson(join(dir, 'sweep_summary.json'));
    assert.deepEqual(
      sweep.points.map((p: { folder: string }) => p.folder),
      ['concurrency1', 'concurrency3'],
    );
    assert.ok(sweep.points[1].request_throughput > sweep.points[0].request_throughput * 1.5, 'three in flight beat one');
    assert.match(out, /Sweep summary/);
    assert.equal(fake.received.length, 12);
  } finally {
    await fake.close();
  }
});

test('an input sweep runs every (batch size, tokens) pair and writes the neuronperf table, which the report draws', async () => {
  const fake = await startFakeEndpoint({ behaviour: () => ({ kind: 'ok', delayMs: 10 }) });
  try {
    const { result, dir, out } = await profile(fake.url, [
      '--batch-size-text',
      '1,4',
      '--synthetic-input-tokens-mean',
      '8,16',
      '--concurrency',
      '2',
      '--request-count',
      '6',
      '--n-models',
      '2',
      '--cost-per-hour',
      '3.6',
    ]);
    const folders = ['batch1-seq8-concurrency2', 'batch1-seq16-concurrency2', 'batch4-seq8-concurrency2', 'batch4-seq16-concurrency2'];
    assert.deepEqual(
      result.points.map((p) => p.folder),
      folders.map((f) => join(dir, f)),
    );
    // What the fake received: 6 requests per pair, each with the pair's texts per request.
    const batchSizes = fake.received.map((r) => (r.body.input as string[]).length);
    assert.deepEqual(batchSizes, [...Array(12).fill(1), ...Array(12).fill(4)]);
    for (const folder of folders) {
      const inputs = readJson(join(dir, folder, 'inputs.json'));
      assert.equal(inputs.data[0].payloads[0].input.length, Number(folder.match(/batch(\d+)/)![1]));
      assert.equal(
        readJson(join(dir, folder, 'profile_export_aiperf.json')).input_sequence_length.avg,
        Number(folder.match(/batch(\d+)/)![1]) * Number(folder.match(/seq(\d+)/)![1]),
      );
    }
    const table = readJson(join(dir, 'sweep_summary.json')).neuronperf;
    assert.deepEqual(
      table.map((r: Record<string, number>) => [r.batch_size, r.seq_len, r.n_models, r.workers_per_model]),
      [
        [1, 8, 2, 1],
        [1, 16, 2, 1],
        [4, 8, 2, 1],
        [4, 16, 2, 1],
      ],
    );
    for (const [i, row] of table.entries()) {
      const summary = result.points[i]!.summary;
      assert.ok(Math.abs(row.throughput_inferences_per_s - summary.request_throughput.avg * row.batch_size) < 1e-9);
      assert.ok(Math.abs(row.cost_per_1m_inferences - 1000 / row.throughput_inferences_per_s) < 1e-9, '$3.60/h = $0.001/s');
      assert.equal(row.throughput_tokens_per_s, summary.input_token_throughput!.avg);
      assert.equal(row.latency_ms_p99, summary.request_latency!.p99);
    }
    const csv = readFileSync(join(dir, 'neuronperf.csv'), 'utf8').trim().split('\n');
    assert.equal(
      csv[0],
      'batch_size,seq_len,n_models,workers_per_model,latency_ms_p50,latency_ms_p99,throughput_inferences_per_s,throughput_tokens_per_s,cost_per_1m_inferences',
    );
    assert.equal(csv.length, 5);
    assert.match(out, /Neuronperf table \(at \$3\.6\/hour\)/);
    assert.match(out, /│ 4 +│ +16 │ +2 │ +1 │/);
    const report = renderReport(readArtifacts(dir), { costPerHour: null, generatedAt: new Date(0) });
    assert.ok(report.charts.some((c) => c.id === 'neuronperf-throughput'));
    assert.match(report.html, /neuronperf table/);
    assert.match(report.html, /costs at \$3\.6 per hour/);
    assert.match(report.html, /<h2>batch4-seq16-concurrency2<\/h2>/);
  } finally {
    await fake.close();
  }
});

test('an input sweep needs synthetic texts', () => {
  assert.throws(
    () => parseProfileArgs(['--model', 'm', '--url', 'h:1', '--batch-size-text', '1,2', '--input-file', 'x.jsonl']),
    /input sweep .* needs synthetic inputs/,
  );
});

/** Runs `pooled profile` as the CLI does, capturing what it prints. */
async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runProfileCommand(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

test('the CLI exits 0 on a finished run, 1 when nothing succeeded or it cannot start, 2 on a bad command line', async () => {
  const fake = await startFakeEndpoint({ requiredHeader: ['authorization', 'Bearer right'] });
  try {
    const common = [
      '--model',
      'BAAI/bge-small-en-v1.5',
      '--url',
      fake.url,
      '--tokenizer',
      BGE,
      '--request-count',
      '2',
      '--synthetic-input-tokens-mean',
      '4',
      '--ui-type',
      'none',
    ];
    const ok = await cli([...common, '--api-key', 'right', '--artifact-dir', join(scratch, 'cli-ok')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Request Latency \(ms\)/);
    assert.match(ok.stdout, new RegExp(`Artifacts: ${join(scratch, 'cli-ok')}`));
    const refused = await cli([...common, '--api-key', 'wrong', '--artifact-dir', join(scratch, 'cli-refused')]);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /│ 401 +│ +2 │/);
    assert.match(refused.stderr, /no request succeeded/);
    const noTokenizer = await cli(['--model', 'nobody/no-model', '--url', fake.url, '--artifact-dir', join(scratch, 'cli-notok'), '--ui-type', 'none']);
    assert.equal(noTokenizer.code, 1);
    assert.match(noTokenizer.stderr, /cannot find a tokenizer for "nobody\/no-model"/);
    const usage = await cli(['--model', 'm']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--url is required[\s\S]*Usage: pooled profile/);
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--synthetic-input-tokens-mean/);
  } finally {
    await fake.close();
  }
});
