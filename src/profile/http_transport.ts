// One HTTP exchange with the timestamps a benchmark needs: issued, headers received (ack), each streamed
// event, last byte. node:http rather than fetch because it tells a reset socket from a timeout from a
// server error precisely, and lets one keep-alive agent per load point bound the connections.
import http from 'node:http';
import https from 'node:https';
import { nowEpochNs } from './clock.js';
import type { RequestError } from './records.js';
import { SseParser } from './sse.js';

export interface HttpExchangeRequest {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  /** Parse the body as server-sent events and timestamp each event. */
  readonly streaming: boolean;
  readonly agent: http.Agent;
}

export interface TimedEvent {
  readonly atNs: bigint;
  readonly data: string;
}

export interface HttpExchange {
  readonly startNs: bigint;
  readonly ackNs: bigint | null;
  readonly endNs: bigint;
  readonly status: number | null;
  /** Response headers (names lower-cased); empty when no response arrived. */
  readonly headers: Readonly<http.IncomingHttpHeaders>;
  readonly body: string;
  readonly events: readonly TimedEvent[];
  /** Transport-level failure (no answer, dropped, timed out) or a non-2xx status; null when 2xx and complete. */
  readonly error: RequestError | null;
}

export function createAgent(url: URL): http.Agent {
  // No socket cap: the load generator is what bounds concurrency, and a cap here would hide queueing
  // inside the client from the latency numbers.
  const options = { keepAlive: true, maxSockets: Infinity };
  return url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}

function connectionError(error: NodeJS.ErrnoException): RequestError {
  const code = error.code ? `${error.code}: ` : '';
  return { code: null, type: 'ConnectionError', message: `${code}${error.message}` };
}

function httpErrorMessage(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (message) return `HTTP ${status}: ${message}`;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  const text = body.trim().slice(0, 200);
  return text ? `HTTP ${status}: ${text}` : `HTTP ${status}`;
}

export function sendHttpRequest(request: HttpExchangeRequest): Promise<HttpExchange> {
  const transport = request.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const startNs = nowEpochNs();
    let ackNs: bigint | null = null;
    let status: number | null = null;
    let headers: http.IncomingHttpHeaders = {};
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const bodyParts: string[] = [];
    const events: TimedEvent[] = [];
    const sse = request.streaming ? new SseParser() : null;

    const settle = (error: RequestError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const endNs = nowEpochNs();
      if (sse) for (const data of sse.end()) events.push({ atNs: endNs, data });
      const body = bodyParts.join('');
      const httpError: RequestError | null =
        error ?? (status !== null && (status < 200 || status >= 300) ? { code: status, type: 'HTTPError', message: httpErrorMessage(status, body) } : null);
      resolve({ startNs, ackNs, endNs, status, headers, body, events, error: httpError });
    };

    const req = transport.request(
      request.url,
      {
        method: 'POST',
        agent: request.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(request.body), ...request.headers },
      },
      (res) => {
        ackNs = nowEpochNs();
        status = res.statusCode ?? null;
        headers = res.headers;
        const closedEarly = (): void => settle({ code: status, type: 'ConnectionError', message: 'connection closed before the response was complete' });
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          bodyParts.push(chunk);
          if (sse && status !== null && status < 300) {
            const atNs = nowEpochNs();
            for (const data of sse.push(chunk)) events.push({ atNs, data });
          }
        });
        res.on('end', () => {
          // node sets `complete` only when the whole message arrived; a server that closed mid-body ends the
          // stream without it.
          if (!res.complete) closedEarly();
          else settle(null);
        });
        res.on('aborted', closedEarly);
        res.on('error', (error: NodeJS.ErrnoException) => settle({ ...connectionError(error), code: status }));
        // Last resort: whichever of end/aborted/error a node version emits for a cut body, close always comes.
        res.on('close', () => (res.complete ? settle(null) : closedEarly()));
      },
    );
    // A deadline on the whole exchange, not the socket's idle timeout: a server trickling bytes still times out.
    timer = setTimeout(() => {
      settle({ code: status, type: 'TimeoutError', message: `no complete response within ${request.timeoutMs / 1000} s` });
      req.destroy();
    }, request.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => settle(connectionError(error)));
    req.end(request.body);
  });
}
