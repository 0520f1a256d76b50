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
import {
  cancellationError,
  chargeStep,
  IdleWaiters,
  overloadError,
  PendingRequest,
  priorityInsertionPoint,
  refusalBeforeQueueing,
} from './request_lifecycle.js';
import type { SubmitOptions, SubmitResult } from './scheduler_types.js';

export type { PhasedReason, SubmitOptions, SubmitResult } from './scheduler_types.js';

export interface SchedulerLimits {
  /** Token budget of one step (sum of sequence lengths in one ragged batch). */
  readonly maxNumBatchedTokens: number;
  /** Max sequences in one step. */
  readonly maxNumSeqs: number;
  /** Max tokens waiting in the queue; beyond it new requests are refused (429). */
  readonly maxQueuedTokens: number;
}

interface PendingSequence {
  readonly request: PendingRequest;
  readonly index: number;
  readonly tokenIds: Int32Array;
  /** Segment ids, or null for all zeros. */
  readonly tokenTypeIds: Int32Array | null;
  readonly options: SubmitOptions;
  readonly priority: number;
}

export interface StepStats {
  readonly numSequences: number;
  readonly numTokens: number;
  readonly seconds: number;
}

export { isPhasedReason } from './request_lifecycle.js';

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
  private running = false;
  private closed = false;
  private readonly idle = new IdleWaiters();
  /** Called after every step (metrics hook). */
  onStep: ((stats: StepStats) => void) | null = null;

  /**
   * `firstPosition`: the position id of every sequence's first token, from the model's ArchitectureSpec
   * (firstPositionOf in src/model/architectures/registry.ts): 0 for BERT, pad_token_id + 1 for RoBERTa.
   */
  constructor(
    private readonly backend: Backend,
    private readonly pooling: PoolingMode,
    readonly limits: SchedulerLimits,
    private readonly firstPosition: number,
  ) {}

  get queuedTokens(): number {
    return this.numQueuedTokens;
  }

  get numWaitingSequences(): number {
    return this.waiting.length;
  }

  /** Queue the sequences of one request; resolves with one pooled row per sequence, in order. */
  submit(sequences: readonly Int32Array[], options: SubmitOptions): Promise<SubmitResult> {
    const refusal = refusalBeforeQueueing(this.closed, options);
    if (refusal !== null) return Promise.reject(refusal);
    if (sequences.length === 0) return Promise.resolve({ rows: [], queueSeconds: 0, inferenceSeconds: 0 });
    let numTokens = 0;
    for (const s of sequences) numTokens += s.length;
    const types = options.tokenTypeIds;
    if (types !== undefined && (types.length !== sequences.length || types.some((t, i) => t.length !== sequences[i].length))) {
      return Promise.reject(new RangeError('submit: tokenTypeIds must give one array per sequence, as long as the sequence'));
    }
    const overload = overloadError(this.numQueuedTokens, numTokens, this.limits.maxQueuedTokens);
    if (overload !== null) return Promise.reject(overload);
    return new Promise<SubmitResult>((resolve, reject) => {
      const request = new PendingRequest(sequences.length, resolve, reject);
      const priority = options.priority ?? 0;
      const entries = sequences.map((tokenIds, index) => ({ request, index, tokenIds, tokenTypeIds: types?.[index] ?? null, options, priority }));
      this.waiting.splice(priorityInsertionPoint(this.waiting, priority), 0, ...entries);
      this.numQueuedTokens += numTokens;
      options.signal?.addEventListener('abort', () => this.cancel(request, options.signal!.reason), { once: true });
      void this.drain();
    });
  }

  /** Stop admitting; resolves once everything admitted has finished. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.running && this.waiting.length === 0) return;
    await this.idle.wait();
  }

  private cancel(request: PendingRequest, reason: unknown): void {
    if (request.settled) return;
    // Free its queued tokens now, so a cancelled request stops counting against admission at once.
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (this.waiting[i].request === request) {
        this.numQueuedTokens -= this.waiting[i].tokenIds.length;
        this.waiting.splice(i, 1);
      }
    }
    request.fail(cancellationError(reason, request.hasStarted));
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
    if (!this.running && this.waiting.length === 0) this.idle.release();
  }

  private async runStep(step: PendingSequence[]): Promise<void> {
    const batch = buildBatch(step, this.pooling, this.firstPosition);
    const numTokens = batch.tokenIds.length;
    const started = performance.now();
    for (const seq of step) seq.request.markStarted(started);
    let rows: Float32Array[];
    try {
      rows = await this.backend.forward(batch);
    } catch (err) {
      for (const seq of step) seq.request.fail(err);
      return;
    } finally {
      this.numQueuedTokens -= numTokens;
    }
    const seconds = (performance.now() - started) / 1000;
    this.onStep?.({ numSequences: step.length, numTokens, seconds });
    chargeStep(
      step.map((seq) => seq.request),
      seconds,
    );
    step.forEach((seq, i) => seq.request.deliver(seq.index, rows[i]));
  }
}

function buildBatch(step: readonly PendingSequence[], pooling: PoolingMode, firstPosition: number): RaggedBatch {
  const n = step.length;
  const cuSeqLens = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) cuSeqLens[i + 1] = cuSeqLens[i] + step[i].tokenIds.length;
  const tokenIds = new Int32Array(cuSeqLens[n]);
  const positions = new Int32Array(cuSeqLens[n]);
  const tokenTypeIds = new Int32Array(cuSeqLens[n]);
  const dimensions = new Int32Array(n);
  const normalize = new Uint8Array(n);
  step.forEach((seq, i) => {
    tokenIds.set(seq.tokenIds, cuSeqLens[i]);
    if (seq.tokenTypeIds !== null) tokenTypeIds.set(seq.tokenTypeIds, cuSeqLens[i]);
    // Absolute positions restart for every sequence at the family's first position (the spec's firstPosition:
    // BERT's BertEmbeddings counts from 0, RoBERTa's from pad_token_id + 1).
    for (let t = 0; t < seq.tokenIds.length; t++) positions[cuSeqLens[i] + t] = firstPosition + t;
    dimensions[i] = seq.options.dimensions;
    normalize[i] = seq.options.normalize ? 1 : 0;
  });
  return { tokenIds, positions, tokenTypeIds, cuSeqLens, pooling, dimensions, normalize };
}
