// The pieces resume stands on: append-only files cut back to their committed length, the atomically replaced
// journal, and writers (JSONL, .npy + ids) that reopen at a checkpoint as if the later writes never happened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AppendFile, ResumeStateError } from '../../src/embed/append_file.js';
import { identityDifferences, JOURNAL_VERSION, readJournal, writeJournal, type JournalState } from '../../src/embed/journal.js';
import { decodeNpyHeader, NPY_HEADER_BYTES } from '../../src/embed/npy.js';
import { openEmbeddingWriter, outputFormatFromPath, sidecarPath, type OutputSpec } from '../../src/embed/output_writers.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'pooled-resume-'));

test('an append file reopened at its committed length drops what came after', async () => {
  const path = join(await tempDir(), 'out.bin');
  const file = await AppendFile.open(path, 0);
  file.append(Buffer.from('committed|'));
  assert.equal(await file.sync(), 10);
  file.append(Buffer.from('lost after a kill'));
  await file.flush();
  await file.close();
  assert.equal(await readFile(path, 'utf8'), 'committed|lost after a kill');

  const again = await AppendFile.open(path, 10);
  assert.equal(await readFile(path, 'utf8'), 'committed|');
  again.append(Buffer.from('continued'));
  assert.equal(again.numBytes, 19);
  await again.sync();
  await again.close();
  assert.equal(await readFile(path, 'utf8'), 'committed|continued');
});

test('a file shorter than its committed length, or missing, cannot be resumed', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'short.bin'), 'abc');
  await assert.rejects(AppendFile.open(join(dir, 'short.bin'), 10), ResumeStateError);
  await assert.rejects(AppendFile.open(join(dir, 'missing.bin'), 10), /has no bytes but the progress journal says 10/);
});

test('a lazy file appears only when written, and a stale one from an earlier attempt is removed', async () => {
  const dir = await tempDir();
  const path = join(dir, 'errors.jsonl');
  const unused = await AppendFile.open(path, 0, { lazy: true });
  assert.equal(await unused.sync(), 0);
  await unused.close();
  assert.equal(existsSync(path), false);

  await writeFile(path, 'stale');
  const used = await AppendFile.open(path, 0, { lazy: true });
  assert.equal(existsSync(path), false);
  used.append(Buffer.from('x\n'));
  assert.equal(await used.sync(), 2);
  await used.close();
  assert.equal(await readFile(path, 'utf8'), 'x\n');
});

function journal(position: Partial<JournalState['position']> = {}): JournalState {
  return {
    version: JOURNAL_VERSION,
    identity: { input: '/in.jsonl', inputSize: 10, shard: '0/1' },
    range: { start: 0, end: 10 },
    position: { inputOffset: 4, nextLineNumber: 2, numDocuments: 1, numSkipped: 0, numTokens: 5, files: { embeddings: 99 }, ...position },
    complete: false,
    elapsedSeconds: 1.5,
    updatedAt: new Date(0).toISOString(),
  };
}

test('the journal is replaced whole (no temporary file left) and read back as written', async () => {
  const dir = await tempDir();
  const path = join(dir, 'out.progress.json');
  assert.equal(await readJournal(path), null);
  await writeJournal(path, journal());
  await writeJournal(path, journal({ inputOffset: 10, numDocuments: 2 }));
  assert.deepEqual(await readJournal(path), journal({ inputOffset: 10, numDocuments: 2 }));
  assert.deepEqual(await readdir(dir), ['out.progress.json']);
});

test('a damaged or foreign journal is refused with a way out', async () => {
  const dir = await tempDir();
  const path = join(dir, 'out.progress.json');
  await writeFile(path, '{"version": 1, "ident');
  await assert.rejects(readJournal(path), /not valid JSON.*--overwrite/);
  await writeFile(path, JSON.stringify({ ...journal(), version: 99 }));
  await assert.rejects(readJournal(path), /journal version 99.*--overwrite/);
});

test('identity differences name exactly the fields that changed', () => {
  assert.deepEqual(identityDifferences({ a: 1, b: 'x', c: null }, { a: 1, b: 'x', c: null }), []);
  assert.deepEqual(identityDifferences({ a: 1, b: 'x', model: 'm1' }, { a: 2, b: 'x', model: 'm2', extra: true }), ['a', 'extra', 'model']);
});

