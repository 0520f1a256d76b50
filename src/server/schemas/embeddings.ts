// JSON schemas of POST /v1/embeddings: OpenAI's fields plus vLLM's extras. `input` is checked in the route,
// not here, because its four accepted forms (string, string[], int[], int[][]) deserve clearer messages than
// ajv's anyOf gives; embeddingInputSchema documents those forms in /openapi.json.
import { encodedRowSchema, listResponseSchema } from './common.js';

export const vllmExtraProperties = {
  truncate_prompt_tokens: { type: 'integer', minimum: -1 },
  truncation_side: { type: 'string', enum: ['left', 'right'] },
  normalize: { type: 'boolean' },
  embed_dtype: { type: 'string', enum: ['float32', 'float16', 'bfloat16'] },
  endianness: { type: 'string', enum: ['native', 'little', 'big'] },
  priority: { type: 'integer' },
  prompt_name: { type: 'string' },
  cache_salt: { type: 'string', minLength: 1 },
  add_special_tokens: { type: 'boolean' },
  request_id: { type: 'string', minLength: 1 },
} as const;

export const embeddingsBodySchema = {
  type: 'object',
  required: ['input'],
  properties: {
    input: {},
    model: { type: 'string' },
    encoding_format: { type: 'string', enum: ['float', 'base64'] },
    dimensions: { type: 'integer' },
    user: { type: 'string' },
    ...vllmExtraProperties,
  },
} as const;

/**
 * `input` as published in /openapi.json: the four forms parseEmbeddingInput accepts. The route validates `input` itself
 * (clearer messages than ajv's anyOf), so this schema documents the route without being compiled into its validator.
 */
export function embeddingInputSchemaFor(vocabSize?: number) {
  const tokenId = { type: 'integer', minimum: 0, ...(vocabSize === undefined ? {} : { maximum: vocabSize - 1 }) } as const;
  return {
    description: 'A string, an array of strings, an array of token ids (one input), or an array of token-id arrays.',
    anyOf: [
      { type: 'string', minLength: 1 },
      { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      { type: 'array', minItems: 1, items: tokenId },
      { type: 'array', minItems: 1, items: { type: 'array', minItems: 1, items: tokenId } },
    ],
  } as const;
}

export const embeddingInputSchema = embeddingInputSchemaFor();

/** The body of /v1/embeddings as documented: the validator's schema with `input` spelled out. */
export const embeddingsBodyDocSchema = {
  ...embeddingsBodySchema,
  properties: { ...embeddingsBodySchema.properties, input: embeddingInputSchema },
} as const;

export const embeddingsResponseSchema = listResponseSchema('embedding', { embedding: encodedRowSchema }, 'One embedding per input, in input order.');

export interface VllmExtras {
  truncate_prompt_tokens?: number;
  truncation_side?: 'left' | 'right';
  normalize?: boolean;
  embed_dtype?: 'float32' | 'float16' | 'bfloat16';
  endianness?: 'native' | 'little' | 'big';
  priority?: number;
  prompt_name?: string;
  /** Isolates a tenant's prefix-cache entries (decoder models), as vLLM's cache_salt. */
  cache_salt?: string;
  /** false: no special tokens around each text (vLLM; default true). */
  add_special_tokens?: boolean;
  /** Echoed in the reply's id (vLLM: `embd-<request_id>`). */
  request_id?: string;
}

export interface EmbeddingsBody extends VllmExtras {
  input: unknown;
  model?: string;
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}
