// Where the package and its caches live. The package root is found by walking up to package.json so the same
// code works from src/ (tsx) and from dist/src/ (compiled).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('pooled: cannot find the package root (no package.json above this file)');
    dir = parent;
  }
  root = dir;
  return dir;
}

/** $POOLED_CACHE, else $XDG_CACHE_HOME/pooled, else ~/.cache/pooled: generated demo and benchmark checkpoints. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.POOLED_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pooled');
}

/** Real model metadata shipped with the package (test/fixtures/models/<org--name>). */
export function bundledModelMetadata(folderName: string): string {
  return join(packageRoot(), 'test', 'fixtures', 'models', folderName);
}
