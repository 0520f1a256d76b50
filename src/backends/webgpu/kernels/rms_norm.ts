// Host side of shaders/rms_norm.wgsl: Qwen3RMSNorm over rows of `cols` values (hidden rows or per-head rows).
import type { KernelSpec, PipelineKey } from '../kernel_spec.js';
import { grid2d, uniformBlock } from '../gpu_buffers.js';

export const RMS_NORM_KERNEL: KernelSpec = {
  name: 'rms_norm',
  file: 'rms_norm.wgsl',
  readsWeights: false,
  // x, weight, y, params
  bindings: ['read', 'read', 'write', 'uniform'],
};

/** The smallest power of two >= cols, at most 128: a 16-value head row gets 16 invocations, a hidden row 128. */
export function rmsNormWorkgroupSize(cols: number): number {
  let size = 1;
  while (size < cols && size < 128) size *= 2;
  return size;
}

export function rmsNormPipelineKey(cols: number): PipelineKey {
  return { kernel: RMS_NORM_KERNEL, weightType: 'f32', constants: { COLS: cols, WORKGROUP_SIZE: rmsNormWorkgroupSize(cols) } };
}

export function rmsNormParams(rows: number, eps: number): ArrayBuffer {
  return uniformBlock([
    ['u32', rows],
    ['f32', eps],
  ]);
}

export function rmsNormWorkgroups(rows: number, maxPerDimension: number): [number, number, number] {
  return grid2d(rows, maxPerDimension);
}
