// The README's library examples run as written: each ```js block of README.md's "Library" section is executed in
// a child process, with the hub model id pointed at a fixture checkpoint (no network) and 'pooled' at the sources.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { fixtureModel } from '../fixtures/generate.js';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = import.meta.resolve('tsx');
const INDEX = pathToFileURL(join(REPO_ROOT, 'src', 'index.ts')).href;
const SHRINK = { numLayers: 1, hiddenSize: 32, numHeads: 2, intermediateSize: 64 };

let blocks: string[];
let dir: string;
let modelPath: string;

before(async () => {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Library'), readme.indexOf('## Configuration'));
  blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  modelPath = await fixtureModel('bge-small', { shrink: SHRINK });
  dir = await mkdtemp(join(tmpdir(), 'pooled-readme-'));
  // The file the offline example reads from its working folder.
  const docs = ['first document', '', 'third document'].map((text, i) => JSON.stringify({ id: `d${i}`, text }));
  await writeFile(join(dir, 'corpus.jsonl'), `${docs.join('\n')}\n`);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function runExample(index: number): Promise<string> {
  const source = blocks[index].replaceAll("'BAAI/bge-small-en-v1.5'", JSON.stringify(modelPath)).replaceAll("from 'pooled'", `from '${INDEX}'`);
  const path = join(dir, `example-${index}.mjs`);
  await writeFile(path, source);
  const { stdout } = await run(process.execPath, ['--import', TSX, path], { cwd: dir });
  return stdout;
}

test('the README has the three library examples', () => {
  assert.equal(blocks.length, 3);
});

test('example 1: embed, cosine, score, tokenize', async () => {
  const lines = (await runExample(0)).trimEnd().split('\n');
  const [dimensions, cosine] = lines[0].split(' ').map(Number);
  assert.equal(dimensions, SHRINK.hiddenSize);
  assert.ok(cosine >= -1 && cosine <= 1);
  assert.ok(Math.abs(Number(lines[1])) <= 1);
  assert.match(lines[2], /^Int32Array\(4\) \[ 101, \d+, \d+, 102 \]$/);
});

test('example 2: an over-long input is an InvalidRequestError unless truncation is asked for', async () => {
  const lines = (await runExample(1)).trimEnd().split('\n');
  assert.match(lines[0], /^Input of 1002 tokens exceeds the model's maximum input length of 512 tokens\./);
  assert.equal(lines[1], String(SHRINK.hiddenSize));
});

test('example 3: runEmbedJob on a file, with a bad line skipped', async () => {
  const stdout = await runExample(2);
  assert.equal(stdout.trim(), `2 embedded, 1 skipped, ${2 * 4} tokens`);
  assert.equal((await readFile(join(dir, 'vectors.ids.jsonl'), 'utf8')).trim(), '"d0"\n"d2"');
  assert.match(await readFile(join(dir, 'vectors.npy.errors.jsonl'), 'utf8'), /"line":2,"id":"d1","error":"empty text in field \\"text\\""/);
});
