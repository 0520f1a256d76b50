// The scheduler for decoder (causal) embedding models: the same public surface and queueing rules as the encoder
// Scheduler (./scheduler.ts: one owner of the queue, (priority, arrival) order, token budget per step, sequence cap,
// cancellation, 429 past the queue limit), plus what causal attention makes possible, after vLLM v1's scheduler
// (vllm/v1/core/sched/scheduler.py) for prefill-only work:
//
// - Paged KV: every sequence's K/V lives in fixed-size blocks of the backend's KV cache, addressed through a block
//   table the KvManager (./kv/) hands out.
// - Prefix caching (on by default): an input whose leading full blocks were computed before (the same instruction
//   prompt, under the same cache salt) reuses their K/V and computes only the rest; at least its last token is always
//   computed, since LAST pooling needs that token's hidden state.
// - Chunked prefill: a step never exceeds --max-num-batched-tokens; a longer input is computed over several steps,
//   its K/V kept in its blocks, and pooled on the step that computes its last token.
// - KV memory: a sequence reserves the blocks for all its tokens when it is admitted (prefill-only work needs every
//   one of them by its last chunk anyway). When the pool is short the queue waits for running sequences to finish;
//   it never preempts and never fails, and since admitted sequences always complete, waiting cannot deadlock. An
//   input that needs more blocks than the whole cache holds is refused at submit (400).
//
// Running sequences (admitted, partly computed) get their next chunk before anything new is admitted, so memory
// held by started work is released as soon as possible. Only LAST pooling is supported: the hidden states of cached
// tokens and of earlier chunks are never computed again (vLLM likewise disables both features for other poolings);
// the Embedder falls back to the encoder Scheduler (one-shot causal forward) for them.
import type { PagedKvBackend, RaggedBatch } from '../backends/backend.js';
import { InvalidRequestError, ModelLoadError } from '../errors.js';
import type { PoolingMode } from '../model/types.js';
import { KvManager, type KvManagerStats } from './kv/kv_manager.js';
import {
  cancellationError,
  chargeStep,
  IdleWaiters,
  overloadError,
  PendingRequest,
  priorityInsertionPoint,
  refusalBeforeQueueing,
} from './request_lifecycle.js';
import type { EmbeddingScheduler, SchedulerLimits, StepStats, SubmitOptions, SubmitResult } from './scheduler.js';

/** vLLM's default block size. */
export const DEFAULT_BLOCK_SIZE = 16;
/** Default --kv-cache-memory: a 32k-token Qwen3-0.6B input in bf16 K/V (3.5 GiB) fits. */
export const DEFAULT_KV_CACHE_MEMORY_BYTES = 4 * 1024 ** 3;

export interface DecoderSchedulerOptions {
  /** Tokens per KV block (--block-size). Default DEFAULT_BLOCK_SIZE. */
  readonly blockSize?: number;
  /** Bytes of K/V the cache may hold (--kv-cache-memory); blocks = bytes / (blockSize * backend.kvBytesPerToken). */
  readonly kvCacheMemoryBytes?: number;
  /** Exact block count (the null block included) instead of a byte budget; for tests. */
  readonly numKvBlocks?: number;
  /** Reuse cached prefixes (--enable-prefix-caching / --no-enable-prefix-caching). Default true. */
  readonly enablePrefixCaching?: boolean;
  /** Seed of the prefix hash chains; default the per-process random seed (tests pin it). */
  readonly hashSeed?: Uint8Array;
}

export interface DecoderSchedulerStats {
  readonly kv: KvManagerStats;
  /** Sequences computed over more than one step (chunked prefill), since start. */
  readonly numChunkedSequences: number;
  /** Admitted sequences not finished yet (holding KV blocks). */
  readonly numRunningSequences: number;
  /** The longest input the KV cache can hold. */
  readonly maxTokensPerSequence: number;
}

/** A request and its sequences, so settling it early can find and drop all of its work. */
class DecoderRequest extends PendingRequest {
  readonly sequences: DecoderSequence[] = [];
}

interface DecoderSequence {
  /** KvManager sequence id. */
  readonly id: number;
  readonly request: DecoderRequest;
  readonly index: number;
  readonly tokenIds: Int32Array;
  readonly options: SubmitOptions;
  readonly priority: number;
  /** Tokens whose K/V is in the cache (prefix hit + computed chunks). */
  numComputed: number;
  numChunks: number;
  /** Its request settled early (cancelled or failed): no more work; its tokens no longer count as queued. */
  dropped: boolean;
}

