// Operator routes: GET /health (liveness), GET /ready (model loaded and warm), GET /info (live configuration
// and limits, TEI's /info with vLLM's names where they exist), GET /v1/models (OpenAI's list shape).
import type { FastifyInstance } from 'fastify';

import type { RouteContext } from '../context.js';
import { errorBody } from '../errors.js';
import { errorResponses } from '../schemas/common.js';

export const PACKAGE_VERSION = '0.1.0';

const statusSchema = (value: string) => ({ type: 'object', required: ['status'], properties: { status: { type: 'string', enum: [value] } } });

/** The model's effective settings (describeModel): open-ended, the keys most clients read are listed. */
const modelDescriptionProperties = {
  backend: { type: 'string' },
  pooling: { type: 'string' },
  normalize: { type: 'boolean' },
  hiddenSize: { type: 'integer' },
  isMatryoshka: { type: 'boolean' },
  matryoshkaDimensions: { type: ['array', 'null'], items: { type: 'integer' } },
  prompts: { type: 'object', additionalProperties: { type: 'string' } },
} as const;

const infoSchema = {
  type: 'object',
  required: [
    'version',
    'model_id',
    'model_path',
    'model',
    'backend',
    'dtype',
    'quantization',
    'max_model_len',
    'max_num_batched_tokens',
    'max_num_seqs',
    'max_queued_tokens',
    'max_inputs_per_request',
    'max_body_bytes',
    'request_timeout_seconds',
    'default_truncation',
    'auth',
    'prefix_caching',
    'chunked_prefill',
    'kv_cache',
    'queue',
  ],
  properties: {
    version: { type: 'string' },
    model_id: { type: 'string' },
    model_path: { type: 'string' },
    model: { type: 'object', properties: modelDescriptionProperties },
    backend: { type: 'string' },
    dtype: { type: 'string', description: 'what activations, attention and norms compute in (--dtype)' },
    quantization: { type: ['string', 'null'], description: "weight quantization (--quantization, vLLM's name); null = none" },
    max_model_len: { type: 'integer' },
    max_num_batched_tokens: { type: 'integer' },
    max_num_seqs: { type: 'integer' },
    max_queued_tokens: { type: 'integer' },
    max_inputs_per_request: { type: 'integer' },
    max_body_bytes: { type: 'integer' },
    request_timeout_seconds: { type: 'number', description: '0 = no limit' },
    default_truncation: { type: 'string', enum: ['none', 'end', 'start'] },
    auth: { type: 'string', enum: ['bearer', 'none'] },
    prefix_caching: { type: 'boolean' },
    chunked_prefill: { type: 'boolean' },
    kv_cache: {
      type: 'object',
      required: ['prefixCaching', 'chunkedPrefill'],
      properties: {
        prefixCaching: { type: 'boolean' },
        chunkedPrefill: { type: 'boolean' },
        reason: { type: 'string' },
        blockSize: { type: 'integer' },
        numBlocks: { type: 'integer' },
        maxTokensPerSequence: { type: 'integer' },
      },
    },
    queue: {
      type: 'object',
      required: ['queued_tokens', 'waiting_sequences'],
      properties: { queued_tokens: { type: 'integer' }, waiting_sequences: { type: 'integer' } },
    },
  },
} as const;

const modelsSchema = {
  type: 'object',
  required: ['object', 'data'],
  properties: {
    object: { type: 'string', enum: ['list'] },
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'object', 'created', 'owned_by', 'root', 'max_model_len', 'dtype', 'quantization'],
        properties: {
          id: { type: 'string' },
          object: { type: 'string', enum: ['model'] },
          created: { type: 'integer' },
          owned_by: { type: 'string' },
          root: { type: 'string' },
          max_model_len: { type: 'integer' },
          dtype: { type: 'string' },
          quantization: { type: ['string', 'null'] },
          ...modelDescriptionProperties,
        },
      },
    },
  },
} as const;

const tags = ['operator'];

export function registerOperatorRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { embedder } = ctx;

  app.get('/health', { schema: { tags, summary: 'Liveness', response: { 200: statusSchema('ok'), ...errorResponses(500) } } }, async () => ({ status: 'ok' }));

  const readySchema = {
    tags,
    summary: 'Readiness: 200 once the model has answered a warm-up batch',
    response: {
      200: statusSchema('ready'),
      ...errorResponses(500),
      503: { ...(errorResponses(503)[503] as object), description: 'The model is still warming up.' },
    },
  };
  app.get('/ready', { schema: readySchema }, async (_request, reply) => {
    if (ctx.isReady()) return { status: 'ready' };
    return reply.status(503).send(errorBody('The model is still warming up.', 'server_error', null, 'not_ready'));
  });

  app.get('/info', { schema: { tags, summary: 'Live configuration and limits', response: { 200: infoSchema, ...errorResponses(500) } } }, async () => {
    const limits = embedder.scheduler.limits;
    const kv = embedder.describeKvCache();
    return {
      version: PACKAGE_VERSION,
      model_id: embedder.id,
      model_path: embedder.model.path,
      model: embedder.describe(),
      backend: embedder.backend.name,
      dtype: embedder.dtype,
      quantization: embedder.quantization,
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

  app.get(
    '/v1/models',
    { schema: { tags, summary: 'The served model (OpenAI list shape)', response: { 200: modelsSchema, ...errorResponses(500) } } },
    async () => ({
      object: 'list',
      data: [
        {
          id: embedder.id,
          object: 'model',
          created: Math.floor(ctx.startedAt / 1000),
          owned_by: 'pooled',
          root: embedder.model.path,
          max_model_len: embedder.maxSeqLength,
          dtype: embedder.dtype,
          quantization: embedder.quantization,
          ...embedder.describe(),
        },
      ],
    }),
  );

  const metricsSchema = {
    tags,
    summary: 'Prometheus metrics',
    response: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses(500) },
  };
  app.get('/metrics', { schema: metricsSchema }, async (_request, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
