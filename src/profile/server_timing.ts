// The stage times a server reports per request in response headers (TEI's names, milliseconds; pooled sets
// them in src/server/request_control.ts): time spent tokenizing, waiting in the queue, and computing. A
// client cannot measure these, and AIPerf does not read them; with them each latency splits into where the
// time went. Servers that send none (vLLM, Infinity) simply give no breakdown.
import type { IncomingHttpHeaders } from 'node:http';

export interface ServerTiming {
  readonly tokenizationMs: number;
  readonly queueMs: number;
  readonly inferenceMs: number;
  /** x-total-time: the server's own view of the request (parse to reply), when it sends it. */
  readonly totalMs: number | null;
}

export const SERVER_TIMING_HEADERS = {
  tokenization: 'x-tokenization-time',
  queue: 'x-queue-time',
  inference: 'x-inference-time',
  total: 'x-total-time',
} as const;

function headerMs(headers: Readonly<IncomingHttpHeaders>, name: string): number | null {
  const raw = headers[name];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) && value >= 0 ? value : null;
}

/** The three stage times, or null unless the server sent all three as non-negative numbers. */
export function parseServerTiming(headers: Readonly<IncomingHttpHeaders>): ServerTiming | null {
  const tokenizationMs = headerMs(headers, SERVER_TIMING_HEADERS.tokenization);
  const queueMs = headerMs(headers, SERVER_TIMING_HEADERS.queue);
  const inferenceMs = headerMs(headers, SERVER_TIMING_HEADERS.inference);
  if (tokenizationMs === null || queueMs === null || inferenceMs === null) return null;
  return { tokenizationMs, queueMs, inferenceMs, totalMs: headerMs(headers, SERVER_TIMING_HEADERS.total) };
}
