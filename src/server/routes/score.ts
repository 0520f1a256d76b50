// POST /score (vLLM's shape for embedding models): cosine similarity of text_1 against text_2, one-to-one
// (two strings), one-to-many (a string and a list) or pairwise (two lists of the same length).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

import { cosineSimilarity } from '../../engine/embedder.js';
import { InvalidRequestError } from '../../errors.js';
import type { RouteContext } from '../context.js';
import { embedForRequest, vllmTruncation } from '../embed_request.js';
import { checkModelName } from '../model_name.js';
import { EMBED_ROUTE_ERRORS, errorResponses, listResponseSchema } from '../schemas/common.js';

interface ScoreBody {
  model?: string;
  text_1: string | string[];
  text_2: string | string[];
  truncate_prompt_tokens?: number;
  priority?: number;
}

const textOrList = {
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
  ],
};

const responseSchema = listResponseSchema('score', { score: { type: 'number' } });

export function registerScoreRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: ScoreBody }>(
    '/score',
    {
      schema: {
        tags: ['vLLM'],
        summary: 'Cosine similarity of text_1 against text_2 (vLLM)',
        response: { 200: responseSchema, ...errorResponses(...EMBED_ROUTE_ERRORS) },
        body: {
          type: 'object',
          required: ['text_1', 'text_2'],
          properties: {
            model: { type: 'string' },
            text_1: textOrList,
            text_2: textOrList,
            truncate_prompt_tokens: { type: 'integer', minimum: -1 },
            priority: { type: 'integer' },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      checkModelName(ctx.embedder, body.model);
      const left = typeof body.text_1 === 'string' ? [body.text_1] : body.text_1;
      const right = typeof body.text_2 === 'string' ? [body.text_2] : body.text_2;
      if (left.length !== 1 && left.length !== right.length) {
        throw new InvalidRequestError(
          `text_1 has ${left.length} texts and text_2 has ${right.length}: give one text_1, or lists of the same length.`,
          'text_1',
        );
      }
      const numPairs = right.length;
      if (left.length + right.length > ctx.options.maxInputsPerRequest) {
        throw new InvalidRequestError(`Too many texts: at most ${ctx.options.maxInputsPerRequest} per request.`, 'text_2', 'too_many_inputs', 413);
      }
      const result = await embedForRequest(ctx, request, reply, [...left, ...right], vllmTruncation(body.truncate_prompt_tokens, undefined), {
        priority: body.priority,
      });
      const rows = result.rows;
      const data = Array.from({ length: numPairs }, (_, i) => ({
        index: i,
        object: 'score',
        score: cosineSimilarity(rows[left.length === 1 ? 0 : i], rows[left.length + i]),
      }));
      return {
        id: `score-${randomUUID()}`,
        object: 'list',
        created: Math.floor(Date.now() / 1000),
        model: ctx.embedder.id,
        data,
        usage: { prompt_tokens: result.numPromptTokens, total_tokens: result.numPromptTokens },
      };
    },
  );
}
