// Typed errors shared by every layer. The HTTP error handler (src/server/errors.ts) maps `status` and `type` onto
// the OpenAI error shape {"error":{"message","type","param","code"}}; the CLI prints `message`.

export type ErrorType = 'invalid_request_error' | 'not_found_error' | 'server_error' | 'overloaded_error' | 'timeout_error' | 'authentication_error';

export class PooledError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly param: string | null;
  readonly code: string | null;

  constructor(message: string, opts: { status: number; type: ErrorType; param?: string | null; code?: string | null }) {
    super(message);
    this.name = new.target.name;
    this.status = opts.status;
    this.type = opts.type;
    this.param = opts.param ?? null;
    this.code = opts.code ?? null;
  }
}

/** The client sent something we can't accept (400 unless another 4xx fits better). */
export class InvalidRequestError extends PooledError {
  constructor(message: string, param: string | null = null, code: string | null = null, status = 400) {
    super(message, { status, type: 'invalid_request_error', param, code });
  }
}

export class NotFoundError extends PooledError {
  constructor(message: string, param: string | null = null, code: string | null = 'model_not_found') {
    super(message, { status: 404, type: 'not_found_error', param, code });
  }
}

/** A command-line flag or its value is wrong: the CLI prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A model folder, checkpoint or config is unusable: raised at load time, never mid-request. */
export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLoadError';
  }
}

/** The queue is full: the edge answers 429 with Retry-After. */
export class OverloadedError extends PooledError {
  constructor(message: string) {
    super(message, { status: 429, type: 'overloaded_error', code: 'queue_full' });
  }
}

/**
 * A request's --request-timeout deadline passed. Still waiting in the queue: 503 (the server could not start it
 * in time; retrying later can work). Already computing: 408. Either way its remaining work is dropped.
 */
export class DeadlineExceededError extends PooledError {
  constructor(timeoutSeconds: number, phase: 'queued' | 'running') {
    super(
      phase === 'queued'
        ? `The request waited in the queue past the server's ${timeoutSeconds} s request timeout. Retry later.`
        : `The request did not finish within the server's ${timeoutSeconds} s request timeout.`,
      { status: phase === 'queued' ? 503 : 408, type: 'timeout_error', code: 'request_timeout' },
    );
  }
}

/** The client closed the connection; nobody will read the answer (499, nginx's convention, only in logs). */
export class ClientClosedError extends PooledError {
  constructor() {
    super('The client closed the connection before the response.', { status: 499, type: 'invalid_request_error', code: 'client_closed' });
  }
}
