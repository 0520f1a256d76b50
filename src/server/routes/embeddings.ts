// POST /v1/embeddings, OpenAI's embeddings API.
import type { FastifyInstance } from 'fastify';

import type { Embedder } from '../../engine/embedder.js';
import { float32ToBase64, float32ToList } from '../encoding.js';
import { parseEmbeddingInput } from '../inputs.js';
import { embeddingsBodySchema, embeddingsResponseSchema, type EmbeddingsBody } from '../schemas/embeddings.js';
import type { ServerOptions } from '../app.js';
import { checkModelName } from '../model_name.js';

export function registerEmbeddingsRoute(app: FastifyInstance, embedder: Embedder, opts: ServerOptions): void {
  app.post<{ Body: EmbeddingsBody }>(
    '/v1/embeddings',
    { schema: { body: embeddingsBodySchema, response: embeddingsResponseSchema } },
    async (request) => {
      const body = request.body;
      checkModelName(embedder, body.model);
      const inputs = parseEmbeddingInput(body.input, opts.maxInputsPerRequest);
      const { rows, numPromptTokens } = await embedder.embedInputs(inputs, { dimensions: body.dimensions });
      const base64 = body.encoding_format === 'base64';
      return {
        object: 'list',
        data: rows.map((row, index) => ({
          object: 'embedding',
          index,
          embedding: base64 ? float32ToBase64(row) : float32ToList(row),
        })),
        model: embedder.id,
        usage: { prompt_tokens: numPromptTokens, total_tokens: numPromptTokens },
      };
    },
  );
}
