// `pooled embed` killed for real: a child process is SIGKILLed at random moments mid-run, several times, and the
// same command run again each time; the final output must be byte-identical to an uninterrupted run (every input
// exactly once, in order). Also: SIGTERM saves progress and exits 143; CLI exit codes and messages for bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Embedder } from '../../src/engine/embedder.js';
import { runEmbedJob } from '../../src/embed/job.js';
import { readJournal } from '../../src/embed/journal.js';
import { fixtureModel } from '../fixtures/generate.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHRINK = { numLayers: 1, hiddenSize: 32, numHeads: 2, intermediateSize: 64 };
// The reference backend (TypeScript, float64) is slow enough on purpose that several kills land mid-run; the native
// engine finishes 6000 tiny documents before the kill schedule gets going.
const ENGINE_FLAGS = ['--backend', 'reference', '--max-num-batched-tokens', '512', '--max-num-seqs', '32'];
const NUM_DOCS = 6000;
const ENTRY = "import { runEmbedCommand } from './src/cli/embed.js'; process.exitCode = await runEmbedCommand(process.argv.slice(1));";

interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Starts `pooled embed ARGS` in a child; `whileRunning` may kill it. */
function runChild(args: string[], whileRunning?: (pid: number, exited: () => boolean, stderrSoFar: () => string) => Promise<void>): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let exited = false;
  const done = new Promise<ChildRun>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = true;
      // 'close' waits for stderr to drain.
      child.on('close', () => resolve({ code, signal, stderr }));
    });
  });
  void whileRunning?.(
    child.pid!,
    () => exited,
    () => stderr,
  );
  return done;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A seeded generator, the seed printed so a failing kill schedule can be replayed (POOLED_KILL_SEED). */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

let modelPath: string;
let dir: string;
let input: string;
let embedder: Embedder;

before(async () => {
  modelPath = await fixtureModel('bge-small', { shrink: SHRINK });
  dir = await mkdtemp(join(tmpdir(), 'pooled-embed-kill-'));
  const words = 'alpha beta gamma delta epsilon vector index search corpus token batch shard resume'.split(' ');
  const random = seededRandom(5);
  const lines = Array.from({ length: NUM_DOCS }, (_, i) => {
    const text = Array.from({ length: 2 + Math.floor(random() * 12) }, () => words[Math.floor(random() * words.length)]).join(' ');
    return JSON.stringify({ id: `doc-${i}`, text });
  });
  input = join(dir, 'corpus.jsonl');
  await writeFile(input, `${lines.join('\n')}\n`);
  embedder = await Embedder.load(modelPath, { backend: 'reference', limits: { maxNumBatchedTokens: 512, maxNumSeqs: 32 }, tokenizerWorkers: 0 });
  // The uninterrupted outputs every interrupted run must reproduce byte for byte.
  for (const format of ['jsonl', 'npy']) await runEmbedJob(embedder, { input, output: join(dir, `reference.${format}`), progress: 'none' });
});

