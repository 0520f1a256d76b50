// Schemas shared by every route: the OpenAI error body with the statuses each kind of route can answer, and the
// usage block. They are published in /openapi.json (src/server/openapi.ts); they never serialize a reply (every
// route answers through JSON.stringify, see openapi.ts), so they document the handlers and the tests hold them to it.
import type { ErrorType } from '../../errors.js';

const ERROR_TYPES = [
  'invalid_request_error',
  'not_found_error',
  'server_error',
  'overloaded_error',
  'timeout_error',
  'authentication_error',
] as const satisfies readonly ErrorType[];
// Fails to compile when ErrorType gains a member this list lacks.
const _everyErrorType: Record<ErrorType, true> = Object.fromEntries(ERROR_TYPES.map((t) => [t, true])) as Record<(typeof ERROR_TYPES)[number], true>;
void _everyErrorType;

/** {"error": {message, type, param, code}}: what src/server/errors.ts sends for every failure. */
export const errorBodySchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type', 'param', 'code'],
      properties: {
        message: { type: 'string' },
        type: { type: 'string', enum: ERROR_TYPES },
        param: { type: ['string', 'null'], description: 'The request field at fault, when there is one.' },
        code: { type: ['string', 'null'], description: 'A machine-readable reason, e.g. invalid_value, model_not_found, queue_full.' },
      },
    },
  },
} as const;

/** When each status is answered (README's error table). */
export const ERROR_STATUSES = {
  400: 'Malformed JSON, a missing or wrong-typed field, an empty input, an input longer than the model allows, invalid `dimensions`, an unknown prompt.',
  401: '`--api-key` is set and the request lacks `Authorization: Bearer <key>` (or sends another key).',
  404: 'The `model` named is not the served model.',
  408: '`--request-timeout` passed while the request was computing; its remaining work was dropped.',
  413: 'Too many inputs in one request (`--max-inputs-per-request`) or a body larger than `--max-body-bytes`.',
  415: 'A content type other than application/json.',
  422: "Token ids outside the model's vocabulary.",
  429: 'The queue is full (`--max-queued-tokens`); retry after the `Retry-After` seconds.',
  500: 'An internal failure (details are logged, not returned).',
  503: '`--request-timeout` passed while the request still waited in the queue.',
} as const;

export type ErrorStatus = keyof typeof ERROR_STATUSES;

/** Response schemas for the given error statuses, each the error body with its description. */
export function errorResponses(...statuses: ErrorStatus[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const status of statuses) {
    out[status] = {
      description: ERROR_STATUSES[status],
      ...errorBodySchema,
      ...(status === 429 ? { headers: { 'retry-after': { type: 'string', description: 'Seconds to wait.' } } } : {}),
    };
  }
  return out;
}

/** Errors any JSON-body route can answer: bad body (400), too large (413), wrong content type (415), internal (500). */
export const BODY_ROUTE_ERRORS: ErrorStatus[] = [400, 413, 415, 500];
/** Errors of the routes that queue work for the model: unknown model, timeouts, queue full, vocabulary. */
export const EMBED_ROUTE_ERRORS: ErrorStatus[] = [...BODY_ROUTE_ERRORS, 404, 408, 429, 503];

export const usageSchema = {
  type: 'object',
  required: ['prompt_tokens', 'total_tokens'],
  properties: { prompt_tokens: { type: 'integer', minimum: 0 }, total_tokens: { type: 'integer', minimum: 0 } },
} as const;

/** A row as /v1/embeddings and /pooling return it: numbers, or base64 bytes (encoding_format "base64"). */
export const encodedRowSchema = {
  anyOf: [
    { type: 'array', items: { type: 'number' } },
    { type: 'string', description: 'base64 of the values in embed_dtype (float32 by default), little-endian unless `endianness` says otherwise.' },
  ],
} as const;

/**
 * An OpenAI-style list reply: {id, object: "list", created, model, data: [item...], usage}. Each item carries its
 * `index` and `object` (the item kind) plus the item's own fields.
 */
export function listResponseSchema<P extends Record<string, unknown>>(itemObject: string, itemProperties: P, description?: string) {
  return {
    ...(description === undefined ? {} : { description }),
    type: 'object',
    required: ['id', 'object', 'created', 'model', 'data', 'usage'],
    properties: {
      id: { type: 'string' },
      object: { type: 'string', enum: ['list'] },
      created: { type: 'integer' },
      model: { type: 'string' },
      data: {
        type: 'array',
        items: {
          type: 'object',
          required: ['index', 'object', ...Object.keys(itemProperties)],
          properties: { index: { type: 'integer', minimum: 0 }, object: { type: 'string', enum: [itemObject] }, ...itemProperties },
        },
      },
      usage: usageSchema,
    },
  } as const;
}
