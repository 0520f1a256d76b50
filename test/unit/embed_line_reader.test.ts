// The streaming line reader: exact byte offsets and line numbers (the resume journal and error messages rely on
// them), lines split across reads, CRLF, a byte-order mark, a missing final newline, undecodable and oversized lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readLines, type InputLine, type ReadLinesOptions } from '../../src/embed/line_reader.js';

async function readAll(bytes: Buffer, opts: Partial<ReadLinesOptions> = {}): Promise<InputLine[]> {
  const dir = await mkdtemp(join(tmpdir(), 'pooled-lines-'));
  const path = join(dir, 'in.txt');
  await writeFile(path, bytes);
  const file = await open(path, 'r');
  try {
    const out: InputLine[] = [];
    const reader = readLines(file, { start: 0, end: bytes.length, firstLineNumber: 1, maxLineBytes: 1 << 20, ...opts });
    for await (const batch of reader) out.push(...batch);
    return out;
  } finally {
    await file.close();
  }
}

test('lines come with 1-based numbers and the byte offsets around them, whatever the read size', async () => {
  const text = 'alpha\nbé ta\n\ngamma δ\r\nlast-without-newline';
  const bytes = Buffer.from(text);
  for (const readBytes of [1, 2, 3, 7, 64, 1 << 20]) {
    const lines = await readAll(bytes, { readBytes });
    assert.deepEqual(
      lines.map((l) => l.text),
      ['alpha', 'bé ta', '', 'gamma δ', 'last-without-newline'],
      `read size ${readBytes}`,
    );
    assert.deepEqual(
      lines.map((l) => l.lineNumber),
      [1, 2, 3, 4, 5],
    );
    // Offsets tile the file: each line ends where the next starts, and the slices are the raw lines.
    let expectedStart = 0;
    for (const line of lines) {
      assert.equal(line.startOffset, expectedStart);
      expectedStart = line.endOffset;
    }
    assert.equal(expectedStart, bytes.length);
    assert.equal(bytes.toString('utf8', lines[1].startOffset, lines[1].endOffset), 'bé ta\n');
    assert.equal(bytes.toString('utf8', lines[3].startOffset, lines[3].endOffset), 'gamma δ\r\n');
  }
});

test('reading from the middle continues the numbering it is given (how resume and shards start)', async () => {
  const bytes = Buffer.from('one\ntwo\nthree\nfour\n');
  const lines = await readAll(bytes, { start: 8, end: 14, firstLineNumber: 3 });
  assert.deepEqual(
    lines.map((l) => [l.lineNumber, l.text, l.startOffset, l.endOffset]),
    [[3, 'three', 8, 14]],
  );
});

test('a trailing newline does not make an extra empty line, and an empty file has no lines', async () => {
  assert.deepEqual(
    (await readAll(Buffer.from('a\nb\n'))).map((l) => l.text),
    ['a', 'b'],
  );
  assert.deepEqual(await readAll(Buffer.alloc(0)), []);
  assert.deepEqual(
    (await readAll(Buffer.from('\n'))).map((l) => l.text),
    [''],
  );
});

test('a UTF-8 byte-order mark at the start of the file is not part of the first text', async () => {
  const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"text":"x"}\nsecond\n')]);
  const lines = await readAll(bytes, { readBytes: 2 });
  assert.deepEqual(
    lines.map((l) => l.text),
    ['{"text":"x"}', 'second'],
  );
  assert.equal(lines[0].startOffset, 0);
});

test('invalid UTF-8 is reported as a problem of that line, while a real U+FFFD passes', async () => {
  const bytes = Buffer.concat([Buffer.from('ok\n'), Buffer.from([0x61, 0xff, 0x62, 0x0a]), Buffer.from('real \uFFFD char\n')]);
  const lines = await readAll(bytes);
  assert.equal(lines.length, 3);
  assert.equal(lines[0].problem, undefined);
  assert.equal(lines[1].problem, 'not valid UTF-8');
  assert.equal(lines[1].lineNumber, 2);
  assert.equal(lines[2].problem, undefined);
  assert.equal(lines[2].text, 'real \uFFFD char');
});

test('an oversized line is reported with its length and skipped without being buffered, the next lines are intact', async () => {
  const long = 'z'.repeat(100);
  const bytes = Buffer.from(`short\n${long}\nafter\n${long}`);
  for (const readBytes of [8, 1 << 20]) {
    const lines = await readAll(bytes, { maxLineBytes: 50, readBytes });
    assert.deepEqual(
      lines.map((l) => l.text),
      ['short', '', 'after', ''],
      `read size ${readBytes}`,
    );
    assert.match(lines[1].problem ?? '', /^101 bytes long, over the limit of 50 bytes per line$/);
    assert.match(lines[3].problem ?? '', /^100 bytes long/);
    assert.equal(lines[2].lineNumber, 3);
    assert.equal(lines[3].endOffset, bytes.length);
  }
});
