import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { errorStatusKey, summarize } from '../../src/profile/aggregate.js';
import { aggregateCsv, writePointArtifacts } from '../../src/profile/artifacts.js';
import { parseProfileArgs } from '../../src/profile/options.js';
import type { RequestError, RequestRecord } from '../../src/profile/records.js';
import { parseServerTiming } from '../../src/profile/server_timing.js';
import { parseJsonlRecords, recordToJsonLine } from '../../src/profile/records_jsonl.js';
import { metricsDelta, parsePrometheusText } from '../../src/profile/server_metrics.js';

const T0 = 1_700_000_000_000_000_000n; // epoch ns, beyond 2^53
const MS = 1_000_000n;
const scratch = mkdtempSync(join(tmpdir(), 'profile-aggregate-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function record(sessionNum: number, startMs: number, latencyMs: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return {
    sessionNum,
    xRequestId: `id-${sessionNum}`,
    conversationId: `synthetic_${sessionNum}`,
    workerId: 'worker_0',
    phase: 'profiling',
    requestStartNs: T0 + BigInt(startMs) * MS,
    requestAckNs: T0 + BigInt(startMs) * MS + 1n,
    requestEndNs: T0 + BigInt(startMs + latencyMs) * MS,
    batchSize: 2,
    inputSequenceLength: 20,
    usageInputTokens: 24,
    timeToFirstTokenMs: null,
    interTokenLatencyMs: null,
    outputTokens: null,
    serverTiming: null,
    error: null,
    ...extra,
  };
}

const failure = (code: number | null, type: RequestError['type'], message = 'boom'): Partial<RequestRecord> => ({
  error: { code, type, message },
  usageInputTokens: null,
});

// 10 successes with latencies 10..100 ms issued back to back from t=0 (the last ends at 1000 ms),
// plus failures: two 429s, one 500, one dropped connection, one timeout, one invalid 200.
const successes = Array.from({ length: 10 }, (_, i) => record(i, i * 100, (i + 1) * 10));
const failures = [
  record(10, 5, 1, failure(429, 'HTTPError')),
  record(11, 6, 1, failure(429, 'HTTPError')),
  record(12, 7, 2, failure(500, 'HTTPError')),
  record(13, 8, 3, failure(200, 'ConnectionError', 'closed early')),
  record(14, 9, 4, failure(null, 'TimeoutError')),
  record(15, 10, 5, failure(200, 'InvalidResponse', 'expected 2 embeddings, got 1')),
];
const records = [...successes, ...failures];

test('counts, latency percentiles, tokens and throughput come out exactly', () => {
  const summary = summarize(records, { request_latency: 50 });
  assert.equal(summary.request_count.avg, 10);
  assert.equal(summary.error_request_count.avg, 6);
  const latency = summary.request_latency!;
  assert.equal(latency.min, 10);
  assert.equal(latency.max, 100);
  assert.equal(latency.avg, 55);
  assert.equal(latency.p50, 55);
  assert.ok(Math.abs(latency.p90 - 91) < 1e-9);
  assert.ok(Math.abs(latency.p99 - 99.1) < 1e-9);
  assert.equal(summary.benchmark_duration.avg, 1); // first start 0 ms, last end 900 + 100 ms
  assert.equal(summary.request_throughput.avg, 10);
  assert.equal(summary.input_tokens!.avg, 24);
  assert.equal(summary.total_input_tokens!.avg, 240);
  assert.equal(summary.input_token_throughput!.avg, 240);
  assert.equal(summary.total_isl!.avg, 200);
  assert.equal(summary.batch_size!.p50, 2);
  assert.equal(summary.good_request_count!.avg, 5); // 10..50 ms meet 50 ms
  assert.equal(summary.goodput!.avg, 5);
  assert.equal(summary.time_to_first_token, null);
  assert.equal(summary.start_time, new Date(Number(T0 / MS)).toISOString());
});

test('errors are counted by HTTP status, or by kind when the server never answered', () => {
  const summary = summarize(records, null);
  assert.deepEqual(summary.error_count_by_status, { '429': 2, '500': 1, ConnectionError: 1, TimeoutError: 1, InvalidResponse: 1 });
  assert.equal(summary.error_summary[0]!.count, 2);
  assert.deepEqual(summary.error_summary[0]!.error_details, { code: 429, type: 'HTTPError', message: 'boom' });
  assert.equal(errorStatusKey({ code: 503, type: 'HTTPError', message: '' }), '503');
  assert.equal(summary.goodput, null);
});

