// An embed job's options made concrete and checked before any file is touched: paths, formats, fields, the
// per-document engine options, and the job's identity (what must match for a journal to be resumed).
import type { Stats } from 'node:fs';
import { resolve as resolvePath } from 'node:path';

import type { EmbedOptions, Embedder } from '../engine/embedder.js';
import { ResumeStateError } from './append_file.js';
import { inputFormatFromPath, type DocumentFields } from './documents.js';
import type { EmbedJobOptions, OnError } from './job_options.js';
import type { JobIdentity } from './journal.js';
import { outputFormatFromPath, sidecarPath, type OutputSpec } from './output_writers.js';
import { WHOLE_INPUT, type ShardSpec } from './shard.js';

/** The options of a job that decide what is computed and where it goes. */
export type JobPlanOptions = Pick<
  EmbedJobOptions,
  'input' | 'output' | 'inputFormat' | 'outputDType' | 'textField' | 'idField' | 'idRequired' | 'onError' | 'shard' | 'embed' | 'identity'
>;

export interface JobPlan {
  readonly inputPath: string;
  readonly output: OutputSpec;
  /** Every file the job writes, by role. */
  readonly paths: { readonly embeddings: string; readonly ids: string | null; readonly journal: string; readonly errors: string };
  readonly fields: DocumentFields;
  readonly onError: OnError;
  readonly shard: ShardSpec;
  /** Options for Embedder.tokenize. */
  readonly tokenizeOptions: EmbedOptions;
  /** Output options for the scheduler: resolved Matryoshka dimensions (0 = all) and normalization. */
  readonly rowOptions: { readonly dimensions: number; readonly normalize: boolean };
}

// The full output name is kept (out.jsonl.progress.json), so out.jsonl and out.npy written side by side never share
// a journal.
export function journalPathOf(output: string): string {
  return `${output}.progress.json`;
}

export function errorsPathOf(output: string): string {
  return `${output}.errors.jsonl`;
}

/** Resolves and checks the options; throws on anything that would otherwise fail on every line. */
export function planJob(embedder: Embedder, opts: JobPlanOptions): JobPlan {
  const inputPath = resolvePath(opts.input);
  const outputPath = resolvePath(opts.output);
  const format = outputFormatFromPath(outputPath);
  if (format === null) throw new ResumeStateError(`cannot tell the output format of ${opts.output}: use a .jsonl, .ndjson or .npy name`);
  const dtype = opts.outputDType ?? 'float32';
  if (format === 'jsonl' && dtype !== 'float32') {
    throw new ResumeStateError(`JSONL output holds float32 values; --output-dtype ${dtype} needs a .npy output`);
  }
  const dimensions = embedder.resolveDimensions(opts.embed?.dimensions);
  const tokenizeOptions: EmbedOptions = { ...opts.embed, dimensions: undefined };
  embedder.tokenize('probe', tokenizeOptions); // an unknown prompt name or a bad max length fails here, once
  return {
    inputPath,
    output: { path: outputPath, format, dtype, numCols: dimensions === 0 ? embedder.hiddenSize : dimensions },
    paths: {
      embeddings: outputPath,
      ids: format === 'npy' ? sidecarPath(outputPath, 'ids.jsonl') : null,
      journal: journalPathOf(outputPath),
      errors: errorsPathOf(outputPath),
    },
    fields: {
      format: opts.inputFormat ?? inputFormatFromPath(inputPath),
      textField: opts.textField ?? 'text',
      idField: opts.idField ?? 'id',
      idRequired: opts.idRequired ?? false,
    },
    onError: opts.onError ?? 'fail',
    shard: opts.shard ?? WHOLE_INPUT,
    tokenizeOptions,
    rowOptions: { dimensions, normalize: opts.embed?.normalize ?? embedder.model.settings.normalize },
  };
}

/**
 * Everything that decides the output's bytes. `--on-error` is left out on purpose: deciding to skip after a run
 * stopped at a bad line continues that run. Batch limits and threads are left out: rows do not depend on them.
 */
export function jobIdentity(plan: JobPlan, embedder: Embedder, inputStat: Stats, opts: JobPlanOptions): JobIdentity {
  const settings = embedder.model.settings;
  const embed = opts.embed ?? {};
  return {
    input: plan.inputPath,
    inputSize: inputStat.size,
    inputMtimeMs: inputStat.mtimeMs,
    inputFormat: plan.fields.format,
    textField: plan.fields.textField,
    idField: plan.fields.idField,
    idRequired: plan.fields.idRequired,
    output: plan.output.path,
    outputFormat: plan.output.format,
    outputDType: plan.output.dtype,
    numCols: plan.output.numCols,
    shard: `${plan.shard.index}/${plan.shard.count}`,
    model: embedder.model.path,
    backend: embedder.backend.name,
    pooling: settings.pooling,
    maxSeqLength: settings.maxSeqLength,
    normalize: plan.rowOptions.normalize,
    promptName: embed.promptName ?? settings.defaultPromptName,
    truncate: embed.truncate ?? (embed.maxLength !== undefined ? 'end' : embedder.defaultTruncation),
    maxLength: embed.maxLength ?? null,
    ...opts.identity,
  };
}
