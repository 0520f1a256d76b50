// config.json -> ModelConfig: the registry (src/model/architectures/registry.ts) hands the file to the family that
// claims it; each family's parser lives in its folder (architectures/bert/config.ts, architectures/qwen3/config.ts).
import { parseBertConfig as parseBertFamilyConfig } from './architectures/bert/config.js';
import { parseModelConfig, supportedConfigsSummary } from './architectures/registry.js';
import { readJsonFile } from './json_file.js';
import type { BertConfig, ModelConfig } from './types.js';

export { SUPPORTED_BERT_ARCHITECTURES } from './architectures/bert/config.js';
export { parseModelConfig } from './architectures/registry.js';

/** Validates a parsed BERT config.json; errors name what every registered family accepts. */
export function parseBertConfig(json: unknown, file: string): BertConfig {
  return parseBertFamilyConfig(json, file, supportedConfigsSummary());
}

/** Reads and parses a config.json (path given in full). */
export async function readModelConfig(path: string): Promise<ModelConfig> {
  return parseModelConfig(await readJsonFile(path), path);
}
