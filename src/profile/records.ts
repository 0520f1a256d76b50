// The per-request record: what one request cost and returned. It is the unit every later stage works from
// (aggregates, the per-request JSONL, the report's over-time charts), so it carries raw timestamps, not
// derived numbers only. Field names follow AIPerf's profile_export.jsonl where a counterpart exists.
import type { ServerTiming } from './server_timing.js';

export type EndpointType = 'embeddings' | 'cohere_embed' | 'chat' | 'hf_tei_rankings' | 'cohere_rankings';

export function isRankingsEndpoint(type: EndpointType): type is 'hf_tei_rankings' | 'cohere_rankings' {
  return type === 'hf_tei_rankings' || type === 'cohere_rankings';
}

/** Why a request failed. `code` is the HTTP status when the server answered, null when it never did. */
export interface RequestError {
  readonly code: number | null;
  /** HTTPError (non-2xx), ConnectionError (refused, reset, dropped mid-body), TimeoutError, InvalidResponse. */
  readonly type: 'HTTPError' | 'ConnectionError' | 'TimeoutError' | 'InvalidResponse';
  readonly message: string;
}

export interface RequestRecord {
  /** Order in which the request was issued within its phase, from 0. */
  readonly sessionNum: number;
  readonly xRequestId: string;
  /** Which dataset entry supplied the inputs (entries are reused round-robin). */
  readonly conversationId: string;
  readonly workerId: string;
  readonly phase: 'warmup' | 'profiling';
  /** Epoch nanoseconds: request issued, response headers received, last byte received (or failure seen). */
  readonly requestStartNs: bigint;
  readonly requestAckNs: bigint | null;
  readonly requestEndNs: bigint;
  /** Inputs in this request (texts + images for embeddings; passages for rankings; 1 conversation for chat). */
  readonly batchSize: number;
  /** Tokens the client tokenizer counted in the inputs (no special tokens), null when no tokenizer was loaded. */
  readonly inputSequenceLength: number | null;
  /** Input tokens the server reported in `usage` (OpenAI) or `meta.billed_units` (Cohere), null if absent. */
  readonly usageInputTokens: number | null;
  /** Streaming chat only: time from request start to the first content chunk. */
  readonly timeToFirstTokenMs: number | null;
  /** Streaming chat only: (last token time - first token time) / (output tokens - 1). */
  readonly interTokenLatencyMs: number | null;
  /** Chat only: completion tokens from usage, else the number of content chunks seen. */
  readonly outputTokens: number | null;
  /** The server's stage times from its x-*-time headers; null when it sent none (or the request failed). */
  readonly serverTiming: ServerTiming | null;
  readonly error: RequestError | null;
}

export function requestLatencyMs(record: RequestRecord): number {
  return Number(record.requestEndNs - record.requestStartNs) / 1e6;
}
