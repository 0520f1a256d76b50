// Which charts the report shows, built from the artifacts: per load point the latency distribution,
// throughput (requests and input tokens) over time and latency over time; for a sweep, latency against
// throughput with one dot per load point, the curve that shows where a server saturates; and where the
// latency went (network + HTTP, tokenization, queue, compute) when the server sent its stage times.
import { BREAKDOWN_COMPONENTS } from '../latency_breakdown.js';
import type { NeuronperfRow } from '../neuronperf_table.js';
import type { LoadPoint } from '../options.js';
import type { JsonlRecord } from '../records_jsonl.js';
import type { PointArtifacts } from './artifact_reader.js';
import { histogramChart, PALETTE, stackedBarChart, xyChart, type Chart, type XySeries } from './svg_charts.js';
import { timeline } from './time_series.js';

/** Latency dots drawn at most; beyond that an even subsample keeps the SVG small and the picture the same. */
const MAX_LATENCY_DOTS = 3000;

function evenSample<T>(items: readonly T[], limit: number): readonly T[] {
  if (items.length <= limit) return items;
  const stride = items.length / limit;
  return Array.from({ length: limit }, (_, i) => items[Math.floor(i * stride)]!);
}

export function chartIdPrefix(point: PointArtifacts): string {
  return point.name.replace(/[^A-Za-z0-9_-]+/g, '_');
}

export function pointCharts(point: PointArtifacts): Chart[] {
  const prefix = chartIdPrefix(point);
  const successes = point.records.filter((r) => r.error === null);
  const latencies = successes.map((r) => r.metrics.request_latency!.value);
  const stats = point.aggregate.request_latency;
  const run = timeline(point.records);
  const charts: Chart[] = [
    histogramChart({
      id: `${prefix}-latency-distribution`,
      title: 'Request latency distribution',
      xLabel: 'latency (ms)',
      values: latencies,
      markers: stats
        ? [
            { label: 'p50', value: stats.p50, colour: PALETTE.green },
            { label: 'p90', value: stats.p90, colour: PALETTE.orange },
            { label: 'p99', value: stats.p99, colour: PALETTE.red },
          ]
        : [],
    }),
  ];
  const throughputSeries: XySeries[] = [
    { name: 'successful req/s', colour: PALETTE.blue, style: 'line+dots', points: run.buckets.map((b) => ({ x: b.t, y: b.successPerS })) },
  ];
  if (run.buckets.some((b) => b.errorsPerS > 0)) {
    throughputSeries.push({ name: 'errors/s', colour: PALETTE.red, style: 'line+dots', points: run.buckets.map((b) => ({ x: b.t, y: b.errorsPerS })) });
  }
  charts.push(
    xyChart({
      id: `${prefix}-throughput-over-time`,
      title: `Request throughput over time (${run.bucketS} s buckets)`,
      xLabel: 'time since start (s)',
      yLabel: 'requests/s',
      series: throughputSeries,
      yFromZero: true,
      xFromZero: true,
    }),
  );
  if (successes.some((r) => r.metrics.input_tokens !== undefined)) {
    charts.push(
      xyChart({
        id: `${prefix}-tokens-over-time`,
        title: `Input token throughput over time (${run.bucketS} s buckets)`,
        xLabel: 'time since start (s)',
        yLabel: 'input tokens/s',
        series: [
          { name: 'input tokens/s (usage)', colour: PALETTE.purple, style: 'line+dots', points: run.buckets.map((b) => ({ x: b.t, y: b.inputTokensPerS })) },
        ],
        yFromZero: true,
        xFromZero: true,
      }),
    );
  }
  charts.push(
    xyChart({
      id: `${prefix}-latency-over-time`,
      title: 'Request latency over time',
      xLabel: 'completion time since start (s)',
      yLabel: 'latency (ms)',
      series: [
        {
          name: 'each request',
          colour: PALETTE.blue,
          style: 'dots',
          points: evenSample(run.latencies, MAX_LATENCY_DOTS).map((l) => ({ x: l.t, y: l.latencyMs })),
        },
        {
          name: `p50 per ${run.bucketS} s`,
          colour: PALETTE.orange,
          style: 'line',
          points: run.buckets.filter((b) => b.latencyP50Ms !== null).map((b) => ({ x: b.t, y: b.latencyP50Ms! })),
        },
      ],
      yFromZero: true,
      xFromZero: true,
    }),
  );
  return charts;
}

const BREAKDOWN_SEGMENTS = BREAKDOWN_COMPONENTS.map(([, label], i) => ({
  name: label,
  colour: [PALETTE.grey, PALETTE.purple, PALETTE.orange, PALETTE.blue][i]!,
}));

/** Latency bands by rank: what the typical request spent its time on, and what the slow ones did differently. */
const LATENCY_BANDS = [
  ['all', 0, 1],
  ['p0-50', 0, 0.5],
  ['p50-90', 0.5, 0.9],
  ['p90-99', 0.9, 0.99],
  ['p99-100', 0.99, 1],
] as const;

function meanBreakdown(records: readonly JsonlRecord[]): number[] {
  return BREAKDOWN_COMPONENTS.map(([name]) => records.reduce((sum, r) => sum + r.metrics[name]!.value, 0) / records.length);
}

