// sentence-transformers metadata -> EmbeddingSettings (pooling, normalize, max length, prompts), the way
// SentenceTransformer(folder) would configure itself (sentence_transformers/SentenceTransformer.py
// `_load_sbert_model`: modules.json lists the pipeline; each module folder holds its own config).
import { isAbsolute, join, posix } from 'node:path';
import { ModelLoadError } from '../errors.js';
import { maxSequenceTokens } from './architectures/registry.js';
import { isJsonObject, readOptionalJsonFile } from './json_file.js';
import type { EmbeddingSettings, ModelConfig, PoolingMode } from './types.js';

/** Values given on the command line; each one wins over the model's files. */
export interface EmbeddingOverrides {
  readonly pooling?: PoolingMode;
  readonly normalize?: boolean;
  readonly maxModelLen?: number;
  readonly defaultPromptName?: string | null;
}

export const POOLING_MODES: readonly PoolingMode[] = ['cls', 'mean', 'last'];

/** How `sources` names a CLI override. */
export const OVERRIDE_SOURCES = {
  pooling: 'flag --pooling',
  normalize: 'flag --normalize',
  maxSeqLength: 'flag --max-model-len',
  defaultPromptName: 'flag --default-prompt-name',
} as const;

interface StModule {
  readonly type: string;
  readonly path: string;
}

// transformers' tokenizer_config.json sentinel for "no limit": VERY_LARGE_INTEGER = int(1e30)
// (tokenization_utils_base.py). Anything this large is not a real context length.
const MODEL_MAX_LENGTH_SENTINEL = 1e15;

/** Last component of a module's class path: 'sentence_transformers.models.Pooling' -> 'Pooling'. */
function moduleKind(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1);
}

/**
 * A module's folder as a normalized repo-relative posix path ('.' for the root). Module folders must stay inside
 * the model folder: modules.json comes from the internet.
 */
function relativeModulePath(path: string, file: string): string {
  const relative = posix.normalize(path === '' ? '.' : path.replaceAll('\\', '/'));
  if (posix.isAbsolute(relative) || isAbsolute(path) || relative === '..' || relative.startsWith('../')) {
    throw new ModelLoadError(`${file}: module path ${JSON.stringify(path)} leaves the model folder`);
  }
  return relative;
}

function modulePath(folder: string, path: string, file: string): string {
  return join(folder, ...relativeModulePath(path, file).split('/'));
}

function parseModules(json: unknown, file: string): StModule[] {
  if (!Array.isArray(json)) throw new ModelLoadError(`${file}: expected a list of modules`);
  return json.map((entry, index) => {
    if (!isJsonObject(entry) || typeof entry.type !== 'string' || typeof (entry.path ?? '') !== 'string') {
      throw new ModelLoadError(`${file}: module ${index} needs string "type" and "path" fields`);
    }
    return { type: entry.type, path: (entry.path ?? '') as string };
  });
}

/**
 * Repo-relative paths of the module configs modules.json points at (the Pooling module's config.json, and the
 * Transformer module's sentence_bert_config.json when it lives in a subfolder), for downloads and cache checks.
 */
export function moduleConfigFiles(modulesJson: unknown, file: string): string[] {
  const files: string[] = [];
  for (const module of parseModules(modulesJson, file)) {
    const kind = moduleKind(module.type);
    const relative = relativeModulePath(module.path, file);
    if (kind === 'Pooling') files.push(posix.join(relative, 'config.json'));
    if (kind === 'Transformer' && relative !== '.') files.push(posix.join(relative, 'sentence_bert_config.json'));
  }
  return files;
}

/** Module kinds we can run, in the only order sentence-transformers embedding pipelines use them. */
const SUPPORTED_MODULE_KINDS = ['Transformer', 'Pooling', 'Normalize'];

/**
 * 1_Pooling/config.json -> pooling mode. sentence_transformers/models/Pooling.py combines every mode set to true
 * by concatenation; we run exactly one of cls / mean / lasttoken.
 */
