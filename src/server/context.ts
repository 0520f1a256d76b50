// What every route needs: the engine, the metrics, the server's options.
import type { Embedder } from '../engine/embedder.js';
import type { ServerMetrics } from './metrics.js';

export interface ServerOptions {
  /** Max inputs in one request (413 beyond it). */
  readonly maxInputsPerRequest: number;
  /** Max request body in bytes (413 beyond it). */
  readonly bodyLimitBytes: number;
  /** Seconds a request may take end to end before it is answered 408/503 and its work dropped; 0 = no limit. */
  readonly requestTimeoutSeconds: number;
  /** Bearer token clients must send; null = no authentication. */
  readonly apiKey: string | null;
  /** Routes answered without the API key (e.g. /health for load balancers, /metrics for Prometheus). */
  readonly unauthenticatedRoutes: readonly string[];
  /** Origins allowed by CORS; empty = CORS off, ['*'] = any origin. */
  readonly corsOrigins: readonly string[];
  readonly logger?: boolean | { level: string /** Where log lines go (tests capture them); default stdout. */; stream?: { write(line: string): void } };
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  maxInputsPerRequest: 2048,
  bodyLimitBytes: 16 * 1024 * 1024,
  requestTimeoutSeconds: 0,
  apiKey: null,
  unauthenticatedRoutes: ['/health', '/ready', '/metrics'],
  corsOrigins: [],
  logger: false,
};

export interface RouteContext {
  readonly embedder: Embedder;
  readonly metrics: ServerMetrics;
  readonly options: ServerOptions;
  readonly startedAt: number;
  /** True once the model answered a warm-up batch (GET /ready). */
  isReady(): boolean;
}
