// The native CPU backend ('cpu'): the model's family picks its graph builder (./graphs/index.ts); families whose spec
// declares a KV cache run on NativePagedBackend (./paged_backend.ts: paged KV, chunked prefill, prefix caching), the
// others on NativeBackend (./native_backend.ts). The choice lives here, above both, because the paged backend extends
// the other (choosing in the base class would import its own subclass: a cycle).
import { ModelLoadError } from '../../errors.js';
import type { LoadedModel } from '../../model/types.js';
import type { BackendFactory } from '../backend.js';
import { capabilities } from './capabilities.js';
import { nativeGraphFor } from './graphs/index.js';
import { NativeBackend, type NativeBackendOptions } from './native_backend.js';
import { NativePagedBackend } from './paged_backend.js';

export { NativeBackend, type NativeBackendOptions } from './native_backend.js';
export { NativePagedBackend } from './paged_backend.js';

/** Loads the weights into the native engine. Throws ModelLoadError for unsupported models or bad weights. */
export function createNativeBackend(model: LoadedModel, options: NativeBackendOptions = {}): Promise<NativeBackend> {
  const architecture = model.config.architecture;
  const graph = nativeGraphFor(architecture);
  if (graph === undefined) {
    const dtype = options.dtype === 'bfloat16' ? 'bfloat16' : 'float32';
    const reason = capabilities.supports({ architecture, dtype, quantization: options.dtype === 'int8' ? 'int8' : null, pagedKv: false, heads: [] });
    return Promise.reject(new ModelLoadError(reason === true ? `the cpu backend has no graph for '${architecture}'` : reason));
  }
  return graph.spec.kvBytesPerToken !== null ? NativePagedBackend.create(model, options, graph) : NativeBackend.create(model, options, graph);
}

/** A BackendFactory with the options fixed (for src/backends/select.ts). */
export function nativeBackendFactory(options: NativeBackendOptions = {}): BackendFactory {
  return (model) => createNativeBackend(model, options);
}
