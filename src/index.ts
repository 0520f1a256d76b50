// The package's library entry: `import { Embedder } from 'pooled'`. The same Embedder runs under the HTTP server
// (buildServer) and `pooled embed` (runEmbedJob), so a vector from any of the three is the same vector.
//
//   const embedder = await Embedder.load('BAAI/bge-small-en-v1.5', { backend: 'cpu' });
//   const [a, b] = await embedder.embed(['first text', 'second text']);
//   cosineSimilarity(a, b);
//   await embedder.close();

// The engine.
export {
  Embedder,
  cosineSimilarity,
  DEFAULT_LIMITS,
  type EmbedderOptions,
  type EmbedOptions,
  type EmbedInput,
  type EmbedResult,
  type PreparedInputs,
  type RequestControl,
} from './engine/embedder.js';
export type { SchedulerLimits, StepStats } from './engine/scheduler.js';
export { BACKEND_NAMES, QUANTIZATIONS, type ComputeDType, type Quantization } from './backends/select.js';
export type { BackendName } from './backends/backend.js';
export type { PoolingMode, LoadedModel, EmbeddingSettings, ModelConfig } from './model/types.js';
export type { TruncationSide } from './tokenizer/tokenizer.js';

// Errors, to tell a bad input (InvalidRequestError) from a full queue (OverloadedError) from a bad model.
export {
  PooledError,
  InvalidRequestError,
  NotFoundError,
  ModelLoadError,
  OverloadedError,
  DeadlineExceededError,
  ClientClosedError,
  type ErrorType,
} from './errors.js';

// The HTTP server around an Embedder, to mount or listen on from your own process.
export { buildServer, DEFAULT_SERVER_OPTIONS, type ServerOptions, type PooledServer } from './server/app.js';

// Offline batch embedding of files (what `pooled embed` runs).
export {
  runEmbedJob,
  BadInputLineError,
  JobInterruptedError,
  type EmbedJobOptions,
  type EmbedJobSummary,
  type OnError,
} from './embed/job.js';
export { ResumeStateError } from './embed/append_file.js';
export { parseShardSpec, type ShardSpec } from './embed/shard.js';
export type { InputFormat, DocumentId } from './embed/documents.js';
export type { OutputFormat, OutputDType } from './embed/output_writers.js';
export { decodeNpyHeader, type NpyHeader } from './embed/npy.js';
