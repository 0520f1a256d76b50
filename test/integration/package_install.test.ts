// The package as a user gets it: `npm pack` makes the tarball, `npm i ./pooled-*.tgz` installs it into an empty
// folder (dependencies from the registry or npm's cache, the addon compiled by the package's install script from
// the native sources the tarball carries), then `npx pooled demo` serves the bundled demo checkpoint and a consumer
// imports Embedder by the package name, typechecks against its declarations, and embeds with it. A `files` list
// that forgets native sources, shaders, dist or the demo metadata fails here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { Embedder } from '../../src/engine/embedder.js';
import { fixtureModel } from '../fixtures/generate.js';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const SHRINK = { numLayers: 1, hiddenSize: 32, numHeads: 2, intermediateSize: 64 };
const TEXTS = ['offline batch embedding', 'the same engine as a library'];
// Installing compiles the addon (every ISA variant) on the test machine: minutes on 2 cores.
const INSTALL_TIMEOUT_MS = 15 * 60_000;

let dir: string;
let appDir: string;
let modelPath: string;
let tarball: string;

before(async () => {
  modelPath = await fixtureModel('bge-small', { shrink: SHRINK });
  dir = await mkdtemp(join(tmpdir(), 'pooled-package-'));
  appDir = join(dir, 'app');
  await mkdir(appDir);
  // An environment a user has: no variables of ours, npm's own defaults.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POOLED_') && !k.startsWith('npm_') && k !== 'NODE_OPTIONS'));
  await run(NPM, ['pack', '--pack-destination', dir, '--loglevel=error'], { cwd: REPO_ROOT, env, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 << 20 });
  const packed = (await readdir(dir)).filter((name) => /^pooled-.*\.tgz$/.test(name));
  assert.equal(packed.length, 1, `npm pack wrote ${packed.join(', ')}`);
  tarball = join(dir, packed[0]);
  await writeFile(join(appDir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  await run(NPM, ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: appDir,
    env,
    timeout: INSTALL_TIMEOUT_MS,
    maxBuffer: 64 << 20,
  });
  // The consumer's own TypeScript tooling (not the package's): the compiler runs from the repo, @types/node is linked.
  await mkdir(join(appDir, 'node_modules', '@types'), { recursive: true });
  await symlink(join(REPO_ROOT, 'node_modules', '@types', 'node'), join(appDir, 'node_modules', '@types', 'node'), 'dir');
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the tarball carries what an install needs and nothing of the tests or the benchmark peers', async () => {
  const { stdout } = await run('tar', ['-tzf', tarball], { maxBuffer: 64 << 20 });
  const files = stdout
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  for (const needed of ['bin/pooled.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'CMakeLists.txt', 'binding.gyp', 'native/addon/module.cpp']) {
    assert.ok(files.includes(needed), `${needed} is in the tarball`);
  }
  assert.ok(
    files.some((f) => f.startsWith('shaders/') && f.endsWith('.wgsl')),
    'WGSL shaders are in the tarball',
  );
  assert.ok(
    files.some((f) => f.startsWith('test/fixtures/models/sentence-transformers--all-MiniLM-L6-v2/')),
    'demo metadata is in the tarball',
  );
  assert.deepEqual(
    files.filter((f) => f.startsWith('dist/test/') || f.includes('onnx') || f.endsWith('.test.ts')),
    [],
  );
});

test('npx pooled demo runs from the installed package', async () => {
  const env = { ...process.env, POOLED_CACHE: join(dir, 'cache') };
  const { stdout } = await run('npx', ['--no-install', 'pooled', 'demo', '--port', '0', '--once'], { cwd: appDir, env, timeout: 300_000, maxBuffer: 16 << 20 });
  assert.match(stdout, /RANDOM WEIGHTS/);
  assert.match(stdout, /Result \(HTTP 200, \d+ prompt tokens\)/);
  assert.match(stdout, /data\[0\]\.embedding = \[[-0-9., ]+\.\.\.\] \(384 values\)/);
});

test('a consumer imports Embedder by the package name and gets the same vectors as the sources, on the installed addon too', async () => {
  await writeFile(
    join(appDir, 'main.mjs'),
    `import { Embedder, cosineSimilarity } from 'pooled';
const embedder = await Embedder.load(process.argv[2], { backend: process.argv[3], threads: 2, tokenizerWorkers: 0 });
const rows = await embedder.embed(${JSON.stringify(TEXTS)});
const score = await embedder.score(${JSON.stringify(TEXTS[0])}, ${JSON.stringify(TEXTS[1])});
console.log(JSON.stringify({ backend: embedder.backend.name, rows: rows.map((r) => Array.from(r)), cosine: cosineSimilarity(rows[0], rows[1]), score,
  numTokens: embedder.tokenize(${JSON.stringify(TEXTS[0])}).length }));
await embedder.close();
`,
  );
  for (const backend of ['reference', 'cpu'] as const) {
    const { stdout } = await run(process.execPath, [join(appDir, 'main.mjs'), modelPath, backend], { cwd: appDir });
    const got = JSON.parse(stdout);
    assert.equal(got.backend, backend);
    const embedder = await Embedder.load(modelPath, { backend, threads: 2, tokenizerWorkers: 0 });
    try {
      // The same sources and the same kernels on the same machine give the same bits.
      const expected = await embedder.embed(TEXTS);
      assert.deepEqual(
        got.rows,
        expected.map((r) => Array.from(r)),
        `${backend}: installed package vs sources`,
      );
      assert.equal(got.numTokens, embedder.tokenize(TEXTS[0]).length);
      assert.ok(Math.abs(got.cosine - got.score) < 1e-6, 'score() is the cosine of the two embeddings');
    } finally {
      await embedder.close();
    }
  }
  // Only the entry is public: deep imports are closed by the exports map.
  await writeFile(join(appDir, 'deep.mjs'), "await import('pooled/dist/src/engine/embedder.js');\n");
  await assert.rejects(run(process.execPath, [join(appDir, 'deep.mjs')], { cwd: appDir }), /ERR_PACKAGE_PATH_NOT_EXPORTED/);
});

test('the package typechecks for a TypeScript consumer, and its types are real (wrong options are errors)', async () => {
  await writeFile(
    join(appDir, 'typed.ts'),
    `import { Embedder, cosineSimilarity, runEmbedJob, type EmbedOptions, type EmbedderOptions, type EmbedJobSummary } from 'pooled';

const loadOptions: EmbedderOptions = { backend: 'reference', dtype: 'float32', limits: { maxNumBatchedTokens: 4096 } };
const embedOptions: EmbedOptions = { normalize: true, truncate: 'end' };
export async function demo(path: string): Promise<number> {
  const embedder: Embedder = await Embedder.load(path, loadOptions);
  const rows: Float32Array[] = await embedder.embed(['a', 'b'], embedOptions);
  const ids: Int32Array = embedder.tokenize('a');
  const summary: EmbedJobSummary = await runEmbedJob(embedder, { input: 'in.jsonl', output: 'out.npy', onError: 'skip' });
  await embedder.close();
  return cosineSimilarity(rows[0], rows[1]) + ids.length + summary.numDocuments;
}
// @ts-expect-error: not a backend
export const badBackend: EmbedderOptions = { backend: 'tpu' };
// @ts-expect-error: not a truncation side
export const badTruncate: EmbedOptions = { truncate: 'middle' };
`,
  );
  await writeFile(
    join(appDir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] },
      files: ['typed.ts'],
    }),
  );
  const result = await run(process.execPath, [TSC, '-p', join(appDir, 'tsconfig.json')], { cwd: appDir }).catch((err) => err);
  assert.equal(result.code ?? 0, 0, `${result.stdout ?? ''}${result.stderr ?? ''}`);
});
