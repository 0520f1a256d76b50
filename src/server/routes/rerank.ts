// Reranking: a query against documents, sorted by relevance. A cross-encoder (task score) scores each (query, document)
// pair with its head; an embedding model (task embed) scores by cosine of the embeddings, as vLLM does for both.
//   POST /rerank, /v1/rerank, /v2/rerank (vLLM, and Cohere's v2 rerank API: its client works against /v2/rerank):
//     {query, documents: (string | {text})[], top_n?, return_documents?, use_activation?, truncate_prompt_tokens?}
//     -> {id, model, usage, results: [{index, relevance_score, document: {text}}]} sorted by relevance, top_n kept
//   POST /rerank with TEI's body {query, texts, raw_scores?, return_text?, truncate?, truncation_direction?}
//     -> [{index, score, text?}] sorted by score, as TEI answers
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { cosineSimilarity, type EmbedOptions } from '../../engine/embedder.js';
import { InvalidRequestError } from '../../errors.js';
import { scorePairsForRequest, teiTruncation } from '../classify_request.js';
import type { RouteContext } from '../context.js';
import { embedForRequest, vllmTruncation } from '../embed_request.js';
import { checkModelName } from '../model_name.js';
import { EMBED_ROUTE_ERRORS, errorResponses } from '../schemas/common.js';

interface RerankBody {
  model?: string;
  query: string;
  documents?: (string | { text: string })[];
  top_n?: number;
  return_documents?: boolean;
  use_activation?: boolean;
  truncate_prompt_tokens?: number;
  max_tokens_per_doc?: number;
  priority?: number;
  request_id?: string;
  // TEI's shape (on /rerank only).
  texts?: string[];
  raw_scores?: boolean;
  return_text?: boolean;
  truncate?: boolean;
  truncation_direction?: 'Left' | 'Right' | 'left' | 'right';
}

const documentSchema = {
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'object', required: ['text'], properties: { text: { type: 'string', minLength: 1 } } },
  ],
};

const bodySchema = {
  type: 'object',
  required: ['query'],
  properties: {
    model: { type: 'string' },
    query: { type: 'string', minLength: 1 },
    documents: { type: 'array', minItems: 1, items: documentSchema },
    top_n: { type: 'integer', minimum: 0 },
    return_documents: { type: 'boolean' },
    use_activation: { type: 'boolean' },
    truncate_prompt_tokens: { type: 'integer', minimum: -1 },
    max_tokens_per_doc: { type: 'integer', minimum: 1 },
    priority: { type: 'integer' },
    request_id: { type: 'string' },
    texts: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    raw_scores: { type: 'boolean' },
    return_text: { type: 'boolean' },
    truncate: { type: 'boolean' },
    truncation_direction: { type: 'string', enum: ['Left', 'Right', 'left', 'right'] },
  },
} as const;

const vllmResponse = {
  type: 'object',
  required: ['id', 'model', 'results', 'usage'],
  properties: {
    id: { type: 'string' },
    model: { type: 'string' },
    usage: { type: 'object', properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } } },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'relevance_score'],
        properties: {
          index: { type: 'integer' },
          relevance_score: { type: 'number' },
          document: { type: 'object', properties: { text: { type: 'string' } } },
        },
      },
    },
  },
};

const teiResponse = {
  type: 'array',
  items: { type: 'object', required: ['index', 'score'], properties: { index: { type: 'integer' }, score: { type: 'number' }, text: { type: 'string' } } },
};

