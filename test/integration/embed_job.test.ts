// Offline batch embedding end to end, in process, on a shrunk fixture model: outputs equal the library's and the
// server's vectors in input order, bad lines are reported by line number (skip or fail), jobs resume from their
// journal, refuse what they cannot resume, and shard outputs concatenate to the single-machine output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Embedder } from '../../src/engine/embedder.js';
import { ResumeStateError } from '../../src/embed/append_file.js';
import { float32ToFloat16Bits } from '../../src/embed/float16.js';
import { BadInputLineError, JobInterruptedError, runEmbedJob, type EmbedJobOptions } from '../../src/embed/job.js';
import { readJournal } from '../../src/embed/journal.js';
import { decodeNpyHeader } from '../../src/embed/npy.js';
import { buildServer } from '../../src/server/app.js';
import { fixtureModel } from '../fixtures/generate.js';

const SHRINK = { numLayers: 1, hiddenSize: 32, numHeads: 2, intermediateSize: 64 };
const WORDS = 'the quick brown fox jumps over a lazy dog while search engines index every vector of the corpus'.split(' ');

let embedder: Embedder;
let dir: string;

/** Seeded texts of 1 to 30 words. */
function makeTexts(n: number, seed = 7): string[] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: n }, () => Array.from({ length: 1 + (next() % 30) }, () => WORDS[next() % WORDS.length]).join(' '));
}

