// Host side of shaders/swiglu.wgsl: silu(gate) * up over the [T, 2I] output of the fused gate|up GEMM.
import type { KernelSpec, PipelineKey } from '../kernel_spec.js';
import { grid2d, uniformBlock } from '../gpu_buffers.js';

export const SWIGLU_KERNEL: KernelSpec = {
  name: 'swiglu',
  file: 'swiglu.wgsl',
  readsWeights: false,
  // gate_up, y, params
  bindings: ['read', 'write', 'uniform'],
};

export const SWIGLU_WORKGROUP_SIZE = 256;

export function swigluPipelineKey(): PipelineKey {
  return { kernel: SWIGLU_KERNEL, weightType: 'f32', constants: { WORKGROUP_SIZE: SWIGLU_WORKGROUP_SIZE } };
}

export function swigluParams(numTokens: number, intermediate: number): ArrayBuffer {
  return uniformBlock([
    ['u32', numTokens],
    ['u32', intermediate],
  ]);
}

export function swigluWorkgroups(numTokens: number, intermediate: number, maxPerDimension: number): [number, number, number] {
  return grid2d(Math.ceil((numTokens * intermediate) / SWIGLU_WORKGROUP_SIZE), maxPerDimension);
}
