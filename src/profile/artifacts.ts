// Files a profile run leaves behind, named and shaped as AIPerf 0.13 writes them, so AIPerf's own tooling
// (`aiperf plot`'s data loader) and scripts written for AIPerf read ours:
//   profile_export_aiperf.json  aggregates + configuration   profile_export_aiperf.csv  the same aggregates as CSV
//   profile_export.jsonl        one record per request        inputs.json                the request bodies sent
//   server_metrics_before.txt / _after.txt, server_metrics_delta.json   the server's /metrics around the run
// A sweep writes one such folder per load point and sweep_summary.json/.csv next to them.
// test/upstream/test_aiperf.py runs the real AIPerf against the same server and compares the two schemas.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DISTRIBUTION_METRICS, SCALAR_METRICS, type ProfileSummary } from './aggregate.js';
import { NEURONPERF_CSV, neuronperfCsv, neuronperfRow } from './neuronperf_table.js';
import type { InputVariant, LoadPoint, ProfileOptions } from './options.js';
import type { PreparedRequest } from './payload.js';
import type { RequestRecord } from './records.js';
import { recordToJsonLine } from './records_jsonl.js';
import { metricsDelta, type MetricsScrape } from './server_metrics.js';
import { REPORTED_PERCENTILES } from './stats.js';

export const AGGREGATE_JSON = 'profile_export_aiperf.json';
export const AGGREGATE_CSV = 'profile_export_aiperf.csv';
/** What this module wrote before it followed AIPerf's names; the report still reads old artifact folders. */
export const LEGACY_AGGREGATE_JSON = 'profile_export.json';
/** The aggregate schema of the AIPerf version whose layout these files follow (its "schema_version"). */
export const AIPERF_SCHEMA_VERSION = '1.4';
export const RECORDS_JSONL = 'profile_export.jsonl';
export const INPUTS_JSON = 'inputs.json';
export const SWEEP_SUMMARY_JSON = 'sweep_summary.json';
export const SWEEP_SUMMARY_CSV = 'sweep_summary.csv';

