import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarize } from '../../src/profile/aggregate.js';
import type { RequestRecord } from '../../src/profile/records.js';
import { parseJsonlRecords, recordToJsonLine } from '../../src/profile/records_jsonl.js';
import type { ArtifactSet, PointArtifacts } from '../../src/profile/report/artifact_reader.js';
import { costPerMillion, formatCost } from '../../src/profile/report/cost.js';
import { renderReport } from '../../src/profile/report/report_html.js';
import { histogramChart, niceTicks, xyChart } from '../../src/profile/report/svg_charts.js';
import { bucketWidthS, targetBucketCount, timeline } from '../../src/profile/report/time_series.js';

const T0 = 1_700_000_000_000_000_000n;
const MS = 1_000_000n;

function record(sessionNum: number, startMs: number, latencyMs: number, failed = false): RequestRecord {
  return {
    sessionNum,
    xRequestId: `r${sessionNum}`,
    conversationId: 'c',
    workerId: 'worker_0',
    phase: 'profiling',
    requestStartNs: T0 + BigInt(startMs) * MS,
    requestAckNs: null,
    requestEndNs: T0 + BigInt(startMs + latencyMs) * MS,
    batchSize: 1,
    inputSequenceLength: 10,
    usageInputTokens: failed ? null : 12,
    timeToFirstTokenMs: null,
    interTokenLatencyMs: null,
    outputTokens: null,
    serverTiming: null,
    error: failed ? { code: 503, type: 'HTTPError', message: 'busy' } : null,
  };
}

function point(name: string, concurrency: number, records: RequestRecord[]): PointArtifacts {
  const summary = summarize(records, null);
  return {
    name,
    folder: `/nowhere/${name}`,
    aggregate: {
      ...summary,
      load: { mode: 'concurrency', concurrency },
      pooled_config: { model: 'BAAI/bge-small-en-v1.5', endpointType: 'embeddings', baseUrl: 'http://h:1', endpointPath: '/v1/embeddings' },
    },
    records: parseJsonlRecords(records.map(recordToJsonLine).join('\n')),
    serverMetricsDelta: { 'requests_total{code="200"}': records.length },
  };
}

