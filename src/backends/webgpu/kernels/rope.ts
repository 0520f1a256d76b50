// Host side of shaders/rope.wgsl: rotate-half RoPE in place, inverse frequencies computed here in float64.
import type { KernelSpec, PipelineKey } from '../kernel_spec.js';
import { grid2d, uniformBlock } from '../gpu_buffers.js';

export const ROPE_KERNEL: KernelSpec = {
  name: 'rope',
  file: 'rope.wgsl',
  readsWeights: false,
  // x (in place), positions, inv_freq, params
  bindings: ['write', 'read', 'read', 'uniform'],
};

export const ROPE_WORKGROUP_SIZE = 64;

export function ropePipelineKey(headDim: number): PipelineKey {
  if (headDim % 2 !== 0) throw new RangeError(`rotate-half RoPE needs an even head size, got ${headDim}`);
  return { kernel: ROPE_KERNEL, weightType: 'f32', constants: { HEAD_DIM: headDim, WORKGROUP_SIZE: ROPE_WORKGROUP_SIZE } };
}

/**
 * inv_freq[j] = scale / theta^(2j / headDim) in float64, rounded once to f32 (see the precision note in rope.wgsl);
 * scale is 1 but for scaled variants (GTE's NTK rope).
 */
export function ropeInverseFrequencies32(headDim: number, theta: number, scale = 1): Float32Array {
  return Float32Array.from({ length: headDim / 2 }, (_, j) => scale / theta ** ((2 * j) / headDim));
}

/** rowStride: floats from one token's row of x to the next (default: the rotated heads are the whole row). */
export function ropeParams(numTokens: number, numHeads: number, headDim: number, rowStride = numHeads * headDim): ArrayBuffer {
  if (rowStride < numHeads * headDim) throw new RangeError(`rope row stride ${rowStride} is shorter than ${numHeads} heads of ${headDim}`);
  return uniformBlock([
    ['u32', numTokens],
    ['u32', numHeads],
    ['u32', rowStride],
  ]);
}

export function ropeWorkgroups(numTokens: number, numHeads: number, headDim: number, maxPerDimension: number): [number, number, number] {
  return grid2d(Math.ceil((numTokens * numHeads * (headDim / 2)) / ROPE_WORKGROUP_SIZE), maxPerDimension);
}
