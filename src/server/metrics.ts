// Prometheus metrics (prom-client), on a registry of the server's own so several servers in one process (tests)
// never collide. Names follow Prometheus conventions: base units (seconds), _total for counters.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { Backend } from '../backends/backend.js';
import { DecoderScheduler } from '../engine/decoder_scheduler.js';
import type { EmbeddingScheduler, StepStats } from '../engine/scheduler.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
const TOKEN_BUCKETS = [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];

/** A backend whose working memory can be read (the native backend). */
interface WorkingBufferReporter {
  readonly workingBufferBytes: number;
}

function reportsWorkingBuffers(backend: Backend): backend is Backend & WorkingBufferReporter {
  return typeof (backend as Partial<WorkingBufferReporter>).workingBufferBytes === 'number';
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'pooled_requests_total',
    help: 'HTTP requests by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: 'pooled_request_duration_seconds',
    help: 'Total time of a request, from arrival to response',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly tokenizationSeconds = new Histogram({
    name: 'pooled_tokenization_duration_seconds',
    help: 'Time spent tokenizing one request',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly queueSeconds = new Histogram({
    name: 'pooled_queue_duration_seconds',
    help: 'Time a request waited before its first batch started',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly inferenceSeconds = new Histogram({
    name: 'pooled_inference_duration_seconds',
    help: 'Backend compute time of the batches that carried one request',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'pooled_batch_size',
    help: 'Sequences in one batch',
    buckets: SIZE_BUCKETS,
    registers: [this.registry],
  });
  readonly batchTokens = new Histogram({
    name: 'pooled_batch_tokens',
    help: 'Tokens in one batch',
    buckets: TOKEN_BUCKETS,
    registers: [this.registry],
  });
  readonly inputTokens = new Histogram({
    name: 'pooled_input_tokens',
    help: 'Tokens of one input (special tokens included)',
    buckets: TOKEN_BUCKETS,
    registers: [this.registry],
  });
  readonly batchSeconds = new Histogram({
    name: 'pooled_batch_duration_seconds',
    help: 'Backend compute time of one batch',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  constructor(scheduler: EmbeddingScheduler, backend?: Backend) {
    if (scheduler instanceof DecoderScheduler) this.addKvCacheGauges(scheduler);
    if (backend !== undefined && reportsWorkingBuffers(backend)) this.addWorkingBufferGauge(backend);
    collectDefaultMetrics({ register: this.registry, prefix: 'pooled_' });
    new Gauge({
      name: 'pooled_queue_tokens',
      help: 'Tokens waiting in the queue or in the running batch',
      registers: [this.registry],
      collect() {
        this.set(scheduler.queuedTokens);
      },
    });
    new Gauge({
      name: 'pooled_queue_sequences',
      help: 'Sequences waiting in the queue',
      registers: [this.registry],
      collect() {
        this.set(scheduler.numWaitingSequences);
      },
    });
  }

  /** vLLM's KV and prefix-cache metrics, read from the decoder scheduler's counters when scraped. */
  private addKvCacheGauges(scheduler: DecoderScheduler): void {
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    gauge('pooled_kv_cache_usage_ratio', 'Fraction of KV blocks held by running sequences', () => scheduler.stats.kv.usage);
    gauge(
      'pooled_prefix_cache_queries_tokens_total',
      'Prompt tokens looked up in the prefix cache',
      () => scheduler.stats.kv.prefixCache?.numQueriedTokens ?? 0,
    );
    gauge('pooled_prefix_cache_hits_tokens_total', 'Prompt tokens served from the prefix cache', () => scheduler.stats.kv.prefixCache?.numHitTokens ?? 0);
    gauge('pooled_chunked_prefill_sequences_total', 'Inputs computed over several steps (chunked prefill)', () => scheduler.stats.numChunkedSequences);
    gauge('pooled_kv_cache_evicted_blocks_total', 'Cached KV blocks evicted to make room', () => scheduler.stats.kv.numEvictedBlocks);
  }

  /** The native engine's per-batch buffers: they grow with the largest batch and go back after an idle period. */
  private addWorkingBufferGauge(backend: WorkingBufferReporter): void {
    new Gauge({
      name: 'pooled_native_working_buffer_bytes',
      help: 'Per-batch working buffers the native engine holds (activations, scratch; not weights or KV cache)',
      registers: [this.registry],
      collect() {
        this.set(backend.workingBufferBytes);
      },
    });
  }

  observeStep(stats: StepStats): void {
    this.batchSize.observe(stats.numSequences);
    this.batchTokens.observe(stats.numTokens);
    this.batchSeconds.observe(stats.seconds);
  }
}
