// The fastify application: routes, schemas, auth, CORS, metrics and the error handler around one Embedder.
import cors from '@fastify/cors';
import Fastify, { type FastifyInstance } from 'fastify';

import type { Embedder } from '../engine/embedder.js';
import { installApiKeyCheck } from './auth.js';
import { DEFAULT_SERVER_OPTIONS, type RouteContext, type ServerOptions } from './context.js';
import { installErrorHandlers } from './errors.js';
import { ServerMetrics } from './metrics.js';
import { installPlainSerializer, registerOpenApi } from './openapi.js';
import { markStart } from './request_control.js';
import { installUnknownFieldLog } from './unknown_fields.js';
import { registerClassifyRoutes } from './routes/classify.js';
import { registerCohereEmbedRoute } from './routes/cohere_embed.js';
import { registerEmbeddingsRoute } from './routes/embeddings.js';
import { registerOperatorRoutes } from './routes/operator.js';
import { registerPoolingRoute } from './routes/pooling.js';
import { registerRerankRoutes } from './routes/rerank.js';
import { registerScoreRoute } from './routes/score.js';
import { registerTokenizeRoutes } from './routes/tokenize.js';

export { DEFAULT_SERVER_OPTIONS, type ServerOptions } from './context.js';

export interface PooledServer extends FastifyInstance {
  /** Marks the model warm: GET /ready answers 200 from then on. */
  markReady(): void;
}

export function buildServer(embedder: Embedder, options: Partial<ServerOptions> = {}): PooledServer {
  const opts: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...options };
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimitBytes,
    // Wrong types must be rejected, not coerced ("input": 5 is not the text "5"), and unknown fields kept.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  }) as unknown as PooledServer;
  const metrics = new ServerMetrics(embedder.scheduler, embedder.backend);
  embedder.scheduler.onStep = (stats) => metrics.observeStep(stats);
  let ready = false;
  app.markReady = () => {
    ready = true;
  };
  const ctx: RouteContext = { embedder, metrics, options: opts, startedAt: Date.now(), isReady: () => ready };

  installErrorHandlers(app);
  if (opts.corsOrigins.length > 0) {
    void app.register(cors, { origin: opts.corsOrigins.includes('*') ? true : [...opts.corsOrigins] });
  }
  if (opts.apiKey) installApiKeyCheck(app, opts.apiKey, opts.unauthenticatedRoutes);
  app.addHook('onRequest', async (request) => markStart(request));
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.requestSeconds.observe({ route }, reply.elapsedTime / 1000);
  });
  installUnknownFieldLog(app);
  installPlainSerializer(app);
  // The routes go in a plugin registered after @fastify/swagger, so its onRoute hook sees every one of them.
  registerOpenApi(app, ctx);
  void app.register(async (api) => {
    registerOperatorRoutes(api, ctx);
    registerEmbeddingsRoute(api, ctx);
    registerCohereEmbedRoute(api, ctx);
    registerPoolingRoute(api, ctx);
    registerScoreRoute(api, ctx);
    registerRerankRoutes(api, ctx);
    registerClassifyRoutes(api, ctx);
    registerTokenizeRoutes(api, ctx);
  });
  return app;
}
