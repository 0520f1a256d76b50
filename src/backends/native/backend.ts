// The native CPU backend ('cpu'): picks the class for a model's architecture. NativeBackend (./bert_backend.ts, BERT)
// is the base class of NativeQwen3Backend (./qwen3_backend.ts: paged KV, chunked prefill, prefix caching), so the
// choice lives here, above both, rather than in the base class (which would import its own subclass: a cycle).
import type { LoadedModel } from '../../model/types.js';
import type { BackendFactory } from '../backend.js';
import { NativeBackend, type NativeBackendOptions } from './bert_backend.js';
import { NativeQwen3Backend } from './qwen3_backend.js';

export { NativeBackend, type NativeBackendOptions } from './bert_backend.js';
export { NativeQwen3Backend } from './qwen3_backend.js';

/** Loads the weights into the native engine. Throws ModelLoadError for unsupported models or bad weights. */
export function createNativeBackend(model: LoadedModel, options: NativeBackendOptions = {}): Promise<NativeBackend> {
  if (model.config.architecture === 'qwen3') return NativeQwen3Backend.createQwen3(model, options);
  return NativeBackend.createBert(model, options);
}

/** A BackendFactory with the options fixed (for src/backends/select.ts). */
export function nativeBackendFactory(options: NativeBackendOptions = {}): BackendFactory {
  return (model) => createNativeBackend(model, options);
}
