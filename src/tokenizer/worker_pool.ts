// Tokenization off the event loop. Small requests tokenize inline (a worker round trip costs more than encoding
// a few sentences); requests past `minCharsForWorkers` characters are split across worker threads so a huge
// request never stalls the event loop (health checks, other clients, metrics keep answering).
import { Worker } from 'node:worker_threads';

import { InvalidRequestError } from '../errors.js';
import type { EncodeOptions, TextTokenizer } from './tokenizer.js';
import type { EncodeBatchRequest, EncodeBatchResponse, EncodeResult } from './worker_protocol.js';

export interface TokenizerPoolOptions {
  readonly numWorkers: number;
  /** Requests with at least this many characters in total go to the workers. */
  readonly minCharsForWorkers: number;
}

interface PendingBatch {
  readonly resolve: (results: EncodeResult[]) => void;
  readonly reject: (err: unknown) => void;
}

export class TokenizerPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, PendingBatch>();
  private nextId = 0;
  private nextWorker = 0;

  constructor(
    private readonly folder: string,
    private readonly inline: TextTokenizer,
    readonly options: TokenizerPoolOptions,
  ) {}

  /** Encodes texts in order; throws the first text's error like TextTokenizer.encode would. */
  async encodeMany(texts: readonly string[], params: readonly string[], options: Omit<EncodeOptions, 'param'>): Promise<Int32Array[]> {
    let numChars = 0;
    for (const t of texts) numChars += t.length;
    if (this.options.numWorkers === 0 || numChars < this.options.minCharsForWorkers) {
      return texts.map((t, i) => this.inline.encode(t, { ...options, param: params[i] }));
    }
    this.ensureWorkers();
    const numChunks = Math.min(this.workers.length, texts.length);
    const chunkSize = Math.ceil(texts.length / numChunks);
    const chunks: Promise<EncodeResult[]>[] = [];
    for (let start = 0; start < texts.length; start += chunkSize) {
      chunks.push(this.send(texts.slice(start, start + chunkSize), params.slice(start, start + chunkSize), options));
    }
    const results = (await Promise.all(chunks)).flat();
    return results.map((r) => {
      if (!r.ok) throw new InvalidRequestError(r.message, r.param, r.code, r.status);
      return r.ids;
    });
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.terminate()));
    for (const p of this.pending.values()) p.reject(new Error('tokenizer pool closed'));
    this.pending.clear();
  }

  private ensureWorkers(): void {
    if (this.workers.length > 0) return;
    for (let i = 0; i < this.options.numWorkers; i++) {
      const worker = spawnWorker(this.folder);
      worker.unref();
      worker.on('message', (response: EncodeBatchResponse) => {
        const entry = this.pending.get(response.id);
        if (!entry) return;
        this.pending.delete(response.id);
        entry.resolve(response.results);
      });
      worker.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      this.workers.push(worker);
    }
  }

  private send(texts: readonly string[], params: readonly string[], options: Omit<EncodeOptions, 'param'>): Promise<EncodeResult[]> {
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length];
    const request: EncodeBatchRequest = { id, texts, params, options };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage(request);
    });
  }
}

/**
 * Compiled code starts worker.js directly. Running from TypeScript sources (tests, `node --import tsx`), Node 20
 * resolves a worker's entry before any `--import` hook registers, so a .ts entry fails with
 * ERR_UNKNOWN_FILE_EXTENSION; a tiny JavaScript bootstrap registers tsx first, then imports worker.ts.
 */
function spawnWorker(folder: string): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  if (!fromSources) return new Worker(new URL('./worker.js', import.meta.url), { workerData: { folder } });
  const entry = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: { folder } });
}
