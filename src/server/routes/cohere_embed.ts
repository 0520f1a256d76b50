// POST /v2/embed: Cohere's v2 embed API over the same engine. `input_type` picks one of the model's
// sentence-transformers prompts by name, as vLLM does, with Cohere's names mapped onto the usual prompt names.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

import { InvalidRequestError } from '../../errors.js';
import type { RouteContext } from '../context.js';
import { embedForRequest } from '../embed_request.js';
import { encodeBase64, float32ToList, packBinary, packUbinary, quantizeInt8, quantizeUint8 } from '../encoding.js';
import { checkModelName } from '../model_name.js';
import { EMBED_ROUTE_ERRORS, errorResponses } from '../schemas/common.js';
import type { Embedder } from '../../engine/embedder.js';
import type { TruncationSide } from '../../tokenizer/tokenizer.js';

const EMBEDDING_TYPES = ['float', 'int8', 'uint8', 'binary', 'ubinary', 'base64'] as const;
type EmbeddingType = (typeof EMBEDDING_TYPES)[number];

const ENCODERS: Record<EmbeddingType, (row: Float32Array) => number[] | string> = {
  float: float32ToList,
  int8: quantizeInt8,
  uint8: quantizeUint8,
  binary: packBinary,
  ubinary: packUbinary,
  base64: (row) => encodeBase64(row),
};

/** Cohere's input types -> the prompt names models use for them, in order of preference. null = no prefix is fine. */
const COHERE_INPUT_TYPE_PROMPTS: Record<string, { names: string[]; fallbackToNoPrompt: boolean }> = {
  search_query: { names: ['query', 'search_query'], fallbackToNoPrompt: false },
  search_document: { names: ['document', 'passage', 'search_document'], fallbackToNoPrompt: false },
  classification: { names: ['classification'], fallbackToNoPrompt: true },
  clustering: { names: ['clustering'], fallbackToNoPrompt: true },
};

const TRUNCATE: Record<string, TruncationSide> = { NONE: 'none', START: 'start', END: 'end' };

interface CohereEmbedBody {
  model?: string;
  texts?: string[];
  images?: string[];
  inputs?: unknown[];
  input_type?: string;
  embedding_types?: EmbeddingType[];
  output_dimension?: number;
  max_tokens?: number;
  truncate?: 'NONE' | 'START' | 'END';
  priority?: number;
}

const bodySchema = {
  type: 'object',
  properties: {
    model: { type: 'string' },
    texts: { type: 'array', items: { type: 'string' } },
    images: { type: 'array' },
    inputs: { type: 'array' },
    input_type: { type: 'string' },
    embedding_types: { type: 'array', items: { type: 'string', enum: EMBEDDING_TYPES }, minItems: 1, uniqueItems: true },
    output_dimension: { type: 'integer' },
    max_tokens: { type: 'integer', minimum: 1 },
    truncate: { type: 'string', enum: ['NONE', 'START', 'END'] },
    priority: { type: 'integer' },
  },
} as const;

/** The body as documented: what the handler accepts, stricter than the validator where the handler checks itself. */
const bodyDocSchema = {
  ...bodySchema,
  required: ['texts'],
  properties: {
    ...bodySchema.properties,
    texts: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    images: { type: 'array', maxItems: 0, description: 'Not supported: this server embeds text only.' },
    inputs: { type: 'array', maxItems: 0, description: 'Not supported: this server embeds text only.' },
    input_type: {
      type: 'string',
      description: 'search_query, search_document, classification, clustering, or a prompt name of the model.',
    },
    output_dimension: { type: 'integer', description: 'Matryoshka models only.' },
  },
} as const;

const intRows = (minimum: number, maximum: number) => ({ type: 'array', items: { type: 'array', items: { type: 'integer', minimum, maximum } } });

const responseSchema = {
  type: 'object',
  required: ['id', 'embeddings', 'texts', 'meta', 'response_type'],
  properties: {
    id: { type: 'string' },
    embeddings: {
      type: 'object',
      description: 'One list of rows per requested embedding type.',
      properties: {
        float: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
        int8: intRows(-127, 127),
        uint8: intRows(1, 255),
        binary: intRows(-128, 127),
        ubinary: intRows(0, 255),
        base64: { type: 'array', items: { type: 'string' } },
      },
    },
    texts: { type: 'array', items: { type: 'string' } },
    meta: {
      type: 'object',
      required: ['api_version', 'billed_units'],
      properties: {
        api_version: { type: 'object', required: ['version'], properties: { version: { type: 'string' } } },
        billed_units: { type: 'object', required: ['input_tokens'], properties: { input_tokens: { type: 'integer', minimum: 0 } } },
      },
    },
    response_type: { type: 'string', enum: ['embeddings_by_type'] },
  },
} as const;

