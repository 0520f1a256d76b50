// Host side of shaders/layer_norm.wgsl: standalone LayerNorm over rows of `hidden` values.
import type { KernelSpec, PipelineKey } from '../kernel_spec.js';
import { grid2d, uniformBlock } from '../gpu_buffers.js';

export const LAYER_NORM_KERNEL: KernelSpec = {
  name: 'layer_norm',
  file: 'layer_norm.wgsl',
  readsWeights: false,
  // x, ln_params (gamma | beta), y, params
  bindings: ['read', 'read', 'write', 'uniform'],
};

export const ROW_WORKGROUP_SIZE = 128;

export function layerNormPipelineKey(hidden: number, workgroupSize = ROW_WORKGROUP_SIZE): PipelineKey {
  return { kernel: LAYER_NORM_KERNEL, weightType: 'f32', constants: { HIDDEN: hidden, WORKGROUP_SIZE: workgroupSize } };
}

export function layerNormParams(rows: number, eps: number): ArrayBuffer {
  return uniformBlock([
    ['u32', rows],
    ['f32', eps],
  ]);
}

export function layerNormWorkgroups(rows: number, maxPerDimension: number): [number, number, number] {
  return grid2d(rows, maxPerDimension);
}
