// The one owner of the request queue. Sequences from many requests wait in (priority, arrival) order; each step
// packs as many as fit under the token budget (--max-num-batched-tokens) and the sequence cap (--max-num-seqs)
// into one ragged batch, runs it on the backend, and hands every pooled row back to the request it came from.
// A request completes when all of its sequences are done, so a large request may span several steps and share
// steps with others (continuous batching). Work of a request that was cancelled (client gone, deadline passed)
// is dropped before it costs compute.
//
// Encoder (bidirectional) models need no KV cache: every sequence is computed whole in one step, so there is no
// prefix caching and no chunked prefill here, and a sequence longer than the token budget runs alone in its step.
import type { Backend, RaggedBatch } from '../backends/backend.js';
import type { PoolingMode } from '../model/types.js';
import { OverloadedError } from '../errors.js';

export interface SchedulerLimits {
  /** Token budget of one step (sum of sequence lengths in one ragged batch). */
  readonly maxNumBatchedTokens: number;
  /** Max sequences in one step. */
  readonly maxNumSeqs: number;
  /** Max tokens waiting in the queue; beyond it new requests are refused (429). */
  readonly maxQueuedTokens: number;
}

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
}

export interface SubmitResult {
  readonly rows: Float32Array[];
  /** Seconds from admission until the request's first sequence entered a step. */
  readonly queueSeconds: number;
  /** Seconds of backend compute of the steps that carried this request. */
  readonly inferenceSeconds: number;
}

interface PendingRequest {
  readonly rows: Float32Array[];
  readonly admittedAt: number;
  startedAt: number;
  inferenceSeconds: number;
  numRemaining: number;
  settled: boolean;
  readonly resolve: (result: SubmitResult) => void;
  readonly reject: (err: unknown) => void;
}

interface PendingSequence {
  readonly request: PendingRequest;
  readonly index: number;
  readonly tokenIds: Int32Array;
  readonly options: SubmitOptions;
  readonly priority: number;
  readonly arrival: number;
}

export interface StepStats {
  readonly numSequences: number;
  readonly numTokens: number;
  readonly seconds: number;
}

/**
 * A cancellation reason that depends on whether the request had started computing (e.g. a deadline: 503 while
 * queued, 408 once running). Plain reasons are passed through as they are.
 */
export interface PhasedReason {
  readonly phasedReason: (phase: 'queued' | 'running') => unknown;
}

export function isPhasedReason(reason: unknown): reason is PhasedReason {
  return typeof reason === 'object' && reason !== null && typeof (reason as PhasedReason).phasedReason === 'function';
}

/**
 * What the Embedder and the server use of a scheduler: the encoder Scheduler below, or DecoderScheduler
 * (./decoder_scheduler.ts) for decoder models with paged KV blocks.
 */
export interface EmbeddingScheduler {
  readonly limits: SchedulerLimits;
  /** Called after every step (metrics hook). */
  onStep: ((stats: StepStats) => void) | null;
  readonly queuedTokens: number;
  readonly numWaitingSequences: number;
  submit(sequences: readonly Int32Array[], options: SubmitOptions): Promise<SubmitResult>;
  close(): Promise<void>;
}

export class Scheduler implements EmbeddingScheduler {
  /** Sorted by (priority, arrival). */
  private readonly waiting: PendingSequence[] = [];
  private numQueuedTokens = 0;
  private numArrivals = 0;
  private running = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** Called after every step (metrics hook). */
  onStep: ((stats: StepStats) => void) | null = null;

  constructor(
    private readonly backend: Backend,
    private readonly pooling: PoolingMode,
    readonly limits: SchedulerLimits,
  ) {}

  get queuedTokens(): number {
    return this.numQueuedTokens;
  }

  get numWaitingSequences(): number {
    return this.waiting.length;
  }

  /** Queue the sequences of one request; resolves with one pooled row per sequence, in order. */
  submit(sequences: readonly Int32Array[], options: SubmitOptions): Promise<SubmitResult> {
    if (this.closed) return Promise.reject(new OverloadedError('The server is shutting down.'));
    if (options.signal?.aborted) {
      const reason = options.signal.reason;
      return Promise.reject(isPhasedReason(reason) ? reason.phasedReason('queued') : reason);
    }
    if (sequences.length === 0) return Promise.resolve({ rows: [], queueSeconds: 0, inferenceSeconds: 0 });
    let numTokens = 0;
    for (const s of sequences) numTokens += s.length;
    // An empty queue always admits, so a request larger than the queue limit can still be served alone.
    if (this.numQueuedTokens > 0 && this.numQueuedTokens + numTokens > this.limits.maxQueuedTokens) {
      return Promise.reject(
        new OverloadedError(
          `The server is busy: ${this.numQueuedTokens} tokens are queued and this request adds ${numTokens} ` +
            `(limit ${this.limits.maxQueuedTokens}). Retry shortly.`,
        ),
      );
    }
    return new Promise<SubmitResult>((resolve, reject) => {
      const request: PendingRequest = {
        rows: new Array<Float32Array>(sequences.length),
        admittedAt: performance.now(),
        startedAt: -1,
        inferenceSeconds: 0,
        numRemaining: sequences.length,
        settled: false,
        resolve,
        reject,
      };
      const priority = options.priority ?? 0;
      const arrival = this.numArrivals++;
      const position = this.insertionPoint(priority);
      const entries = sequences.map((tokenIds, index) => ({ request, index, tokenIds, options, priority, arrival }));
      this.waiting.splice(position, 0, ...entries);
      this.numQueuedTokens += numTokens;
      options.signal?.addEventListener('abort', () => this.cancel(request, options.signal!.reason), { once: true });
      void this.drain();
    });
  }

