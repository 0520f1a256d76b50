// One offline embedding job: stream the input (or one shard of it), tokenize, embed through the same Embedder and
// scheduler as the HTTP server, write rows in input order, checkpoint, and resume after any kill.
//
// Flow: lines -> documents -> chunks of about one scheduler step (token budget, sequence cap) -> up to a few chunks
// in flight in the scheduler -> written strictly in order. Keeping a few chunks queued lets the native backend
// compute one step while this thread tokenizes the next and serializes the previous one; bounding them (and the
// write buffers) keeps memory flat whatever the input size.
//
// Resume: see journal.ts. A checkpoint syncs the outputs, then records the input offset just past the last written
// chunk. Bad lines are part of the chunks (in order), so the errors file and the counters resume exactly too.
import { open, stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';

import type { EmbedOptions, Embedder } from '../engine/embedder.js';
import { PooledError } from '../errors.js';
import { AppendFile, ResumeStateError } from './append_file.js';
import { inputFormatFromPath, parseDocumentLine, type DocumentFields, type DocumentId, type InputFormat } from './documents.js';
import { identityDifferences, JOURNAL_VERSION, readJournal, writeJournal, type JobIdentity, type JobPosition, type JournalState } from './journal.js';
import { DEFAULT_MAX_LINE_BYTES, readLines } from './line_reader.js';
import {
  openEmbeddingWriter,
  outputFormatFromPath,
  sidecarPath,
  type EmbeddingWriter,
  type OutputDType,
  type OutputFormat,
  type OutputSpec,
} from './output_writers.js';
import { ProgressReporter, resolveProgressMode, type ProgressMode, type ProgressSnapshot, type ProgressStream } from './progress.js';
import { lineNumberAt, resolveShardRange, WHOLE_INPUT, type ShardSpec } from './shard.js';

export type OnError = 'skip' | 'fail';

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
  /** Extra fields that must match for a journal to be resumed (the CLI adds the model spec, revision, dtype). */
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

/** `--on-error fail` met a bad line; everything before it is written and checkpointed. */
export class BadInputLineError extends Error {
  constructor(
    readonly inputPath: string,
    readonly lineNumber: number,
    readonly reason: string,
  ) {
    super(`${inputPath}: line ${lineNumber}: ${reason}`);
    this.name = 'BadInputLineError';
  }
}

export class JobInterruptedError extends Error {
  constructor(readonly numDocuments: number) {
    super(`interrupted after ${numDocuments} documents; progress is saved, run the same command to continue`);
    this.name = 'JobInterruptedError';
  }
}

type ChunkItem =
  | { readonly kind: 'document'; readonly id: DocumentId; readonly numTokens: number }
  | { readonly kind: 'bad'; readonly lineNumber: number; readonly id?: DocumentId; readonly reason: string };

/** Documents and bad lines of consecutive input lines, embedded as one scheduler submission. */
class Chunk {
  readonly items: ChunkItem[] = [];
  sequences: Int32Array[] = [];
  numTokens = 0;
  inputOffset = 0;
  nextLineNumber = 0;
  rows: Promise<Float32Array[]> = Promise.resolve([]);
}

const FLUSH_BYTES = 4 << 20;
const YIELD_MS = 50;

// The full output name is kept (out.jsonl.progress.json), so out.jsonl and out.npy written side by side never share
// a journal.
export function defaultJournalPath(output: string): string {
  return `${output}.progress.json`;
}

export function defaultErrorsPath(output: string): string {
  return `${output}.errors.jsonl`;
}

/** Writing into the input would cut it to nothing and then read back our own output. */
async function refuseToOverwriteInput(inputPath: string, outputPaths: readonly string[]): Promise<void> {
  const inputStat = await stat(inputPath);
  for (const path of outputPaths) {
    const outputStat = await stat(path).catch(() => null);
    const same = path === inputPath || (outputStat !== null && outputStat.dev === inputStat.dev && outputStat.ino === inputStat.ino);
    if (same) throw new ResumeStateError(`${path} is the input file; choose an --output that does not overwrite it`);
  }
}

async function existsNonEmpty(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch {
    return false;
  }
}

export async function runEmbedJob(embedder: Embedder, opts: EmbedJobOptions): Promise<EmbedJobSummary> {
  const startedAt = performance.now();
  const inputPath = resolvePath(opts.input);
  const outputPath = resolvePath(opts.output);
  const outputFormat = outputFormatFromPath(outputPath);
  if (outputFormat === null) throw new ResumeStateError(`cannot tell the output format of ${opts.output}: use a .jsonl, .ndjson or .npy name`);
  const outputDType = opts.outputDType ?? 'float32';
  const shard = opts.shard ?? WHOLE_INPUT;
  const fields: DocumentFields = {
    format: opts.inputFormat ?? inputFormatFromPath(inputPath),
    textField: opts.textField ?? 'text',
    idField: opts.idField ?? 'id',
    idRequired: opts.idRequired ?? false,
  };
  const onError = opts.onError ?? 'fail';

  // Check every per-document option once, before touching any file, instead of failing on every line.
  const dimensions = embedder.resolveDimensions(opts.embed?.dimensions);
  const embedOptions: EmbedOptions = { ...opts.embed, dimensions: undefined };
  embedder.tokenize('probe', embedOptions);
  const normalize = opts.embed?.normalize ?? embedder.model.settings.normalize;
  const numCols = dimensions === 0 ? embedder.hiddenSize : dimensions;
  const spec: OutputSpec = { path: outputPath, format: outputFormat, dtype: outputDType, numCols };
  if (outputFormat === 'jsonl' && outputDType !== 'float32') {
    throw new ResumeStateError(`JSONL output holds float32 values; --output-dtype ${outputDType} needs a .npy output`);
  }

  const journalPath = defaultJournalPath(outputPath);
  const errorsPath = defaultErrorsPath(outputPath);
  await refuseToOverwriteInput(inputPath, [outputPath, sidecarPath(outputPath, 'ids.jsonl'), journalPath, errorsPath]);
  const input = await open(inputPath, 'r');
  let writer: EmbeddingWriter | null = null;
  let errorsFile: AppendFile | null = null;
  try {
    const inputStat = await input.stat();
    const settings = embedder.model.settings;
    const identity: JobIdentity = {
      input: inputPath,
      inputSize: inputStat.size,
      inputMtimeMs: inputStat.mtimeMs,
      inputFormat: fields.format,
      textField: fields.textField,
      idField: fields.idField,
      idRequired: fields.idRequired,
      output: outputPath,
      outputFormat,
      outputDType,
      numCols,
      shard: `${shard.index}/${shard.count}`,
      model: embedder.model.path,
      backend: embedder.backend.name,
      pooling: settings.pooling,
      maxSeqLength: settings.maxSeqLength,
      normalize,
      promptName: opts.embed?.promptName ?? settings.defaultPromptName,
      truncate: opts.embed?.truncate ?? (opts.embed?.maxLength !== undefined ? 'end' : embedder.defaultTruncation),
      maxLength: opts.embed?.maxLength ?? null,
      ...opts.identity,
    };

    const saved = opts.overwrite ? null : await readJournal(journalPath);
    if (saved) {
      const differences = identityDifferences(saved.identity, identity);
      if (differences.length > 0) {
        throw new ResumeStateError(
          `${journalPath} records an earlier job that differs from this one in: ${differences.join(', ')}. ` +
            'Run the original command to finish it, pass --overwrite to start over, or choose another --output.',
        );
      }
    } else if (!opts.overwrite) {
      for (const path of [outputPath, sidecarPath(outputPath, 'ids.jsonl')]) {
        if (await existsNonEmpty(path)) {
          throw new ResumeStateError(`${path} already exists and no progress journal (${journalPath}) says this job wrote it; pass --overwrite to replace it`);
        }
      }
    }

    const range = saved?.range ?? (await resolveShardRange(input, inputStat.size, shard));
    const priorSeconds = saved?.elapsedSeconds ?? 0;
    let position: JobPosition = saved?.position ?? {
      inputOffset: range.start,
      nextLineNumber: await lineNumberAt(input, range.start),
      numDocuments: 0,
      numSkipped: 0,
      numTokens: 0,
      files: {},
    };
    const numResumedDocuments = position.numDocuments;
    const summarize = (alreadyComplete: boolean): EmbedJobSummary => {
      const runSeconds = (performance.now() - startedAt) / 1000;
      return {
        alreadyComplete,
        numDocuments: position.numDocuments,
        numSkipped: position.numSkipped,
        numTokens: position.numTokens,
        numResumedDocuments,
        numRunDocuments: position.numDocuments - numResumedDocuments,
        numRunTokens: position.numTokens - (saved?.position.numTokens ?? 0),
        runSeconds,
        totalSeconds: priorSeconds + (alreadyComplete ? 0 : runSeconds),
        outputFormat,
        outputDType,
        numCols,
        outputPaths: outputFormat === 'npy' ? { embeddings: outputPath, ids: sidecarPath(outputPath, 'ids.jsonl') } : { embeddings: outputPath },
        errorsPath: (position.files.errors ?? 0) > 0 ? errorsPath : null,
        journalPath,
        shard,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
      };
    };
    if (saved?.complete) return summarize(true);

    const journalState = (complete: boolean): JournalState => ({
      version: JOURNAL_VERSION,
      identity,
      range,
      position,
      complete,
      elapsedSeconds: priorSeconds + (performance.now() - startedAt) / 1000,
      updatedAt: new Date().toISOString(),
    });
    // The journal is written before any output exists: outputs without a journal are refused above, and a run killed
    // before its first checkpoint must still be resumable.
    if (!saved) await writeJournal(journalPath, journalState(false));

    const resumeFiles = Object.hasOwn(position.files, 'embeddings') ? position.files : null;
    writer = await openEmbeddingWriter(spec, resumeFiles);
    errorsFile = await AppendFile.open(errorsPath, position.files.errors ?? 0, { lazy: true });
    const out = writer;
    const errorsOut = errorsFile;

    const progressStream = opts.progressStream ?? process.stderr;
    const reporter = new ProgressReporter(
      progressStream,
      resolveProgressMode(opts.progress ?? 'none', progressStream),
      opts.progressIntervalSeconds ?? 10,
    );
    const startOffset = position.inputOffset;
    const startTokens = position.numTokens;
    const snapshot = (): ProgressSnapshot => ({
      numDocuments: position.numDocuments,
      numSkipped: position.numSkipped,
      numTokens: position.numTokens,
      numRunDocuments: position.numDocuments - numResumedDocuments,
      numRunTokens: position.numTokens - startTokens,
      numRunBytes: position.inputOffset - startOffset,
      numBytesDone: position.inputOffset - range.start,
      numBytesTotal: range.end - range.start,
      runSeconds: (performance.now() - startedAt) / 1000,
    });

    const checkpointMs = 1000 * (opts.checkpointIntervalSeconds ?? 5);
    let lastCheckpointAt = performance.now();
    let lastYieldAt = performance.now();
    const checkpoint = async (complete: boolean): Promise<void> => {
      // Data first, journal second: the journal must never describe bytes that are not on disk.
      const files = { ...(await out.sync()), errors: await errorsOut.sync() };
      position = { ...position, files };
      await writeJournal(journalPath, journalState(complete));
      lastCheckpointAt = performance.now();
    };

    const limits = embedder.scheduler.limits;
    const maxInFlightChunks = opts.maxInFlightChunks ?? 4;
    const inFlight: Chunk[] = [];
    let numInFlightTokens = 0;
    let current = new Chunk();
    current.inputOffset = position.inputOffset;
    current.nextLineNumber = position.nextLineNumber;

    const writeOldest = async (): Promise<void> => {
      const chunk = inFlight.shift()!;
      numInFlightTokens -= chunk.numTokens;
      const rows = await chunk.rows;
      let numDocuments = position.numDocuments;
      let numSkipped = position.numSkipped;
      let numTokens = position.numTokens;
      let row = 0;
      for (const item of chunk.items) {
        if (item.kind === 'document') {
          out.write(item.id, rows[row++]);
          numDocuments++;
          numTokens += item.numTokens;
        } else {
          const record = item.id === undefined ? { line: item.lineNumber, error: item.reason } : { line: item.lineNumber, id: item.id, error: item.reason };
          errorsOut.append(Buffer.from(`${JSON.stringify(record)}\n`));
          reporter.log(`pooled embed: ${inputPath}: line ${item.lineNumber}: ${item.reason}; skipped`);
          numSkipped++;
        }
      }
      position = { ...position, inputOffset: chunk.inputOffset, nextLineNumber: chunk.nextLineNumber, numDocuments, numSkipped, numTokens };
      if (performance.now() - lastYieldAt >= YIELD_MS) {
        // A backend that computes on this thread (reference) settles every promise as a microtask, so without this
        // the event loop would never reach its I/O phase: no SIGTERM handler, no timers, until the job ends.
        await new Promise((resolve) => setImmediate(resolve));
        lastYieldAt = performance.now();
      }
      if (out.numPendingBytes >= FLUSH_BYTES) await out.flush();
      if (errorsOut.numPendingBytesInMemory >= FLUSH_BYTES) await errorsOut.flush();
      reporter.update(snapshot());
      if (performance.now() - lastCheckpointAt >= checkpointMs) await checkpoint(false);
    };

    const submit = async (): Promise<void> => {
      if (current.items.length === 0) return;
      const chunk = current;
      current = new Chunk();
      current.inputOffset = chunk.inputOffset;
      current.nextLineNumber = chunk.nextLineNumber;
      // The scheduler refuses work beyond its queue limit; waiting for our own oldest chunk keeps us under it.
      while (inFlight.length > 0 && (inFlight.length >= maxInFlightChunks || numInFlightTokens + chunk.numTokens > limits.maxQueuedTokens)) {
        await writeOldest();
      }
      if (chunk.sequences.length > 0) {
        chunk.rows = embedder.embedSequences(chunk.sequences, { dimensions, normalize }).then((result) => result.rows);
        // Awaited in order by writeOldest; this only keeps an early rejection from being reported as unhandled.
        chunk.rows.catch(() => {});
      }
      chunk.sequences = [];
      inFlight.push(chunk);
      numInFlightTokens += chunk.numTokens;
    };

    const drain = async (): Promise<void> => {
      await submit();
      while (inFlight.length > 0) await writeOldest();
    };

    const lines = readLines(input, {
      start: position.inputOffset,
      end: range.end,
      firstLineNumber: position.nextLineNumber,
      maxLineBytes: opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    });
    for await (const batch of lines) {
      for (const line of batch) {
        const parsed = parseDocumentLine(line, fields);
        let bad: { id?: DocumentId; reason: string } | null = parsed.ok ? null : parsed;
        let tokenIds: Int32Array | null = null;
        if (parsed.ok) {
          try {
            tokenIds = embedder.tokenize(parsed.text, embedOptions);
          } catch (err) {
            if (!(err instanceof PooledError)) throw err;
            const hint = err.code === 'context_length_exceeded' ? ' (pass --truncate end to cut long documents)' : '';
            bad = { id: parsed.id, reason: `${err.message}${hint}` };
          }
        }
        if (bad !== null && onError === 'fail') {
          await drain();
          await checkpoint(false);
          reporter.finish();
          throw new BadInputLineError(inputPath, line.lineNumber, bad.reason);
        }
        if (bad !== null) {
          current.items.push({ kind: 'bad', lineNumber: line.lineNumber, id: bad.id, reason: bad.reason });
        } else if (parsed.ok && tokenIds !== null) {
          current.items.push({ kind: 'document', id: parsed.id, numTokens: tokenIds.length });
          current.sequences.push(tokenIds);
          current.numTokens += tokenIds.length;
        }
        current.inputOffset = line.endOffset;
        current.nextLineNumber = line.lineNumber + 1;
        if (current.numTokens >= limits.maxNumBatchedTokens || current.sequences.length >= limits.maxNumSeqs) {
          await submit();
          if (opts.signal?.aborted) {
            await drain();
            await checkpoint(false);
            reporter.finish();
            throw new JobInterruptedError(position.numDocuments);
          }
        }
      }
    }
    await drain();
    await checkpoint(true);
    reporter.finish();
    return summarize(false);
  } finally {
    await writer?.close();
    await errorsFile?.close();
    await input.close();
  }
}
