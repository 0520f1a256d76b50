// Host side of shaders/activation.wgsl: elementwise activation.
import type { ActivationKind } from '../../../model/types.js';
import type { KernelSpec, PipelineKey } from '../kernel_spec.js';
import { grid2d, uniformBlock } from '../gpu_buffers.js';
import { activationCode } from './activation_code.js';

export const ACTIVATION_KERNEL: KernelSpec = {
  name: 'activation',
  file: 'activation.wgsl',
  readsWeights: false,
  // x, y, params
  bindings: ['read', 'write', 'uniform'],
};

export const ACTIVATION_WORKGROUP_SIZE = 256;

export function activationPipelineKey(kind: ActivationKind): PipelineKey {
  return { kernel: ACTIVATION_KERNEL, weightType: 'f32', constants: { ACTIVATION: activationCode(kind), WORKGROUP_SIZE: ACTIVATION_WORKGROUP_SIZE } };
}

export function activationParams(count: number): ArrayBuffer {
  return uniformBlock([['u32', count]]);
}

export function activationWorkgroups(count: number, maxPerDimension: number): [number, number, number] {
  return grid2d(Math.ceil(count / ACTIVATION_WORKGROUP_SIZE), maxPerDimension);
}
