// Per-request scheduling controls: cancellation when the client disconnects or the --request-timeout deadline
// passes (so abandoned work is dropped before it costs compute), the request's priority, and the timing
// headers (TEI's names, milliseconds) that tell a client where its time went.
import type { FastifyReply, FastifyRequest } from 'fastify';

import { ClientClosedError, DeadlineExceededError } from '../errors.js';
import type { EmbedResult, RequestControl } from '../engine/embedder.js';
import type { PhasedReason } from '../engine/scheduler.js';
import type { ServerMetrics } from './metrics.js';

export function requestControl(
  request: FastifyRequest,
  reply: FastifyReply,
  timeoutSeconds: number,
  scheduling: Pick<RequestControl, 'priority' | 'cacheSalt'> = {},
): RequestControl {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(new ClientClosedError());
  };
  reply.raw.once('close', onClose);
  let timer: NodeJS.Timeout | undefined;
  if (timeoutSeconds > 0) {
    const elapsed = (performance.now() - startOf(request)) / 1000;
    const reason: PhasedReason = { phasedReason: (phase) => new DeadlineExceededError(timeoutSeconds, phase) };
    timer = setTimeout(() => controller.abort(reason), Math.max(0, (timeoutSeconds - elapsed) * 1000));
    timer.unref();
  }
  reply.raw.once('finish', () => clearTimeout(timer));
  reply.raw.once('close', () => clearTimeout(timer));
  return { signal: controller.signal, ...scheduling };
}

const startTimes = new WeakMap<FastifyRequest, number>();

export function markStart(request: FastifyRequest): void {
  startTimes.set(request, performance.now());
}

export function startOf(request: FastifyRequest): number {
  return startTimes.get(request) ?? performance.now();
}

/** Sets the timing headers and records the request's stage times in the metrics. */
export function reportTimings(
  request: FastifyRequest,
  reply: FastifyReply,
  metrics: ServerMetrics,
  tokenizationSeconds: number,
  result: Pick<EmbedResult, 'numPromptTokens' | 'queueSeconds' | 'inferenceSeconds'>,
  sequences: readonly Int32Array[],
): void {
  const ms = (s: number) => (s * 1000).toFixed(3);
  reply.header('x-tokenization-time', ms(tokenizationSeconds));
  reply.header('x-queue-time', ms(result.queueSeconds));
  reply.header('x-inference-time', ms(result.inferenceSeconds));
  reply.header('x-total-time', ms((performance.now() - startOf(request)) / 1000));
  reply.header('x-compute-tokens', String(result.numPromptTokens));
  metrics.tokenizationSeconds.observe(tokenizationSeconds);
  metrics.queueSeconds.observe(result.queueSeconds);
  metrics.inferenceSeconds.observe(result.inferenceSeconds);
  for (const s of sequences) metrics.inputTokens.observe(s.length);
}