test('axis ticks are round numbers covering the data', () => {
  assert.deepEqual(niceTicks(0, 97), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(0.3, 0.72), [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
  const flat = niceTicks(3, 3);
  assert.ok(flat[0]! < 3 && flat[flat.length - 1]! > 3);
});

test('the histogram puts every value in exactly one bar and marks the percentiles', () => {
  const values = Array.from({ length: 100 }, (_, i) => 10 + (i % 37));
  const chart = histogramChart({
    id: 'h',
    title: 'Latency',
    xLabel: 'latency (ms)',
    values,
    numBins: 10,
    markers: [{ label: 'p50', value: 27, colour: '#2ca02c' }],
  });
  const counts = [...chart.svg.matchAll(/: (\d+) requests<\/title>/g)].map((m) => Number(m[1]));
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    100,
  );
  assert.ok(counts.length <= 10);
  assert.match(chart.svg, /class="marker"[^>]*stroke="#2ca02c"/);
  assert.match(chart.svg, /p50 = 27/);
  assert.match(chart.svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" id="h"/);
  assert.match(histogramChart({ id: 'e', title: 'Empty', xLabel: 'x', values: [] }).svg, /no successful requests/);
});

test('x/y charts draw a path per line series and a dot per point', () => {
  const chart = xyChart({
    id: 'xy',
    title: 'T',
    xLabel: 'x',
    yLabel: 'y',
    series: [
      {
        name: 'line',
        colour: '#111111',
        style: 'line',
        points: [
          { x: 0, y: 1 },
          { x: 1, y: 2 },
          { x: 2, y: 0 },
        ],
      },
      {
        name: 'dots',
        colour: '#222222',
        style: 'dots',
        points: [
          { x: 0.5, y: 1 },
          { x: 1.5, y: 1.5 },
        ],
      },
      {
        name: 'both',
        colour: '#333333',
        style: 'line+dots',
        points: [
          { x: 0, y: 0, label: 'c=1' },
          { x: 2, y: 2, label: 'c=4' },
        ],
      },
    ],
  });
  assert.equal((chart.svg.match(/class="series-line"/g) ?? []).length, 2);
  assert.equal((chart.svg.match(/class="dot"/g) ?? []).length, 4);
  assert.match(chart.svg, />c=4<\/text>/);
  assert.match(chart.svg, /<title>dots: x 1\.5, y 1\.5<\/title>/);
});

test('the timeline buckets completions so rate x width adds back up to the counts', () => {
  const records = [...Array.from({ length: 30 }, (_, i) => record(i, i * 100, 50)), record(30, 500, 20, true), record(31, 1500, 20, true)];
  const run = timeline(parseJsonlRecords(records.map(recordToJsonLine).join('\n')));
  assert.ok(Math.abs(run.durationS - 2.95) < 1e-6, `${run.durationS}`); // epoch ns as doubles: 256 ns resolution
  assert.equal(run.bucketS, bucketWidthS(2.95, targetBucketCount(32)));
  assert.equal(run.bucketS, 0.5);
  // 2.95 s in 0.5 s buckets: the 0.45 s tail is kept (over half a bucket); widths add up to the duration.
  const widths = run.buckets.map((b) => b.widthS);
  assert.equal(widths.length, 6);
  assert.ok(Math.abs(widths.reduce((a, b) => a + b, 0) - run.durationS) < 1e-9);
  const successes = run.buckets.reduce((sum, b, i) => sum + b.successPerS * widths[i]!, 0);
  const errors = run.buckets.reduce((sum, b, i) => sum + b.errorsPerS * widths[i]!, 0);
  const tokens = run.buckets.reduce((sum, b, i) => sum + b.inputTokensPerS * widths[i]!, 0);
  assert.ok(Math.abs(successes - 30) < 1e-6, `${successes}`);
  assert.ok(Math.abs(errors - 2) < 1e-6);
  assert.ok(Math.abs(tokens - 360) < 1e-6);
  assert.equal(run.latencies.length, 30);
  // A sliver at the end joins the previous bucket instead of becoming a spike.
  const sliver = timeline(parseJsonlRecords([record(0, 0, 50), record(1, 1000, 20)].map(recordToJsonLine).join('\n')));
  assert.equal(sliver.bucketS, 0.5);
  assert.deepEqual(
    sliver.buckets.map((b) => Number(b.widthS.toFixed(6))),
    [0.5, 0.52],
  );
  assert.ok(run.latencies.every((l) => Math.abs(l.latencyMs - 50) < 1e-6));
});

test('cost per million follows from the hourly price and the throughput', () => {
  assert.equal(costPerMillion(3.6, 10), 100); // $3.60/h = $0.001/s; 10 req/s -> $0.0001 per request
  assert.equal(costPerMillion(1, 0), null);
  assert.equal(formatCost(100), '$100.00');
  assert.equal(formatCost(0.01234), '$0.0123');
});

test("a sweep report has the sweep chart, every point's charts and tables, and costs", () => {
  // c=1: 10 requests, 100 ms each, back to back -> 10 req/s over 1 s. c=4: 20 requests in 1 s, two failed.
  const slow = Array.from({ length: 10 }, (_, i) => record(i, i * 100, 100));
  const fast = [...Array.from({ length: 20 }, (_, i) => record(i, i * 50, 50)), record(20, 0, 5, true), record(21, 10, 5, true)];
  const set: ArtifactSet = { dir: '/nowhere', isSweep: true, points: [point('concurrency1', 1, slow), point('concurrency4', 4, fast)] };
  const report = renderReport(set, { costPerHour: 3.6, generatedAt: new Date(0) });
  assert.deepEqual(
    report.charts.map((c) => c.id),
    [
      'sweep-latency-vs-throughput',
      'concurrency1-latency-distribution',
      'concurrency1-throughput-over-time',
      'concurrency1-tokens-over-time',
      'concurrency1-latency-over-time',
      'concurrency4-latency-distribution',
      'concurrency4-throughput-over-time',
      'concurrency4-tokens-over-time',
      'concurrency4-latency-over-time',
    ],
  );
  for (const chart of report.charts) assert.ok(report.html.includes(chart.svg));
  assert.match(report.html, /<td class="text">concurrency1<\/td><td>10<\/td><td>120<\/td><td>100<\/td>/);
  assert.match(report.html, /\$100\.00/); // $3.60/h at 10 req/s
  assert.match(report.html, /<td>503<\/td><td>2<\/td>/);
  assert.match(report.html, />c=4</);
  assert.match(report.html, /requests_total\{code=&quot;200&quot;\}/);
  assert.doesNotMatch(report.html, /<(script|link|img|iframe|object)\b|\s(src|href)=|url\(/i, 'nothing to fetch: the page works offline');
});

test('the report splits latency into network + HTTP, tokenization, queue and compute when the server timed its stages', () => {
  // 100 requests: latency 10 + i ms, of which 1 ms tokenization, i/10 ms queue, 5 ms compute.
  const timed = Array.from({ length: 100 }, (_, i) => ({
    ...record(i, i * 20, 10 + i),
    serverTiming: { tokenizationMs: 1, queueMs: i / 10, inferenceMs: 5, totalMs: null },
  }));
  const set: ArtifactSet = { dir: '/nowhere', isSweep: true, points: [point('concurrency2', 2, timed), point('concurrency1', 1, [record(0, 0, 10)])] };
  const report = renderReport(set, { costPerHour: null, generatedAt: new Date(0) });
  const ids = report.charts.map((c) => c.id);
  assert.ok(ids.includes('sweep-latency-breakdown') && ids.includes('concurrency2-latency-breakdown'));
  assert.equal(ids.includes('concurrency1-latency-breakdown'), false, 'no stage times, no breakdown chart');
  const chart = report.charts.find((c) => c.id === 'concurrency2-latency-breakdown')!;
  // Five bands (all, p0-50, p50-90, p90-99, p99-100) x four components, every one non-zero.
  assert.equal(chart.svg.match(/class="segment"/g)!.length, 20);
  assert.match(chart.svg, /p99-100 \(1\): Queue 9\.9 mean ms/);
  assert.match(report.html, /<h3>Latency breakdown<\/h3>/);
  assert.match(report.html, /<td class="text">Compute<\/td><td>5<\/td><td>5<\/td><td>5<\/td><td>8\.4%<\/td>/);
});
