// Request fields a route does not know are ignored, as vLLM ignores them (its pydantic request models log "The following
// fields were present in the request but ignored"), and logged once per route and field name, so a client sending a
// field we don't implement finds out from the log without every request repeating it.
import type { FastifyInstance } from 'fastify';

export function installUnknownFieldLog(app: FastifyInstance): void {
  const logged = new Set<string>();
  app.addHook('preHandler', async (request) => {
    const body = request.body;
    const schema = request.routeOptions.schema?.body as { properties?: Record<string, unknown> } | undefined;
    if (schema?.properties === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) return;
    const route = request.routeOptions.url ?? request.url;
    for (const name of Object.keys(body)) {
      if (Object.hasOwn(schema.properties, name)) continue;
      const key = `${route}\0${name}`;
      if (logged.has(key)) continue;
      logged.add(key);
      request.log.warn({ route, field: name }, `request field "${name}" is not known on ${route} and is ignored (logged once per route and field)`);
    }
  });
}