interface StepEntry {
  readonly sequence: DecoderSequence;
  readonly numTokens: number;
}

export class DecoderScheduler implements EmbeddingScheduler {
  /** Not yet admitted, sorted by (priority, arrival). */
  private readonly waiting: DecoderSequence[] = [];
  /** Admitted and holding KV blocks, in admission order. */
  private readonly running: DecoderSequence[] = [];
  private readonly kv: KvManager;
  private numQueuedTokens = 0;
  private nextSequenceId = 1;
  private numChunkedSequences = 0;
  private draining = false;
  private closed = false;
  private currentStep: ReadonlySet<DecoderSequence> | null = null;
  private readonly idle = new IdleWaiters();
  onStep: ((stats: StepStats) => void) | null = null;

  constructor(
    private readonly backend: PagedKvBackend,
    private readonly pooling: PoolingMode,
    readonly limits: SchedulerLimits,
    opts: DecoderSchedulerOptions = {},
  ) {
    if (pooling !== 'last') {
      throw new ModelLoadError(`the decoder scheduler (paged KV, prefix caching, chunked prefill) needs LAST pooling, not '${pooling}'`);
    }
    if (!Number.isSafeInteger(limits.maxNumBatchedTokens) || limits.maxNumBatchedTokens < 1) {
      throw new ModelLoadError(`max-num-batched-tokens must be a positive integer, got ${limits.maxNumBatchedTokens}`);
    }
    const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) throw new ModelLoadError(`--block-size must be a positive integer, got ${blockSize}`);
    const bytesPerBlock = blockSize * backend.kvBytesPerToken;
    // The default fits the device; a size the user asked for is taken as asked (and refused if it cannot fit).
    const deviceMaxBytes = backend.maxKvCacheTokens === undefined ? Infinity : Math.floor(backend.maxKvCacheTokens / blockSize) * bytesPerBlock;
    const memory = opts.kvCacheMemoryBytes ?? Math.min(DEFAULT_KV_CACHE_MEMORY_BYTES, deviceMaxBytes);
    const numBlocks = opts.numKvBlocks ?? Math.floor(memory / bytesPerBlock);
    if (!Number.isSafeInteger(numBlocks) || numBlocks < 2) {
      throw new ModelLoadError(
        `--kv-cache-memory ${memory} bytes holds ${numBlocks} KV block(s) of ${blockSize} tokens (${bytesPerBlock} bytes each on the ` +
          `${backend.name} backend); at least 2 are needed (block 0 is reserved)`,
      );
    }
    this.kv = new KvManager({ numBlocks, blockSize, enablePrefixCaching: opts.enablePrefixCaching ?? true, hashSeed: opts.hashSeed });
    backend.initKvCache({ numBlocks, blockSize });
  }

  get queuedTokens(): number {
    return this.numQueuedTokens;
  }

  get numWaitingSequences(): number {
    return this.waiting.length;
  }

  get blockSize(): number {
    return this.kv.blockSize;
  }

  get prefixCachingEnabled(): boolean {
    return this.kv.prefixCache !== null;
  }

  get stats(): DecoderSchedulerStats {
    return {
      kv: this.kv.stats,
      numChunkedSequences: this.numChunkedSequences,
      numRunningSequences: this.running.length,
      maxTokensPerSequence: this.kv.maxTokensPerSequence,
    };
  }

  /** Queue the sequences of one request; resolves with one pooled row per sequence, in order. */
  submit(sequences: readonly Int32Array[], options: SubmitOptions): Promise<SubmitResult> {
    const refusal = refusalBeforeQueueing(this.closed, options);
    if (refusal !== null) return Promise.reject(refusal);
    if (sequences.length === 0) return Promise.resolve({ rows: [], queueSeconds: 0, inferenceSeconds: 0 });
    let numTokens = 0;
    for (let i = 0; i < sequences.length; i++) {
      const length = sequences[i].length;
      if (length === 0) return Promise.reject(new InvalidRequestError('Inputs must not be empty.', sequences.length === 1 ? 'input' : `input[${i}]`));
      if (length > this.kv.maxTokensPerSequence) {
        return Promise.reject(
          new InvalidRequestError(
            `Input of ${length} tokens needs more KV cache than the server has (${this.kv.maxTokensPerSequence} tokens: ` +
              `${this.kv.pool.numUsableBlocks} blocks of ${this.kv.blockSize}). Shorten it, or start the server with a larger --kv-cache-memory.`,
            sequences.length === 1 ? 'input' : `input[${i}]`,
            'kv_cache_too_small',
          ),
        );
      }
      numTokens += length;
    }
    const overload = overloadError(this.numQueuedTokens, numTokens, this.limits.maxQueuedTokens);
    if (overload !== null) return Promise.reject(overload);
    return new Promise<SubmitResult>((resolve, reject) => {
      const request = new DecoderRequest(sequences.length, resolve, reject);
      const priority = options.priority ?? 0;
      for (let index = 0; index < sequences.length; index++) {
        request.sequences.push({
          id: this.nextSequenceId++,
          request,
          index,
          tokenIds: sequences[index],
          options,
          priority,
          numComputed: 0,
          numChunks: 0,
          dropped: false,
        });
      }
      this.waiting.splice(priorityInsertionPoint(this.waiting, priority), 0, ...request.sequences);
      this.numQueuedTokens += numTokens;
      options.signal?.addEventListener('abort', () => this.settleEarly(request, options.signal!.reason, 'cancel'), { once: true });
      void this.drain();
    });
  }

  /** Stop admitting; resolves once everything admitted has finished. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.isIdle()) return;
    await this.idle.wait();
  }

  private isIdle(): boolean {
    return !this.draining && this.waiting.length === 0 && this.running.length === 0;
  }

  /**
   * Settles a request before its rows are all computed (cancelled, or its step failed) and drops its remaining
   * work: waiting sequences leave the queue, running ones release their blocks (at once, or after the step that is
   * computing them).
   */
  private settleEarly(request: DecoderRequest, reason: unknown, why: 'cancel' | 'failure'): void {
    if (request.settled) return;
    for (const sequence of request.sequences) {
      if (sequence.dropped) continue;
      sequence.dropped = true;
      this.numQueuedTokens -= sequence.tokenIds.length - sequence.numComputed;
      const waitingIndex = this.waiting.indexOf(sequence);
      if (waitingIndex >= 0) this.waiting.splice(waitingIndex, 1);
      else if (this.currentStep === null || !this.currentStep.has(sequence)) this.retire(sequence);
    }
    request.fail(why === 'cancel' ? cancellationError(reason, request.hasStarted) : reason);
    this.notifyIfIdle();
  }

  /** A running sequence is done (finished or dropped): its blocks go back to the pool, tail first. */
  private retire(sequence: DecoderSequence): void {
    const index = this.running.indexOf(sequence);
    if (index >= 0) this.running.splice(index, 1);
    this.kv.free(sequence.id);
  }

  /** Reserves KV for a waiting sequence, reusing its cached prefix; false when the pool is short. */
  private admit(sequence: DecoderSequence): boolean {
    const salt = sequence.options.cacheSalt ?? null;
    const prefix = this.kv.findCachedPrefix(sequence.tokenIds, salt);
    const blocks = this.kv.allocateSlots(sequence.id, sequence.tokenIds.length - prefix.numTokens, { tokenIds: sequence.tokenIds, salt, prefix });
    if (blocks === null) return false;
    sequence.numComputed = prefix.numTokens;
    this.numQueuedTokens -= prefix.numTokens; // served from the cache: never computed
    return true;
  }

  private takeStep(): StepEntry[] {
    const entries: StepEntry[] = [];
    let budget = this.limits.maxNumBatchedTokens;
    for (const sequence of this.running) {
      if (entries.length >= this.limits.maxNumSeqs || budget === 0) break;
      const numTokens = Math.min(sequence.tokenIds.length - sequence.numComputed, budget);
      entries.push({ sequence, numTokens });
      budget -= numTokens;
    }
    while (this.waiting.length > 0 && entries.length < this.limits.maxNumSeqs && budget > 0) {
      const next = this.waiting[0];
      // Head-of-line: when the first in line does not fit, later (lower-priority) ones wait too, so a long input is
      // never starved by a stream of short ones.
      if (!this.admit(next)) break;
      this.waiting.shift();
      this.running.push(next);
      const numTokens = Math.min(next.tokenIds.length - next.numComputed, budget);
      entries.push({ sequence: next, numTokens });
      budget -= numTokens;
    }
    return entries;
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const step = this.takeStep();
        if (step.length === 0) {
          // With nothing running every block is free, and submit() refused inputs larger than the cache, so the head
          // of the queue always fits an idle cache. Should that ever break, fail it loudly rather than hang.
          if (this.waiting.length === 0 || this.running.length > 0) break;
          this.settleEarly(this.waiting[0].request, new Error('internal: the KV cache cannot admit the next input even when idle'), 'failure');
          continue;
        }
        await this.runStep(step);
      }
    } finally {
      this.draining = false;
      this.notifyIfIdle();
    }
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    this.idle.release();
  }

  private async runStep(step: StepEntry[]): Promise<void> {
    const batch = this.buildBatch(step);
    const numTokens = batch.tokenIds.length;
    const started = performance.now();
    for (const { sequence } of step) sequence.request.markStarted(started);
    this.currentStep = new Set(step.map((entry) => entry.sequence));
    const numLastChunks = step.filter(({ sequence, numTokens: chunk }) => sequence.numComputed + chunk === sequence.tokenIds.length).length;
    let rows: Float32Array[];
    try {
      rows = await this.backend.forward(batch);
      if (rows.length !== numLastChunks) {
        throw new Error(`internal: the ${this.backend.name} backend returned ${rows.length} rows for a step with ${numLastChunks} last chunks`);
      }
    } catch (err) {
      this.currentStep = null;
      // The chunks' K/V may be half written: none of it is committed, so none of it can be reused. Every request
      // with a sequence in the step fails as a whole, and all of its work is dropped.
      for (const { sequence } of step) {
        this.settleEarly(sequence.request, err, 'failure');
        if (this.running.includes(sequence)) this.retire(sequence); // dropped earlier (cancelled) while in this step
      }
      return;
    }
    this.currentStep = null;
    const seconds = (performance.now() - started) / 1000;
    this.onStep?.({ numSequences: step.length, numTokens, seconds });
    chargeStep(
      step.filter(({ sequence }) => !sequence.dropped).map(({ sequence }) => sequence.request),
      seconds,
    );
    let rowIndex = 0;
    for (const { sequence, numTokens: chunk } of step) {
      const isLast = sequence.numComputed + chunk === sequence.tokenIds.length;
      const row = isLast ? rows[rowIndex++] : undefined;
      // K/V of a dropped sequence's chunk is still correct: committing it lets later requests reuse it.
      this.kv.commitComputed(sequence.id, chunk);
      sequence.numComputed += chunk;
      sequence.numChunks++;
      if (sequence.dropped) {
        this.retire(sequence);
        continue;
      }
      this.numQueuedTokens -= chunk;
      if (!isLast) continue;
      if (sequence.numChunks > 1) this.numChunkedSequences++;
      this.retire(sequence);
      sequence.request.deliver(sequence.index, row!);
    }
  }

  /** One ragged batch of chunks, each with its block table and the count of tokens already in the cache. */
  private buildBatch(step: readonly StepEntry[]): RaggedBatch {
    const n = step.length;
    const cuSeqLens = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) cuSeqLens[i + 1] = cuSeqLens[i] + step[i].numTokens;
    const tokenIds = new Int32Array(cuSeqLens[n]);
    const positions = new Int32Array(cuSeqLens[n]);
    const dimensions = new Int32Array(n);
    const normalize = new Uint8Array(n);
    const numCachedTokens = new Int32Array(n);
    const isLastChunk = new Uint8Array(n);
    const blockTables: Int32Array[] = [];
    step.forEach(({ sequence, numTokens }, i) => {
      const start = sequence.numComputed;
      tokenIds.set(sequence.tokenIds.subarray(start, start + numTokens), cuSeqLens[i]);
      // Decoder positions continue where the cached tokens end (Qwen3Model: position_ids = cache_position =
      // arange(past_seen_tokens, past_seen_tokens + new tokens)).
      for (let t = 0; t < numTokens; t++) positions[cuSeqLens[i] + t] = start + t;
      dimensions[i] = sequence.options.dimensions;
      normalize[i] = sequence.options.normalize ? 1 : 0;
      numCachedTokens[i] = start;
      isLastChunk[i] = start + numTokens === sequence.tokenIds.length ? 1 : 0;
      blockTables.push(this.kv.blockTable(sequence.id));
    });
    return { tokenIds, positions, cuSeqLens, pooling: this.pooling, dimensions, normalize, blockTables, numCachedTokens, isLastChunk };
  }
}
