// What both schedulers (encoder: src/engine/scheduler.ts; decoder with paged KV: src/engine/decoder_scheduler.ts)
// do the same way with a request: admission by queued tokens, (priority, arrival) ordering, cancellation reasons,
// and collecting one pooled row per sequence until the request can resolve.
import { OverloadedError } from '../errors.js';
import type { PhasedReason, SubmitOptions, SubmitResult } from './scheduler_types.js';

export function isPhasedReason(reason: unknown): reason is PhasedReason {
  return typeof reason === 'object' && reason !== null && typeof (reason as PhasedReason).phasedReason === 'function';
}

/** The error a cancelled request rejects with: a phased reason picks its variant by whether compute had started. */
export function cancellationError(reason: unknown, started: boolean): unknown {
  return isPhasedReason(reason) ? reason.phasedReason(started ? 'running' : 'queued') : reason;
}

/** Why a request can't even be queued (shutting down, already cancelled), or null. */
export function refusalBeforeQueueing(closed: boolean, options: SubmitOptions): unknown {
  if (closed) return new OverloadedError('The server is shutting down.');
  if (options.signal?.aborted) return cancellationError(options.signal.reason, false);
  return null;
}

/**
 * 429 when admitting `numTokens` more would pass the queue limit. An empty queue always admits, so one request
 * larger than the limit can still be served alone.
 */
export function overloadError(numQueuedTokens: number, numTokens: number, maxQueuedTokens: number): OverloadedError | null {
  if (numQueuedTokens === 0 || numQueuedTokens + numTokens <= maxQueuedTokens) return null;
  return new OverloadedError(
    `The server is busy: ${numQueuedTokens} tokens are queued and this request adds ${numTokens} ` + `(limit ${maxQueuedTokens}). Retry shortly.`,
  );
}

/** First index whose priority is greater than `priority`: lower priority first, equal ones in arrival order. */
export function priorityInsertionPoint(waiting: readonly { readonly priority: number }[], priority: number): number {
  let lo = 0;
  let hi = waiting.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (waiting[mid].priority <= priority) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One request in flight: its rows fill in as its sequences finish, in any order. */
export class PendingRequest {
  readonly rows: Float32Array[];
  readonly admittedAt = performance.now();
  startedAt = -1;
  inferenceSeconds = 0;
  numRemaining: number;
  settled = false;

  constructor(
    numSequences: number,
    private readonly resolveResult: (result: SubmitResult) => void,
    private readonly rejectResult: (err: unknown) => void,
  ) {
    this.rows = new Array<Float32Array>(numSequences);
    this.numRemaining = numSequences;
  }

  get hasStarted(): boolean {
    return this.startedAt >= 0;
  }

  markStarted(now: number): void {
    if (this.startedAt < 0) this.startedAt = now;
  }

  /** Stores sequence `index`'s row; resolves the request once every row is in. */
  deliver(index: number, row: Float32Array): void {
    if (this.settled) return;
    this.rows[index] = row;
    this.numRemaining -= 1;
    if (this.numRemaining > 0) return;
    this.settled = true;
    this.resolveResult({ rows: this.rows, queueSeconds: (this.startedAt - this.admittedAt) / 1000, inferenceSeconds: this.inferenceSeconds });
  }

  fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectResult(err);
  }
}

/** Adds a step's compute time once to every request that had a sequence in it. */
export function chargeStep(requests: Iterable<PendingRequest>, seconds: number): void {
  for (const request of new Set(requests)) if (!request.settled) request.inferenceSeconds += seconds;
}

/** Callers of close() waiting for the scheduler to go idle. */
export class IdleWaiters {
  private waiters: (() => void)[] = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
