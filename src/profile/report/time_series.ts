// Over-time views of one load point, from the per-request records: completions per time bucket (throughput),
// and latency against completion time. Bucket width adapts to the run's length so a 2-second smoke run and a
// 10-minute soak both give a readable number of points.
import type { JsonlRecord } from '../records_jsonl.js';
import { percentileOfSorted } from '../stats.js';

const BUCKET_STEPS_S = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300];

export function bucketWidthS(durationS: number, targetBuckets = 30): number {
  return BUCKET_STEPS_S.find((step) => durationS / step <= targetBuckets) ?? BUCKET_STEPS_S[BUCKET_STEPS_S.length - 1]!;
}

/** About 4 completions per bucket at least, so a short run is not drawn as a comb of 0s and 1s; 30 at most. */
export function targetBucketCount(numRecords: number): number {
  return Math.max(4, Math.min(30, Math.floor(numRecords / 4)));
}

export interface TimeBucket {
  /** Bucket centre, seconds since the first request was issued. */
  readonly t: number;
  readonly widthS: number;
  readonly successPerS: number;
  readonly errorsPerS: number;
  readonly inputTokensPerS: number;
  readonly latencyP50Ms: number | null;
}

export interface RunTimeline {
  readonly durationS: number;
  readonly bucketS: number;
  readonly buckets: readonly TimeBucket[];
  /** One point per successful request: completion time (s) and latency (ms). */
  readonly latencies: readonly { readonly t: number; readonly latencyMs: number }[];
}

export function timeline(records: readonly JsonlRecord[]): RunTimeline {
  if (records.length === 0) return { durationS: 0, bucketS: 1, buckets: [], latencies: [] };
  // reduce, not Math.min(...spread): a long run has more records than a call may take arguments.
  const startNs = records.reduce((min, r) => Math.min(min, r.metadata.request_start_ns), Infinity);
  const endNs = records.reduce((max, r) => Math.max(max, r.metadata.request_end_ns), -Infinity);
  const durationS = (endNs - startNs) / 1e9;
  const bucketS = bucketWidthS(durationS, targetBucketCount(records.length));
  // A last bucket shorter than half a width joins the one before: a sliver holding one completion would
  // otherwise show as a spike of (1 / sliver) requests per second.
  let numBuckets = Math.max(1, Math.ceil(durationS / bucketS));
  if (numBuckets > 1 && durationS - (numBuckets - 1) * bucketS < bucketS / 2) numBuckets--;
  const widths = Array.from({ length: numBuckets }, (_, i) => (i === numBuckets - 1 ? Math.max(durationS - i * bucketS, 1e-9) : bucketS));
  const successes = new Array<number>(numBuckets).fill(0);
  const errors = new Array<number>(numBuckets).fill(0);
  const tokens = new Array<number>(numBuckets).fill(0);
  const latenciesByBucket: number[][] = Array.from({ length: numBuckets }, () => []);
  const latencies: { t: number; latencyMs: number }[] = [];
  for (const record of records) {
    const t = (record.metadata.request_end_ns - startNs) / 1e9;
    const bucket = Math.min(numBuckets - 1, Math.floor(t / bucketS));
    if (record.error) {
      errors[bucket]!++;
      continue;
    }
    successes[bucket]!++;
    tokens[bucket]! += record.metrics.input_tokens?.value ?? 0;
    const latencyMs = record.metrics.request_latency!.value;
    latenciesByBucket[bucket]!.push(latencyMs);
    latencies.push({ t, latencyMs });
  }
  const buckets = successes.map((count, i) => {
    const sorted = latenciesByBucket[i]!.sort((a, b) => a - b);
    return {
      t: i * bucketS + widths[i]! / 2,
      widthS: widths[i]!,
      successPerS: count / widths[i]!,
      errorsPerS: errors[i]! / widths[i]!,
      inputTokensPerS: tokens[i]! / widths[i]!,
      latencyP50Ms: sorted.length > 0 ? percentileOfSorted(sorted, 50) : null,
    };
  });
  return { durationS, bucketS, buckets, latencies };
}
