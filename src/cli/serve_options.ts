// Options of `pooled serve`: flags, with environment fallbacks (POOLED_*), parsed once and frozen. It lives with the
// commands, not in src/config/ (a leaf), because it assembles the options of the engine and the server from their defaults.
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';

import type { BackendName } from '../backends/backend.js';
import { DEFAULT_RELEASE_WORKING_MEMORY_AFTER_SECONDS } from '../backends/native/idle_release.js';
import { BACKEND_NAMES, COMPUTE_DTYPES, QUANTIZATIONS, type ComputeDType, type Quantization } from '../backends/select.js';
import { DEFAULT_LIMITS, type EmbedderOptions } from '../engine/embedder.js';
import type { PoolingMode } from '../model/types.js';
import type { TruncationSide } from '../tokenizer/tokenizer.js';
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from '../server/app.js';
import { bool, byteSize, list, nonNegativeNumber, oneOf, positiveInt } from '../config/flag_values.js';
import { UsageError } from '../errors.js';
import { parseVllmFlags } from './vllm_flags.js';

export interface ServeOptions {
  readonly model: string;
  readonly host: string;
  readonly port: number;
  readonly embedder: EmbedderOptions;
  readonly server: ServerOptions;
  /** Said once at start (what a vLLM flag meant here). */
  readonly notices: readonly string[];
}

