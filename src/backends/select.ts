// Picks and builds a backend by name. The only place that knows every backend; each one is imported lazily so
// a missing optional piece (the native addon, a WebGPU adapter) fails only when it is asked for.
import type { LoadedModel } from '../model/types.js';
import type { Backend, BackendName } from './backend.js';
import { ModelLoadError } from '../errors.js';

/** Weight precision; accumulation and reductions are fp32 (or fp64 in the reference) everywhere. */
export type ComputeDType = 'float32' | 'bfloat16' | 'float16';

export const COMPUTE_DTYPES: readonly ComputeDType[] = ['float32', 'bfloat16', 'float16'];

export interface BackendOptions {
  readonly dtype: ComputeDType;
  /** Compute threads (native backend); 0 = one per core. */
  readonly threads: number;
  /** The scheduler's token budget: the most tokens one forward will carry (sizes activation buffers). */
  readonly maxBatchTokens: number;
  /** Native backend: seconds idle before its working buffers go back to the OS (0 = keep; default 10). */
  readonly releaseWorkingMemoryAfterSeconds?: number;
}

export const BACKEND_NAMES: readonly BackendName[] = ['reference', 'cpu', 'webgpu'];

/**
 * The backend used when none is asked for: the C++ engine (the fastest without a GPU, and one every machine can
 * build) for the architectures it runs (BERT encoders; Qwen3 decoders with a paged KV cache), else the reference
 * backend.
 */
export function defaultBackendFor(model: LoadedModel): BackendName {
  const architecture = model.config.architecture;
  return architecture === 'bert' || architecture === 'qwen3' ? 'cpu' : 'reference';
}

function unsupportedDType(backend: BackendName, dtype: ComputeDType, supported: string): ModelLoadError {
  return new ModelLoadError(`the ${backend} backend does not support --dtype ${dtype}; it supports ${supported}`);
}

export async function createBackend(name: BackendName, model: LoadedModel, opts: BackendOptions): Promise<Backend> {
  switch (name) {
    case 'reference': {
      // The oracle computes in float64 from whatever the checkpoint holds; a lower precision would defeat it.
      if (opts.dtype !== 'float32') throw unsupportedDType(name, opts.dtype, 'float32 (it computes in float64)');
      const { createReferenceBackend } = await import('./reference/backend.js');
      return createReferenceBackend(model); // BERT or Qwen3
    }
    case 'webgpu': {
      // WGSL has f32 and (with shader-f16) f16 but no bfloat16 type.
      if (opts.dtype === 'bfloat16') throw unsupportedDType(name, opts.dtype, 'float32 and float16 (needs shader-f16)');
      const { createWebGpuBackend } = await import('./webgpu/backend.js');
      return createWebGpuBackend(model, { weightType: opts.dtype === 'float16' ? 'f16' : 'f32', maxBatchTokens: opts.maxBatchTokens });
    }
    case 'cpu': {
      // The C++ engine has float32 and bfloat16 weight paths; float16 checkpoints convert at load into either.
      if (opts.dtype === 'float16') throw unsupportedDType(name, opts.dtype, 'float32 and bfloat16');
      const { createNativeBackend } = await import('./native/backend.js');
      return createNativeBackend(model, { dtype: opts.dtype, threads: opts.threads, releaseWorkingMemoryAfterSeconds: opts.releaseWorkingMemoryAfterSeconds });
    }
  }
}
