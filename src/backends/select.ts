// Picks and builds a backend by name. The only place that knows every backend: it asks each one's static
// capabilities (supports()) and builds it only when the answer is yes; each backend's code is imported lazily so a
// missing optional piece (the native addon, a WebGPU adapter) fails only when it is asked for.
import type { LoadedModel } from '../model/types.js';
import type { Backend, BackendCapabilities, BackendName, BackendSupportQuery, ComputeDType, Quantization } from './backend.js';
import { capabilities as nativeCapabilities } from './native/capabilities.js';
import { capabilities as referenceCapabilities } from './reference/capabilities.js';
import { capabilities as webgpuCapabilities } from './webgpu/capabilities.js';
import { ModelLoadError } from '../errors.js';

export type { ComputeDType, Quantization } from './backend.js';

export const COMPUTE_DTYPES: readonly ComputeDType[] = ['float32', 'bfloat16', 'float16'];
export const QUANTIZATIONS: readonly Quantization[] = ['int8'];

export interface BackendOptions {
  readonly dtype: ComputeDType;
  /** Weight quantization (--quantization); absent or null = none. */
  readonly quantization?: Quantization | null;
  /** Compute threads (native backend); 0 = one per core. */
  readonly threads: number;
  /** The scheduler's token budget: the most tokens one forward will carry (sizes activation buffers). */
  readonly maxBatchTokens: number;
  /** Native backend: seconds idle before its working buffers go back to the OS (0 = keep; default 10). */
  readonly releaseWorkingMemoryAfterSeconds?: number;
}

export const BACKEND_NAMES: readonly BackendName[] = ['reference', 'cpu', 'webgpu'];

export const BACKEND_CAPABILITIES: Readonly<Record<BackendName, BackendCapabilities>> = {
  reference: referenceCapabilities,
  cpu: nativeCapabilities,
  webgpu: webgpuCapabilities,
};

/**
 * What building a backend for this model asks of it. pagedKv is false: a backend without a paged KV cache still runs
 * decoders one-shot (the engine picks its scheduler from what the backend it got offers), and no head exists yet.
 */
export function supportQueryFor(model: LoadedModel, dtype: ComputeDType, quantization: Quantization | null = null): BackendSupportQuery {
  return { architecture: model.config.architecture, dtype, quantization, pagedKv: false, heads: [] };
}

/**
 * The backend used when none is asked for: the C++ engine (the fastest without a GPU, and one every machine can
 * build) when it runs the model's architecture, else the reference backend. WebGPU only when asked for.
 */
export function defaultBackendFor(model: LoadedModel): BackendName {
  return BACKEND_CAPABILITIES.cpu.supports(supportQueryFor(model, 'float32')) === true ? 'cpu' : 'reference';
}

/** Throws ModelLoadError naming the reason unless backend `name` supports `query`. */
export function checkBackendSupports(name: BackendName, query: BackendSupportQuery): void {
  const answer = BACKEND_CAPABILITIES[name].supports(query);
  if (answer !== true) throw new ModelLoadError(answer);
}

export async function createBackend(name: BackendName, model: LoadedModel, opts: BackendOptions): Promise<Backend> {
  checkBackendSupports(name, supportQueryFor(model, opts.dtype, opts.quantization ?? null));
  switch (name) {
    case 'reference': {
      const { createReferenceBackend } = await import('./reference/backend.js');
      return createReferenceBackend(model);
    }
    case 'webgpu': {
      const { createWebGpuBackend } = await import('./webgpu/backend.js');
      return createWebGpuBackend(model, { weightType: opts.dtype === 'float16' ? 'f16' : 'f32', maxBatchTokens: opts.maxBatchTokens });
    }
    case 'cpu': {
      const { createNativeBackend } = await import('./native/backend.js');
      return createNativeBackend(model, {
        // The engine's packed-weight type: int8 replaces the GEMM weights' float type (supports() checked float32).
        dtype: opts.quantization === 'int8' ? 'int8' : opts.dtype === 'bfloat16' ? 'bfloat16' : 'float32',
        threads: opts.threads,
        releaseWorkingMemoryAfterSeconds: opts.releaseWorkingMemoryAfterSeconds,
      });
    }
  }
}
