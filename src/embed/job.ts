// One offline embedding job: stream the input (or one shard of it), tokenize, embed through the same Embedder and
// scheduler as the HTTP server (ordered_pipeline.ts), write rows in input order, checkpoint, and resume after any
// kill (journal.ts). A checkpoint syncs the outputs, then records the input offset just past the last written chunk;
// bad lines travel in the chunks, in order, so the errors file and the counters resume exactly too.
import { open } from 'node:fs/promises';

import type { EmbedOptions, Embedder } from '../engine/embedder.js';
import { AppendFile } from './append_file.js';
import type { InputFormat } from './documents.js';
import { jobIdentity, planJob, type OnError } from './job_plan.js';
import { JobRun } from './job_run.js';
import { startJob } from './job_start.js';
import type { JobIdentity } from './journal.js';
import { openEmbeddingWriter, type EmbeddingWriter, type OutputDType, type OutputFormat } from './output_writers.js';
import { ProgressReporter, resolveProgressMode, type ProgressMode, type ProgressStream } from './progress.js';
import type { ShardSpec } from './shard.js';

export type { OnError } from './job_plan.js';
export { BadInputLineError, JobInterruptedError } from './job_errors.js';

export interface EmbedJobOptions {
  readonly input: string;
  /** `.jsonl`/`.ndjson` or `.npy` (the extension picks the format). */
  readonly output: string;
  /** Default: from the input's extension (.jsonl/.ndjson/.json are JSON lines; anything else one text per line). */
  readonly inputFormat?: InputFormat;
  /** .npy only: float32 (default) or float16. */
  readonly outputDType?: OutputDType;
  readonly textField?: string;
  readonly idField?: string;
  /** Records without the id field are an error (else they get their line number as id). */
  readonly idRequired?: boolean;
  /** Bad lines: 'fail' (default) stops at the first one, 'skip' reports it and goes on. */
  readonly onError?: OnError;
  readonly shard?: ShardSpec;
  /** Per-document options, as for Embedder.embed (truncate, promptName, dimensions, normalize, maxLength). */
  readonly embed?: EmbedOptions;
  /** Replace existing outputs instead of resuming them. */
  readonly overwrite?: boolean;
  /** Seconds between checkpoints (fsync + journal); 0 checkpoints after every chunk. Default 5. */
  readonly checkpointIntervalSeconds?: number;
  readonly progress?: ProgressMode | 'auto';
  readonly progressIntervalSeconds?: number;
  readonly progressStream?: ProgressStream;
  /** Extra fields that must match for a journal to be resumed (the CLI adds the compute dtype). */
  readonly identity?: JobIdentity;
  readonly maxLineBytes?: number;
  /** Chunks (about one scheduler step each) queued in the engine at once. Default 4. */
  readonly maxInFlightChunks?: number;
  /** Aborting stops reading, writes what is in flight, checkpoints, and rejects with JobInterruptedError. */
  readonly signal?: AbortSignal;
}

export interface EmbedJobSummary {
  /** The journal said the job had already finished; nothing was computed. */
  readonly alreadyComplete: boolean;
  readonly numDocuments: number;
  readonly numSkipped: number;
  readonly numTokens: number;
  /** Documents a previous run had already written when this one started. */
  readonly numResumedDocuments: number;
  readonly numRunDocuments: number;
  readonly numRunTokens: number;
  readonly runSeconds: number;
  readonly totalSeconds: number;
  readonly outputFormat: OutputFormat;
  readonly outputDType: OutputDType;
  readonly numCols: number;
  readonly outputPaths: Readonly<Record<string, string>>;
  /** Where skipped lines are listed, when there were any. */
  readonly errorsPath: string | null;
  readonly journalPath: string;
  readonly shard: ShardSpec;
  readonly peakRssBytes: number;
}

export async function runEmbedJob(embedder: Embedder, opts: EmbedJobOptions): Promise<EmbedJobSummary> {
  const startedAt = performance.now();
  const plan = planJob(embedder, opts);
  const input = await open(plan.inputPath, 'r');
  let writer: EmbeddingWriter | null = null;
  let errorsFile: AppendFile | null = null;
  try {
    const inputStat = await input.stat();
    const identity = jobIdentity(plan, embedder, inputStat, opts);
    const start = await startJob(plan, identity, input, inputStat.size, opts.overwrite ?? false);
    const run = new JobRun(plan, identity, start.range, start.position, start.saved, startedAt);
    if (start.saved?.complete) return run.summary(true);

    writer = await openEmbeddingWriter(plan.output, Object.hasOwn(start.position.files, 'embeddings') ? start.position.files : null);
    errorsFile = await AppendFile.open(plan.paths.errors, start.position.files.errors ?? 0, { lazy: true });
    const progressStream = opts.progressStream ?? process.stderr;
    const reporter = new ProgressReporter(
      progressStream,
      resolveProgressMode(opts.progress ?? 'none', progressStream),
      opts.progressIntervalSeconds ?? 10,
    );
    await run.execute(embedder, input, writer, errorsFile, reporter, opts);
    return run.summary(false);
  } finally {
    await writer?.close();
    await errorsFile?.close();
    await input.close();
  }
}
