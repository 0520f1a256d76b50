// The fastify application: routes, schemas and the error handler around one Embedder.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';

import type { Embedder } from '../engine/embedder.js';
import { installErrorHandlers } from './errors.js';
import { registerEmbeddingsRoute } from './routes/embeddings.js';
import { registerHealthRoute } from './routes/health.js';
import { registerModelsRoute } from './routes/models.js';

export interface ServerOptions {
  /** Max inputs in one request (413 beyond it). */
  readonly maxInputsPerRequest: number;
  /** Max request body in bytes (413 beyond it). */
  readonly bodyLimitBytes: number;
  readonly logger?: FastifyServerOptions['logger'];
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  maxInputsPerRequest: 2048,
  bodyLimitBytes: 16 * 1024 * 1024,
  logger: false,
};

export function buildServer(embedder: Embedder, options: Partial<ServerOptions> = {}): FastifyInstance {
  const opts: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...options };
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimitBytes,
    // Wrong types must be rejected, not coerced ("input": 5 is not the text "5"), and unknown fields kept.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  installErrorHandlers(app);
  registerHealthRoute(app);
  registerModelsRoute(app, embedder, Date.now());
  registerEmbeddingsRoute(app, embedder, opts);
  return app;
}