/** The prompt name for a Cohere input_type, or undefined for no prompt; 400 when the model can't honour it. */
export function promptForInputType(embedder: Embedder, inputType: string | undefined): string | undefined {
  if (inputType === undefined) return undefined;
  const prompts = embedder.model.settings.prompts;
  if (Object.hasOwn(prompts, inputType)) return inputType; // a prompt name used directly, as vLLM allows
  const mapping = COHERE_INPUT_TYPE_PROMPTS[inputType];
  const known = Object.keys(prompts);
  const available = known.length ? `the model's prompts are ${known.map((k) => `"${k}"`).join(', ')}` : 'the model defines no prompts';
  if (!mapping) {
    throw new InvalidRequestError(
      `input_type "${inputType}" is neither a Cohere input type (${Object.keys(COHERE_INPUT_TYPE_PROMPTS).join(', ')}) nor a prompt of this model; ${available}.`,
      'input_type',
    );
  }
  const name = mapping.names.find((n) => Object.hasOwn(prompts, n));
  if (name !== undefined) return name;
  // A model that defines no prompts at all embeds queries and documents alike (bge, all-MiniLM): every input
  // type is honoured with no prefix. A model that has prompts but not this one would be used wrongly.
  if (mapping.fallbackToNoPrompt || known.length === 0) return undefined;
  throw new InvalidRequestError(
    `input_type "${inputType}" needs a "${mapping.names[0]}" prompt in config_sentence_transformers.json; ${available}.`,
    'input_type',
  );
}

export function registerCohereEmbedRoute(app: FastifyInstance, ctx: RouteContext): void {
  const schema = {
    tags: ['Cohere'],
    summary: 'Embed (Cohere v2)',
    body: bodySchema,
    response: { 200: responseSchema, ...errorResponses(...EMBED_ROUTE_ERRORS) },
  };
  app.post<{ Body: CohereEmbedBody }>('/v2/embed', { schema, config: { documentedBody: bodyDocSchema } }, async (request, reply) => {
    const body = request.body;
    checkModelName(ctx.embedder, body.model);
    if (body.images?.length || body.inputs?.length) {
      throw new InvalidRequestError('This model embeds text only: send `texts`, not `images` or `inputs`.', body.images ? 'images' : 'inputs');
    }
    const texts = body.texts;
    if (!texts || texts.length === 0) throw new InvalidRequestError('`texts` must be a non-empty array of strings.', 'texts');
    if (texts.length > ctx.options.maxInputsPerRequest) {
      throw new InvalidRequestError(
        `'texts' has ${texts.length} inputs; this server accepts at most ${ctx.options.maxInputsPerRequest} per request.`,
        'texts',
        'too_many_inputs',
        413,
      );
    }
    texts.forEach((t, i) => {
      if (t.length === 0) throw new InvalidRequestError(`'texts[${i}]' must not be an empty string.`, `texts[${i}]`);
    });
    const promptName = promptForInputType(ctx.embedder, body.input_type);
    const types = body.embedding_types ?? ['float'];
    const truncate = TRUNCATE[body.truncate ?? 'END']; // Cohere's default is END
    const result = await embedForRequest(
      ctx,
      request,
      reply,
      texts,
      {
        promptName,
        dimensions: body.output_dimension,
        truncate,
        maxLength: body.max_tokens,
        fieldNames: { maxLength: 'max_tokens', dimensions: 'output_dimension' },
      },
      { priority: body.priority },
    );
    const embeddings: Partial<Record<EmbeddingType, unknown[]>> = {};
    for (const type of types) embeddings[type] = result.rows.map(ENCODERS[type]);
    return {
      id: randomUUID(),
      embeddings,
      texts,
      meta: { api_version: { version: '2' }, billed_units: { input_tokens: result.numPromptTokens } },
      response_type: 'embeddings_by_type',
    };
  });
}
