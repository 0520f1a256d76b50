// From request records to the aggregates a run is judged by. Definitions follow AIPerf where it has the
// metric (request_throughput counts successful requests over the benchmark duration, which runs from the
// first request issued to the last response received); input tokens and tokens/s are what AIPerf lacks for
// embeddings, taken from the server's own `usage` so they count what the model actually processed.
import { epochNsToIso } from './clock.js';
import { BREAKDOWN_COMPONENTS, breakdownOf, type BreakdownComponent } from './latency_breakdown.js';
import type { GoodputThresholds } from './options.js';
import { requestLatencyMs, type RequestError, type RequestRecord } from './records.js';
import { describe, type DistributionStats } from './stats.js';

export interface MetricStats extends DistributionStats {
  readonly unit: string;
}

export interface ScalarMetric {
  readonly unit: string;
  readonly avg: number;
}

export interface ErrorSummaryEntry {
  readonly error_details: RequestError;
  readonly count: number;
}

/** Mean of each latency component over the requests that carried the server's stage times. */
export interface LatencyBreakdownSummary {
  readonly request_count: number;
  /** Mean request latency over those same requests, so the components add up to it. */
  readonly request_latency_avg_ms: number;
  readonly components: readonly {
    readonly name: BreakdownComponent;
    readonly label: string;
    readonly avg_ms: number;
    readonly p50_ms: number;
    readonly p99_ms: number;
    /** avg_ms / request_latency_avg_ms. */
    readonly share: number;
  }[];
}

export interface ProfileSummary {
  readonly request_latency: MetricStats | null;
  /** Latency components (latency_breakdown.ts), over requests whose server sent x-*-time headers. */
  readonly network_http_time: MetricStats | null;
  readonly tokenization_time: MetricStats | null;
  readonly queue_time: MetricStats | null;
  readonly compute_time: MetricStats | null;
  readonly latency_breakdown: LatencyBreakdownSummary | null;
  /** Per request, from the server's usage. */
  readonly input_tokens: MetricStats | null;
  /** Per request, counted by the client tokenizer (no special tokens). */
  readonly input_sequence_length: MetricStats | null;
  readonly batch_size: MetricStats | null;
  readonly time_to_first_token: MetricStats | null;
  readonly inter_token_latency: MetricStats | null;
  readonly output_sequence_length: MetricStats | null;
  readonly request_throughput: ScalarMetric;
  readonly input_token_throughput: ScalarMetric | null;
  readonly output_token_throughput: ScalarMetric | null;
  readonly request_count: ScalarMetric;
  readonly error_request_count: ScalarMetric;
  /** AIPerf's: successful + failed requests, and failed / completed in percent. */
  readonly completed_request_count: ScalarMetric;
  readonly request_error_rate: ScalarMetric;
  readonly total_input_tokens: ScalarMetric | null;
  readonly total_isl: ScalarMetric | null;
  readonly benchmark_duration: ScalarMetric;
  readonly goodput: ScalarMetric | null;
  readonly good_request_count: ScalarMetric | null;
  readonly goodput_thresholds: GoodputThresholds | null;
  readonly error_summary: readonly ErrorSummaryEntry[];
  /** "429", "500" ... for HTTP errors; ConnectionError, TimeoutError, InvalidResponse otherwise. */
  readonly error_count_by_status: Readonly<Record<string, number>>;
  readonly was_cancelled: boolean;
  readonly start_time: string | null;
  readonly end_time: string | null;
}

/** The key a failed request is counted under in error_count_by_status. */
export function errorStatusKey(error: RequestError): string {
  return error.type === 'HTTPError' && error.code !== null ? String(error.code) : error.type;
}

function stats(values: readonly number[], unit: string): MetricStats | null {
  const described = describe(values);
  return described ? { unit, ...described } : null;
}

function present<T>(values: readonly (T | null)[]): T[] {
  return values.filter((v): v is T => v !== null);
}

