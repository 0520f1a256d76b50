// --api-key: every route but the configured exceptions needs `Authorization: Bearer <key>` (401 otherwise).
// An exception opens its path and the paths under it ("/docs" opens Swagger UI's assets under /docs/ too).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

import { errorBody } from './errors.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Whether `path` is answered without the key: it, or a folder above it, is one of the unauthenticated routes. */
export function isOpenRoute(path: string, open: ReadonlySet<string>): boolean {
  if (open.has(path)) return true;
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    if (open.has(path.slice(0, i))) return true;
  }
  return false;
}

export function installApiKeyCheck(app: FastifyInstance, apiKey: string, unauthenticatedRoutes: readonly string[]): void {
  const expected = digest(apiKey);
  const open = new Set(unauthenticatedRoutes);
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS') return; // CORS preflight carries no credentials
    const path = request.url.split('?')[0];
    if (isOpenRoute(path, open)) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Compare digests in constant time so the key can't be guessed byte by byte from response timing.
    if (match && timingSafeEqual(digest(match[1].trim()), expected)) return;
    reply.header('www-authenticate', 'Bearer');
    return reply
      .status(401)
      .send(errorBody(match ? 'Invalid API key.' : 'Missing API key: send "Authorization: Bearer <key>".', 'authentication_error', null, 'invalid_api_key'));
  });
}
