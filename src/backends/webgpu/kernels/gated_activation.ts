// Host side of shaders/gated_activation.wgsl: act(a) * b over the [T, 2I] output of a fused projection (Qwen3's
// gate|up, ModernBERT's Wi), a being the half `activatedHalf` names.
import type { GatedActivationKind } from '../../../model/types.js';
import type { KernelSpec, PipelineKey } from '../kernel_spec.js';
import { grid2d, uniformBlock } from '../gpu_buffers.js';
import { ACTIVATION_CODE } from './activation_code.js';

export const GATED_ACTIVATION_KERNEL: KernelSpec = {
  name: 'gated_activation',
  file: 'gated_activation.wgsl',
  readsWeights: false,
  // packed, y, params
  bindings: ['read', 'write', 'uniform'],
};

export const GATED_ACTIVATION_WORKGROUP_SIZE = 256;

/** Codes of fragments/activation_functions.wgsl (4 = SiLU, the others as the GEMM epilogue's). */
const GATED_ACTIVATION_CODE: Readonly<Record<GatedActivationKind, number>> = {
  silu: 4,
  gelu: ACTIVATION_CODE.gelu,
  gelu_new: ACTIVATION_CODE.gelu_new,
  gelu_pytorch_tanh: ACTIVATION_CODE.gelu_pytorch_tanh,
};

export function gatedActivationPipelineKey(activation: GatedActivationKind, activatedHalf: 'first' | 'second'): PipelineKey {
  const code = GATED_ACTIVATION_CODE[activation];
  if (code === undefined) throw new RangeError(`unknown gated activation '${String(activation)}'`);
  return {
    kernel: GATED_ACTIVATION_KERNEL,
    weightType: 'f32',
    constants: { ACTIVATION: code, ACTIVATED_HALF: activatedHalf === 'first' ? 0 : 1, WORKGROUP_SIZE: GATED_ACTIVATION_WORKGROUP_SIZE },
  };
}

export function gatedActivationParams(numTokens: number, intermediate: number): ArrayBuffer {
  return uniformBlock([
    ['u32', numTokens],
    ['u32', intermediate],
  ]);
}

export function gatedActivationWorkgroups(numTokens: number, intermediate: number, maxPerDimension: number): [number, number, number] {
  return grid2d(Math.ceil((numTokens * intermediate) / GATED_ACTIVATION_WORKGROUP_SIZE), maxPerDimension);
}
