// Host side of shaders/gemm_residual_layernorm.wgsl: y = LayerNorm(x w^T + bias + residual), whole rows per
// workgroup.
import type { KernelSpec, PipelineKey } from '../kernel_spec.js';
import type { WeightType } from '../shader_source.js';
import { uniformBlock } from '../gpu_buffers.js';
import type { GemmTiling } from './gemm.js';

export const GEMM_RESIDUAL_LAYERNORM_KERNEL: KernelSpec = {
  name: 'gemm_residual_layernorm',
  file: 'gemm_residual_layernorm.wgsl',
  readsWeights: true,
  // x, w, bias, residual, ln_params (gamma | beta), y, params
  bindings: ['read', 'read', 'read', 'read', 'read', 'write', 'uniform'],
};

/** 16 whole rows per workgroup in 64-column chunks, 2 x 4 outputs per invocation, 128 invocations. */
export const DEFAULT_ROW_PANEL_TILING: GemmTiling = { tileM: 16, tileN: 64, tileK: 16, microM: 2, microN: 4 };

export function gemmResidualLayerNormPipelineKey(weightType: WeightType, tiling: GemmTiling = DEFAULT_ROW_PANEL_TILING): PipelineKey {
  // The row statistics are finished by invocations 0..TILE_M-1: there must be at least that many.
  const invocations = (tiling.tileM / tiling.microM) * (tiling.tileN / tiling.microN);
  if (invocations < tiling.tileM) throw new RangeError(`row-panel tiling has ${invocations} invocations for ${tiling.tileM} rows; needs at least one per row`);
  return {
    kernel: GEMM_RESIDUAL_LAYERNORM_KERNEL,
    weightType,
    constants: { TILE_M: tiling.tileM, TILE_N: tiling.tileN, TILE_K: tiling.tileK, MICRO_M: tiling.microM, MICRO_N: tiling.microN },
  };
}

export function gemmResidualLayerNormParams(m: number, n: number, k: number, eps: number): ArrayBuffer {
  return uniformBlock([
    ['u32', m],
    ['u32', n],
    ['u32', k],
    ['f32', eps],
  ]);
}

export function gemmResidualLayerNormWorkgroups(m: number, tiling: GemmTiling = DEFAULT_ROW_PANEL_TILING): [number, number, number] {
  return [1, Math.ceil(m / tiling.tileM), 1];
}
