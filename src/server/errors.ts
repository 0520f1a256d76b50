// One error handler for every route: typed errors, fastify's own errors (bad JSON, content type, body size,
// schema validation) and anything unexpected all leave in OpenAI's shape {"error":{message,type,param,code}}.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { PooledError, type ErrorType } from '../errors.js';

export interface ErrorBody {
  error: { message: string; type: ErrorType; param: string | null; code: string | null };
}

export function errorBody(message: string, type: ErrorType, param: string | null = null, code: string | null = null): ErrorBody {
  return { error: { message, type, param, code } };
}

function typeForStatus(status: number): ErrorType {
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'overloaded_error';
  if (status === 408) return 'timeout_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

/** The request field an ajv validation error points at, as OpenAI's `param` (e.g. "encoding_format"). */
function paramOf(error: FastifyError): string | null {
  const first = error.validation?.[0];
  if (!first) return null;
  const path = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = (first.params as { missingProperty?: string } | undefined)?.missingProperty;
  return missing ?? (path || null);
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | PooledError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof PooledError) {
      if (error.status === 429) reply.header('retry-after', '1');
      return reply.status(error.status).send(errorBody(error.message, error.type, error.param, error.code));
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      const message = `Invalid request: ${fastifyError.message.replace(/^body\/?/, '')}`;
      return reply.status(400).send(errorBody(message, 'invalid_request_error', paramOf(fastifyError), 'invalid_value'));
    }
    const status = fastifyError.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // fastify's own client errors: malformed JSON (400), unsupported content type (415), body too large (413).
      return reply.status(status).send(errorBody(fastifyError.message, typeForStatus(status), null, fastifyError.code ?? null));
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send(errorBody('The server failed to process the request.', 'server_error', null, 'internal_error'));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody(`No route for ${request.method} ${request.url}.`, 'not_found_error', null, 'route_not_found'));
  });
}
