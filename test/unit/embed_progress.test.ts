// Progress output: a redrawn bar on a terminal, periodic plain lines elsewhere, messages that never garble the bar,
// and rates/ETA from this run's numbers only.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  estimateSecondsLeft,
  formatDuration,
  formatProgressBar,
  formatProgressLine,
  ProgressReporter,
  resolveProgressMode,
  type ProgressSnapshot,
} from '../../src/embed/progress.js';

class FakeStream {
  readonly chunks: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns = 120,
  ) {}
  write(text: string): boolean {
    this.chunks.push(text);
    return true;
  }
}

function snapshot(runSeconds: number, over: Partial<ProgressSnapshot> = {}): ProgressSnapshot {
  // 1,000 documents of 10 tokens and 100 bytes each per second, from a resumed start at 2,000 documents.
  const done = 1000 * runSeconds;
  return {
    numDocuments: 2000 + done,
    numSkipped: 0,
    numTokens: 10 * (2000 + done),
    numRunDocuments: done,
    numRunTokens: 10 * done,
    numRunBytes: 100 * done,
    numBytesDone: 100 * (2000 + done),
    numBytesTotal: 100 * 10_000,
    runSeconds,
    ...over,
  };
}

test('durations read as s, m s, h m s', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(59.4), '59s');
  assert.equal(formatDuration(61), '1m01s');
  assert.equal(formatDuration(3600 + 125), '1h02m05s');
  assert.equal(formatDuration(Infinity), '?');
});

test('rates and ETA use this run only; the percentage covers the whole shard', () => {
  const s = snapshot(2);
  // 4,000 of 10,000 documents' bytes done; 6,000 left at 1,000/s.
  assert.equal(estimateSecondsLeft(s), 6);
  assert.equal(formatProgressLine(s), 'pooled embed: 40.0% | 4,000 docs | 1,000 docs/s, 10,000 tokens/s | ETA 6s');
  assert.equal(estimateSecondsLeft(snapshot(0)), Infinity);
  assert.match(formatProgressLine(snapshot(0)), /ETA \?$/);
  assert.match(formatProgressLine(snapshot(1, { numSkipped: 3 })), /3,000 docs, 3 skipped \|/);
});

test('the bar fits the terminal width', () => {
  const bar = formatProgressBar(snapshot(5), 100);
  assert.ok(bar.length < 100);
  assert.match(bar, /^\[#{10,}-+\] {2}70\.0% \| 7,000 docs/);
  assert.ok(formatProgressBar(snapshot(5), 30).length < 30);
});

test('auto picks a bar on a terminal and lines elsewhere', () => {
  assert.equal(resolveProgressMode('auto', new FakeStream(true)), 'bar');
  assert.equal(resolveProgressMode('auto', new FakeStream(false)), 'lines');
  assert.equal(resolveProgressMode('none', new FakeStream(true)), 'none');
});

test('plain lines come once per interval, starting after the first interval', () => {
  const stream = new FakeStream(false);
  const reporter = new ProgressReporter(stream, 'lines', 3);
  for (let t = 0; t <= 7.5; t += 0.5) reporter.update(snapshot(t));
  assert.equal(stream.chunks.length, 2); // at 3 s and 6 s
  assert.ok(stream.chunks.every((c) => c.startsWith('pooled embed: ') && c.endsWith('\n') && !c.includes('\r')));
  reporter.finish();
  assert.equal(stream.chunks.length, 3);
  assert.match(stream.chunks[2], /^pooled embed: 95\.0% \| 9,500 docs/);
});

test('the bar redraws in place at most ten times a second, and messages print above it', () => {
  const stream = new FakeStream(true);
  const reporter = new ProgressReporter(stream, 'bar', 10);
  for (let t = 0; t < 1; t += 0.01) reporter.update(snapshot(t));
  const draws = stream.chunks.length;
  assert.ok(draws >= 9 && draws <= 11, `${draws} redraws in one second`);
  assert.ok(stream.chunks.every((c) => c.startsWith('\r\x1b[2K[') && !c.includes('\n')));
  stream.chunks.length = 0;
  reporter.log('line 7: not valid JSON; skipped');
  assert.equal(stream.chunks[0], '\r\x1b[2K');
  assert.equal(stream.chunks[1], 'line 7: not valid JSON; skipped\n');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's erase-line escape is what is checked
  assert.match(stream.chunks[2], /^\r\x1b\[2K\[/);
  reporter.finish();
  assert.equal(stream.chunks.at(-1), '\n');
});

test('mode none prints nothing but messages', () => {
  const stream = new FakeStream(true);
  const reporter = new ProgressReporter(stream, 'none', 10);
  for (let t = 0; t < 30; t += 1) reporter.update(snapshot(t));
  reporter.finish();
  reporter.log('a message');
  assert.deepEqual(stream.chunks, ['a message\n']);
});
