// One offline embedding job: stream the input (or one shard of it), tokenize, embed through the same Embedder and
// scheduler as the HTTP server (ordered_pipeline.ts), write rows in input order, checkpoint, and resume after any
// kill (journal.ts). A checkpoint syncs the outputs, then records the input offset just past the last written chunk;
// bad lines travel in the chunks, in order, so the errors file and the counters resume exactly too.
import { open } from 'node:fs/promises';

import type { Embedder } from '../engine/embedder.js';
import { AppendFile } from './append_file.js';
import type { EmbedJobOptions, EmbedJobSummary } from './job_options.js';
import { jobIdentity, planJob } from './job_plan.js';
import { JobRun } from './job_run.js';
import { startJob } from './job_start.js';
import { openEmbeddingWriter, type EmbeddingWriter } from './output_writers.js';
import { ProgressReporter, resolveProgressMode } from './progress.js';

export type { EmbedJobOptions, EmbedJobSummary, OnError } from './job_options.js';
export { BadInputLineError, JobInterruptedError } from './job_errors.js';

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
    const reporter = new ProgressReporter(progressStream, resolveProgressMode(opts.progress ?? 'none', progressStream), opts.progressIntervalSeconds ?? 10);
    await run.execute(embedder, input, writer, errorsFile, reporter, opts);
    return run.summary(false);
  } finally {
    await writer?.close();
    await errorsFile?.close();
    await input.close();
  }
}
