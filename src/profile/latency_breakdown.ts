// Where a request's latency went: the server's stage times (tokenization, queue, compute) and the rest,
// network + HTTP, which is everything the client waited for outside those stages: connection and transfer
// both ways, the server's HTTP parsing, validation and JSON serialization, and the client's own event loop.
// One definition shared by the per-request JSONL, the aggregates, the console table and the report.
import type { RequestRecord } from './records.js';
import { requestLatencyMs } from './records.js';

export const BREAKDOWN_COMPONENTS = [
  ['network_http_time', 'Network + HTTP'],
  ['tokenization_time', 'Tokenization'],
  ['queue_time', 'Queue'],
  ['compute_time', 'Compute'],
] as const;

export type BreakdownComponent = (typeof BREAKDOWN_COMPONENTS)[number][0];

export type LatencyBreakdown = Readonly<Record<BreakdownComponent, number>>;

/** The split of one successful request's latency (ms), or null when the server sent no stage times. */
export function breakdownOf(record: RequestRecord): LatencyBreakdown | null {
  const timing = record.serverTiming;
  if (record.error !== null || timing === null) return null;
  const serverMs = timing.tokenizationMs + timing.queueMs + timing.inferenceMs;
  return {
    // The stages lie inside the exchange the client timed, so this is >= 0 up to the headers' 1 us rounding.
    network_http_time: Math.max(0, requestLatencyMs(record) - serverMs),
    tokenization_time: timing.tokenizationMs,
    queue_time: timing.queueMs,
    compute_time: timing.inferenceMs,
  };
}
