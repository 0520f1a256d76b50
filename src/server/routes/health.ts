// GET /health: liveness. The process answers, the model is loaded (the server starts only after loading).
import type { FastifyInstance } from 'fastify';

export function registerHealthRoute(app: FastifyInstance): void {
  app.get('/health', async () => ({ status: 'ok' }));
}
