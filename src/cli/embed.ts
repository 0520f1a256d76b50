// `pooled embed`: offline batch embedding of a JSONL or text file into JSONL or .npy, resumable and shardable.
// Exit codes: 0 done (or already done), 1 a bad input line under --on-error fail, a model or I/O failure, or an
// unresumable state; 2 bad flags; 130/143 stopped by SIGINT/SIGTERM after saving progress.
import { access } from 'node:fs/promises';

import { Embedder } from '../engine/embedder.js';
import { ModelLoadError, PooledError, UsageError } from '../errors.js';
import { ResumeStateError } from '../embed/append_file.js';
import { embedHelp, parseEmbedArgs, type EmbedCommandOptions } from './embed_options.js';
import { BadInputLineError, JobInterruptedError, runEmbedJob } from '../embed/job.js';
import { formatSummary } from '../embed/summary.js';

export async function runEmbedCommand(argv: string[]): Promise<number> {
  let opts: EmbedCommandOptions;
  try {
    const parsed = parseEmbedArgs(argv);
    if (parsed === 'help') {
      process.stdout.write(embedHelp());
      return 0;
    }
    opts = parsed;
    await access(opts.job.input);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`pooled embed: ${err.message}\n\n${embedHelp()}`);
      return 2;
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`pooled embed: cannot read the input: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }

  let embedder: Embedder;
  try {
    embedder = await Embedder.load(opts.model, opts.embedder);
  } catch (err) {
    if (err instanceof ModelLoadError || err instanceof PooledError) {
      process.stderr.write(`pooled embed: cannot load the model: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  // SIGTERM is how Kubernetes stops a pod: finish what is in flight, checkpoint, exit. (SIGKILL loses at most the
  // work since the last checkpoint; the next run redoes it.)
  const stop = new AbortController();
  let stopSignal: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal !== null) process.exit(signal === 'SIGINT' ? 130 : 143); // a second signal: stop now
    stopSignal = signal;
    process.stderr.write(`\npooled embed: ${signal}: writing what is in flight and saving progress...\n`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await runEmbedJob(embedder, { ...opts.job, signal: stop.signal });
    process.stderr.write(formatSummary(summary));
    return 0;
  } catch (err) {
    if (err instanceof JobInterruptedError) {
      process.stderr.write(`pooled embed: ${err.message}\n`);
      return stopSignal === 'SIGINT' ? 130 : 143;
    }
    if (err instanceof BadInputLineError) {
      process.stderr.write(
        `pooled embed: ${err.message}\n` +
          'Everything before this line is written and saved. Fix the line and rerun with --overwrite, or rerun with --on-error skip.\n',
      );
      return 1;
    }
    if (err instanceof ResumeStateError || err instanceof PooledError || isFileSystemError(err)) {
      process.stderr.write(`pooled embed: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await embedder.close();
  }
}

/** ENOSPC, EACCES, EISDIR...: the message names the path and the cause; a stack trace would add nothing. */
function isFileSystemError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  return e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string';
}