function meetsThresholds(record: RequestRecord, thresholds: GoodputThresholds): boolean {
  if (thresholds.request_latency !== undefined && requestLatencyMs(record) > thresholds.request_latency) return false;
  if (thresholds.time_to_first_token !== undefined && (record.timeToFirstTokenMs ?? Infinity) > thresholds.time_to_first_token) return false;
  if (thresholds.inter_token_latency !== undefined && (record.interTokenLatencyMs ?? Infinity) > thresholds.inter_token_latency) return false;
  return true;
}

function summarizeErrors(failed: readonly RequestRecord[]): { summary: ErrorSummaryEntry[]; byStatus: Record<string, number> } {
  const byDetails = new Map<string, ErrorSummaryEntry>();
  const byStatus: Record<string, number> = {};
  for (const record of failed) {
    const error = record.error!;
    const statusKey = errorStatusKey(error);
    byStatus[statusKey] = (byStatus[statusKey] ?? 0) + 1;
    const detailsKey = `${error.code}|${error.type}|${error.message}`;
    const existing = byDetails.get(detailsKey);
    byDetails.set(detailsKey, { error_details: error, count: (existing?.count ?? 0) + 1 });
  }
  const summary = [...byDetails.values()].sort((a, b) => b.count - a.count);
  return { summary, byStatus };
}

function breakdownSummary(succeeded: readonly RequestRecord[]): {
  perComponent: Record<BreakdownComponent, MetricStats | null>;
  summary: LatencyBreakdownSummary | null;
} {
  const timed = succeeded.flatMap((record) => {
    const parts = breakdownOf(record);
    return parts ? [{ record, parts }] : [];
  });
  const perComponent = Object.fromEntries(
    BREAKDOWN_COMPONENTS.map(([name]) => [
      name,
      stats(
        timed.map((t) => t.parts[name]),
        'ms',
      ),
    ]),
  ) as Record<BreakdownComponent, MetricStats | null>;
  if (timed.length === 0) return { perComponent, summary: null };
  const latencyAvg = timed.reduce((sum, t) => sum + requestLatencyMs(t.record), 0) / timed.length;
  const components = BREAKDOWN_COMPONENTS.map(([name, label]) => {
    const s = perComponent[name]!;
    return { name, label, avg_ms: s.avg, p50_ms: s.p50, p99_ms: s.p99, share: latencyAvg > 0 ? s.avg / latencyAvg : 0 };
  });
  return { perComponent, summary: { request_count: timed.length, request_latency_avg_ms: latencyAvg, components } };
}