/** Flag table: name, value type, env var, help text. README's flag table is written from the same words. */
export const SERVE_FLAGS = {
  model: { type: 'string', env: 'POOLED_MODEL', help: 'model folder, HF cache entry or HF hub id (required)' },
  host: { type: 'string', env: 'POOLED_HOST', help: 'address to listen on (default 127.0.0.1)' },
  port: { type: 'string', env: 'POOLED_PORT', help: 'port (default 8000)' },
  backend: {
    type: 'string',
    env: 'POOLED_BACKEND',
    help: `compute backend: ${BACKEND_NAMES.join(' | ')} (default cpu; reference for architectures cpu lacks)`,
  },
  dtype: { type: 'string', env: 'POOLED_DTYPE', help: 'float32 | bfloat16 | float16 (weight storage; accumulation is fp32)' },
  quantization: {
    type: 'string',
    env: 'POOLED_QUANTIZATION',
    help: "int8 | none (vLLM's flag): GEMM weights int8 per channel, activations per token; attention, norms, pooling float32 (cpu backend, --dtype float32)",
  },
  threads: { type: 'string', env: 'POOLED_THREADS', help: 'compute threads (default: one per core)' },
  'release-working-memory-after': {
    type: 'string',
    env: 'POOLED_RELEASE_WORKING_MEMORY_AFTER',
    help: `cpu backend: seconds idle before per-batch working buffers go back to the OS (default ${DEFAULT_RELEASE_WORKING_MEMORY_AFTER_SECONDS}; 0 = keep)`,
  },
  revision: { type: 'string', env: 'POOLED_REVISION', help: 'hub revision (branch, tag or commit; default main)' },
  'served-model-name': { type: 'string', env: 'POOLED_SERVED_MODEL_NAME', help: 'name clients use in "model"' },
  'max-model-len': { type: 'string', env: 'POOLED_MAX_MODEL_LEN', help: 'max tokens per input (default from the model)' },
  pooling: { type: 'string', env: 'POOLED_POOLING', help: 'override pooling: cls | mean | last' },
  normalize: { type: 'string', env: 'POOLED_NORMALIZE', help: 'override the default L2 normalization: true | false' },
  'default-prompt-name': { type: 'string', env: 'POOLED_DEFAULT_PROMPT_NAME', help: 'prompt applied when a request names none' },
  truncate: { type: 'string', env: 'POOLED_TRUNCATE', help: 'over-long inputs: none (reject, default) | end | start' },
  'max-num-batched-tokens': {
    type: 'string',
    env: 'POOLED_MAX_NUM_BATCHED_TOKENS',
    help: `token budget of one batch (default ${DEFAULT_LIMITS.maxNumBatchedTokens})`,
  },
  'max-num-seqs': { type: 'string', env: 'POOLED_MAX_NUM_SEQS', help: `max sequences in one batch (default ${DEFAULT_LIMITS.maxNumSeqs})` },
  'max-queued-tokens': {
    type: 'string',
    env: 'POOLED_MAX_QUEUED_TOKENS',
    help: `tokens allowed to wait before 429 (default ${DEFAULT_LIMITS.maxQueuedTokens})`,
  },
  'max-inputs-per-request': {
    type: 'string',
    env: 'POOLED_MAX_INPUTS_PER_REQUEST',
    help: `inputs per request before 413 (default ${DEFAULT_SERVER_OPTIONS.maxInputsPerRequest})`,
  },
  'max-body-bytes': { type: 'string', env: 'POOLED_MAX_BODY_BYTES', help: `request body limit before 413 (default ${DEFAULT_SERVER_OPTIONS.bodyLimitBytes})` },
  'request-timeout': { type: 'string', env: 'POOLED_REQUEST_TIMEOUT', help: 'seconds before a request is answered 408/503 and dropped (default 0 = none)' },
  'api-key': { type: 'string', env: 'POOLED_API_KEY', help: 'require "Authorization: Bearer <key>" (401 otherwise)' },
  'unauthenticated-routes': {
    type: 'string',
    env: 'POOLED_UNAUTHENTICATED_ROUTES',
    help: `comma-separated routes open without the key (default ${DEFAULT_SERVER_OPTIONS.unauthenticatedRoutes.join(',')})`,
  },
  'cors-origins': { type: 'string', env: 'POOLED_CORS_ORIGINS', help: 'comma-separated allowed CORS origins, or * (default: CORS off)' },
  'tokenizer-workers': {
    type: 'string',
    env: 'POOLED_TOKENIZER_WORKERS',
    help: 'worker threads that tokenize large requests (default min(2, cores - 1); 0 = inline)',
  },
  'block-size': { type: 'string', env: 'POOLED_BLOCK_SIZE', help: 'decoder models: tokens per KV block (default 16)' },
  'kv-cache-memory': { type: 'string', env: 'POOLED_KV_CACHE_MEMORY', help: 'decoder models: KV cache size, bytes or e.g. 4GiB (default 4GiB)' },
  'enable-prefix-caching': { type: 'boolean', env: 'POOLED_ENABLE_PREFIX_CACHING', help: 'decoder models: reuse cached prompt prefixes (default on)' },
  'no-enable-prefix-caching': { type: 'boolean', env: '', help: 'decoder models: turn prefix caching off' },
  task: {
    type: 'string',
    env: 'POOLED_TASK',
    help: 'what to serve: auto (default: score/classify for *ForSequenceClassification, else embed) | embed | classify | score (vLLM --task)',
  },
  runner: { type: 'string', env: '', help: "vLLM's --runner: pooling (the only runner here) | auto" },
  convert: { type: 'string', env: '', help: "vLLM's --convert: embed | classify | none | auto (embed/classify as --task)" },
  'pooler-config': {
    type: 'string',
    env: '',
    help: 'vLLM pooler config as JSON: {"pooling_type": "CLS"|"MEAN"|"LAST", "normalize": bool, "activation": true}',
  },
  'override-pooler-config': { type: 'string', env: '', help: "vLLM's older name of --pooler-config" },
  'hf-overrides': {
    type: 'string',
    env: '',
    help: 'config.json fields as JSON, applied before parsing (vLLM): is_matryoshka, matryoshka_dimensions, architectures, ...',
  },
  'trust-remote-code': { type: 'boolean', env: '', help: "accepted for vLLM command lines; no model repository's code is ever run" },
  'log-level': { type: 'string', env: 'POOLED_LOG_LEVEL', help: 'fatal | error | warn | info | debug (default info)' },
  help: { type: 'boolean', env: '', help: 'print this help' },
} as const;

/** --quantization: a method name as vLLM spells it, or 'none' (its default, no quantization). */
function quantizationOption(value: string | undefined): Quantization | null {
  const choice = oneOf<Quantization | 'none'>('quantization', value, [...QUANTIZATIONS, 'none']);
  return choice === undefined || choice === 'none' ? null : choice;
}

export function serveHelp(): string {
  const lines = Object.entries(SERVE_FLAGS).map(([name, f]) => `  --${name.padEnd(24)} ${f.help}${f.env ? ` [env ${f.env}]` : ''}`);
  return `usage: pooled serve --model <folder | HF id> [options]\n\n${lines.join('\n')}\n`;
}

