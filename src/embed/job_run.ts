// One run of an embed job: read lines from the journal's position, turn them into documents or bad lines, push
// them through the ordered pipeline, write what comes back in order, and checkpoint (outputs synced first, then the
// journal). Every input line ends up as exactly one row or one error record.
import type { FileHandle } from 'node:fs/promises';

import type { Embedder } from '../engine/embedder.js';
import { PooledError } from '../errors.js';
import type { AppendFile } from './append_file.js';
import { parseDocumentLine, type DocumentId, type ParsedLine } from './documents.js';
import type { EmbedJobOptions, EmbedJobSummary } from './job_options.js';
import { BadInputLineError, JobInterruptedError } from './job_errors.js';
import type { JobPlan } from './job_plan.js';
import { JOURNAL_VERSION, writeJournal, type JobIdentity, type JobPosition, type JournalState } from './journal.js';
import { DEFAULT_MAX_LINE_BYTES, readLines } from './line_reader.js';
import type { EmbeddingWriter } from './output_writers.js';
import { OrderedPipeline, type EmbeddedChunk } from './ordered_pipeline.js';
import type { ProgressReporter, ProgressSnapshot } from './progress.js';
import type { ShardRange } from './shard.js';

const FLUSH_BYTES = 4 << 20;
const YIELD_MS = 50;

/** The state of one run of a job: its position, counters, checkpoints and progress. */
export class JobRun {
  private position: JobPosition;
  private readonly startPosition: JobPosition;
  private readonly priorSeconds: number;
  private lastCheckpointAt = performance.now();
  private lastYieldAt = performance.now();

  constructor(
    private readonly plan: JobPlan,
    private readonly identity: JobIdentity,
    private readonly range: ShardRange,
    position: JobPosition,
    saved: JournalState | null,
    private readonly startedAt: number,
  ) {
    this.position = position;
    this.startPosition = position;
    this.priorSeconds = saved?.elapsedSeconds ?? 0;
  }

  async execute(
    embedder: Embedder,
    input: FileHandle,
    writer: EmbeddingWriter,
    errorsFile: AppendFile,
    reporter: ProgressReporter,
    opts: EmbedJobOptions,
  ): Promise<void> {
    const plan = this.plan;
    const checkpointMs = 1000 * (opts.checkpointIntervalSeconds ?? 5);
    const checkpoint = async (complete: boolean): Promise<void> => {
      // Data first, journal second: the journal must never describe bytes that are not on disk.
      const files = { ...(await writer.sync()), errors: await errorsFile.sync() };
      this.position = { ...this.position, files };
      await writeJournal(plan.paths.journal, this.journalState(complete));
      this.lastCheckpointAt = performance.now();
    };
    const consume = async (chunk: EmbeddedChunk): Promise<void> => {
      this.write(chunk, writer, errorsFile, reporter);
      if (performance.now() - this.lastYieldAt >= YIELD_MS) {
        // A backend that computes on this thread (reference) settles every promise as a microtask, so without this
        // the event loop would never reach its I/O phase: no SIGTERM handler, no timers, until the job ends.
        await new Promise((resolve) => setImmediate(resolve));
        this.lastYieldAt = performance.now();
      }
      if (writer.numPendingBytes >= FLUSH_BYTES) await writer.flush();
      if (errorsFile.numPendingBytesInMemory >= FLUSH_BYTES) await errorsFile.flush();
      reporter.update(this.snapshot());
      if (performance.now() - this.lastCheckpointAt >= checkpointMs) await checkpoint(false);
    };
    const limits = embedder.scheduler.limits;
    const pipeline = new OrderedPipeline(
      embedder,
      plan.rowOptions,
      {
        maxTokensPerChunk: limits.maxNumBatchedTokens,
        maxDocumentsPerChunk: limits.maxNumSeqs,
        maxQueuedTokens: limits.maxQueuedTokens,
        maxInFlightChunks: opts.maxInFlightChunks ?? 4,
      },
      this.position,
      consume,
    );
    /** Writes what was read so far, checkpoints, and leaves the progress display clean. */
    const stopHere = async (): Promise<void> => {
      await pipeline.drain();
      await checkpoint(false);
      reporter.finish();
    };

    const lines = readLines(input, {
      start: this.position.inputOffset,
      end: this.range.end,
      firstLineNumber: this.position.nextLineNumber,
      maxLineBytes: opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    });
    for await (const batch of lines) {
      for (const line of batch) {
        const document = this.prepare(embedder, parseDocumentLine(line, plan.fields));
        if (!document.ok && plan.onError === 'fail') {
          await stopHere();
          throw new BadInputLineError(plan.inputPath, line.lineNumber, document.reason);
        }
        if (document.ok) pipeline.addDocument(document.id, document.tokenIds);
        else pipeline.addBadLine(line.lineNumber, document.id, document.reason);
        pipeline.advanceTo({ inputOffset: line.endOffset, nextLineNumber: line.lineNumber + 1 });
        if (pipeline.isChunkFull) {
          await pipeline.submit();
          if (opts.signal?.aborted) {
            await stopHere();
            throw new JobInterruptedError(this.position.numDocuments);
          }
        }
      }
    }
    await pipeline.drain();
    await checkpoint(true);
    reporter.finish();
  }