function parsePoolingConfig(json: unknown, file: string, hiddenSize: number): PoolingMode {
  if (!isJsonObject(json)) throw new ModelLoadError(`${file}: pooling config is not a JSON object`);
  const dimension = json.word_embedding_dimension;
  if (dimension !== undefined && dimension !== hiddenSize) {
    throw new ModelLoadError(`${file}: word_embedding_dimension ${JSON.stringify(dimension)} differs from hidden_size ${hiddenSize}`);
  }
  const flagToMode: Record<string, PoolingMode | null> = {
    pooling_mode_cls_token: 'cls',
    pooling_mode_mean_tokens: 'mean',
    pooling_mode_lasttoken: 'last',
    pooling_mode_max_tokens: null,
    pooling_mode_mean_sqrt_len_tokens: null,
    pooling_mode_weightedmean_tokens: null,
  };
  const enabled = Object.keys(flagToMode).filter((flag) => json[flag] === true);
  if (enabled.length !== 1 || flagToMode[enabled[0]] === null) {
    throw new ModelLoadError(
      `${file}: unsupported pooling ${enabled.length === 0 ? '(no pooling mode enabled)' : enabled.join(' + ')}; ` +
        'supported: exactly one of pooling_mode_cls_token, pooling_mode_mean_tokens, pooling_mode_lasttoken',
    );
  }
  // include_prompt false (Pooling.py) excludes prompt tokens from the pooled average; the ragged batch has no way to
  // mark them, so running such a model would silently give different vectors.
  if (json.include_prompt === false) {
    throw new ModelLoadError(`${file}: include_prompt false (prompt tokens excluded from pooling) is not supported`);
  }
  return flagToMode[enabled[0]]!;
}

function positiveIntegerOrUndefined(value: unknown, field: string, file: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ModelLoadError(`${file}: "${field}" must be a positive integer (found ${JSON.stringify(value)})`);
  }
  return value;
}

function parsePrompts(json: unknown, file: string): { prompts: Record<string, string>; defaultPromptName: string | null } {
  if (json === undefined) return { prompts: {}, defaultPromptName: null };
  if (!isJsonObject(json)) throw new ModelLoadError(`${file}: not a JSON object`);
  const prompts: Record<string, string> = {};
  if (json.prompts !== undefined && json.prompts !== null) {
    if (!isJsonObject(json.prompts)) throw new ModelLoadError(`${file}: "prompts" must be an object of name -> text`);
    for (const [name, text] of Object.entries(json.prompts)) {
      if (typeof text !== 'string') throw new ModelLoadError(`${file}: prompt ${JSON.stringify(name)} is not a string`);
      prompts[name] = text;
    }
  }
  const defaultPromptName = json.default_prompt_name ?? null;
  if (defaultPromptName !== null && (typeof defaultPromptName !== 'string' || !(defaultPromptName in prompts))) {
    throw new ModelLoadError(
      `${file}: default_prompt_name ${JSON.stringify(defaultPromptName)} is not one of the prompts (${Object.keys(prompts).join(', ') || 'none'})`,
    );
  }
  return { prompts, defaultPromptName: defaultPromptName as string | null };
}

/**
 * Reads the sentence-transformers files of `folder` and applies `overrides`. Every value's origin goes into
 * `sources`. Without modules.json (a plain transformers checkpoint) the pooling is CLS with normalization,
 * matching vLLM's default for BERT embedding models (vllm/model_executor/models/bert.py BertEmbeddingModel builds
 * its pooler with default_pooling_type CLS, and embedding pooling normalizes by default).
 */
