// Picks and builds a backend by name. The only place that knows every backend; each one is imported lazily so
// a missing optional piece (the native addon, a WebGPU adapter) fails only when it is asked for.
import type { LoadedModel } from '../model/types.js';
import type { Backend, BackendName } from './backend.js';
import { ModelLoadError } from '../errors.js';

export type ComputeDType = 'float32' | 'bfloat16';

export interface BackendOptions {
  readonly dtype: ComputeDType;
  /** Compute threads (native backend); 0 = one per core. */
  readonly threads: number;
}

export const BACKEND_NAMES: readonly BackendName[] = ['reference', 'cpu', 'webgpu'];

export async function createBackend(name: BackendName, model: LoadedModel, opts: BackendOptions): Promise<Backend> {
  switch (name) {
    case 'reference': {
      if (opts.dtype !== 'float32') {
        throw new ModelLoadError(`the reference backend computes in float64 and takes --dtype float32 only, not ${opts.dtype}`);
      }
      const { ReferenceBackend } = await import('./reference/backend.js');
      return ReferenceBackend.create(model);
    }
    default:
      throw new ModelLoadError(`backend '${name}' is not available in this build; available: reference`);
  }
}