  /** A parsed line -> token ids, or the reason it cannot be embedded (an over-long text, with truncation off). */
  private prepare(embedder: Embedder, parsed: ParsedLine): { ok: true; id: DocumentId; tokenIds: Int32Array } | { ok: false; id?: DocumentId; reason: string } {
    if (!parsed.ok) return parsed;
    try {
      return { ok: true, id: parsed.id, tokenIds: embedder.tokenize(parsed.text, this.plan.tokenizeOptions) };
    } catch (err) {
      if (!(err instanceof PooledError)) throw err;
      const hint = err.code === 'context_length_exceeded' ? ' (pass --truncate end to cut long documents)' : '';
      return { ok: false, id: parsed.id, reason: `${err.message}${hint}` };
    }
  }

  private write(chunk: EmbeddedChunk, writer: EmbeddingWriter, errorsFile: AppendFile, reporter: ProgressReporter): void {
    let { numDocuments, numSkipped, numTokens } = this.position;
    let row = 0;
    for (const item of chunk.items) {
      if (item.kind === 'document') {
        writer.write(item.id, chunk.rows[row++]);
        numDocuments++;
        numTokens += item.numTokens;
      } else {
        const record = item.id === undefined ? { line: item.lineNumber, error: item.reason } : { line: item.lineNumber, id: item.id, error: item.reason };
        errorsFile.append(Buffer.from(`${JSON.stringify(record)}\n`));
        reporter.log(`pooled embed: ${this.plan.inputPath}: line ${item.lineNumber}: ${item.reason}; skipped`);
        numSkipped++;
      }
    }
    this.position = { ...this.position, ...chunk.end, numDocuments, numSkipped, numTokens };
  }

  private get runSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  private journalState(complete: boolean): JournalState {
    return {
      version: JOURNAL_VERSION,
      identity: this.identity,
      range: this.range,
      position: this.position,
      complete,
      elapsedSeconds: this.priorSeconds + this.runSeconds,
      updatedAt: new Date().toISOString(),
    };
  }

  private snapshot(): ProgressSnapshot {
    const p = this.position;
    return {
      numDocuments: p.numDocuments,
      numSkipped: p.numSkipped,
      numTokens: p.numTokens,
      numRunDocuments: p.numDocuments - this.startPosition.numDocuments,
      numRunTokens: p.numTokens - this.startPosition.numTokens,
      numRunBytes: p.inputOffset - this.startPosition.inputOffset,
      numBytesDone: p.inputOffset - this.range.start,
      numBytesTotal: this.range.end - this.range.start,
      runSeconds: this.runSeconds,
    };
  }

  summary(alreadyComplete: boolean): EmbedJobSummary {
    const p = this.position;
    const plan = this.plan;
    return {
      alreadyComplete,
      numDocuments: p.numDocuments,
      numSkipped: p.numSkipped,
      numTokens: p.numTokens,
      numResumedDocuments: this.startPosition.numDocuments,
      numRunDocuments: p.numDocuments - this.startPosition.numDocuments,
      numRunTokens: p.numTokens - this.startPosition.numTokens,
      runSeconds: this.runSeconds,
      totalSeconds: this.priorSeconds + (alreadyComplete ? 0 : this.runSeconds),
      outputFormat: plan.output.format,
      outputDType: plan.output.dtype,
      numCols: plan.output.numCols,
      outputPaths: plan.paths.ids === null ? { embeddings: plan.paths.embeddings } : { embeddings: plan.paths.embeddings, ids: plan.paths.ids },
      errorsPath: (p.files.errors ?? 0) > 0 ? plan.paths.errors : null,
      journalPath: plan.paths.journal,
      shard: plan.shard,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  }
}