export async function readEmbeddingSettings(folder: string, config: ModelConfig, overrides: EmbeddingOverrides = {}): Promise<EmbeddingSettings> {
  const sources: Record<string, string> = {};
  const modulesFile = join(folder, 'modules.json');
  const modulesJson = await readOptionalJsonFile(modulesFile);

  let pooling: PoolingMode = 'cls';
  let normalize = true;
  let transformerFolder = folder;
  sources.pooling = 'default (no modules.json: CLS like vLLM BERT embedding)';
  sources.normalize = 'default (no modules.json: normalized like vLLM embedding)';

  if (modulesJson !== undefined) {
    const modules = parseModules(modulesJson, modulesFile);
    const unsupported = modules.filter((module) => !SUPPORTED_MODULE_KINDS.includes(moduleKind(module.type)));
    if (unsupported.length > 0) {
      throw new ModelLoadError(
        `${modulesFile}: unsupported module(s) ${unsupported.map((module) => module.type).join(', ')}; ` + `supported: ${SUPPORTED_MODULE_KINDS.join(', ')}`,
      );
    }
    const transformer = modules.find((module) => moduleKind(module.type) === 'Transformer');
    if (transformer !== undefined) transformerFolder = modulePath(folder, transformer.path, modulesFile);
    const poolingModules = modules.filter((module) => moduleKind(module.type) === 'Pooling');
    if (poolingModules.length !== 1) {
      throw new ModelLoadError(`${modulesFile}: expected exactly one Pooling module, found ${poolingModules.length}`);
    }
    const poolingRelative = join(poolingModules[0].path, 'config.json');
    const poolingFile = join(modulePath(folder, poolingModules[0].path, modulesFile), 'config.json');
    const poolingJson = await readOptionalJsonFile(poolingFile);
    if (poolingJson === undefined) throw new ModelLoadError(`${poolingFile}: pooling config listed in modules.json is missing`);
    pooling = parsePoolingConfig(poolingJson, poolingFile, config.hiddenSize);
    sources.pooling = poolingRelative;
    // The Normalize module has no config; its presence in the pipeline is the whole setting (its folder is often
    // absent on the hub, which is fine).
    normalize = modules.some((module) => moduleKind(module.type) === 'Normalize');
    sources.normalize = 'modules.json';
  }

  if (overrides.pooling !== undefined) {
    if (!POOLING_MODES.includes(overrides.pooling)) {
      throw new ModelLoadError(`--pooling ${JSON.stringify(overrides.pooling)} is not one of ${POOLING_MODES.join(', ')}`);
    }
    pooling = overrides.pooling;
    sources.pooling = OVERRIDE_SOURCES.pooling;
  }
  if (overrides.normalize !== undefined) {
    normalize = overrides.normalize;
    sources.normalize = OVERRIDE_SOURCES.normalize;
  }

  // sentence_bert_config.json sits in the Transformer module's folder (the model root for path "").
  const sbertFile = join(transformerFolder, 'sentence_bert_config.json');
  const sbertJson = await readOptionalJsonFile(sbertFile);
  if (sbertJson !== undefined && !isJsonObject(sbertJson)) throw new ModelLoadError(`${sbertFile}: not a JSON object`);
  const sbertMaxSeqLength = positiveIntegerOrUndefined(sbertJson?.max_seq_length, 'max_seq_length', sbertFile);
  const doLowerCase = sbertJson?.do_lower_case === true;

  const tokenizerConfigFile = join(folder, 'tokenizer_config.json');
  const tokenizerConfig = await readOptionalJsonFile(tokenizerConfigFile);
  const rawModelMaxLength = isJsonObject(tokenizerConfig) ? tokenizerConfig.model_max_length : undefined;
  const modelMaxLength =
    typeof rawModelMaxLength === 'number' && Number.isSafeInteger(rawModelMaxLength) && rawModelMaxLength > 0 && rawModelMaxLength < MODEL_MAX_LENGTH_SENTINEL
      ? rawModelMaxLength
      : undefined;

  // The most tokens a sequence can hold: RoBERTa's first position is pad_token_id + 1, so 514 rows hold 512 tokens.
  const maxPositions = maxSequenceTokens(config);
  let maxSeqLength: number;
  if (overrides.maxModelLen !== undefined) {
    if (!Number.isSafeInteger(overrides.maxModelLen) || overrides.maxModelLen <= 0) {
      throw new ModelLoadError(`--max-model-len must be a positive integer (got ${overrides.maxModelLen})`);
    }
    if (overrides.maxModelLen > maxPositions) {
      throw new ModelLoadError(
        `--max-model-len ${overrides.maxModelLen} exceeds the ${maxPositions} tokens the model's positions allow (max_position_embeddings ${config.maxPositionEmbeddings})`,
      );
    }
    maxSeqLength = overrides.maxModelLen;
    sources.maxSeqLength = OVERRIDE_SOURCES.maxSeqLength;
  } else if (sbertMaxSeqLength !== undefined) {
    maxSeqLength = Math.min(sbertMaxSeqLength, maxPositions);
    sources.maxSeqLength =
      sbertMaxSeqLength > maxPositions ? 'config.json max_position_embeddings (sentence_bert_config.json asks for more)' : 'sentence_bert_config.json';
  } else if (modelMaxLength !== undefined && modelMaxLength < maxPositions) {
    maxSeqLength = modelMaxLength;
    sources.maxSeqLength = 'tokenizer_config.json model_max_length';
  } else {
    maxSeqLength = maxPositions;
    sources.maxSeqLength = 'config.json max_position_embeddings';
  }

  const stConfigFile = join(folder, 'config_sentence_transformers.json');
  const { prompts, defaultPromptName: fileDefaultPromptName } = parsePrompts(await readOptionalJsonFile(stConfigFile), stConfigFile);
  if (Object.keys(prompts).length > 0) sources.prompts = 'config_sentence_transformers.json';
  let defaultPromptName = fileDefaultPromptName;
  sources.defaultPromptName = defaultPromptName === null ? 'default (none)' : 'config_sentence_transformers.json';
  if (overrides.defaultPromptName !== undefined) {
    if (overrides.defaultPromptName !== null && !(overrides.defaultPromptName in prompts)) {
      throw new ModelLoadError(
        `--default-prompt-name ${JSON.stringify(overrides.defaultPromptName)} is not one of the model's prompts ` +
          `(${Object.keys(prompts).join(', ') || 'none'}; see config_sentence_transformers.json)`,
      );
    }
    defaultPromptName = overrides.defaultPromptName;
    sources.defaultPromptName = OVERRIDE_SOURCES.defaultPromptName;
  }

  return { pooling, normalize, maxSeqLength, prompts, defaultPromptName, sources, doLowerCase };
}