test('streaming metrics and an all-failed run', () => {
  const chat = summarize(
    [
      record(0, 0, 100, { timeToFirstTokenMs: 30, interTokenLatencyMs: 10, outputTokens: 8 }),
      record(1, 100, 100, { timeToFirstTokenMs: 50, interTokenLatencyMs: 20, outputTokens: 4 }),
    ],
    { time_to_first_token: 40 },
  );
  assert.equal(chat.time_to_first_token!.avg, 40);
  assert.equal(chat.inter_token_latency!.max, 20);
  assert.equal(chat.output_token_throughput!.avg, 12 / 0.2);
  assert.equal(chat.good_request_count!.avg, 1);
  const failed = summarize(failures, null);
  assert.equal(failed.request_latency, null);
  assert.equal(failed.request_throughput.avg, 0);
  assert.equal(failed.input_token_throughput, null);
});

test('per-request JSONL keeps nanosecond timestamps exact and round-trips', () => {
  const line = recordToJsonLine(successes[3]!);
  assert.match(line, /"request_start_ns":1700000000300000000,"request_ack_ns":1700000000300000001,/);
  const [parsed] = parseJsonlRecords(`${line}\n${recordToJsonLine(failures[0]!)}\n`);
  assert.equal(parsed!.metadata.session_num, 3);
  assert.equal(parsed!.metrics.request_latency!.value, 40);
  assert.equal(parsed!.metrics.input_tokens!.value, 24);
  assert.equal(parsed!.error, null);
  const failedLine = JSON.parse(recordToJsonLine(failures[0]!));
  assert.equal(failedLine.metrics.request_latency, undefined, 'failed requests do not pollute latency');
  assert.deepEqual(failedLine.error, { code: 429, type: 'HTTPError', message: 'boom' });
});

test('artifact files: aggregate JSON and CSV, JSONL, server metrics delta', () => {
  const summary = summarize(records, null);
  const before = { url: 'http://x/metrics', ok: true, status: 200, text: '# HELP a\nrequests_total{route="/v1/embeddings"} 5\nup 1\n', error: null };
  const afterScrape = { ...before, text: 'requests_total{route="/v1/embeddings"} 21\nup 1\nnew_series 3\n' };
  writePointArtifacts(scratch, {
    summary,
    load: { mode: 'concurrency', concurrency: 1 },
    records,
    warmup: { request_count: 0, error_count: 0 },
    options: parseProfileArgs(['--model', 'm', '--url', 'h:1', '--api-key', 'sk-secret', '--concurrency', '1'])!,
    metricsBefore: before,
    metricsAfter: afterScrape,
  });
  const aggregateText = readFileSync(join(scratch, 'profile_export_aiperf.json'), 'utf8');
  const aggregate = JSON.parse(aggregateText);
  assert.equal(aggregateText.includes('sk-secret'), false, 'the API key is not written');
  assert.equal(aggregate.schema_version, '1.4');
  assert.equal(aggregate.request_latency.unit, 'ms');
  assert.equal(aggregate.request_latency.p50, 55);
  assert.equal(aggregate.request_latency.count, 10);
  assert.equal(aggregate.request_latency.sum, 550);
  // AIPerf's input_config layout, as its data loader reads it (model, endpoint type, profiling phase).
  assert.equal(aggregate.input_config.models.items[0].name, 'm');
  assert.equal(aggregate.input_config.endpoint.type, 'embeddings');
  assert.deepEqual(aggregate.input_config.phases, [{ name: 'profiling', kind: 'profiling', requests: 16, type: 'concurrency', concurrency: 1 }]);
  assert.equal(aggregate.pooled_config.model, 'm');
  assert.equal(aggregate.run_info.benchmark_id, aggregate.benchmark_id);
  assert.equal(aggregate.completed_request_count.avg, 16);
  assert.equal(aggregate.request_error_rate.avg, 37.5);
  assert.deepEqual(aggregate.load, { mode: 'concurrency', concurrency: 1 });
  assert.deepEqual(aggregate.server_metrics, { url: 'http://x/metrics', before: 'ok', after: 'ok' });
  assert.equal(readFileSync(join(scratch, 'profile_export.jsonl'), 'utf8').trim().split('\n').length, 16);
  assert.deepEqual(JSON.parse(readFileSync(join(scratch, 'server_metrics_delta.json'), 'utf8')), {
    'requests_total{route="/v1/embeddings"}': 16,
    new_series: 3,
  });
  const csv = aggregateCsv(summary).split('\n');
  assert.equal(csv[0], 'Metric,avg,min,max,sum,p1,p5,p10,p25,p50,p75,p90,p95,p99,std');
  const latencyRow = csv.find((line) => line.startsWith('Request Latency (ms),'));
  assert.match(latencyRow!, /^Request Latency \(ms\),55\.00,10\.00,100\.00,550\.00,10\.90,/);
  assert.ok(csv.includes('Request Throughput (requests/sec),10.00'));
  assert.ok(csv.includes('Request Error Rate (%),37.50'));
  assert.ok(csv.includes('429,2'));
  assert.ok(csv.includes('Request Count,10.00'), 'no unit after a bare count, as AIPerf writes it');
  const statNames = csv.slice(1, csv.indexOf('')).map((line) => line.split(',')[0]!);
  // Sorted by metric tag, as AIPerf writes them: batch_size, input_sequence_length, input_tokens, request_latency.
  assert.deepEqual(statNames, [
    'Inputs per Request (inputs)',
    'Input Sequence Length (tokens)',
    'Server Input Tokens per Request (tokens)',
    'Request Latency (ms)',
  ]);
});

