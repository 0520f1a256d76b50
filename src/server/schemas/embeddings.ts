// JSON schemas of POST /v1/embeddings (OpenAI's shape). `input` is checked in the route, not here, because its
// four accepted forms (string, string[], int[], int[][]) deserve clearer messages than ajv's anyOf gives.

export const embeddingsBodySchema = {
  type: 'object',
  required: ['input'],
  properties: {
    input: {},
    model: { type: 'string' },
    encoding_format: { type: 'string', enum: ['float', 'base64'] },
    dimensions: { type: 'integer' },
    user: { type: 'string' },
  },
} as const;

export const embeddingsResponseSchema = {
  200: {
    type: 'object',
    properties: {
      object: { type: 'string' },
      data: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            object: { type: 'string' },
            index: { type: 'integer' },
            embedding: { anyOf: [{ type: 'array', items: { type: 'number' } }, { type: 'string' }] },
          },
        },
      },
      model: { type: 'string' },
      usage: {
        type: 'object',
        properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } },
      },
    },
  },
} as const;

export interface EmbeddingsBody {
  input: unknown;
  model?: string;
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}