/**
 * Mean of each latency component within latency bands (requests ranked by latency); null when no request
 * carried the server's stage times. Each bar's height is the band's mean latency.
 */
export function breakdownChart(point: PointArtifacts): Chart | null {
  const timed = point.records
    .filter((r) => r.error === null && r.metrics.compute_time !== undefined)
    .sort((a, b) => a.metrics.request_latency!.value - b.metrics.request_latency!.value);
  if (timed.length === 0) return null;
  const bars = LATENCY_BANDS.flatMap(([label, from, to]) => {
    // Disjoint bands by rank (floor at both ends): with few requests a band may be empty and is left out.
    const band = timed.slice(Math.floor(from * timed.length), Math.floor(to * timed.length));
    return band.length > 0 ? [{ label: `${label} (${band.length})`, values: meanBreakdown(band) }] : [];
  });
  return stackedBarChart({
    id: `${chartIdPrefix(point)}-latency-breakdown`,
    title: 'Where the latency went, by latency band',
    xLabel: 'requests ranked by latency (count)',
    yLabel: 'mean ms',
    segments: BREAKDOWN_SEGMENTS,
    bars,
  });
}

/** One bar per load point: the mean latency split into its components. Null when no point has a breakdown. */
export function sweepBreakdownChart(points: readonly PointArtifacts[]): Chart | null {
  const withBreakdown = points.filter((p) => p.aggregate.latency_breakdown);
  if (withBreakdown.length === 0) return null;
  return stackedBarChart({
    id: 'sweep-latency-breakdown',
    title: 'Where the latency went, per load point',
    xLabel: 'load point',
    yLabel: 'mean ms',
    segments: BREAKDOWN_SEGMENTS,
    bars: withBreakdown.map((p) => ({ label: shortLoadLabel(p.aggregate.load), values: p.aggregate.latency_breakdown!.components.map((c) => c.avg_ms) })),
  });
}

export function shortLoadLabel(load: LoadPoint): string {
  if (load.mode === 'concurrency') return `c=${load.concurrency}`;
  return load.maxConcurrency === null ? `r=${load.requestRate}` : `r=${load.requestRate},c=${load.maxConcurrency}`;
}

export function sweepChart(points: readonly PointArtifacts[]): Chart {
  const measured = points.filter((p) => p.aggregate.request_latency !== null);
  const series = (['p50', 'p90', 'p99'] as const).map(
    (key, i): XySeries => ({
      name: `${key} latency`,
      colour: [PALETTE.green, PALETTE.orange, PALETTE.red][i]!,
      style: 'line+dots',
      points: measured.map((p) => ({
        x: p.aggregate.request_throughput.avg,
        y: p.aggregate.request_latency![key],
        label: key === 'p50' ? shortLoadLabel(p.aggregate.load) : undefined,
      })),
    }),
  );
  return xyChart({
    id: 'sweep-latency-vs-throughput',
    title: 'Latency vs throughput, one dot per load point',
    xLabel: 'request throughput (requests/s)',
    yLabel: 'latency (ms)',
    series,
    yFromZero: true,
    xFromZero: true,
  });
}

const SERIES_COLOURS = [PALETTE.blue, PALETTE.orange, PALETTE.green, PALETTE.red, PALETTE.purple, PALETTE.grey];

/** Rows grouped into one series per (sequence length, workers per model), each sorted by batch size. */
function neuronperfSeries(rows: readonly NeuronperfRow[], pick: (row: NeuronperfRow) => number | null): XySeries[] {
  const groups = new Map<string, NeuronperfRow[]>();
  const multipleWorkers = new Set(rows.map((r) => r.workers_per_model)).size > 1;
  for (const row of rows) {
    const key = `seq_len ${row.seq_len}${multipleWorkers ? `, ${row.workers_per_model ?? '-'} workers` : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.entries()].map(([name, group], i) => ({
    name,
    colour: SERIES_COLOURS[i % SERIES_COLOURS.length]!,
    style: 'line+dots',
    points: group
      .filter((row) => pick(row) !== null)
      .sort((a, b) => a.batch_size - b.batch_size)
      .map((row) => ({ x: row.batch_size, y: pick(row)! })),
  }));
}

/** The neuronperf sweep drawn: inferences/s and p50 latency against batch size, one line per sequence length. */
export function neuronperfCharts(rows: readonly NeuronperfRow[]): Chart[] {
  return [
    xyChart({
      id: 'neuronperf-throughput',
      title: 'Throughput by batch size',
      xLabel: 'batch size (inputs per request)',
      yLabel: 'inferences/s',
      series: neuronperfSeries(rows, (r) => r.throughput_inferences_per_s),
      yFromZero: true,
      xFromZero: true,
    }),
    xyChart({
      id: 'neuronperf-latency',
      title: 'Request latency p50 by batch size',
      xLabel: 'batch size (inputs per request)',
      yLabel: 'latency p50 (ms)',
      series: neuronperfSeries(rows, (r) => r.latency_ms_p50),
      yFromZero: true,
      xFromZero: true,
    }),
  ];
}
