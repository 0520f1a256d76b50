// The native CPU backend ('cpu'): picks the class for a model's architecture from the per-family map below (one
// creator per NATIVE_FAMILIES entry in ./capabilities.ts). NativeBackend (./bert_backend.ts, BERT) is the base class of
// NativeQwen3Backend (./qwen3_backend.ts: paged KV, chunked prefill, prefix caching), so the choice lives here, above
// both, rather than in the base class (which would import its own subclass: a cycle).
import { ModelLoadError } from '../../errors.js';
import { BERT } from '../../model/architectures/bert/spec.js';
import { QWEN3 } from '../../model/architectures/qwen3/spec.js';
import type { LoadedModel } from '../../model/types.js';
import type { BackendFactory } from '../backend.js';
import { NativeBackend, type NativeBackendOptions } from './bert_backend.js';
import { capabilities, type NativeFamilyName } from './capabilities.js';
import { NativeQwen3Backend } from './qwen3_backend.js';

export { NativeBackend, type NativeBackendOptions } from './bert_backend.js';
export { NativeQwen3Backend } from './qwen3_backend.js';

type NativeFamilyCreator = (model: LoadedModel, options: NativeBackendOptions) => Promise<NativeBackend>;

const FAMILY_TO_CREATOR: Readonly<Record<NativeFamilyName, NativeFamilyCreator>> = {
  [BERT.name]: (model, options) => NativeBackend.createBert(model, options),
  [QWEN3.name]: (model, options) => NativeQwen3Backend.createQwen3(model, options),
};

/** Loads the weights into the native engine. Throws ModelLoadError for unsupported models or bad weights. */
export function createNativeBackend(model: LoadedModel, options: NativeBackendOptions = {}): Promise<NativeBackend> {
  const architecture = model.config.architecture;
  if (!Object.hasOwn(FAMILY_TO_CREATOR, architecture)) {
    const reason = capabilities.supports({ architecture, dtype: options.dtype ?? 'float32', pagedKv: false, heads: [] });
    return Promise.reject(new ModelLoadError(reason === true ? `the cpu backend has no creator for '${architecture}'` : reason));
  }
  return FAMILY_TO_CREATOR[architecture as NativeFamilyName](model, options);
}

/** A BackendFactory with the options fixed (for src/backends/select.ts). */
export function nativeBackendFactory(options: NativeBackendOptions = {}): BackendFactory {
  return (model) => createNativeBackend(model, options);
}