after(async () => {
  await embedder?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('SIGKILL at random points', () => {
  for (const format of ['jsonl', 'npy'] as const) {
    test(`${format}: killed several times, the same command finishes with every document exactly once, in order`, async (t) => {
      const reference = join(dir, `reference.${format}`);

      const output = join(dir, `killed.${format}`);
      const journalPath = `${output}.progress.json`;
      const args = ['--model', modelPath, '--input', input, '--output', output, '--checkpoint-interval', '0.05', '--progress', 'none', ...ENGINE_FLAGS];
      const seed = Number(process.env.POOLED_KILL_SEED ?? Date.now() % 100000);
      t.diagnostic(`kill schedule seed ${seed}`);
      const random = seededRandom(seed);
      const documentsAtKill: number[] = [];
      for (let attempt = 0; attempt < 4; attempt++) {
        const before = (await readJournal(journalPath))?.position.numDocuments ?? 0;
        const run = await runChild(args, async (pid, exited) => {
          // Wait for this run to make progress of its own, then kill at a random moment relative to its checkpoints.
          while (!exited() && ((await readJournal(journalPath).catch(() => null))?.position.numDocuments ?? 0) <= before) await sleep(20);
          await sleep(random() * 250);
          if (!exited()) process.kill(pid, 'SIGKILL');
        });
        if (run.signal !== 'SIGKILL') {
          assert.equal(run.code, 0, run.stderr);
          break; // finished before the kill: nothing left to interrupt
        }
        const journal = await readJournal(journalPath);
        assert.ok(journal && !journal.complete);
        documentsAtKill.push(journal.position.numDocuments);
      }
      t.diagnostic(`documents committed at each kill: ${documentsAtKill.join(', ')}`);
      assert.ok(documentsAtKill.length >= 3, `at least 3 kills landed mid-run (${documentsAtKill.length})`);
      for (let i = 1; i < documentsAtKill.length; i++) assert.ok(documentsAtKill[i] > documentsAtKill[i - 1], 'each run continued, not restarted');

      const final = await runChild(args);
      assert.equal(final.code, 0, final.stderr);
      assert.match(final.stderr, new RegExp(`documents  ${NUM_DOCS.toLocaleString('en-US')} embedded \\(`));
      assert.ok((await readFile(output)).equals(await readFile(reference)), 'output is byte-identical to an uninterrupted run');
      if (format === 'npy') {
        const ids = (p: string) => readFile(p.replace(/\.npy$/, '.ids.jsonl'), 'utf8');
        assert.equal(await ids(output), await ids(reference));
      }
      assert.equal((await readJournal(journalPath))?.complete, true);
    });
  }
});

test('SIGTERM writes what is in flight, saves progress and exits 143; the next run finishes the job', async () => {
  const output = join(dir, 'terminated.jsonl');
  const journalPath = `${output}.progress.json`;
  const args = ['--model', modelPath, '--input', input, '--output', output, '--progress', 'lines', '--progress-interval', '0.2', ...ENGINE_FLAGS];
  const run = await runChild(args, async (pid, exited, stderrSoFar) => {
    // The first progress line means documents are flowing; checkpoints are 5 s apart by default, so the journal
    // shows progress only once the SIGTERM path saves it.
    while (!exited() && !stderrSoFar().includes(' docs |')) await sleep(10);
    if (!exited()) process.kill(pid, 'SIGTERM');
  });
  assert.equal(run.code, 143, run.stderr);
  assert.match(run.stderr, /SIGTERM: writing what is in flight and saving progress/);
  assert.match(run.stderr, /progress is saved, run the same command to continue/);
  const journal = await readJournal(journalPath);
  assert.ok(journal && journal.position.numDocuments > 0 && journal.position.numDocuments < NUM_DOCS);
  const savedLines = (await readFile(output, 'utf8')).split('\n').length - 1;
  assert.equal(savedLines, journal.position.numDocuments, 'the file holds exactly the saved documents');

  const final = await runChild(args);
  assert.equal(final.code, 0, final.stderr);
  assert.match(final.stderr, /pooled embed: \d+\.\d% \| [\d,]+ docs/, 'plain progress lines when stderr is not a terminal');
  assert.match(final.stderr, /peak RSS +\d+\.\d MiB/);
  assert.ok((await readFile(output)).equals(await readFile(join(dir, 'reference.jsonl'))));
});

test('CLI: a bad line under the default --on-error fail exits 1 naming the line; bad flags exit 2', async () => {
  const bad = join(dir, 'bad.jsonl');
  await writeFile(bad, '{"id": 1, "text": "fine"}\n{"id": 2}\n');
  const failed = await runChild(['--model', modelPath, '--input', bad, '--output', join(dir, 'bad.out.jsonl'), '--progress', 'none']);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /bad\.jsonl: line 2: no "text" field/);
  assert.match(failed.stderr, /--on-error skip/);

  const usage = await runChild(['--model', modelPath, '--input', bad, '--output', join(dir, 'x.csv')]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /use \.jsonl, \.ndjson or \.npy/);
  assert.match(usage.stderr, /usage: pooled embed/);
});
