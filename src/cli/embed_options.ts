// Options of `pooled embed`: its own flags, plus the engine flags of `pooled serve` under the same names (backend,
// dtype, threads, pooling, truncate, token budget...), parsed by serve's own parser so the two never drift apart.
import { parseArgs } from 'node:util';

import { oneOf } from '../config/flag_values.js';
import type { InputFormat } from '../embed/documents.js';
import type { EmbedJobOptions, OnError } from '../embed/job.js';
import { outputFormatFromPath, type OutputDType } from '../embed/output_writers.js';
import type { ProgressMode } from '../embed/progress.js';
import { parseShardSpec, WHOLE_INPUT } from '../embed/shard.js';
import type { EmbedderOptions } from '../engine/embedder.js';
import { UsageError } from '../errors.js';
import { parseServeArgs, SERVE_FLAGS } from './serve_options.js';

export const EMBED_FLAGS = {
  model: { type: 'string', help: 'model folder, HF cache entry or HF hub id (required)' },
  input: { type: 'string', help: 'input file: JSONL (.jsonl/.ndjson/.json, one object per line) or plain text (one document per line)' },
  output: { type: 'string', help: 'output file: .jsonl ({"id","embedding"} per line) or .npy (matrix + <name>.ids.jsonl)' },
  'input-format': { type: 'string', help: 'jsonl | text (default: from the input extension)' },
  'text-field': { type: 'string', help: 'JSONL field holding the text (default text)' },
  'id-field': { type: 'string', help: 'JSONL field holding the id (default id; when not given, records without it get their line number)' },
  'output-dtype': { type: 'string', help: '.npy values: float32 (default) | float16' },
  'on-error': {
    type: 'string',
    help: 'bad lines (invalid JSON, missing field, empty text, too long): fail (default) | skip (listed in <output>.errors.jsonl)',
  },
  shard: { type: 'string', help: 'i/N: process slice i (from 0) of N; shard outputs concatenate to the whole output' },
  'prompt-name': { type: 'string', help: 'prompt from config_sentence_transformers.json prepended to every document' },
  dimensions: { type: 'string', help: 'Matryoshka models: keep this many dimensions (then normalize)' },
  overwrite: { type: 'boolean', help: 'replace existing outputs instead of resuming them' },
  'checkpoint-interval': { type: 'string', help: 'seconds between checkpoints (fsync + progress journal; default 5)' },
  progress: { type: 'string', help: 'auto (bar on a terminal, lines otherwise; default) | bar | lines | none' },
  'progress-interval': { type: 'string', help: 'seconds between plain progress lines (default 10)' },
  help: { type: 'boolean', help: 'print this help' },
} as const;

/** serve flags that mean nothing without an HTTP server (every other serve flag configures the engine). */
const SERVER_ONLY_FLAGS = new Set([
  'model',
  'host',
  'port',
  'max-inputs-per-request',
  'max-body-bytes',
  'log-level',
  'request-timeout',
  'api-key',
  'unauthenticated-routes',
  'cors-origins',
  'help',
]);
const ENGINE_FLAG_NAMES = (Object.keys(SERVE_FLAGS) as (keyof typeof SERVE_FLAGS)[]).filter((name) => !SERVER_ONLY_FLAGS.has(name));

export interface EmbedCommandOptions {
  readonly model: string;
  readonly embedder: EmbedderOptions;
  readonly job: EmbedJobOptions;
}

export function embedHelp(): string {
  const own = Object.entries(EMBED_FLAGS).map(([name, f]) => `  --${name.padEnd(24)} ${f.help}`);
  const engine = ENGINE_FLAG_NAMES.map((name) => {
    const f = SERVE_FLAGS[name];
    return `  --${name.padEnd(24)} ${f.help}${f.env ? ` [env ${f.env}]` : ''}`;
  });
  return (
    'usage: pooled embed --model <folder | HF id> --input FILE --output FILE [options]\n\n' +
    `${own.join('\n')}\n\nengine options (as for pooled serve):\n${engine.join('\n')}\n\n` +
    'Killed or stopped, the same command resumes where it left off (progress journal: <output>.progress.json).\n'
  );
}

function number(flag: string, value: string | undefined, check: (n: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !check(n)) throw new UsageError(`--${flag} must be ${what}; got "${value}"`);
  return n;
}

export function parseEmbedArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): EmbedCommandOptions | 'help' {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, f] of Object.entries(EMBED_FLAGS)) options[name] = { type: f.type };
  for (const name of ENGINE_FLAG_NAMES) options[name] = { type: SERVE_FLAGS[name].type };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, allowPositionals: false, strict: true }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const str = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);

  const model = str('model') ?? env.POOLED_MODEL;
  if (!model) throw new UsageError('--model is required (a model folder or a Hugging Face id)');
  const input = str('input');
  if (!input) throw new UsageError('--input is required (a JSONL or text file)');
  const output = str('output');
  if (!output) throw new UsageError('--output is required (a .jsonl or .npy file)');
  const outputFormat = outputFormatFromPath(output);
  if (outputFormat === null) throw new UsageError(`--output ${output}: the extension picks the format; use .jsonl, .ndjson or .npy`);
  const outputDType = oneOf<OutputDType>('output-dtype', str('output-dtype'), ['float32', 'float16']) ?? 'float32';
  if (outputFormat === 'jsonl' && outputDType !== 'float32') throw new UsageError('--output-dtype float16 needs a .npy output; JSONL holds float32 values');

  // The engine flags go through serve's parser, so names, env fallbacks, defaults and checks are the same.
  const engineArgs: string[] = ['--model', model];
  for (const name of ENGINE_FLAG_NAMES) {
    const value = values[name];
    if (typeof value === 'string') engineArgs.push(`--${name}`, value);
    else if (value === true) engineArgs.push(`--${name}`);
  }
  const serve = parseServeArgs(engineArgs, env);
  if (serve === 'help') return 'help';

  const idField = str('id-field');
  const job: EmbedJobOptions = {
    input,
    output,
    inputFormat: oneOf<InputFormat>('input-format', str('input-format'), ['jsonl', 'text']),
    outputDType,
    textField: str('text-field') ?? 'text',
    idField: idField ?? 'id',
    idRequired: idField !== undefined,
    onError: oneOf<OnError>('on-error', str('on-error'), ['fail', 'skip']) ?? 'fail',
    shard: str('shard') === undefined ? WHOLE_INPUT : parseShardSpec(str('shard')!),
    embed: {
      promptName: str('prompt-name'),
      dimensions: number('dimensions', str('dimensions'), (n) => Number.isInteger(n) && n > 0, 'a positive integer'),
    },
    overwrite: values.overwrite === true,
    checkpointIntervalSeconds: number('checkpoint-interval', str('checkpoint-interval'), (n) => n >= 0 && Number.isFinite(n), 'a number of seconds >= 0') ?? 5,
    progress: oneOf<ProgressMode | 'auto'>('progress', str('progress'), ['auto', 'bar', 'lines', 'none']) ?? 'auto',
    progressIntervalSeconds: number('progress-interval', str('progress-interval'), (n) => n > 0 && Number.isFinite(n), 'a number of seconds > 0') ?? 10,
    // What changes the numbers without showing in the loaded model's folder and settings: the compute dtype and the
    // quantization (named only when set, so journals written before the option existed still resume).
    identity: {
      dtype: serve.embedder.dtype ?? 'float32',
      ...(serve.embedder.quantization ? { quantization: serve.embedder.quantization } : {}),
    },
  };
  return Object.freeze({ model, embedder: serve.embedder, job: Object.freeze(job) });
}
