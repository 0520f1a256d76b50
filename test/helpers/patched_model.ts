// A copy of a generated fixture model with some metadata files patched (prompts, Matryoshka flags, ...).
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { fixtureModel, type FixtureName, type FixtureOptions } from '../fixtures/generate.js';

/** Copies the fixture and shallow-merges `patches[file]` into each named JSON file. */
export async function patchedFixtureModel(name: FixtureName, options: FixtureOptions, patches: Record<string, Record<string, unknown>>): Promise<string> {
  const source = await fixtureModel(name, options);
  const dir = await mkdtemp(join(tmpdir(), `pooled-${name}-patched-`));
  await cp(source, dir, { recursive: true });
  for (const [file, patch] of Object.entries(patches)) {
    const path = join(dir, file);
    const json = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...json, ...patch }, null, 2));
  }
  return dir;
}
