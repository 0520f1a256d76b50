// Which kernel variants a CPU can run, as the native dispatcher decides it (native/kernels/cpu/cpu_features.cpp
// Select()). Not a test file itself.
import type { CpuFeatures } from '../../src/backends/native/addon.js';

export type IsaName = 'avx512' | 'avx2' | 'scalar';

export function bestIsa(features: CpuFeatures): IsaName {
  if (!features.avx2 || !features.fma || !features.f16c) return 'scalar';
  return features.avx512f && features.avx512bw && features.avx512vl ? 'avx512' : 'avx2';
}

/** Every variant this CPU runs, best first. */
export function supportedIsas(features: CpuFeatures): IsaName[] {
  const order: IsaName[] = ['avx512', 'avx2', 'scalar'];
  return order.slice(order.indexOf(bestIsa(features)));
}