  /** Stop admitting; resolves once everything admitted has finished. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.running && this.waiting.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** First index whose priority is greater than `priority` (stable: equal priorities keep arrival order). */
  private insertionPoint(priority: number): number {
    let lo = 0;
    let hi = this.waiting.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.waiting[mid].priority <= priority) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private cancel(request: PendingRequest, reason: unknown): void {
    if (request.settled) return;
    request.settled = true;
    // Free its queued tokens now, so a cancelled request stops counting against admission at once.
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (this.waiting[i].request === request) {
        this.numQueuedTokens -= this.waiting[i].tokenIds.length;
        this.waiting.splice(i, 1);
      }
    }
    request.reject(isPhasedReason(reason) ? reason.phasedReason(request.startedAt >= 0 ? 'running' : 'queued') : reason);
    this.notifyIfIdle();
  }

  private takeStep(): PendingSequence[] {
    const step: PendingSequence[] = [];
    let numTokens = 0;
    while (this.waiting.length > 0 && step.length < this.limits.maxNumSeqs) {
      const next = this.waiting[0];
      if (step.length > 0 && numTokens + next.tokenIds.length > this.limits.maxNumBatchedTokens) break;
      step.push(next);
      numTokens += next.tokenIds.length;
      this.waiting.shift();
    }
    return step;
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const step = this.takeStep();
        if (step.length === 0) break;
        await this.runStep(step);
      }
    } finally {
      this.running = false;
      this.notifyIfIdle();
    }
  }

  private notifyIfIdle(): void {
    if (this.running || this.waiting.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async runStep(step: PendingSequence[]): Promise<void> {
    const batch = buildBatch(step, this.pooling);
    const numTokens = batch.tokenIds.length;
    const started = performance.now();
    for (const seq of step) if (seq.request.startedAt < 0) seq.request.startedAt = started;
    let rows: Float32Array[];
    try {
      rows = await this.backend.forward(batch);
    } catch (err) {
      for (const seq of step) fail(seq.request, err);
      return;
    } finally {
      this.numQueuedTokens -= numTokens;
    }
    const seconds = (performance.now() - started) / 1000;
    this.onStep?.({ numSequences: step.length, numTokens, seconds });
    const seen = new Set<PendingRequest>();
    step.forEach((seq, i) => {
      const request = seq.request;
      if (request.settled) return;
      if (!seen.has(request)) {
        seen.add(request);
        request.inferenceSeconds += seconds;
      }
      request.rows[seq.index] = rows[i];
      request.numRemaining -= 1;
      if (request.numRemaining === 0) {
        request.settled = true;
        request.resolve({
          rows: request.rows,
          queueSeconds: (request.startedAt - request.admittedAt) / 1000,
          inferenceSeconds: request.inferenceSeconds,
        });
      }
    });
  }
}

function fail(request: PendingRequest, err: unknown): void {
  if (request.settled) return;
  request.settled = true;
  request.reject(err);
}

function buildBatch(step: readonly PendingSequence[], pooling: PoolingMode): RaggedBatch {
  const n = step.length;
  const cuSeqLens = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) cuSeqLens[i + 1] = cuSeqLens[i] + step[i].tokenIds.length;
  const tokenIds = new Int32Array(cuSeqLens[n]);
  const positions = new Int32Array(cuSeqLens[n]);
  const dimensions = new Int32Array(n);
  const normalize = new Uint8Array(n);
  step.forEach((seq, i) => {
    tokenIds.set(seq.tokenIds, cuSeqLens[i]);
    // BERT absolute positions start at 0 for every sequence (modeling_bert.py BertEmbeddings: position_ids
    // = arange(max_position_embeddings)[past_key_values_length : seq_length + past_key_values_length]).
    for (let t = 0; t < seq.tokenIds.length; t++) positions[cuSeqLens[i] + t] = t;
    dimensions[i] = seq.options.dimensions;
    normalize[i] = seq.options.normalize ? 1 : 0;
  });
  return { tokenIds, positions, tokenTypeIds: new Int32Array(tokenIds.length), cuSeqLens, pooling, dimensions, normalize };
}
