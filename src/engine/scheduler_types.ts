// What a caller hands a scheduler and gets back (both schedulers: ./scheduler.ts and ./decoder_scheduler.ts), in a
// leaf of its own so ./request_lifecycle.ts, which both schedulers import, can name them without importing a scheduler.

export interface SubmitOptions {
  /** 0 keeps every value; otherwise keep the first `dimensions` values (before normalizing). */
  readonly dimensions: number;
  readonly normalize: boolean;
  /** Lower runs first; ties run in arrival order (vLLM's `priority`). */
  readonly priority?: number;
  /** Aborting drops the request's remaining work and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Decoder models with prefix caching (DecoderScheduler): requests share cached KV blocks only when their salts are
   * equal (vLLM's `cache_salt`), isolating tenants. The encoder scheduler keeps no cache and ignores it.
   */
  readonly cacheSalt?: string;
  /**
   * Per sequence, its token types (segment ids: a cross-encoder pair's second text is type 1 for BERT); absent: zeros.
   * Encoders only; decoders have no token-type embeddings and ignore it.
   */
  readonly tokenTypeIds?: readonly Int32Array[];
}

export interface SubmitResult {
  readonly rows: Float32Array[];
  /** Seconds from admission until the request's first sequence entered a step. */
  readonly queueSeconds: number;
  /** Seconds of backend compute of the steps that carried this request. */
  readonly inferenceSeconds: number;
}

/**
 * A cancellation reason that depends on whether the request had started computing (e.g. a deadline: 503 while
 * queued, 408 once running). Plain reasons are passed through as they are.
 */
export interface PhasedReason {
  readonly phasedReason: (phase: 'queued' | 'running') => unknown;
}