export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeOptions | 'help' {
  const options = Object.fromEntries(Object.entries(SERVE_FLAGS).map(([name, f]) => [name, { type: f.type }])) as Record<
    string,
    { type: 'string' | 'boolean' }
  >;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, allowPositionals: false, strict: true }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const get = (name: keyof typeof SERVE_FLAGS): string | undefined => {
    const v = values[name];
    if (typeof v === 'string') return v;
    const envName = SERVE_FLAGS[name].env;
    return envName ? env[envName] : undefined;
  };
  const model = get('model');
  if (!model) throw new UsageError('--model is required (a model folder or a Hugging Face id)');
  const port = get('port') === undefined ? 8000 : Number(get('port'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535; got "${get('port')}"`);
  const logLevel = oneOf('log-level', get('log-level'), ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const) ?? 'info';

  const vllm = parseVllmFlags({
    task: get('task'),
    runner: get('runner'),
    convert: get('convert'),
    poolerConfig: get('pooler-config'),
    overridePoolerConfig: get('override-pooler-config'),
    hfOverrides: get('hf-overrides'),
    trustRemoteCode: values['trust-remote-code'] === true,
  });
  const pooling = oneOf<PoolingMode>('pooling', get('pooling'), ['cls', 'mean', 'last']);
  const normalize = bool('normalize', get('normalize'));
  if (pooling !== undefined && vllm.pooling !== undefined && pooling !== vllm.pooling)
    throw new UsageError("--pooling and the pooler config's pooling_type disagree");
  if (normalize !== undefined && vllm.normalize !== undefined && normalize !== vllm.normalize)
    throw new UsageError("--normalize and the pooler config's normalize disagree");
  const embedder: EmbedderOptions = {
    backend: oneOf<BackendName>('backend', get('backend'), BACKEND_NAMES),
    dtype: oneOf<ComputeDType>('dtype', get('dtype'), COMPUTE_DTYPES) ?? 'float32',
    quantization: quantizationOption(get('quantization')),
    threads: positiveInt('threads', get('threads')) ?? cpus().length,
    releaseWorkingMemoryAfterSeconds:
      nonNegativeNumber('release-working-memory-after', get('release-working-memory-after')) ?? DEFAULT_RELEASE_WORKING_MEMORY_AFTER_SECONDS,
    revision: get('revision'),
    servedModelName: get('served-model-name'),
    maxModelLen: positiveInt('max-model-len', get('max-model-len')),
    pooling: pooling ?? vllm.pooling,
    normalize: normalize ?? vllm.normalize,
    task: vllm.task,
    hfOverrides: vllm.hfOverrides,
    defaultPromptName: get('default-prompt-name'),
    truncation: oneOf<TruncationSide>('truncate', get('truncate'), ['none', 'end', 'start']) ?? 'none',
    tokenizerWorkers: get('tokenizer-workers') === undefined ? undefined : Math.floor(nonNegativeNumber('tokenizer-workers', get('tokenizer-workers'))!),
    kvCache: {
      blockSize: positiveInt('block-size', get('block-size')),
      kvCacheMemoryBytes: byteSize('kv-cache-memory', get('kv-cache-memory')),
      enablePrefixCaching: values['no-enable-prefix-caching']
        ? false
        : values['enable-prefix-caching']
          ? true
          : bool('enable-prefix-caching', env.POOLED_ENABLE_PREFIX_CACHING),
    },
    limits: {
      maxNumBatchedTokens: positiveInt('max-num-batched-tokens', get('max-num-batched-tokens')) ?? DEFAULT_LIMITS.maxNumBatchedTokens,
      maxNumSeqs: positiveInt('max-num-seqs', get('max-num-seqs')) ?? DEFAULT_LIMITS.maxNumSeqs,
      maxQueuedTokens: positiveInt('max-queued-tokens', get('max-queued-tokens')) ?? DEFAULT_LIMITS.maxQueuedTokens,
    },
  };
  const server: ServerOptions = {
    maxInputsPerRequest: positiveInt('max-inputs-per-request', get('max-inputs-per-request')) ?? DEFAULT_SERVER_OPTIONS.maxInputsPerRequest,
    bodyLimitBytes: positiveInt('max-body-bytes', get('max-body-bytes')) ?? DEFAULT_SERVER_OPTIONS.bodyLimitBytes,
    requestTimeoutSeconds: nonNegativeNumber('request-timeout', get('request-timeout')) ?? DEFAULT_SERVER_OPTIONS.requestTimeoutSeconds,
    apiKey: get('api-key') || null,
    unauthenticatedRoutes: list(get('unauthenticated-routes')) ?? DEFAULT_SERVER_OPTIONS.unauthenticatedRoutes,
    corsOrigins: list(get('cors-origins')) ?? DEFAULT_SERVER_OPTIONS.corsOrigins,
    logger: { level: logLevel },
  };
  return Object.freeze({
    model,
    host: get('host') ?? '127.0.0.1',
    port,
    embedder: Object.freeze(embedder),
    server: Object.freeze(server),
    notices: vllm.notices,
  });
}
