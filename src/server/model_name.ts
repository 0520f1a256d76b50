import { NotFoundError } from '../errors.js';
import type { Embedder } from '../engine/embedder.js';

/** `model` may be omitted (one model is served); when given it must name the served model, as vLLM checks. */
export function checkModelName(embedder: Embedder, model: string | undefined): void {
  if (model === undefined || model === embedder.id) return;
  throw new NotFoundError(`The model "${model}" does not exist; this server serves "${embedder.id}".`, 'model');
}