/** Relevance of each document to the query: the cross-encoder's pair scores, or cosine for an embedding model. */
async function relevance(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  query: string,
  documents: readonly string[],
  opts: EmbedOptions & { readonly useActivation?: boolean },
  priority: number | undefined,
): Promise<{ scores: number[]; numPromptTokens: number }> {
  if (ctx.embedder.task === 'embed') {
    if (documents.length + 1 > ctx.options.maxInputsPerRequest) {
      throw new InvalidRequestError(`Too many documents: at most ${ctx.options.maxInputsPerRequest - 1} per request.`, 'documents', 'too_many_inputs', 413);
    }
    const result = await embedForRequest(ctx, request, reply, [query, ...documents], { ...opts, normalize: false }, { priority });
    return { scores: documents.map((_, i) => cosineSimilarity(result.rows[0], result.rows[i + 1])), numPromptTokens: result.numPromptTokens };
  }
  const pairs = documents.map((document) => [query, document] as const);
  const result = await scorePairsForRequest(ctx, request, reply, pairs, opts, priority, 'documents');
  return { scores: result.scores, numPromptTokens: result.numPromptTokens };
}

function byScore<T extends { readonly score: number; readonly index: number }>(a: T, b: T): number {
  return b.score - a.score || a.index - b.index;
}

export function registerRerankRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const handler =
    (acceptsTei: boolean) =>
    async (request: FastifyRequest<{ Body: RerankBody }>, reply: FastifyReply): Promise<unknown> => {
      const body = request.body;
      checkModelName(ctx.embedder, body.model);
      if (body.max_tokens_per_doc !== undefined) {
        throw new InvalidRequestError(
          'max_tokens_per_doc is not supported; use truncate_prompt_tokens to cut each (query, document) pair.',
          'max_tokens_per_doc',
        );
      }
      if (body.texts !== undefined) {
        if (!acceptsTei) throw new InvalidRequestError('texts is TEI\'s field and is accepted on /rerank only; this route takes "documents".', 'texts');
        if (body.documents !== undefined) throw new InvalidRequestError('Give either documents (vLLM, Cohere) or texts (TEI), not both.', 'texts');
        const { scores } = await relevance(
          ctx,
          request,
          reply,
          body.query,
          body.texts,
          { ...teiTruncation(body.truncate, body.truncation_direction), useActivation: body.raw_scores !== true },
          undefined,
        );
        const texts = body.texts;
        return scores.map((score, index) => ({ index, score, ...(body.return_text === true ? { text: texts[index] } : {}) })).sort(byScore);
      }
      if (body.documents === undefined) throw new InvalidRequestError('documents is required (a list of texts or {text} objects).', 'documents');
      const documents = body.documents.map((document) => (typeof document === 'string' ? document : document.text));
      const { scores, numPromptTokens } = await relevance(
        ctx,
        request,
        reply,
        body.query,
        documents,
        { ...vllmTruncation(body.truncate_prompt_tokens, undefined), useActivation: body.use_activation },
        body.priority,
      );
      const ranked = scores.map((score, index) => ({ index, score })).sort(byScore);
      const topN = body.top_n === undefined || body.top_n === 0 ? ranked.length : Math.min(body.top_n, ranked.length);
      const returnDocuments = body.return_documents ?? true;
      return {
        id: `rerank-${body.request_id ?? randomUUID()}`,
        model: ctx.embedder.id,
        usage: { prompt_tokens: numPromptTokens, total_tokens: numPromptTokens },
        results: ranked.slice(0, topN).map(({ index, score }) => ({
          index,
          relevance_score: score,
          ...(returnDocuments ? { document: { text: documents[index] } } : {}),
        })),
      };
    };
  const errors = errorResponses(...EMBED_ROUTE_ERRORS);
  app.post<{ Body: RerankBody }>(
    '/rerank',
    {
      schema: {
        tags: ['vLLM', 'TEI'],
        summary: 'Documents ranked by relevance to a query (vLLM / Cohere body with documents, or TEI body with texts)',
        body: bodySchema,
        response: { 200: { anyOf: [vllmResponse, teiResponse] }, ...errors },
      },
    },
    handler(true),
  );
  for (const route of ['/v1/rerank', '/v2/rerank']) {
    app.post<{ Body: RerankBody }>(
      route,
      {
        schema: {
          tags: ['vLLM', 'Cohere'],
          summary: 'Documents ranked by relevance to a query (vLLM; Cohere v2 rerank)',
          body: bodySchema,
          response: { 200: vllmResponse, ...errors },
        },
      },
      handler(false),
    );
  }
}
