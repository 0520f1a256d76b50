// --shard i/N: byte-range slices aligned to lines must cover every line exactly once, in order, for any N, and
// know the line number they start at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { UsageError } from '../../src/errors.js';
import { lineNumberAt, parseShardSpec, resolveShardRange, shardByteRange } from '../../src/embed/shard.js';

test('parseShardSpec reads i/N counted from 0 and rejects everything else', () => {
  assert.deepEqual(parseShardSpec('0/1'), { index: 0, count: 1 });
  assert.deepEqual(parseShardSpec('7/8'), { index: 7, count: 8 });
  for (const bad of ['8/8', '1/0', '-1/4', '1', '1/2/3', 'a/b', '1.5/4', '']) {
    assert.throws(() => parseShardSpec(bad), UsageError, bad);
  }
});

test('raw shard byte ranges tile the file with no gap or overlap', () => {
  for (const size of [0, 1, 7, 100, 1001]) {
    for (const count of [1, 2, 3, 8, 13]) {
      let expectedStart = 0;
      for (let index = 0; index < count; index++) {
        const { start, end } = shardByteRange(size, { index, count });
        assert.equal(start, expectedStart);
        assert.ok(end >= start);
        expectedStart = end;
      }
      assert.equal(expectedStart, size);
    }
  }
});

/** Seeded line lengths: many short lines, some empty, some much longer than a shard. */
function makeFile(seed: number, numLines: number, trailingNewline: boolean): string {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const lines: string[] = [];
  for (let i = 0; i < numLines; i++) {
    const length = random() < 0.1 ? 0 : random() < 0.05 ? 200 : Math.floor(random() * 20);
    lines.push(`${i}:${'x'.repeat(length)}`);
  }
  return lines.join('\n') + (trailingNewline ? '\n' : '');
}

test('aligned shards cover every line exactly once and in order, with their first line numbers', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pooled-shard-'));
  for (const [seed, numLines, trailingNewline] of [
    [1, 50, true],
    [2, 37, false],
    [3, 3, true],
    [4, 1, false],
  ] as const) {
    const text = makeFile(seed, numLines, trailingNewline);
    const path = join(dir, `in-${seed}.txt`);
    await writeFile(path, text);
    const file = await open(path, 'r');
    const size = Buffer.byteLength(text);
    const expectedLines = text.split('\n');
    if (trailingNewline) expectedLines.pop();
    try {
      for (const count of [1, 2, 3, 5, 16, 64]) {
        const seen: string[] = [];
        let previousEnd = 0;
        for (let index = 0; index < count; index++) {
          const range = await resolveShardRange(file, size, { index, count });
          assert.equal(range.start, previousEnd, `shard ${index}/${count} starts where the previous one ended`);
          previousEnd = range.end;
          const slice = text.slice(range.start, range.end);
          if (slice.length === 0) continue;
          // Every shard starts on a line start, and the line number counts the lines before it.
          assert.ok(range.start === 0 || text[range.start - 1] === '\n');
          const firstLine = await lineNumberAt(file, range.start);
          assert.equal(firstLine, text.slice(0, range.start).split('\n').length);
          const lines = slice.endsWith('\n') ? slice.slice(0, -1).split('\n') : slice.split('\n');
          assert.ok(lines[0].startsWith(`${firstLine - 1}:`), `shard ${index}/${count} begins at line ${firstLine}`);
          seen.push(...lines);
        }
        assert.equal(previousEnd, size);
        assert.deepEqual(seen, expectedLines, `${count} shards of file ${seed}`);
      }
    } finally {
      await file.close();
    }
  }
});

test('a line longer than a whole shard leaves the shards it covers empty instead of splitting it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pooled-shard-'));
  const text = `short\n${'y'.repeat(100)}\nlast\n`;
  const path = join(dir, 'long.txt');
  await writeFile(path, text);
  const file = await open(path, 'r');
  try {
    const ranges = [];
    for (let index = 0; index < 4; index++) ranges.push(await resolveShardRange(file, text.length, { index, count: 4 }));
    const slices = ranges.map((r) => text.slice(r.start, r.end));
    assert.equal(slices.join(''), text);
    assert.ok(
      slices.some((s) => s === ''),
      'some shard is empty',
    );
    assert.equal(slices.filter((s) => s.includes('y'.repeat(100))).length, 1, 'the long line is in one shard, whole');
    for (const s of slices) assert.ok(s === '' || s.endsWith('\n'), `"${s.slice(0, 10)}..." is whole lines`);
  } finally {
    await file.close();
  }
});
