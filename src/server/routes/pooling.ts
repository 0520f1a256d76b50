// POST /pooling (vLLM's shape): the raw pooled output of the model's pooling layer, before any normalization.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

import type { RouteContext } from '../context.js';
import { embedForRequest, vllmTruncation } from '../embed_request.js';
import { encodeRow } from '../encoding.js';
import { parseEmbeddingInput } from '../inputs.js';
import { checkModelName } from '../model_name.js';
import { EMBED_ROUTE_ERRORS, encodedRowSchema, errorResponses, listResponseSchema } from '../schemas/common.js';
import { embeddingInputSchema, vllmExtraProperties, type VllmExtras } from '../schemas/embeddings.js';

interface PoolingBody extends Omit<VllmExtras, 'normalize'> {
  model?: string;
  input: unknown;
  encoding_format?: 'float' | 'base64';
}

const { normalize: _ignored, ...extrasWithoutNormalize } = vllmExtraProperties;

const bodySchema = {
  type: 'object',
  required: ['input'],
  properties: { model: { type: 'string' }, input: {}, encoding_format: { type: 'string', enum: ['float', 'base64'] }, ...extrasWithoutNormalize },
} as const;

const responseSchema = listResponseSchema('pooling', { data: encodedRowSchema });

export function registerPoolingRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: PoolingBody }>(
    '/pooling',
    {
      schema: {
        tags: ['vLLM'],
        summary: 'Raw pooled output, before normalization (vLLM)',
        body: bodySchema,
        response: { 200: responseSchema, ...errorResponses(...EMBED_ROUTE_ERRORS, 422) },
      },
      config: { documentedBody: { ...bodySchema, properties: { ...bodySchema.properties, input: embeddingInputSchema } } },
    },
    async (request, reply) => {
      const body = request.body;
      checkModelName(ctx.embedder, body.model);
      const inputs = parseEmbeddingInput(body.input, ctx.options.maxInputsPerRequest);
      const result = await embedForRequest(
        ctx,
        request,
        reply,
        inputs,
        {
          normalize: false,
          promptName: body.prompt_name,
          addSpecialTokens: body.add_special_tokens,
          ...vllmTruncation(body.truncate_prompt_tokens, body.truncation_side),
        },
        { priority: body.priority, cacheSalt: body.cache_salt },
      );
      return {
        id: `pool-${body.request_id ?? randomUUID()}`,
        object: 'list',
        created: Math.floor(Date.now() / 1000),
        model: ctx.embedder.id,
        data: result.rows.map((row, index) => ({
          index,
          object: 'pooling',
          data: encodeRow(row, body.encoding_format, body.embed_dtype, body.endianness),
        })),
        usage: { prompt_tokens: result.numPromptTokens, total_tokens: result.numPromptTokens },
      };
    },
  );
}
