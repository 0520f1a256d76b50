// vLLM's launch flags for pooling models, read as vLLM reads them, so a `vllm serve` command line for an embedding or
// cross-encoder model runs unchanged: --task, --runner, --convert, --pooler-config (and its older name
// --override-pooler-config), --hf-overrides, --trust-remote-code. What we don't implement is refused naming the flag
// (and the field), never ignored.
import { UsageError } from '../errors.js';
import type { ModelTask, PoolingMode } from '../model/types.js';

export interface VllmFlagValues {
  readonly task?: string;
  readonly runner?: string;
  readonly convert?: string;
  readonly poolerConfig?: string;
  readonly overridePoolerConfig?: string;
  readonly hfOverrides?: string;
  readonly trustRemoteCode?: boolean;
}

export interface VllmSettings {
  readonly task: ModelTask | 'auto';
  readonly pooling?: PoolingMode;
  readonly normalize?: boolean;
  /** config.json fields to override before parsing (vLLM's --hf-overrides). */
  readonly hfOverrides?: Readonly<Record<string, unknown>>;
  /** Notices to log once at start (e.g. --trust-remote-code accepted, nothing remote runs). */
  readonly notices: readonly string[];
}

// vLLM --task values (older releases) and what they mean here; 'embedding' is vLLM's earlier spelling of 'embed'.
const TASKS: Readonly<Record<string, ModelTask | 'auto'>> = { auto: 'auto', embed: 'embed', embedding: 'embed', classify: 'classify', score: 'score' };
const UNSUPPORTED_TASKS: Readonly<Record<string, string>> = {
  generate: 'pooled serves pooling models only (no text generation)',
  reward: 'reward models are not supported',
  sparse: 'sparse (SPLADE) outputs are not supported yet',
  token_embed: 'per-token embeddings are not supported yet',
  token_classify: 'token classification is not supported yet',
  transcription: 'pooled serves pooling models only',
};

function parseJsonFlag(flag: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--${flag} must be a JSON object: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`--${flag} must be a JSON object, got ${text}`);
  return value as Record<string, unknown>;
}

function taskOf(flag: string, value: string): ModelTask | 'auto' {
  if (Object.hasOwn(TASKS, value)) return TASKS[value];
  if (Object.hasOwn(UNSUPPORTED_TASKS, value)) throw new UsageError(`--${flag} ${value}: ${UNSUPPORTED_TASKS[value]}`);
  throw new UsageError(`--${flag} must be one of ${Object.keys(TASKS).join(', ')}; got "${value}"`);
}

// vLLM PoolerConfig.pooling_type values we run, onto sentence-transformers' names.
const POOLING_TYPES: Readonly<Record<string, PoolingMode>> = { CLS: 'cls', MEAN: 'mean', LAST: 'last' };

export function parseVllmFlags(values: VllmFlagValues): VllmSettings {
  const notices: string[] = [];
  if (values.runner !== undefined && values.runner !== 'pooling' && values.runner !== 'auto') {
    throw new UsageError(`--runner ${values.runner}: pooled serves pooling models only (--runner pooling)`);
  }
  let task: ModelTask | 'auto' = values.task === undefined ? 'auto' : taskOf('task', values.task);
  if (values.convert !== undefined && values.convert !== 'auto' && values.convert !== 'none') {
    if (values.convert !== 'embed' && values.convert !== 'classify')
      throw new UsageError(`--convert must be auto, none, embed or classify; got "${values.convert}"`);
    const converted: ModelTask = values.convert;
    if (values.task !== undefined && task !== 'auto' && task !== converted && !(converted === 'classify' && task === 'score')) {
      throw new UsageError(`--task ${values.task} and --convert ${values.convert} disagree`);
    }
    if (task === 'auto') task = converted;
  }

  if (values.poolerConfig !== undefined && values.overridePoolerConfig !== undefined) {
    throw new UsageError('give --pooler-config or its older name --override-pooler-config, not both');
  }
  const poolerFlag = values.poolerConfig !== undefined ? 'pooler-config' : 'override-pooler-config';
  const poolerText = values.poolerConfig ?? values.overridePoolerConfig;
  let pooling: PoolingMode | undefined;
  let normalize: boolean | undefined;
  if (poolerText !== undefined) {
    const pooler = parseJsonFlag(poolerFlag, poolerText);
    for (const [key, value] of Object.entries(pooler)) {
      if (key === 'pooling_type') {
        if (typeof value !== 'string' || !Object.hasOwn(POOLING_TYPES, value.toUpperCase())) {
          throw new UsageError(`--${poolerFlag} pooling_type must be one of ${Object.keys(POOLING_TYPES).join(', ')}; got ${JSON.stringify(value)}`);
        }
        pooling = POOLING_TYPES[value.toUpperCase()];
      } else if (key === 'normalize') {
        if (typeof value !== 'boolean') throw new UsageError(`--${poolerFlag} normalize must be true or false; got ${JSON.stringify(value)}`);
        normalize = value;
      } else if (key === 'activation' || key === 'use_activation') {
        // The default (true: a head's activation applies) is what we do; requests can turn it off (use_activation).
        if (value !== true) throw new UsageError(`--${poolerFlag} ${key}: only true (the default) is supported; requests can send use_activation: false`);
      } else {
        throw new UsageError(`--${poolerFlag} ${key} is not supported (supported: pooling_type, normalize, activation)`);
      }
    }
  }

  let hfOverrides: Record<string, unknown> | undefined;
  if (values.hfOverrides !== undefined) {
    hfOverrides = parseJsonFlag('hf-overrides', values.hfOverrides);
    const { is_matryoshka: isMatryoshka, matryoshka_dimensions: dims, architectures } = hfOverrides;
    if (isMatryoshka !== undefined && typeof isMatryoshka !== 'boolean') throw new UsageError('--hf-overrides is_matryoshka must be true or false');
    if (dims !== undefined && (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d > 0))) {
      throw new UsageError('--hf-overrides matryoshka_dimensions must be a list of positive integers');
    }
    if (architectures !== undefined && (!Array.isArray(architectures) || !architectures.every((a) => typeof a === 'string'))) {
      throw new UsageError('--hf-overrides architectures must be a list of class names');
    }
  }
  if (values.trustRemoteCode === true)
    notices.push('--trust-remote-code accepted: pooled runs no code from model repositories (every architecture is implemented here)');
  return { task, pooling, normalize, hfOverrides, notices };
}
