import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describe, mean, percentileOfSorted, populationStd } from '../../src/profile/stats.js';

const close = (actual: number, expected: number, eps = 1e-9): void => assert.ok(Math.abs(actual - expected) <= eps, `${actual} != ${expected}`);

test('percentiles interpolate linearly between ranks, as numpy.percentile does', () => {
  const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  // numpy.percentile(np.arange(1, 11), [1, 25, 50, 90, 99]) -> 1.09, 3.25, 5.5, 9.1, 9.91
  close(percentileOfSorted(sorted, 1), 1.09);
  close(percentileOfSorted(sorted, 25), 3.25);
  close(percentileOfSorted(sorted, 50), 5.5);
  close(percentileOfSorted(sorted, 90), 9.1);
  close(percentileOfSorted(sorted, 99), 9.91);
  close(percentileOfSorted(sorted, 0), 1);
  close(percentileOfSorted(sorted, 100), 10);
  close(percentileOfSorted([42], 73), 42);
});

test('std is the population standard deviation (ddof 0)', () => {
  close(populationStd([2, 4, 4, 4, 5, 5, 7, 9]), 2);
  close(mean([2, 4, 4, 4, 5, 5, 7, 9]), 5);
  close(populationStd([3, 3, 3]), 0);
});

test('describe sorts its input and reports every percentile AIPerf reports', () => {
  const stats = describe([50, 10, 40, 20, 30])!;
  assert.equal(stats.count, 5);
  assert.equal(stats.min, 10);
  assert.equal(stats.max, 50);
  close(stats.avg, 30);
  close(stats.p50, 30);
  close(stats.p25, 20);
  close(stats.p75, 40);
  close(stats.p99, 49.6);
  close(stats.p1, 10.4);
  close(stats.p5, 12);
  close(stats.p10, 14);
  close(stats.p90, 46);
  close(stats.p95, 48);
  close(stats.std, Math.sqrt(200));
});

test('an empty sample has no statistics rather than NaNs', () => {
  assert.equal(describe([]), null);
  assert.throws(() => percentileOfSorted([], 50), RangeError);
  assert.throws(() => percentileOfSorted([1], 101), RangeError);
});
