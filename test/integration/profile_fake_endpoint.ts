// A small, independent OpenAI/Cohere-compatible endpoint for the profiler's tests. Its behaviour per request
// is scripted (delay, HTTP error, dropped connection, streamed chat) so tests know exactly what the profiler
// should have measured. Token usage is computed here by a rule of its own (words + 2 per text), unrelated to
// the profiler's tokenizer, so a test can tell "read from usage" apart from "counted by the client".
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeBehaviour =
  | { readonly kind: 'ok'; readonly delayMs?: number }
  | { readonly kind: 'status'; readonly status: number; readonly delayMs?: number }
  /** Headers and half a body, then the socket is destroyed. */
  | { readonly kind: 'drop' }
  /** The socket is destroyed before any response byte. */
  | { readonly kind: 'reset' }
  /** A 200 whose `data` list is shorter than the inputs. */
  | { readonly kind: 'short' };

export interface FakeEndpointOptions {
  /** Behaviour of the n-th request to an embedding route (0-based, in arrival order). */
  readonly behaviour?: (requestIndex: number) => FakeBehaviour;
  /** Streaming chat: number of content chunks and the gap between them. */
  readonly chatChunks?: number;
  readonly chatChunkIntervalMs?: number;
  readonly chatFirstChunkDelayMs?: number;
  /** Header every request must carry (e.g. authorization), else 401. */
  readonly requiredHeader?: readonly [string, string];
}

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

export interface FakeEndpoint {
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Maximum number of requests that were being handled at the same time. */
  readonly maxInFlight: () => number;
  close(): Promise<void>;
}

/** The fake's own token rule: whitespace-separated words + 2 (as if [CLS] and [SEP] were added). */
export function fakeUsageTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length + 2;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function textsOf(body: Record<string, unknown>): string[] {
  const input = body.input ?? body.texts;
  if (typeof input === 'string') return [input];
  if (Array.isArray(input)) return input.map(String);
  return [];
}

export async function startFakeEndpoint(options: FakeEndpointOptions = {}): Promise<FakeEndpoint> {
  const received: ReceivedRequest[] = [];
  let numEmbeddingRequests = 0;
  let numServed = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const behaviour = options.behaviour ?? (() => ({ kind: 'ok' }) as const);

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(`# TYPE fake_requests_total counter\nfake_requests_total{route="embed"} ${numServed}\nfake_up 1\n`);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          received.push({ path: req.url ?? '', headers: req.headers, body });
          if (options.requiredHeader && req.headers[options.requiredHeader[0]] !== options.requiredHeader[1]) {
            res.writeHead(401, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { message: 'missing credentials', type: 'invalid_request_error' } }));
            return;
          }
          if (req.url === '/v1/chat/completions') await serveChat(body, res, options);
          else await serveEmbeddings(req.url ?? '', body, res, behaviour(numEmbeddingRequests++));
          numServed++;
        } finally {
          inFlight--;
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `127.0.0.1:${port}`,
    received,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serveEmbeddings(path: string, body: Record<string, unknown>, res: http.ServerResponse, behaviour: FakeBehaviour): Promise<void> {
  if ('delayMs' in behaviour && behaviour.delayMs) await sleep(behaviour.delayMs);
  const texts = textsOf(body);
  if (behaviour.kind === 'reset') {
    res.socket?.destroy();
    return;
  }
  if (behaviour.kind === 'status') {
    res.writeHead(behaviour.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `injected ${behaviour.status}`, type: 'server_error' } }));
    return;
  }
  const numTokens = texts.reduce((sum, text) => sum + fakeUsageTokens(text), 0);
  const numRows = behaviour.kind === 'short' ? Math.max(0, texts.length - 1) : texts.length;
  const rows = Array.from({ length: numRows }, (_, index) => ({ object: 'embedding', index, embedding: [0.6, 0.8] }));
  const payload =
    path === '/v2/embed'
      ? {
          id: 'fake',
          embeddings: { float: rows.map((r) => r.embedding) },
          texts,
          meta: { api_version: { version: '2' }, billed_units: { input_tokens: numTokens } },
        }
      : { object: 'list', data: rows, model: body.model, usage: { prompt_tokens: numTokens, total_tokens: numTokens } };
  const json = JSON.stringify(payload);
  if (behaviour.kind === 'drop') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.write(json.slice(0, json.length >> 1));
    await sleep(5);
    res.socket?.destroy();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(json);
}

async function serveChat(body: Record<string, unknown>, res: http.ServerResponse, options: FakeEndpointOptions): Promise<void> {
  const numChunks = options.chatChunks ?? 5;
  const messages = body.messages as { content: unknown }[];
  const content = messages[0]!.content;
  const promptText =
    typeof content === 'string'
      ? content
      : (content as { type: string; text?: string }[])
          .filter((p) => p.type === 'text')
          .map((p) => p.text)
          .join(' ');
  const usage = { prompt_tokens: fakeUsageTokens(promptText), completion_tokens: numChunks, total_tokens: fakeUsageTokens(promptText) + numChunks };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'c',
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: 'word '.repeat(numChunks) } }],
        usage,
      }),
    );
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  await sleep(options.chatFirstChunkDelayMs ?? 0);
  for (let i = 0; i < numChunks; i++) {
    if (i > 0) await sleep(options.chatChunkIntervalMs ?? 0);
    res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'word ' } }] })}\n\n`);
  }
  res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}
