// JSON schemas of POST /v1/embeddings: OpenAI's fields plus vLLM's extras. `input` is checked in the route,
// not here, because its four accepted forms (string, string[], int[], int[][]) deserve clearer messages than
// ajv's anyOf gives.

export const vllmExtraProperties = {
  truncate_prompt_tokens: { type: 'integer', minimum: -1 },
  truncation_side: { type: 'string', enum: ['left', 'right'] },
  normalize: { type: 'boolean' },
  embed_dtype: { type: 'string', enum: ['float32', 'float16', 'bfloat16'] },
  endianness: { type: 'string', enum: ['native', 'little', 'big'] },
  priority: { type: 'integer' },
  prompt_name: { type: 'string' },
  cache_salt: { type: 'string', minLength: 1 },
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
}

export interface EmbeddingsBody extends VllmExtras {
  input: unknown;
  model?: string;
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}
