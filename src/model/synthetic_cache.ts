// Seeded random-weight checkpoints in the exact layout of real models (demo and benchmarks), generated once into
// the cache and reused. Speed depends on shapes, not on weight values, so benchmarks on these time exactly what
// the real models would; the demo says loudly that its weights are random.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { bundledModelMetadata, cacheRoot } from '../config/paths.js';
import { generateCheckpoint } from './synthetic_checkpoint.js';

export const BUNDLED_MODELS = {
  'bge-small': 'BAAI--bge-small-en-v1.5',
  'all-minilm': 'sentence-transformers--all-MiniLM-L6-v2',
  'e5-small': 'intfloat--e5-small-v2',
  'qwen3-embedding': 'Qwen--Qwen3-Embedding-0.6B',
  'ms-marco-minilm': 'cross-encoder--ms-marco-MiniLM-L-6-v2',
} as const;

export type BundledModelName = keyof typeof BUNDLED_MODELS;

export interface ModelShape {
  readonly numLayers?: number;
  readonly hiddenSize?: number;
  readonly numHeads?: number;
  readonly intermediateSize?: number;
  /** Qwen3 only. */
  readonly numKeyValueHeads?: number;
  readonly headDim?: number;
}

/**
 * The folder of a generated checkpoint of `name` (reshaped by `shape`, e.g. bge-base's 768 hidden from
 * bge-small's metadata), generating it first if needed. Writes to a temp folder, then renames, so two processes
 * can race safely.
 */
export async function ensureSyntheticModel(name: BundledModelName, opts: { seed: number; shape?: ModelShape; label: string }): Promise<string> {
  const s = opts.shape;
  const gqaKey = s?.numKeyValueHeads !== undefined || s?.headDim !== undefined ? `-${s.numKeyValueHeads ?? 'K'}kv-${s.headDim ?? 'D'}d` : '';
  const shapeKey = s ? `-${s.numLayers ?? 'L'}l-${s.hiddenSize ?? 'H'}h-${s.numHeads ?? 'A'}a-${s.intermediateSize ?? 'I'}i${gqaKey}` : '';
  const dir = join(cacheRoot(), `${opts.label}-${name}${shapeKey}-random-seed${opts.seed}`);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  await mkdir(cacheRoot(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await generateCheckpoint({ sourceDir: bundledModelMetadata(BUNDLED_MODELS[name]), outDir: tmp, seed: opts.seed, shrink: s });
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return dir;
}
