// Timestamps for request records: epoch nanoseconds (so records from different runs line up on a wall clock,
// as AIPerf's request_start_ns do) derived from the monotonic clock (so durations never jump with NTP).

const anchorEpochNs = BigInt(Date.now()) * 1_000_000n;
const anchorMonotonicNs = process.hrtime.bigint();

export function nowEpochNs(): bigint {
  return anchorEpochNs + (process.hrtime.bigint() - anchorMonotonicNs);
}

export function nsToMs(ns: bigint): number {
  return Number(ns) / 1e6;
}

export function epochNsToIso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}