async function writeJsonl(name: string, records: unknown[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n')}\n`);
  return path;
}

async function readJsonlOutput(path: string): Promise<{ id: unknown; embedding: number[] }[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

async function readNpyRows(path: string): Promise<{ dtype: string; rows: number[][] }> {
  const bytes = await readFile(path);
  const header = decodeNpyHeader(bytes);
  const [numRows, numCols] = header.shape;
  const width = header.dtype === 'float32' ? 4 : 2;
  assert.equal(bytes.length, header.dataOffset + numRows * numCols * width, 'file length matches the header shape');
  const rows: number[][] = [];
  for (let r = 0; r < numRows; r++) {
    const row: number[] = [];
    for (let c = 0; c < numCols; c++) {
      const at = header.dataOffset + (r * numCols + c) * width;
      row.push(width === 4 ? bytes.readFloatLE(at) : bytes.readUInt16LE(at));
    }
    rows.push(row);
  }
  return { dtype: header.dtype, rows };
}

const quiet: Partial<EmbedJobOptions> = { progress: 'none' };

before(async () => {
  const path = await fixtureModel('bge-small', { shrink: SHRINK });
  // A small token budget so a few hundred documents make many scheduler steps and many chunks.
  embedder = await Embedder.load(path, { backend: 'reference', limits: { maxNumBatchedTokens: 256, maxNumSeqs: 16 }, tokenizerWorkers: 0 });
  dir = await mkdtemp(join(tmpdir(), 'pooled-embed-job-'));
});

after(async () => {
  await embedder?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('outputs', () => {
  test('JSONL in, JSONL out: every document in input order, equal to Embedder.embed', async () => {
    const texts = makeTexts(300);
    const input = await writeJsonl(
      'docs.jsonl',
      texts.map((text, i) => ({ id: `doc-${i}`, text, other: i })),
    );
    const output = join(dir, 'docs.out.jsonl');
    const summary = await runEmbedJob(embedder, { ...quiet, input, output });
    const rows = await readJsonlOutput(output);
    assert.deepEqual(
      rows.map((r) => r.id),
      texts.map((_, i) => `doc-${i}`),
    );
    const expected = await embedder.embed(texts);
    rows.forEach((r, i) => assert.deepEqual(r.embedding, Array.from(expected[i]), `row ${i}`));
    let numTokens = 0;
    for (const t of texts) numTokens += embedder.tokenize(t).length;
    assert.equal(summary.numDocuments, 300);
    assert.equal(summary.numSkipped, 0);
    assert.equal(summary.numTokens, numTokens);
    assert.equal(summary.errorsPath, null);
    assert.equal((await readJournal(summary.journalPath))?.complete, true);
  });

  test('the same texts through the HTTP server give the same vectors', async () => {
    const texts = makeTexts(40, 99);
    const input = await writeJsonl(
      'server.jsonl',
      texts.map((text, i) => ({ id: i, text })),
    );
    const output = join(dir, 'server.out.jsonl');
    await runEmbedJob(embedder, { ...quiet, input, output });
    const app = buildServer(embedder);
    try {
      const res = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: texts } });
      assert.equal(res.statusCode, 200, res.body);
      const served = res.json().data.map((d: { embedding: number[] }) => d.embedding);
      const offline = (await readJsonlOutput(output)).map((r) => r.embedding);
      assert.deepEqual(offline, served);
    } finally {
      await app.close();
    }
  });

  test('plain text in, .npy out: a float32 matrix plus the line numbers as ids', async () => {
    const texts = makeTexts(50, 3);
    const input = join(dir, 'lines.txt');
    await writeFile(input, texts.join('\n')); // no final newline: the last line still counts
    const output = join(dir, 'lines.npy');
    const summary = await runEmbedJob(embedder, { ...quiet, input, output });
    assert.deepEqual(summary.outputPaths, { embeddings: output, ids: join(dir, 'lines.ids.jsonl') });
    const { dtype, rows } = await readNpyRows(output);
    assert.equal(dtype, 'float32');
    const expected = await embedder.embed(texts);
    assert.deepEqual(
      rows,
      expected.map((r) => Array.from(r)),
    );
    const ids = (await readFile(join(dir, 'lines.ids.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      ids,
      texts.map((_, i) => i + 1),
    );
  });

  test('float16 .npy holds the nearest half of every float32 value', async () => {
    const texts = makeTexts(20, 5);
    const input = await writeJsonl(
      'half.jsonl',
      texts.map((text) => ({ text })),
    );
    const output = join(dir, 'half.npy');
    await runEmbedJob(embedder, { ...quiet, input, output, outputDType: 'float16' });
    const { dtype, rows } = await readNpyRows(output);
    assert.equal(dtype, 'float16');
    const expected = await embedder.embed(texts);
    assert.deepEqual(
      rows,
      expected.map((r) => Array.from(r, float32ToFloat16Bits)),
    );
  });

  test('custom text and id fields; normalize and prompt options reach the engine', async () => {
    const texts = makeTexts(10, 11);
    const input = await writeJsonl(
      'fields.jsonl',
      texts.map((body, i) => ({ key: `k${i}`, body })),
    );
    const output = join(dir, 'fields.out.jsonl');
    await runEmbedJob(embedder, { ...quiet, input, output, textField: 'body', idField: 'key', idRequired: true, embed: { normalize: false } });
    const rows = await readJsonlOutput(output);
    assert.deepEqual(
      rows.map((r) => r.id),
      texts.map((_, i) => `k${i}`),
    );
    const expected = await embedder.embed(texts, { normalize: false });
    assert.deepEqual(
      rows.map((r) => r.embedding),
      expected.map((r) => Array.from(r)),
    );
    assert.ok(Math.abs(Math.hypot(...rows[0].embedding) - 1) > 1e-3, 'really not normalized');
  });
});

describe('bad lines', () => {
  const GOOD = makeTexts(6, 21);
  // Line numbers (1-based) of the bad lines, and what must be said about each.
  const LINES: (string | object)[] = [
    { id: 'a', text: GOOD[0] },
    '{"id": "b", "text": "unterminated',
    { id: 'c', text: GOOD[1] },
    { id: 'd', body: 'no text field' },
    { id: 'e', text: '' },
    { id: 'f', text: 17 },
    '',
    { id: 'g', text: GOOD[2] },
    { id: 'h', text: 'word '.repeat(600) },
    [1, 2, 3],
    { id: 'i', text: GOOD[3] },
  ];
  const EXPECTED_ERRORS = [
    { line: 2, pattern: /^not valid JSON/ },
    { line: 4, id: 'd', pattern: /^no "text" field/ },
    { line: 5, id: 'e', pattern: /^empty text in field "text"$/ },
    { line: 6, id: 'f', pattern: /^field "text" is a number, expected a string$/ },
    { line: 7, pattern: /^empty line/ },
    { line: 9, id: 'h', pattern: /^Input of 60\d tokens exceeds the model's maximum input length of 512 tokens.*--truncate end/ },
    { line: 10, pattern: /^an array, expected a JSON object$/ },
  ];

  test('--on-error skip: good lines are embedded in order, each bad line is reported and listed with its line number', async () => {
    const input = await writeJsonl('bad.jsonl', LINES);
    const output = join(dir, 'bad-skip.jsonl');
    const messages: string[] = [];
    const summary = await runEmbedJob(embedder, {
      input,
      output,
      onError: 'skip',
      progress: 'lines',
      progressStream: { write: (t: string) => messages.push(t), isTTY: false },
    });
    const rows = await readJsonlOutput(output);
    assert.deepEqual(
      rows.map((r) => r.id),
      ['a', 'c', 'g', 'i'],
    );
    const expected = await embedder.embed([GOOD[0], GOOD[1], GOOD[2], GOOD[3]]);
    assert.deepEqual(
      rows.map((r) => r.embedding),
      expected.map((r) => Array.from(r)),
    );
    assert.equal(summary.numSkipped, EXPECTED_ERRORS.length);
    assert.equal(summary.numDocuments, 4);
    assert.equal(summary.errorsPath, join(dir, 'bad-skip.jsonl.errors.jsonl'));
    const listed = (await readFile(summary.errorsPath!, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(listed.length, EXPECTED_ERRORS.length);
    EXPECTED_ERRORS.forEach((want, i) => {
      assert.equal(listed[i].line, want.line);
      assert.equal(listed[i].id, want.id);
      assert.match(listed[i].error, want.pattern, `line ${want.line}`);
      assert.ok(
        messages.some((m) => m.includes(`bad.jsonl: line ${want.line}: `) && m.includes('; skipped')),
        `line ${want.line} reported`,
      );
    });
  });

  test('--on-error fail: stops at the first bad line, naming it, with everything before it saved; a skip run continues', async () => {
    const input = await writeJsonl('bad-fail.jsonl', LINES);
    const output = join(dir, 'bad-fail.out.jsonl');
    await assert.rejects(runEmbedJob(embedder, { ...quiet, input, output }), (err: unknown) => {
      assert.ok(err instanceof BadInputLineError);
      assert.equal(err.lineNumber, 2);
      assert.match(err.message, /bad-fail\.jsonl: line 2: not valid JSON/);
      return true;
    });
    assert.deepEqual(
      (await readJsonlOutput(output)).map((r) => r.id),
      ['a'],
    );
    const journal = await readJournal(join(dir, 'bad-fail.out.jsonl.progress.json'));
    assert.equal(journal?.position.nextLineNumber, 2);
    assert.equal(journal?.complete, false);
    // Deciding to skip after all resumes from line 2 rather than starting over.
    const summary = await runEmbedJob(embedder, { ...quiet, input, output, onError: 'skip' });
    assert.equal(summary.numResumedDocuments, 1);
    assert.deepEqual(
      (await readJsonlOutput(output)).map((r) => r.id),
      ['a', 'c', 'g', 'i'],
    );
  });

  test('an over-long document is cut, not reported, when truncation is asked for', async () => {
    const input = await writeJsonl('long.jsonl', [{ id: 'long', text: 'word '.repeat(600) }]);
    const output = join(dir, 'long.jsonl.out.jsonl');
    const summary = await runEmbedJob(embedder, { ...quiet, input, output, embed: { truncate: 'end' } });
    assert.equal(summary.numDocuments, 1);
    assert.equal(summary.numTokens, 512);
  });
});

describe('resume', () => {
  const texts = makeTexts(400, 31);
  let input: string;
  let reference: string;

  before(async () => {
    input = await writeJsonl(
      'resume.jsonl',
      texts.map((text, i) => ({ id: i, text })),
    );
    reference = join(dir, 'resume-reference.jsonl');
    await runEmbedJob(embedder, { ...quiet, input, output: reference });
  });

  async function interruptAfterSteps(opts: EmbedJobOptions, numSteps: number): Promise<void> {
    const stop = new AbortController();
    let steps = 0;
    embedder.scheduler.onStep = () => {
      if (++steps === numSteps) stop.abort();
    };
    try {
      await assert.rejects(runEmbedJob(embedder, { ...opts, signal: stop.signal }), JobInterruptedError);
    } finally {
      embedder.scheduler.onStep = null;
    }
  }

  for (const format of ['jsonl', 'npy'] as const) {
    test(`${format}: an interrupted job whose files grew past the checkpoint resumes to the uninterrupted output`, async () => {
      const output = join(dir, `resume-${format}.${format}`);
      const referenceOutput = format === 'jsonl' ? reference : join(dir, 'resume-reference.npy');
      if (format === 'npy') await runEmbedJob(embedder, { ...quiet, input, output: referenceOutput });
      const opts: EmbedJobOptions = { ...quiet, input, output, checkpointIntervalSeconds: 3600 };
      await interruptAfterSteps(opts, 5);
      const journal = await readJournal(join(dir, `resume-${format}.${format}.progress.json`));
      assert.ok(journal && journal.position.numDocuments > 0 && journal.position.numDocuments < texts.length);
      // What a SIGKILL between two checkpoints leaves: bytes past what the journal committed.
      await appendFile(output, Buffer.from('{"id": "half-written row", "embedd'));
      if (format === 'npy') await appendFile(join(dir, `resume-${format}.ids.jsonl`), '"stray"\n');
      const summary = await runEmbedJob(embedder, opts);
      assert.equal(summary.numResumedDocuments, journal.position.numDocuments);
      assert.equal(summary.numDocuments, texts.length);
      assert.ok((await readFile(output)).equals(await readFile(referenceOutput)), 'byte-identical to the uninterrupted run');
      if (format === 'npy') {
        assert.equal(await readFile(join(dir, `resume-${format}.ids.jsonl`), 'utf8'), await readFile(join(dir, 'resume-reference.ids.jsonl'), 'utf8'));
      }
    });
  }

  test('a finished job run again does nothing and says so', async () => {
    const before = await readFile(reference);
    const summary = await runEmbedJob(embedder, { ...quiet, input, output: reference });
    assert.equal(summary.alreadyComplete, true);
    assert.equal(summary.numDocuments, texts.length);
    assert.ok((await readFile(reference)).equals(before));
  });

  test('a journal of a different job is refused, naming what differs', async () => {
    await assert.rejects(runEmbedJob(embedder, { ...quiet, input, output: reference, textField: 'body' }), (err: unknown) => {
      assert.ok(err instanceof ResumeStateError);
      assert.match(err.message, /differs from this one in: textField\./);
      assert.match(err.message, /--overwrite/);
      return true;
    });
  });

  test('an input changed after an interruption is not resumed into', async () => {
    const changing = await writeJsonl(
      'changing.jsonl',
      texts.map((text, i) => ({ id: i, text })),
    );
    const output = join(dir, 'changing.out.jsonl');
    await interruptAfterSteps({ ...quiet, input: changing, output }, 3);
    await appendFile(changing, `${JSON.stringify({ id: 'new', text: 'appended later' })}\n`);
    await assert.rejects(runEmbedJob(embedder, { ...quiet, input: changing, output }), /differs from this one in: inputMtimeMs, inputSize/);
    const summary = await runEmbedJob(embedder, { ...quiet, input: changing, output, overwrite: true });
    assert.equal(summary.numDocuments, texts.length + 1);
    assert.equal(summary.numResumedDocuments, 0);
  });

  test('an output that is the input is refused, even with --overwrite', async () => {
    const before = await readFile(input);
    await assert.rejects(runEmbedJob(embedder, { ...quiet, input, output: input, overwrite: true }), /is the input file/);
    assert.ok((await readFile(input)).equals(before));
  });

  test('an existing output without a journal is not overwritten unless asked', async () => {
    const output = join(dir, 'foreign.jsonl');
    await writeFile(output, 'precious data\n');
    await assert.rejects(runEmbedJob(embedder, { ...quiet, input, output }), /already exists.*--overwrite/);
    assert.equal(await readFile(output, 'utf8'), 'precious data\n');
    await runEmbedJob(embedder, { ...quiet, input, output, overwrite: true });
    assert.ok((await readFile(output)).equals(await readFile(reference)));
  });
});

describe('shards', () => {
  for (const [format, count] of [
    ['jsonl', 3],
    ['npy', 4],
  ] as const) {
    test(`${count} shards (${format}) concatenate to the single-machine output`, async () => {
      const texts = makeTexts(157, 41 + count);
      // Plain text: the ids are line numbers, so each shard must know where it starts.
      const input = join(dir, `shards-${format}.txt`);
      await writeFile(input, `${texts.join('\n')}\n`);
      const whole = join(dir, `shards-whole.${format}`);
      await runEmbedJob(embedder, { ...quiet, input, output: whole });
      const parts: string[] = [];
      let numDocuments = 0;
      for (let index = 0; index < count; index++) {
        const output = join(dir, `shards-part-${index}.${format}`);
        const summary = await runEmbedJob(embedder, { ...quiet, input, output, shard: { index, count } });
        assert.ok(summary.numDocuments > 0, `shard ${index} is not empty`);
        numDocuments += summary.numDocuments;
        parts.push(output);
      }
      assert.equal(numDocuments, texts.length);
      if (format === 'jsonl') {
        const concatenated = Buffer.concat(await Promise.all(parts.map((p) => readFile(p))));
        assert.ok(concatenated.equals(await readFile(whole)), 'concatenated shard outputs are byte-identical');
      } else {
        const wholeRows = (await readNpyRows(whole)).rows;
        const partRows = (await Promise.all(parts.map(readNpyRows))).flatMap((p) => p.rows);
        assert.deepEqual(partRows, wholeRows);
        const ids = async (p: string) => readFile(p.replace(/\.npy$/, '.ids.jsonl'), 'utf8');
        assert.equal((await Promise.all(parts.map(ids))).join(''), await ids(whole));
      }
    });
  }
});
