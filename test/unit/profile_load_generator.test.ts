import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nowEpochNs } from '../../src/profile/clock.js';
import { runLoad, type IssueRequest } from '../../src/profile/load_generator.js';
import type { RequestRecord } from '../../src/profile/records.js';
import { SeededRandom } from '../../src/profile/rng.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A fake request that takes `latencyMs` and tracks how many are in flight at once. */
function fakeIssuer(latencyMs: number): { issue: IssueRequest; maxInFlight: () => number; startsMs: number[] } {
  let inFlight = 0;
  let maxInFlight = 0;
  const startsMs: number[] = [];
  const issue: IssueRequest = async (sessionNum, workerId) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    startsMs.push(performance.now());
    const requestStartNs = nowEpochNs();
    await sleep(latencyMs);
    inFlight--;
    const record: RequestRecord = {
      sessionNum,
      xRequestId: String(sessionNum),
      conversationId: 'c',
      workerId,
      phase: 'profiling',
      requestStartNs,
      requestAckNs: null,
      requestEndNs: nowEpochNs(),
      batchSize: 1,
      inputSequenceLength: null,
      usageInputTokens: null,
      timeToFirstTokenMs: null,
      interTokenLatencyMs: null,
      outputTokens: null,
      serverTiming: null,
      error: null,
    };
    return record;
  };
  return { issue, maxInFlight: () => maxInFlight, startsMs };
}

test('concurrency mode keeps exactly N requests in flight and sends exactly the count', async () => {
  const fake = fakeIssuer(15);
  const seen: number[] = [];
  const result = await runLoad(
    {
      point: { mode: 'concurrency', concurrency: 4 },
      arrivalPattern: 'poisson',
      requestCount: 22,
      durationS: null,
      rng: new SeededRandom(0),
      onRecord: (r) => seen.push(r.sessionNum),
    },
    fake.issue,
  );
  assert.equal(result.records.length, 22);
  assert.equal(seen.length, 22);
  assert.deepEqual(
    result.records.map((r) => r.sessionNum),
    Array.from({ length: 22 }, (_, i) => i),
  );
  assert.equal(fake.maxInFlight(), 4);
  assert.equal(new Set(result.records.map((r) => r.workerId)).size, 4);
  assert.equal(result.wasCancelled, false);
});

test('a duration stops issuing at the deadline and lets requests in flight finish', async () => {
  const fake = fakeIssuer(30);
  const started = performance.now();
  const result = await runLoad(
    { point: { mode: 'concurrency', concurrency: 2 }, arrivalPattern: 'poisson', requestCount: null, durationS: 0.2, rng: new SeededRandom(0) },
    fake.issue,
  );
  const elapsed = performance.now() - started;
  // Structure, not speed (the machine may be slow): nothing is issued after the deadline (runLoad reads its clock right
  // after `started`, so 5 ms covers the statements between), every request issued finishes and is recorded, the run
  // lasts at least the duration, and both workers worked.
  assert.ok(Math.max(...fake.startsMs) < started + 200 + 5, `last issue ${Math.max(...fake.startsMs) - started} ms after start`);
  assert.equal(result.records.length, fake.startsMs.length);
  assert.ok(elapsed >= 199, `${elapsed} ms`);
  assert.equal(new Set(result.records.map((r) => r.workerId)).size, 2);
});

test('constant request rate spaces arrivals 1/R apart, whatever the latency', async () => {
  const fake = fakeIssuer(60); // slower than the gap: an open loop must not wait for answers
  await runLoad(
    {
      point: { mode: 'request_rate', requestRate: 50, maxConcurrency: null },
      arrivalPattern: 'constant',
      requestCount: 10,
      durationS: null,
      rng: new SeededRandom(0),
    },
    fake.issue,
  );
  const gaps = fake.startsMs.slice(1).map((t, i) => t - fake.startsMs[i]!);
  const span = fake.startsMs[9]! - fake.startsMs[0]!;
  // Arrival times are absolute (not slept one after another), so timer lag does not accumulate.
  assert.ok(Math.abs(span - 180) < 40, `10 arrivals at 50/s span ${span} ms, expected 180`);
  assert.ok(gaps.filter((g) => g > 10).length >= 7, `gaps ${gaps.map((g) => g.toFixed(1))}`);
  assert.ok(fake.maxInFlight() >= 3, 'requests overlap in an open loop');
});

test('poisson arrivals average 1/R and are reproducible from the seed; max concurrency caps in-flight', async () => {
  const gaps = (seed: number): number[] => {
    const rng = new SeededRandom(seed);
    return Array.from({ length: 4000 }, () => rng.exponential(100));
  };
  const sample = gaps(5);
  const meanGap = sample.reduce((a, b) => a + b, 0) / sample.length;
  assert.ok(Math.abs(meanGap - 0.01) < 0.0008, `mean gap ${meanGap}`);
  assert.deepEqual(gaps(5).slice(0, 5), sample.slice(0, 5));
  const fake = fakeIssuer(40);
  const result = await runLoad(
    {
      point: { mode: 'request_rate', requestRate: 500, maxConcurrency: 3 },
      arrivalPattern: 'poisson',
      requestCount: 12,
      durationS: null,
      rng: new SeededRandom(1),
    },
    fake.issue,
  );
  assert.equal(result.records.length, 12);
  assert.equal(fake.maxInFlight(), 3);
});

test('aborting stops new requests and marks the run cancelled', async () => {
  const fake = fakeIssuer(20);
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 70);
  const result = await runLoad(
    {
      point: { mode: 'concurrency', concurrency: 2 },
      arrivalPattern: 'poisson',
      requestCount: 1000,
      durationS: null,
      rng: new SeededRandom(0),
      stopSignal: stop.signal,
    },
    fake.issue,
  );
  assert.equal(result.wasCancelled, true);
  assert.ok(result.records.length >= 2 && result.records.length <= 14, `${result.records.length}`);
});
