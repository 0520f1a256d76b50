// `import { Embedder } from 'pooled'` as a consumer sees it: the sources are compiled the way `npm ci` compiles
// them, package.json (with its "exports" map) is placed beside them, and a separate app that has the package in its
// node_modules imports it by name, typechecks against its declarations, and embeds with it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { Embedder } from '../../src/engine/embedder.js';
import { fixtureModel } from '../fixtures/generate.js';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const SHRINK = { numLayers: 1, hiddenSize: 32, numHeads: 2, intermediateSize: 64 };
const TEXTS = ['offline batch embedding', 'the same engine as a library'];

let dir: string;
let appDir: string;
let modelPath: string;

before(async () => {
  modelPath = await fixtureModel('bge-small', { shrink: SHRINK });
  dir = await mkdtemp(join(tmpdir(), 'pooled-package-'));
  const pkgDir = join(dir, 'pooled');
  appDir = join(dir, 'app');
  // The package: dist/ compiled from src/ with the repo's compiler options, package.json as published.
  await writeFile(
    join(dir, 'tsconfig.build.json'),
    JSON.stringify({
      extends: join(REPO_ROOT, 'tsconfig.json'),
      compilerOptions: { rootDir: REPO_ROOT, outDir: join(pkgDir, 'dist'), sourceMap: false, typeRoots: [join(REPO_ROOT, 'node_modules', '@types')] },
      include: [join(REPO_ROOT, 'src', '**', '*.ts')],
      exclude: [],
    }),
  );
  await run(process.execPath, [TSC, '-p', join(dir, 'tsconfig.build.json')], { cwd: REPO_ROOT });
  await copyFile(join(REPO_ROOT, 'package.json'), join(pkgDir, 'package.json'));
  await symlink(join(REPO_ROOT, 'node_modules'), join(pkgDir, 'node_modules'), 'dir');
  // The consumer: its own folder, the package installed under node_modules/pooled.
  await mkdir(join(appDir, 'node_modules', '@types'), { recursive: true });
  await symlink(pkgDir, join(appDir, 'node_modules', 'pooled'), 'dir');
  await symlink(join(REPO_ROOT, 'node_modules', '@types', 'node'), join(appDir, 'node_modules', '@types', 'node'), 'dir');
  await writeFile(join(appDir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a consumer imports Embedder by the package name and gets the same vectors as the sources', async () => {
  await writeFile(
    join(appDir, 'main.mjs'),
    `import { Embedder, cosineSimilarity } from 'pooled';
const embedder = await Embedder.load(process.argv[2], { backend: 'reference' });
const rows = await embedder.embed(${JSON.stringify(TEXTS)});
const score = await embedder.score(${JSON.stringify(TEXTS[0])}, ${JSON.stringify(TEXTS[1])});
console.log(JSON.stringify({ rows: rows.map((r) => Array.from(r)), cosine: cosineSimilarity(rows[0], rows[1]), score,
  numTokens: embedder.tokenize(${JSON.stringify(TEXTS[0])}).length }));
await embedder.close();
`,
  );
  const { stdout } = await run(process.execPath, [join(appDir, 'main.mjs'), modelPath], { cwd: appDir });
  const got = JSON.parse(stdout);
  const embedder = await Embedder.load(modelPath, { backend: 'reference', tokenizerWorkers: 0 });
  try {
    const expected = await embedder.embed(TEXTS);
    assert.deepEqual(got.rows, expected.map((r) => Array.from(r)));
    assert.equal(got.numTokens, embedder.tokenize(TEXTS[0]).length);
    assert.ok(Math.abs(got.cosine - got.score) < 1e-6, 'score() is the cosine of the two embeddings');
  } finally {
    await embedder.close();
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
