// POST /tokenize and POST /detokenize (vLLM's shapes).
import type { FastifyInstance } from 'fastify';

import { InvalidRequestError } from '../../errors.js';
import type { RouteContext } from '../context.js';
import { checkModelName } from '../model_name.js';
import { BODY_ROUTE_ERRORS, errorResponses } from '../schemas/common.js';

interface TokenizeBody {
  model?: string;
  prompt: string;
  add_special_tokens?: boolean;
  return_token_strs?: boolean;
  prompt_name?: string;
}

interface DetokenizeBody {
  model?: string;
  tokens: number[];
}

export function registerTokenizeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: TokenizeBody }>(
    '/tokenize',
    {
      schema: {
        tags: ['vLLM'],
        summary: 'Token ids of a prompt, as an embedding request would tokenize it (vLLM)',
        response: {
          200: {
            type: 'object',
            required: ['count', 'max_model_len', 'tokens'],
            properties: {
              count: { type: 'integer', minimum: 0 },
              max_model_len: { type: 'integer' },
              tokens: { type: 'array', items: { type: 'integer' } },
              token_strs: { type: 'array', items: { type: 'string' }, description: 'With return_token_strs.' },
            },
          },
          ...errorResponses(...BODY_ROUTE_ERRORS, 404),
        },
        body: {
          type: 'object',
          required: ['prompt'],
          properties: {
            model: { type: 'string' },
            prompt: { type: 'string' },
            add_special_tokens: { type: 'boolean' },
            return_token_strs: { type: 'boolean' },
            prompt_name: { type: 'string' },
          },
        },
      },
    },
    async (request) => {
      const body = request.body;
      checkModelName(ctx.embedder, body.model);
      const { embedder } = ctx;
      // Tokenize exactly as an embedding request would (prompt prefix, lowercasing), but never reject for length:
      // this route exists to find out how long an input is.
      let ids = embedder.tokenizeUnbounded(body.prompt, body.prompt_name);
      if (body.add_special_tokens === false) ids = embedder.tokenizer.stripSpecialTokens(ids);
      const tokens = Array.from(ids);
      return {
        count: tokens.length,
        max_model_len: embedder.maxSeqLength,
        tokens,
        ...(body.return_token_strs ? { token_strs: embedder.tokenizer.tokens(ids) } : {}),
      };
    },
  );

  app.post<{ Body: DetokenizeBody }>(
    '/detokenize',
    {
      schema: {
        tags: ['vLLM'],
        summary: 'Text of token ids (vLLM)',
        response: {
          200: { type: 'object', required: ['prompt'], properties: { prompt: { type: 'string' } } },
          ...errorResponses(...BODY_ROUTE_ERRORS, 404, 422),
        },
        body: {
          type: 'object',
          required: ['tokens'],
          properties: { model: { type: 'string' }, tokens: { type: 'array', items: { type: 'integer' } } },
        },
      },
    },
    async (request) => {
      const body = request.body;
      checkModelName(ctx.embedder, body.model);
      const vocabSize = ctx.embedder.model.config.vocabSize;
      body.tokens.forEach((id, i) => {
        if (id < 0 || id >= vocabSize) {
          throw new InvalidRequestError(`Token id ${id} at position ${i} is outside the vocabulary [0, ${vocabSize}).`, 'tokens', 'invalid_token_id', 422);
        }
      });
      return { prompt: ctx.embedder.tokenizer.decode(body.tokens) };
    },
  );
}