export interface PointExport {
  readonly summary: ProfileSummary;
  readonly load: LoadPoint;
  readonly records: readonly RequestRecord[];
  readonly warmup: { readonly request_count: number; readonly error_count: number };
  /** The options of the run: written as AIPerf's input_config, and in full (secrets redacted) as pooled_config. */
  readonly options: ProfileOptions;
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

/** Every option as parsed, with credential-like headers masked. */
export function redactedConfig(options: ProfileOptions): Record<string, unknown> {
  const headers = Object.fromEntries(
    Object.entries(options.headers).map(([name, value]) => [name, /authorization|api-key|token/i.test(name) ? '<redacted>' : value]),
  );
  const { cliCommand, ...rest } = options;
  return { ...rest, headers, cli_command: cliCommand };
}

/** The dataset block of AIPerf's input_config (YAML v2 layout). */
function datasetSection(options: ProfileOptions): Record<string, unknown> {
  const source = options.inputs;
  if (source.kind === 'file') return { name: 'main', type: 'file', path: source.path, custom_dataset_type: source.datasetType };
  if (source.rankings) {
    const r = source.rankings;
    return {
      name: 'main',
      type: 'synthetic',
      entries: source.numDatasetEntries,
      rankings: {
        passages: { mean: r.passagesMean, stddev: r.passagesStddev },
        passage_tokens: { mean: r.passageTokensMean, stddev: r.passageTokensStddev },
        query_tokens: { mean: r.queryTokensMean, stddev: r.queryTokensStddev },
      },
    };
  }
  return {
    name: 'main',
    type: 'synthetic',
    entries: source.numDatasetEntries,
    prompts: { isl: { mean: source.tokensMean, stddev: source.tokensStddev }, batch_size: source.batchSizeText },
  };
}

function phaseSection(options: ProfileOptions, load: LoadPoint, requestCount: number): Record<string, unknown> {
  const common = { name: 'profiling', kind: 'profiling', requests: requestCount };
  if (load.mode === 'concurrency') return { ...common, type: 'concurrency', concurrency: load.concurrency };
  return {
    ...common,
    type: 'request_rate',
    rate: load.requestRate,
    arrival_pattern: options.arrivalPattern,
    ...(load.maxConcurrency === null ? {} : { concurrency: load.maxConcurrency }),
  };
}

/**
 * AIPerf's input_config, in the YAML v2 layout its data loader reads (models.items[].name, endpoint.type,
 * phases[] with concurrency and requests); only the fields that have a meaning here.
 */
export function aiperfInputConfig(options: ProfileOptions, load: LoadPoint, requestCount: number, artifactDir: string): Record<string, unknown> {
  const warmup =
    options.warmupRequestCount > 0
      ? [
          {
            name: 'warmup',
            kind: 'warmup',
            requests: options.warmupRequestCount,
            ...(load.mode === 'concurrency' ? { type: 'concurrency', concurrency: load.concurrency } : {}),
          },
        ]
      : [];
  return {
    models: { items: [{ name: options.model }] },
    endpoint: { urls: [options.baseUrl], type: options.endpointType, custom_endpoint: options.endpointPath, streaming: options.streaming },
    datasets: [datasetSection(options)],
    phases: [...warmup, phaseSection(options, load, requestCount)],
    artifacts: { dir: artifactDir },
    tokenizer: { name: options.tokenizer },
    server_metrics: { enabled: options.serverMetricsUrl !== null, urls: options.serverMetricsUrl ? [options.serverMetricsUrl] : [] },
  };
}

export function aggregateDocument(point: PointExport, artifactDir = '.'): Record<string, unknown> {
  const benchmarkId = randomBytes(6).toString('hex');
  const completed = point.summary.completed_request_count.avg;
  return {
    schema_version: AIPERF_SCHEMA_VERSION,
    generator: 'pooled profile',
    benchmark_id: benchmarkId,
    ...point.summary,
    load: point.load,
    warmup: point.warmup,
    server_metrics: serverMetricsSection(point.metricsBefore, point.metricsAfter),
    input_config: aiperfInputConfig(point.options, point.load, completed, artifactDir),
    pooled_config: redactedConfig(point.options),
    run_info: { benchmark_id: benchmarkId, trial: 0, cli_command: point.options.cliCommand },
    is_complete: !point.summary.was_cancelled,
  };
}

/** AIPerf writes every CSV number with two decimals. */
const fmt = (value: number): string => value.toFixed(2);
const csvCell = (text: string): string => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

/** AIPerf's CSV row name: the header, then the unit in brackets unless it is a bare count (metrics_csv_exporter.py). */
function csvMetricName(label: string, unit: string): string {
  return unit === 'count' || unit === 'requests' ? label : `${label} (${unit})`;
}

/**
 * AIPerf's CSV: a statistics section (columns in AIPerf's order, rows sorted by metric tag), a blank line,
 * then a Metric,Value section for the run-level numbers; our extra (errors by status) comes last.
 */
export function aggregateCsv(summary: ProfileSummary): string {
  const statColumns = ['avg', 'min', 'max', 'sum', ...REPORTED_PERCENTILES.map((p) => `p${p}` as const), 'std'] as const;
  const byTag = <T extends readonly [string, ...unknown[]]>(list: readonly T[]): T[] => [...list].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const lines = [`Metric,${statColumns.join(',')}`];
  for (const [key, label] of byTag(DISTRIBUTION_METRICS)) {
    const stats = summary[key];
    if (stats) lines.push([csvCell(csvMetricName(label, stats.unit)), ...statColumns.map((c) => fmt(stats[c]))].join(','));
  }
  lines.push('', 'Metric,Value');
  for (const [key, label] of byTag(SCALAR_METRICS)) {
    const metric = summary[key];
    if (metric) lines.push(`${csvCell(csvMetricName(label, metric.unit))},${fmt(metric.avg)}`);
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
  writeFileSync(join(dir, AGGREGATE_JSON), JSON.stringify(aggregateDocument(point, dir), null, 2));
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
  /** The input variant of an input sweep; null when only the load varies. */
  readonly variant: InputVariant | null;
  readonly summary: ProfileSummary;
}

/** sweep_summary.json/.csv, and for an input sweep the neuronperf table (neuronperf.csv, and in the JSON). */
export function writeSweepSummary(dir: string, rows: readonly SweepRow[], table: { numModels: number; costPerHour: number | null }): void {
  mkdirSync(dir, { recursive: true });
  const points = rows.map((row) => ({
    folder: row.folder,
    load: row.load,
    batch_size: row.variant?.batchSize ?? null,
    seq_len: row.variant?.seqLen ?? null,
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
  const neuronperf = rows.some((row) => row.variant !== null) ? rows.map((row) => neuronperfRow(row, table.numModels, table.costPerHour)) : null;
  writeFileSync(join(dir, SWEEP_SUMMARY_JSON), JSON.stringify({ points, neuronperf, cost_per_hour: table.costPerHour }, null, 2));
  if (neuronperf) writeFileSync(join(dir, NEURONPERF_CSV), neuronperfCsv(neuronperf));
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