test('latency breakdown: server stage times from headers, network + HTTP is the rest, components add up', () => {
  assert.deepEqual(parseServerTiming({ 'x-tokenization-time': '1.500', 'x-queue-time': '2.000', 'x-inference-time': '20.250', 'x-total-time': '24.000' }), {
    tokenizationMs: 1.5,
    queueMs: 2,
    inferenceMs: 20.25,
    totalMs: 24,
  });
  assert.equal(parseServerTiming({ 'x-queue-time': '2', 'x-inference-time': '3' }), null, 'all three stages or none');
  assert.equal(parseServerTiming({ 'x-tokenization-time': 'soon', 'x-queue-time': '2', 'x-inference-time': '3' }), null);
  const timed = [
    record(0, 0, 40, { serverTiming: { tokenizationMs: 2, queueMs: 8, inferenceMs: 20, totalMs: 31 } }),
    record(1, 50, 60, { serverTiming: { tokenizationMs: 4, queueMs: 12, inferenceMs: 30, totalMs: 47 } }),
    record(2, 120, 100),
  ];
  const summary = summarize(timed, null);
  assert.equal(summary.network_http_time!.avg, (10 + 14) / 2);
  assert.equal(summary.compute_time!.p50, 25);
  assert.equal(summary.queue_time!.count, 2, 'a request without the headers has no breakdown');
  const breakdown = summary.latency_breakdown!;
  assert.equal(breakdown.request_count, 2);
  assert.equal(breakdown.request_latency_avg_ms, 50);
  const total = breakdown.components.reduce((sum, c) => sum + c.avg_ms, 0);
  assert.ok(Math.abs(total - 50) < 1e-12, `components add up to the mean latency (${total})`);
  assert.ok(Math.abs(breakdown.components.reduce((sum, c) => sum + c.share, 0) - 1) < 1e-12);
  const line = JSON.parse(recordToJsonLine(timed[0]!));
  assert.deepEqual(
    [line.metrics.network_http_time, line.metrics.tokenization_time, line.metrics.queue_time, line.metrics.compute_time],
    [10, 2, 8, 20].map((value) => ({ value, unit: 'ms' })),
  );
  assert.equal(JSON.parse(recordToJsonLine(timed[2]!)).metrics.queue_time, undefined);
  assert.equal(summarize(records, null).latency_breakdown, null, 'no headers, no breakdown');
});

test('Prometheus text parsing handles labels with spaces, comments and special values', () => {
  const samples = parsePrometheusText('# TYPE x counter\nx{a="b c",d="e"} 3.5 1700000000\ny +Inf\nz NaN\n\n');
  assert.equal(samples.get('x{a="b c",d="e"}'), 3.5);
  assert.equal(samples.get('y'), Infinity);
  assert.equal(samples.has('z'), false);
  assert.deepEqual(metricsDelta('a 1\nb 2\n', 'a 4\nb 2\nc{x="y"} 5\n'), { a: 3, 'c{x="y"}': 5 });
});
