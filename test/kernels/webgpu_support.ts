// Shared pieces of the WebGPU kernel and integration tests: the adapter probe that decides whether they run,
// seeded inputs, and error metrics. Not a test file itself (no .test.ts suffix).
import { float32ToBytes, halfToFloat } from '../../src/model/tensor_data.js';
import { probeWebGpu, type ProbeResult } from '../../src/backends/webgpu/device.js';

let probe: Promise<ProbeResult> | null = null;

/** One probe per process; tests skip with `no WebGPU adapter: <reason>` when it fails. */
export function webGpuProbe(): Promise<ProbeResult> {
  probe ??= probeWebGpu();
  return probe;
}

/** Deterministic values in [-scale, scale) from a 32-bit LCG (Numerical Recipes constants). */
export function seededValues(count: number, seed: number, scale = 1, offset = 0): Float32Array {
  let state = seed >>> 0;
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = offset + (state / 2 ** 32 - 0.5) * 2 * scale;
  }
  return values;
}

export function seededInts(count: number, seed: number, limit: number): Int32Array {
  return Int32Array.from(seededValues(count, seed, 0.5, 0.5), (value) => Math.min(limit - 1, Math.floor(value * limit)));
}

/** Values rounded to float16 and back: what the kernels read from f16 weight storage. */
export function roundToF16(values: Float32Array): Float32Array {
  const bytes = float32ToBytes(values, 'F16');
  return Float32Array.from({ length: values.length }, (_, i) => halfToFloat(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
}

export function cuSeqLensOf(lengths: readonly number[]): Int32Array {
  const cu = new Int32Array(lengths.length + 1);
  lengths.forEach((length, i) => (cu[i + 1] = cu[i] + length));
  return cu;
}
