// Memory stays bounded whatever the input size: `pooled embed` streams a generated corpus through a tiny model in a
// child process, and its peak RSS must stay within a fixed margin of the same job on a tenth of the lines (memory that
// grew with the input would show as a 10x larger job using more). The normal suite runs 20,000 lines; `npm run
// test:scale` runs the same code on 1,000,000 lines (POOLED_SCALE_LINES) and prints the numbers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { Embedder } from '../../src/engine/embedder.js';
import { decodeNpyHeader } from '../../src/embed/npy.js';
import { fixtureModel } from '../fixtures/generate.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NUM_LINES = Number(process.env.POOLED_SCALE_LINES ?? 20_000);
const NUM_BASELINE_LINES = Math.max(2_000, Math.floor(NUM_LINES / 10));
// Garbage-collection noise between two runs; anything kept per document (a million ids alone are ~60 MiB) exceeds it.
const MAX_EXTRA_RSS_MIB = 64;
const SHRINK = { numLayers: 1, hiddenSize: 16, numHeads: 2, intermediateSize: 32 };
const WORDS = 'alpha beta gamma delta vector index search corpus token batch shard resume the a of'.split(' ');
const ENTRY = "import { runEmbedCommand } from './src/cli/embed.js'; process.exitCode = await runEmbedCommand(process.argv.slice(1));";

let modelPath: string;
let dir: string;

/** Document i's text: 2 to 6 words, a pure function of i so the test can recompute any row. */
function textOf(i: number): string {
  let state = i * 7919 + 1;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: 2 + (next() % 5) }, () => WORDS[next() % WORDS.length]).join(' ');
}

/** Writes the corpus in 1 MiB pieces: the test itself must not hold a million lines either. */
async function writeCorpus(path: string, numLines: number): Promise<void> {
  const file = await open(path, 'w');
  try {
    let piece = '';
    for (let i = 0; i < numLines; i++) {
      piece += `${JSON.stringify({ id: `doc-${i}`, text: textOf(i) })}\n`;
      if (piece.length >= 1 << 20) {
        await file.write(piece);
        piece = '';
      }
    }
    await file.write(piece);
  } finally {
    await file.close();
  }
}

function runEmbed(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

function peakRssMiB(stderr: string): number {
  const match = /peak RSS +([\d.]+) MiB/.exec(stderr);
  assert.ok(match, stderr);
  return Number(match[1]);
}

function speed(stderr: string): string {
  return /speed +(.*)/.exec(stderr)?.[1] ?? '?';
}

before(async () => {
  modelPath = await fixtureModel('bge-small', { shrink: SHRINK });
  dir = await mkdtemp(join(tmpdir(), 'pooled-embed-scale-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test(`${NUM_LINES.toLocaleString('en-US')} lines stream through in bounded memory, every row in order`, { timeout: 30 * 60_000 }, async (t) => {
  const baselineInput = join(dir, 'baseline.jsonl');
  const input = join(dir, 'corpus.jsonl');
  await writeCorpus(baselineInput, NUM_BASELINE_LINES);
  await writeCorpus(input, NUM_LINES);
  const common = ['--model', modelPath, '--progress', 'lines', '--progress-interval', '15'];

  const baseline = await runEmbed([...common, '--input', baselineInput, '--output', join(dir, 'baseline.npy')]);
  assert.equal(baseline.code, 0, baseline.stderr);
  const output = join(dir, 'corpus.npy');
  const started = performance.now();
  const run = await runEmbed([...common, '--input', input, '--output', output]);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(run.code, 0, run.stderr);

  const baselineRss = peakRssMiB(baseline.stderr);
  const rss = peakRssMiB(run.stderr);
  t.diagnostic(`${NUM_BASELINE_LINES} lines: peak RSS ${baselineRss} MiB`);
  t.diagnostic(`${NUM_LINES} lines: peak RSS ${rss} MiB, ${seconds.toFixed(1)} s wall, ${speed(run.stderr)}`);
  assert.ok(rss - baselineRss <= MAX_EXTRA_RSS_MIB, `peak RSS ${rss} MiB vs ${baselineRss} MiB for ${NUM_BASELINE_LINES} lines`);

  // The matrix has every row, the ids sidecar every id in input order (read as a stream).
  const head = Buffer.alloc(128);
  const matrix = await open(output, 'r');
  await matrix.read(head, 0, 128, 0);
  const header = decodeNpyHeader(head);
  assert.deepEqual(header.shape, [NUM_LINES, SHRINK.hiddenSize]);
  assert.equal((await matrix.stat()).size, header.dataOffset + NUM_LINES * SHRINK.hiddenSize * 4);
  let expectedId = 0;
  for await (const line of createInterface({ input: createReadStream(output.replace(/\.npy$/, '.ids.jsonl')) })) {
    assert.equal(line, `"doc-${expectedId}"`);
    expectedId++;
  }
  assert.equal(expectedId, NUM_LINES);

  // Sampled rows, from the start, the middle and the end, equal the library's vectors for the same texts.
  const sample = [0, 1, 2, Math.floor(NUM_LINES / 2), NUM_LINES - 2, NUM_LINES - 1];
  const embedder = await Embedder.load(modelPath, { tokenizerWorkers: 0 });
  try {
    const expected = await embedder.embed(sample.map(textOf));
    const rowBytes = SHRINK.hiddenSize * 4;
    for (const [k, i] of sample.entries()) {
      const bytes = Buffer.alloc(rowBytes);
      await matrix.read(bytes, 0, rowBytes, header.dataOffset + i * rowBytes);
      assert.deepEqual(new Float32Array(bytes.buffer, bytes.byteOffset, SHRINK.hiddenSize), expected[k], `row ${i}`);
    }
  } finally {
    await embedder.close();
    await matrix.close();
  }
  assert.match(await readFile(`${output}.progress.json`, 'utf8'), /"complete": true/);
});
