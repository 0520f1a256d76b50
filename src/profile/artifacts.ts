// Files a profile run leaves behind, named as AIPerf names them where it has a counterpart:
//   profile_export.json   aggregates + configuration        profile_export.csv  the same aggregates as CSV
//   profile_export.jsonl  one record per request             inputs.json         the request bodies sent
//   server_metrics_before.txt / _after.txt, server_metrics_delta.json   the server's /metrics around the run
// A sweep writes one such folder per load point and sweep_summary.json/.csv next to them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DISTRIBUTION_METRICS, SCALAR_METRICS, type ProfileSummary } from './aggregate.js';
import type { LoadPoint } from './options.js';
import type { PreparedRequest } from './payload.js';
import type { RequestRecord } from './records.js';
import { recordToJsonLine } from './records_jsonl.js';
import { metricsDelta, type MetricsScrape } from './server_metrics.js';
import { REPORTED_PERCENTILES } from './stats.js';

export const AGGREGATE_JSON = 'profile_export.json';
export const AGGREGATE_CSV = 'profile_export.csv';
export const RECORDS_JSONL = 'profile_export.jsonl';
export const INPUTS_JSON = 'inputs.json';
export const SWEEP_SUMMARY_JSON = 'sweep_summary.json';
export const SWEEP_SUMMARY_CSV = 'sweep_summary.csv';

export interface PointExport {
  readonly summary: ProfileSummary;
  readonly load: LoadPoint;
  readonly records: readonly RequestRecord[];
  readonly warmup: { readonly request_count: number; readonly error_count: number };
  readonly inputConfig: Record<string, unknown>;
  readonly metricsBefore: MetricsScrape | null;
  readonly metricsAfter: MetricsScrape | null;
}

export function writeInputs(dir: string, prepared: readonly PreparedRequest[]): void {
  mkdirSync(dir, { recursive: true });
  const data = prepared.map((request) => ({ session_id: request.entryId, payloads: [request.body] }));
  writeFileSync(join(dir, INPUTS_JSON), JSON.stringify({ data }, null, 2));
}

function serverMetricsSection(before: MetricsScrape | null, after: MetricsScrape | null): Record<string, unknown> | null {
  if (!before && !after) return null;
  return {
    url: (before ?? after)!.url,
    before: before ? (before.ok ? 'ok' : `failed: ${before.error}`) : 'not scraped',
    after: after ? (after.ok ? 'ok' : `failed: ${after.error}`) : 'not scraped',
  };
}

export function aggregateDocument(point: PointExport): Record<string, unknown> {
  return {
    ...point.summary,
    load: point.load,
    warmup: point.warmup,
    server_metrics: serverMetricsSection(point.metricsBefore, point.metricsAfter),
    input_config: point.inputConfig,
  };
}

const fmt = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(4));
const csvCell = (text: string): string => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

export function aggregateCsv(summary: ProfileSummary): string {
  const statColumns = ['avg', 'min', 'max', ...REPORTED_PERCENTILES.map((p) => `p${p}` as const), 'std'] as const;
  const lines = [`Metric,${statColumns.join(',')}`];
  for (const [key, label] of DISTRIBUTION_METRICS) {
    const stats = summary[key];
    if (stats) lines.push([csvCell(`${label} (${stats.unit})`), ...statColumns.map((c) => fmt(stats[c]))].join(','));
  }
  lines.push('', 'Metric,Value');
  for (const [key, label] of SCALAR_METRICS) {
    const metric = summary[key];
    if (metric) lines.push(`${csvCell(`${label} (${metric.unit})`)},${fmt(metric.avg)}`);
  }
  const errorKeys = Object.keys(summary.error_count_by_status);
  if (errorKeys.length > 0) {
    lines.push('', 'Error,Count');
    for (const key of errorKeys) lines.push(`${csvCell(key)},${summary.error_count_by_status[key]}`);
  }
  return `${lines.join('\n')}\n`;
}

export function writePointArtifacts(dir: string, point: PointExport): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, AGGREGATE_JSON), JSON.stringify(aggregateDocument(point), null, 2));
  writeFileSync(join(dir, AGGREGATE_CSV), aggregateCsv(point.summary));
  writeFileSync(join(dir, RECORDS_JSONL), point.records.map((r) => `${recordToJsonLine(r)}\n`).join(''));
  if (point.metricsBefore) writeFileSync(join(dir, 'server_metrics_before.txt'), point.metricsBefore.text);
  if (point.metricsAfter) writeFileSync(join(dir, 'server_metrics_after.txt'), point.metricsAfter.text);
  if (point.metricsBefore?.ok && point.metricsAfter?.ok) {
    writeFileSync(join(dir, 'server_metrics_delta.json'), JSON.stringify(metricsDelta(point.metricsBefore.text, point.metricsAfter.text), null, 2));
  }
}

export interface SweepRow {
  readonly folder: string;
  readonly load: LoadPoint;
  readonly summary: ProfileSummary;
}

export function writeSweepSummary(dir: string, rows: readonly SweepRow[]): void {
  mkdirSync(dir, { recursive: true });
  const points = rows.map((row) => ({
    folder: row.folder,
    load: row.load,
    request_throughput: row.summary.request_throughput.avg,
    input_token_throughput: row.summary.input_token_throughput?.avg ?? null,
    request_latency_avg: row.summary.request_latency?.avg ?? null,
    request_latency_p50: row.summary.request_latency?.p50 ?? null,
    request_latency_p90: row.summary.request_latency?.p90 ?? null,
    request_latency_p99: row.summary.request_latency?.p99 ?? null,
    request_count: row.summary.request_count.avg,
    error_request_count: row.summary.error_request_count.avg,
    goodput: row.summary.goodput?.avg ?? null,
  }));
  writeFileSync(join(dir, SWEEP_SUMMARY_JSON), JSON.stringify({ points }, null, 2));
  const columns = Object.keys(points[0] ?? {}).filter((c) => c !== 'load');
  const csv = [
    ['load', ...columns].join(','),
    ...points.map((p) =>
      [
        csvCell(JSON.stringify(p.load)),
        ...columns.map((c) => {
          const value = p[c as keyof typeof p];
          return typeof value === 'number' ? fmt(value) : value === null ? '' : csvCell(String(value));
        }),
      ].join(','),
    ),
  ];
  writeFileSync(join(dir, SWEEP_SUMMARY_CSV), `${csv.join('\n')}\n`);
}
