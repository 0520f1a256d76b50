// POST /score and /v1/score (vLLM's shape): text_1 against text_2 (or queries against documents), one-to-one (two
// strings), one-to-many (a string and a list) or pairwise (two lists of the same length). A cross-encoder (task score)
// scores each pair with its head (activated unless use_activation is false); an embedding model by cosine similarity.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { cosineSimilarity } from '../../engine/embedder.js';
import { InvalidRequestError } from '../../errors.js';
import type { RouteContext } from '../context.js';
import { scorePairsForRequest } from '../classify_request.js';
import { embedForRequest, vllmTruncation } from '../embed_request.js';
import { checkModelName } from '../model_name.js';
import { EMBED_ROUTE_ERRORS, errorResponses, listResponseSchema } from '../schemas/common.js';

interface ScoreBody {
  model?: string;
  text_1?: string | string[];
  text_2?: string | string[];
  queries?: string | string[];
  documents?: string | string[];
  truncate_prompt_tokens?: number;
  use_activation?: boolean;
  priority?: number;
  request_id?: string;
}

const textOrList = {
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
  ],
};

const responseSchema = listResponseSchema('score', { score: { type: 'number' } });

/** text_1 / text_2, or vLLM's newer names queries / documents (not both spellings at once). */
function sides(body: ScoreBody): { left: string[]; right: string[]; leftParam: string } {
  const asList = (value: string | string[]) => (typeof value === 'string' ? [value] : value);
  const named = body.queries !== undefined || body.documents !== undefined;
  if (named && (body.text_1 !== undefined || body.text_2 !== undefined)) {
    throw new InvalidRequestError('Give text_1 / text_2 or queries / documents, not both.', 'queries');
  }
  const [left, right, leftParam, rightParam] = named ? [body.queries, body.documents, 'queries', 'documents'] : [body.text_1, body.text_2, 'text_1', 'text_2'];
  if (left === undefined) throw new InvalidRequestError(`${leftParam} is required.`, leftParam);
  if (right === undefined) throw new InvalidRequestError(`${rightParam} is required.`, rightParam);
  return { left: asList(left), right: asList(right), leftParam };
}

export function registerScoreRoute(app: FastifyInstance, ctx: RouteContext): void {
  const options = {
    schema: {
      tags: ['vLLM'],
      summary: "Scores of text_1 against text_2: a cross-encoder's head, or cosine similarity of embeddings (vLLM)",
      response: { 200: responseSchema, ...errorResponses(...EMBED_ROUTE_ERRORS) },
      body: {
        type: 'object',
        anyOf: [{ required: ['text_1', 'text_2'] }, { required: ['queries', 'documents'] }],
        properties: {
          model: { type: 'string' },
          text_1: textOrList,
          text_2: textOrList,
          queries: textOrList,
          documents: textOrList,
          truncate_prompt_tokens: { type: 'integer', minimum: -1 },
          use_activation: { type: 'boolean' },
          priority: { type: 'integer' },
          request_id: { type: 'string' },
        },
      },
    },
  };
  const handler = async (request: FastifyRequest<{ Body: ScoreBody }>, reply: FastifyReply) => {
    const body = request.body;
    checkModelName(ctx.embedder, body.model);
    const { left, right, leftParam } = sides(body);
    if (left.length !== 1 && left.length !== right.length) {
      throw new InvalidRequestError(
        `${leftParam} has ${left.length} texts and the other side ${right.length}: give one ${leftParam}, or lists of the same length.`,
        leftParam,
      );
    }
    const numPairs = right.length;
    const id = `score-${body.request_id ?? randomUUID()}`;
    if (ctx.embedder.task !== 'embed') {
      const pairs = right.map((text, i) => [left.length === 1 ? left[0] : left[i], text] as const);
      const scored = await scorePairsForRequest(
        ctx,
        request,
        reply,
        pairs,
        { ...vllmTruncation(body.truncate_prompt_tokens, undefined), useActivation: body.use_activation },
        body.priority,
        leftParam,
      );
      return {
        id,
        object: 'list',
        created: Math.floor(Date.now() / 1000),
        model: ctx.embedder.id,
        data: scored.scores.map((score, index) => ({ index, object: 'score', score })),
        usage: { prompt_tokens: scored.numPromptTokens, total_tokens: scored.numPromptTokens },
      };
    }
    if (left.length + right.length > ctx.options.maxInputsPerRequest) {
      throw new InvalidRequestError(`Too many texts: at most ${ctx.options.maxInputsPerRequest} per request.`, leftParam, 'too_many_inputs', 413);
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
      id,
      object: 'list',
      created: Math.floor(Date.now() / 1000),
      model: ctx.embedder.id,
      data,
      usage: { prompt_tokens: result.numPromptTokens, total_tokens: result.numPromptTokens },
    };
  };
  app.post<{ Body: ScoreBody }>('/score', options, handler);
  app.post<{ Body: ScoreBody }>('/v1/score', options, handler);
}
