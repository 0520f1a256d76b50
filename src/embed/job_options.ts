// What an offline embedding job (./job.ts) takes and reports, in a module of its own so that ./job_run.ts, which
// ./job.ts drives, can name them without importing ./job.ts back (an import cycle).
import type { EmbedOptions } from '../engine/embedder.js';
import type { InputFormat } from './documents.js';
import type { JobIdentity } from './journal.js';
import type { OutputDType, OutputFormat } from './output_writers.js';
import type { ProgressMode, ProgressStream } from './progress.js';
import type { ShardSpec } from './shard.js';

/** Bad lines: 'fail' stops at the first one, 'skip' reports it and goes on. */
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
