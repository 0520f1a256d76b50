// Distribution statistics with the conventions AIPerf uses (numpy defaults), so numbers line up when the
// same run is measured by both tools: percentiles interpolate linearly between closest ranks
// (numpy.percentile method "linear") and std is the population standard deviation (ddof = 0).

export const REPORTED_PERCENTILES = [1, 5, 10, 25, 50, 75, 90, 95, 99] as const;

export interface DistributionStats {
  readonly count: number;
  readonly sum: number;
  readonly avg: number;
  readonly min: number;
  readonly max: number;
  readonly std: number;
  readonly p1: number;
  readonly p5: number;
  readonly p10: number;
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
}

/** Percentile q (0..100) of values already sorted ascending; linear interpolation between ranks. */
export function percentileOfSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of an empty sample');
  if (q < 0 || q > 100) throw new RangeError(`percentile ${q} is outside 0..100`);
  const rank = (q / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const fraction = rank - lower;
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * fraction;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('mean of an empty sample');
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export function populationStd(values: readonly number[]): number {
  const avg = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - avg) * (v - avg);
  return Math.sqrt(squares / values.length);
}

/** Full summary of a sample, or null when there is nothing to summarize (e.g. every request failed). */
export function describe(values: readonly number[]): DistributionStats | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const avg = mean(sorted);
  return {
    count: sorted.length,
    sum: avg * sorted.length,
    avg,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    std: populationStd(sorted),
    p1: percentileOfSorted(sorted, 1),
    p5: percentileOfSorted(sorted, 5),
    p10: percentileOfSorted(sorted, 10),
    p25: percentileOfSorted(sorted, 25),
    p50: percentileOfSorted(sorted, 50),
    p75: percentileOfSorted(sorted, 75),
    p90: percentileOfSorted(sorted, 90),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
  };
}
