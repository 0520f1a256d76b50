// `pooled serve`: load the model, then listen. SIGTERM/SIGINT stop accepting, finish admitted work, exit 0.
import { parseServeArgs, serveHelp, type ServeOptions } from './serve_options.js';
import { Embedder } from '../engine/embedder.js';
import { ModelLoadError, PooledError, UsageError } from '../errors.js';
import { buildServer, type PooledServer } from '../server/app.js';

export interface RunningServer {
  readonly app: PooledServer;
  readonly embedder: Embedder;
  readonly url: string;
  close(): Promise<void>;
}

/** Loads the model and starts listening; used by `serve`, `demo` and tests. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const embedder = await Embedder.load(opts.model, opts.embedder);
  const app = buildServer(embedder, opts.server);
  app.log.info({ model: embedder.describe() }, 'model loaded');
  for (const notice of opts.notices ?? []) app.log.info(notice);
  let address: string;
  try {
    address = await app.listen({ host: opts.host, port: opts.port });
    // One small batch through the whole pipeline before /ready says yes (first-touch allocations, JIT, caches).
    if (embedder.task === 'embed') await embedder.embed(['warm up']);
    else await embedder.classifyInputs(['warm up']);
    app.markReady();
  } catch (err) {
    await app.close();
    await embedder.close();
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    app,
    embedder,
    url: address,
    close() {
      closing ??= (async () => {
        await app.close(); // stops accepting and waits for in-flight requests
        await embedder.close();
      })();
      return closing;
    },
  };
}

export function reportStartupError(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`pooled: ${err.message}\n\n${serveHelp()}`);
    return 2;
  }
  if (err instanceof ModelLoadError || err instanceof PooledError) {
    process.stderr.write(`pooled: cannot load the model: ${err.message}\n`);
    return 1;
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    process.stderr.write(`pooled: cannot listen: ${(err as Error).message}\n`);
    return 1;
  }
  throw err;
}

export function closeOnSignals(server: RunningServer): Promise<number> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      server.app.log.info({ signal }, 'shutting down: finishing admitted requests');
      server.close().then(
        () => resolve(0),
        (err) => {
          server.app.log.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

export async function runServeCommand(argv: string[]): Promise<number> {
  let server: RunningServer;
  try {
    const opts = parseServeArgs(argv);
    if (opts === 'help') {
      process.stdout.write(serveHelp());
      return 0;
    }
    server = await startServer(opts);
  } catch (err) {
    return reportStartupError(err);
  }
  return closeOnSignals(server);
}