test('output format and sidecar names follow the output file name', () => {
  assert.equal(outputFormatFromPath('/o/vectors.npy'), 'npy');
  assert.equal(outputFormatFromPath('vectors.jsonl'), 'jsonl');
  assert.equal(outputFormatFromPath('vectors.ndjson'), 'jsonl');
  assert.equal(outputFormatFromPath('vectors.csv'), null);
  assert.equal(sidecarPath('/o/vectors.npy', 'ids.jsonl'), '/o/vectors.ids.jsonl');
  assert.equal(sidecarPath('/o/part-00003.v1.npy', 'ids.jsonl'), '/o/part-00003.v1.ids.jsonl');
});

const row = (seed: number, n = 3) => Float32Array.from({ length: n }, (_, i) => Math.fround(seed + i / 8));

test('a JSONL writer reopened at a checkpoint continues as if the uncommitted rows were never written', async () => {
  const path = join(await tempDir(), 'out.jsonl');
  const spec: OutputSpec = { path, format: 'jsonl', dtype: 'float32', numCols: 3 };
  const writer = await openEmbeddingWriter(spec, null);
  writer.write('a', row(1));
  writer.write(2, row(2));
  const committed = await writer.sync();
  writer.write('lost', row(3));
  await writer.flush();
  await writer.close();

  const resumed = await openEmbeddingWriter(spec, committed);
  resumed.write('c', row(4));
  await resumed.sync();
  await resumed.close();
  const lines = (await readFile(path, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines, [
    { id: 'a', embedding: [1, 1.125, 1.25] },
    { id: 2, embedding: [2, 2.125, 2.25] },
    { id: 'c', embedding: [4, 4.125, 4.25] },
  ]);
});

test('JSONL values are the exact float32 numbers', async () => {
  const path = join(await tempDir(), 'exact.jsonl');
  const values = Float32Array.from([0.1, -1 / 3, 1e-8, 123.456]);
  const writer = await openEmbeddingWriter({ path, format: 'jsonl', dtype: 'float32', numCols: 4 }, null);
  writer.write('x', values);
  await writer.sync();
  await writer.close();
  const parsed = JSON.parse(await readFile(path, 'utf8'));
  assert.deepEqual(Float32Array.from(parsed.embedding), values);
  assert.deepEqual(parsed.embedding, Array.from(values));
});

async function readNpy(path: string): Promise<{ shape: readonly number[]; values: number[] }> {
  const bytes = await readFile(path);
  const header = decodeNpyHeader(bytes);
  const data = bytes.subarray(header.dataOffset);
  const values: number[] = [];
  for (let i = 0; i < data.length; i += 4) values.push(data.readFloatLE(i));
  return { shape: header.shape, values };
}

test('an .npy writer keeps a valid header at each checkpoint and resumes matrix and ids together', async () => {
  const path = join(await tempDir(), 'vectors.npy');
  const idsPath = sidecarPath(path, 'ids.jsonl');
  const spec: OutputSpec = { path, format: 'npy', dtype: 'float32', numCols: 3 };
  const writer = await openEmbeddingWriter(spec, null);
  assert.deepEqual(writer.paths, { embeddings: path, ids: idsPath });
  writer.write('a', row(1));
  writer.write('b', row(2));
  const committed = await writer.sync();
  assert.deepEqual(committed, { embeddings: NPY_HEADER_BYTES + 2 * 12, ids: 8 });
  assert.deepEqual((await readNpy(path)).shape, [2, 3]);
  writer.write('lost', row(3));
  await writer.sync(); // synced, but a kill before the journal is written leaves the journal at `committed`
  await writer.close();
  assert.deepEqual((await readNpy(path)).shape, [3, 3]);

  const resumed = await openEmbeddingWriter(spec, committed);
  assert.deepEqual((await readNpy(path)).shape, [2, 3], 'the header is cut back with the data');
  resumed.write('c', row(4));
  await resumed.sync();
  await resumed.close();
  const npy = await readNpy(path);
  assert.deepEqual(npy.shape, [3, 3]);
  assert.deepEqual(npy.values, [...row(1), ...row(2), ...row(4)]);
  assert.equal(await readFile(idsPath, 'utf8'), '"a"\n"b"\n"c"\n');
});

test('an .npy file of another dtype or width is not resumed', async () => {
  const path = join(await tempDir(), 'vectors.npy');
  const writer = await openEmbeddingWriter({ path, format: 'npy', dtype: 'float16', numCols: 4 }, null);
  writer.write(1, row(1, 4));
  await writer.sync();
  await writer.close();
  const committed = { embeddings: NPY_HEADER_BYTES + 8, ids: 2 };
  await assert.rejects(openEmbeddingWriter({ path, format: 'npy', dtype: 'float32', numCols: 2 }, committed), /float16 matrix|--overwrite/);
});
