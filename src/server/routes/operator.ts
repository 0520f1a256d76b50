// Operator routes: GET /health (liveness), GET /ready (model loaded and warm), GET /info (live configuration
// and limits, TEI's /info with vLLM's names where they exist), GET /v1/models (OpenAI's list shape).
import type { FastifyInstance } from 'fastify';

import type { RouteContext } from '../context.js';
import { errorBody } from '../errors.js';

const PACKAGE_VERSION = '0.1.0';

export function registerOperatorRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { embedder } = ctx;

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/ready', async (_request, reply) => {
    if (ctx.isReady()) return { status: 'ready' };
    return reply.status(503).send(errorBody('The model is still warming up.', 'server_error', null, 'not_ready'));
  });

  app.get('/info', async () => {
    const limits = embedder.scheduler.limits;
    const kv = embedder.describeKvCache();
    return {
      version: PACKAGE_VERSION,
      model_id: embedder.id,
      model_path: embedder.model.path,
      model: embedder.describe(),
      backend: embedder.backend.name,
      max_model_len: embedder.maxSeqLength,
      max_num_batched_tokens: limits.maxNumBatchedTokens,
      max_num_seqs: limits.maxNumSeqs,
      max_queued_tokens: limits.maxQueuedTokens,
      max_inputs_per_request: ctx.options.maxInputsPerRequest,
      max_body_bytes: ctx.options.bodyLimitBytes,
      request_timeout_seconds: ctx.options.requestTimeoutSeconds,
      default_truncation: embedder.defaultTruncation,
      auth: ctx.options.apiKey ? 'bearer' : 'none',
      // Decoder models page their KV cache, reuse prompt prefixes and chunk long inputs; encoder models attend
      // bidirectionally, compute every input whole and have neither (describeKvCache says why).
      prefix_caching: kv.prefixCaching,
      chunked_prefill: kv.chunkedPrefill,
      kv_cache: kv,
      queue: { queued_tokens: embedder.scheduler.queuedTokens, waiting_sequences: embedder.scheduler.numWaitingSequences },
    };
  });

  app.get('/v1/models', async () => ({
    object: 'list',
    data: [
      {
        id: embedder.id,
        object: 'model',
        created: Math.floor(ctx.startedAt / 1000),
        owned_by: 'pooled',
        root: embedder.model.path,
        max_model_len: embedder.maxSeqLength,
        ...embedder.describe(),
      },
    ],
  }));

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
