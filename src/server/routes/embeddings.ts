// POST /v1/embeddings: OpenAI's embeddings API plus vLLM's extras (truncate_prompt_tokens, truncation_side,
// normalize, embed_dtype, endianness, priority) and our prompt_name.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

import type { RouteContext } from '../context.js';
import { embedForRequest, vllmTruncation } from '../embed_request.js';
import { encodeRow } from '../encoding.js';
import { parseEmbeddingInput } from '../inputs.js';
import { checkModelName } from '../model_name.js';
import { EMBED_ROUTE_ERRORS, errorResponses } from '../schemas/common.js';
import { embeddingsBodyDocSchema, embeddingsBodySchema, embeddingsResponseSchema, type EmbeddingsBody } from '../schemas/embeddings.js';

export function registerEmbeddingsRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: EmbeddingsBody }>(
    '/v1/embeddings',
    // The response schema documents the route; the reply is still plain JSON.stringify, which is faster than
    // fast-json-stringify's per-row anyOf (number list | base64 string): see src/server/openapi.ts.
    {
      schema: {
        tags: ['OpenAI'],
        summary: "Embeddings (OpenAI, with vLLM's extras)",
        body: embeddingsBodySchema,
        response: { 200: embeddingsResponseSchema, ...errorResponses(...EMBED_ROUTE_ERRORS, 422) },
      },
      config: { documentedBody: embeddingsBodyDocSchema },
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
          dimensions: body.dimensions,
          normalize: body.normalize,
          promptName: body.prompt_name,
          addSpecialTokens: body.add_special_tokens,
          ...vllmTruncation(body.truncate_prompt_tokens, body.truncation_side),
        },
        { priority: body.priority, cacheSalt: body.cache_salt },
      );
      return {
        id: `embd-${body.request_id ?? randomUUID()}`,
        object: 'list',
        created: Math.floor(Date.now() / 1000),
        data: result.rows.map((row, index) => ({
          object: 'embedding',
          index,
          embedding: encodeRow(row, body.encoding_format, body.embed_dtype, body.endianness),
        })),
        model: ctx.embedder.id,
        usage: { prompt_tokens: result.numPromptTokens, total_tokens: result.numPromptTokens },
      };
    },
  );
}
