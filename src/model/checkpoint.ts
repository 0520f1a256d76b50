// A checkpoint folder's weights: one model.safetensors, or a sharded set described by model.safetensors.index.json
// ({"metadata": {...}, "weight_map": {tensor name: shard file}}), the layout transformers writes
// (modeling_utils.py `save_pretrained` / `load_sharded_checkpoint`, constant SAFE_WEIGHTS_INDEX_NAME).
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ModelLoadError } from '../errors.js';
import { readJsonFile } from './json_file.js';
import { readSafetensors } from './safetensors.js';
import type { TensorView } from './types.js';

export const SAFE_WEIGHTS_NAME = 'model.safetensors';
export const SAFE_WEIGHTS_INDEX_NAME = 'model.safetensors.index.json';

export interface Checkpoint {
  /** The safetensors files read, in the order read. */
  readonly files: readonly string[];
  /** `__metadata__` of the first file (e.g. {format: 'pt'}). */
  readonly metadata: Record<string, string>;
  /** Every tensor of every file, by the name stored in the file. */
  readonly tensors: Map<string, TensorView>;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The shard file names an index refers to, validated (plain names inside the folder, no path tricks). */
export function parseShardIndex(json: unknown, file: string): Map<string, string> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelLoadError(`${file}: shard index is not a JSON object`);
  }
  const weightMap = (json as Record<string, unknown>).weight_map;
  if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
    throw new ModelLoadError(`${file}: shard index has no "weight_map" object`);
  }
  const tensorToShard = new Map<string, string>();
  for (const [tensorName, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard === '' || basename(shard) !== shard || shard === '.' || shard === '..') {
      throw new ModelLoadError(`${file}: weight_map entry ${tensorName} names an invalid shard file ${JSON.stringify(shard)}`);
    }
    if (!shard.endsWith('.safetensors')) {
      throw new ModelLoadError(`${file}: weight_map entry ${tensorName} names ${shard}, which is not a .safetensors file`);
    }
    tensorToShard.set(tensorName, shard);
  }
  if (tensorToShard.size === 0) throw new ModelLoadError(`${file}: weight_map is empty`);
  return tensorToShard;
}

/** The weight files a folder's checkpoint consists of (for downloads): the single file or the index + shards. */
export async function listCheckpointFiles(folder: string): Promise<string[]> {
  if (await isFile(join(folder, SAFE_WEIGHTS_NAME))) return [SAFE_WEIGHTS_NAME];
  const indexPath = join(folder, SAFE_WEIGHTS_INDEX_NAME);
  if (await isFile(indexPath)) {
    const tensorToShard = parseShardIndex(await readJsonFile(indexPath), indexPath);
    return [SAFE_WEIGHTS_INDEX_NAME, ...new Set(tensorToShard.values())];
  }
  return [];
}

/**
 * Loads model.safetensors, or the index and every shard it names, into one map. With an index, every tensor it
 * lists must be in the shard it names; a tensor in two shards is an error (which copy would win is ambiguous).
 */
export async function readCheckpoint(folder: string): Promise<Checkpoint> {
  const singlePath = join(folder, SAFE_WEIGHTS_NAME);
  if (await isFile(singlePath)) {
    const file = await readSafetensors(singlePath);
    return { files: [singlePath], metadata: file.metadata, tensors: file.tensors };
  }
  const indexPath = join(folder, SAFE_WEIGHTS_INDEX_NAME);
  if (!(await isFile(indexPath))) {
    const hasPytorchBin = (await isFile(join(folder, 'pytorch_model.bin'))) || (await isFile(join(folder, 'pytorch_model.bin.index.json')));
    throw new ModelLoadError(
      `${folder}: no ${SAFE_WEIGHTS_NAME} or ${SAFE_WEIGHTS_INDEX_NAME}` +
        (hasPytorchBin ? ' (only pytorch_model.bin, which is not supported: convert it to safetensors)' : ''),
    );
  }

  const tensorToShard = parseShardIndex(await readJsonFile(indexPath), indexPath);
  const shardToTensorNames = new Map<string, string[]>();
  for (const [tensorName, shard] of tensorToShard) {
    const names = shardToTensorNames.get(shard) ?? [];
    names.push(tensorName);
    shardToTensorNames.set(shard, names);
  }

  const files: string[] = [];
  const tensors = new Map<string, TensorView>();
  const tensorToFile = new Map<string, string>();
  let metadata: Record<string, string> | null = null;
  for (const [shard, expectedNames] of shardToTensorNames) {
    const shardPath = join(folder, shard);
    if (!(await isFile(shardPath))) {
      throw new ModelLoadError(`${indexPath}: shard ${shard} is missing from ${folder}`);
    }
    const file = await readSafetensors(shardPath);
    files.push(shardPath);
    metadata ??= file.metadata;
    const missing = expectedNames.filter((name) => !file.tensors.has(name));
    if (missing.length > 0) {
      throw new ModelLoadError(`${indexPath}: shard ${shard} lacks tensors the index puts there: ${missing.join(', ')}`);
    }
    for (const [name, view] of file.tensors) {
      const previousFile = tensorToFile.get(name);
      if (previousFile !== undefined) {
        throw new ModelLoadError(`${folder}: tensor ${name} is stored in both ${previousFile} and ${shard}`);
      }
      tensorToFile.set(name, shard);
      tensors.set(name, view);
    }
  }
  return { files, metadata: metadata ?? {}, tensors };
}
