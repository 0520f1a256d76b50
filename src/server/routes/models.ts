// GET /v1/models (OpenAI's list shape, with the effective embedding settings so operators can see them).
import type { FastifyInstance } from 'fastify';

import type { Embedder } from '../../engine/embedder.js';

export function registerModelsRoute(app: FastifyInstance, embedder: Embedder, startedAt: number): void {
  app.get('/v1/models', async () => ({
    object: 'list',
    data: [
      {
        id: embedder.id,
        object: 'model',
        created: Math.floor(startedAt / 1000),
        owned_by: 'pooled',
        root: embedder.model.path,
        max_model_len: embedder.maxSeqLength,
        ...embedder.describe(),
      },
    ],
  }));
}
