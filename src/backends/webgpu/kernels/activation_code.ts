// Activation codes shared by gemm.wgsl's epilogue and activation.wgsl (see shaders/fragments/activation_functions.wgsl).
import type { ActivationKind } from '../../../model/types.js';

export const ACTIVATION_CODE: Readonly<Record<ActivationKind | 'identity', number>> = {
  identity: 0,
  gelu: 1,
  gelu_new: 2,
  gelu_pytorch_tanh: 2,
  relu: 3,
};

export function activationCode(kind: ActivationKind | 'identity'): number {
  const code = ACTIVATION_CODE[kind];
  if (code === undefined) throw new RangeError(`unknown activation '${String(kind)}'`);
  return code;
}