export function summarize(records: readonly RequestRecord[], goodputThresholds: GoodputThresholds | null, wasCancelled = false): ProfileSummary {
  const succeeded = records.filter((r) => r.error === null);
  const failed = records.filter((r) => r.error !== null);
  const startNs = records.length > 0 ? records.reduce((min, r) => (r.requestStartNs < min ? r.requestStartNs : min), records[0]!.requestStartNs) : null;
  const endNs = records.length > 0 ? records.reduce((max, r) => (r.requestEndNs > max ? r.requestEndNs : max), records[0]!.requestEndNs) : null;
  const durationS = startNs !== null && endNs !== null ? Number(endNs - startNs) / 1e9 : 0;
  const perSecond = (total: number): number => (durationS > 0 ? total / durationS : 0);

  const usageTokens = present(succeeded.map((r) => r.usageInputTokens));
  const clientTokens = present(succeeded.map((r) => r.inputSequenceLength));
  const outputTokens = present(succeeded.map((r) => r.outputTokens));
  const totalUsageTokens = usageTokens.reduce((a, b) => a + b, 0);
  const totalOutputTokens = outputTokens.reduce((a, b) => a + b, 0);
  const goodCount = goodputThresholds ? succeeded.filter((r) => meetsThresholds(r, goodputThresholds)).length : null;
  const errors = summarizeErrors(failed);
  const breakdown = breakdownSummary(succeeded);

  return {
    request_latency: stats(succeeded.map(requestLatencyMs), 'ms'),
    ...breakdown.perComponent,
    latency_breakdown: breakdown.summary,
    input_tokens: stats(usageTokens, 'tokens'),
    input_sequence_length: stats(clientTokens, 'tokens'),
    batch_size: stats(
      succeeded.map((r) => r.batchSize),
      'inputs',
    ),
    time_to_first_token: stats(present(succeeded.map((r) => r.timeToFirstTokenMs)), 'ms'),
    inter_token_latency: stats(present(succeeded.map((r) => r.interTokenLatencyMs)), 'ms'),
    output_sequence_length: stats(outputTokens, 'tokens'),
    request_throughput: { unit: 'requests/sec', avg: perSecond(succeeded.length) },
    input_token_throughput: usageTokens.length > 0 ? { unit: 'tokens/sec', avg: perSecond(totalUsageTokens) } : null,
    output_token_throughput: outputTokens.length > 0 ? { unit: 'tokens/sec', avg: perSecond(totalOutputTokens) } : null,
    request_count: { unit: 'requests', avg: succeeded.length },
    error_request_count: { unit: 'requests', avg: failed.length },
    completed_request_count: { unit: 'requests', avg: records.length },
    request_error_rate: { unit: '%', avg: records.length > 0 ? (100 * failed.length) / records.length : 0 },
    total_input_tokens: usageTokens.length > 0 ? { unit: 'tokens', avg: totalUsageTokens } : null,
    total_isl: clientTokens.length > 0 ? { unit: 'tokens', avg: clientTokens.reduce((a, b) => a + b, 0) } : null,
    benchmark_duration: { unit: 'sec', avg: durationS },
    goodput: goodCount === null ? null : { unit: 'requests/sec', avg: perSecond(goodCount) },
    good_request_count: goodCount === null ? null : { unit: 'requests', avg: goodCount },
    goodput_thresholds: goodputThresholds,
    error_summary: errors.summary,
    error_count_by_status: errors.byStatus,
    was_cancelled: wasCancelled,
    start_time: startNs === null ? null : epochNsToIso(startNs),
    end_time: endNs === null ? null : epochNsToIso(endNs),
  };
}

/**
 * Metrics that have a distribution, in the order tables list them, with display names: AIPerf's header for
 * the metrics AIPerf has (metrics/types/*.py `header`), so CSV rows read the same in both tools.
 */
export const DISTRIBUTION_METRICS = [
  ['request_latency', 'Request Latency'],
  ...BREAKDOWN_COMPONENTS.map(([name, label]) => [name, `${label} Time`] as const),
  ['time_to_first_token', 'Time to First Token'],
  ['inter_token_latency', 'Inter Token Latency'],
  ['input_tokens', 'Server Input Tokens per Request'],
  ['input_sequence_length', 'Input Sequence Length'],
  ['output_sequence_length', 'Output Sequence Length'],
  ['batch_size', 'Inputs per Request'],
] as const satisfies readonly (readonly [keyof ProfileSummary, string])[];

export const SCALAR_METRICS = [
  ['request_throughput', 'Request Throughput'],
  ['input_token_throughput', 'Input Token Throughput'],
  ['output_token_throughput', 'Output Token Throughput'],
  ['goodput', 'Goodput'],
  ['request_count', 'Request Count'],
  ['good_request_count', 'Good Request Count'],
  ['error_request_count', 'Error Request Count'],
  ['completed_request_count', 'Completed Requests (Success + Error)'],
  ['request_error_rate', 'Request Error Rate'],
  ['total_input_tokens', 'Total Server Input Tokens'],
  ['total_isl', 'Total Input Sequence Length'],
  ['benchmark_duration', 'Benchmark Duration'],
] as const satisfies readonly (readonly [keyof ProfileSummary, string])[];
