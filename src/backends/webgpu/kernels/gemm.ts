// Host side of shaders/gemm.wgsl: y = epilogue(x w^T + bias).
import type { ActivationKind } from '../../../model/types.js';
import type { KernelSpec, PipelineKey } from '../kernel_spec.js';
import type { WeightType } from '../shader_source.js';
import { uniformBlock } from '../gpu_buffers.js';
import { activationCode } from './activation_code.js';

export const GEMM_KERNEL: KernelSpec = {
  name: 'gemm',
  file: 'gemm.wgsl',
  readsWeights: true,
  // x, w, bias, residual, y, params
  bindings: ['read', 'read', 'read', 'read', 'write', 'uniform'],
};

export interface GemmTiling {
  readonly tileM: number;
  readonly tileN: number;
  readonly tileK: number;
  readonly microM: number;
  readonly microN: number;
}

/** 64 x 64 output tiles, 4 x 4 per invocation, 256 invocations: a safe default on discrete and integrated GPUs. */
export const DEFAULT_GEMM_TILING: GemmTiling = { tileM: 64, tileN: 64, tileK: 16, microM: 4, microN: 4 };

/** What follows the product: bias only, bias + activation, or bias + residual (before a separate LayerNorm). */
export type GemmEpilogue = { readonly kind: 'bias' } | { readonly kind: 'activation'; readonly activation: ActivationKind } | { readonly kind: 'residual' };

const EPILOGUE_CODE = { bias: 0, activation: 1, residual: 2 } as const;

/** Shared memory of the staged x and w tiles (k-major, one word of padding per k-row). */
export function gemmWorkgroupBytes(tiling: GemmTiling): number {
  return 4 * tiling.tileK * (tiling.tileM + 1 + tiling.tileN + 1);
}

/** Throws a RangeError naming the problem when a tiling cannot compile or run on this device. */
export function checkTiling(tiling: GemmTiling, maxInvocations: number, maxWorkgroupBytes = 16384): void {
  const { tileM, tileN, microM, microN } = tiling;
  for (const [name, value] of Object.entries(tiling)) {
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`gemm tiling ${name} must be a positive integer, got ${value}`);
  }
  if (microM > 8 || microN > 8) throw new RangeError('gemm tiling: microM and microN must be <= 8');
  if (tileM % microM !== 0 || tileN % microN !== 0) throw new RangeError('gemm tiling: micro tiles must divide the tile');
  const invocations = (tileM / microM) * (tileN / microN);
  if (invocations > maxInvocations) throw new RangeError(`gemm tiling needs ${invocations} invocations per workgroup, the device allows ${maxInvocations}`);
  if (gemmWorkgroupBytes(tiling) > maxWorkgroupBytes) {
    throw new RangeError(`gemm tiling needs ${gemmWorkgroupBytes(tiling)} bytes of workgroup memory, the device allows ${maxWorkgroupBytes}`);
  }
}

export function gemmPipelineKey(weightType: WeightType, epilogue: GemmEpilogue, hasBias: boolean, tiling: GemmTiling = DEFAULT_GEMM_TILING): PipelineKey {
  return {
    kernel: GEMM_KERNEL,
    weightType,
    constants: {
      TILE_M: tiling.tileM,
      TILE_N: tiling.tileN,
      TILE_K: tiling.tileK,
      MICRO_M: tiling.microM,
      MICRO_N: tiling.microN,
      HAS_BIAS: hasBias ? 1 : 0,
      EPILOGUE: EPILOGUE_CODE[epilogue.kind],
      ACTIVATION: epilogue.kind === 'activation' ? activationCode(epilogue.activation) : 0,
    },
  };
}

export function gemmParams(m: number, n: number, k: number): ArrayBuffer {
  return uniformBlock([
    ['u32', m],
    ['u32', n],
    ['u32', k],
    ['u32', 0],
  ]);
}

export function gemmWorkgroups(m: number, n: number, tiling: GemmTiling = DEFAULT_GEMM_TILING): [number, number, number] {
  return [Math.ceil(n / tiling.tileN), Math.ceil(m / tiling.tileM), 1];
}

export function gemmFlops(m: number, n: number, k: number): number {
  return 2 * m * n * k;
}
