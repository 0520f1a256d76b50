// Host side of shaders/pooling.wgsl: pooling fused with dimensions truncation and L2 normalization.
import type { PoolingMode } from '../../../model/types.js';
import type { KernelSpec, PipelineKey } from '../kernel_spec.js';
import { grid2d, uniformBlock } from '../gpu_buffers.js';
import { ROW_WORKGROUP_SIZE } from './layer_norm.js';

export const POOLING_KERNEL: KernelSpec = {
  name: 'pooling',
  file: 'pooling.wgsl',
  readsWeights: false,
  // hidden, cu_seq_lens, seq_options, out, params
  bindings: ['read', 'read', 'read', 'write', 'uniform'],
};

const POOL_MODE_CODE: Readonly<Record<PoolingMode, number>> = { cls: 0, mean: 1, last: 2 };

export function poolingPipelineKey(hidden: number, mode: PoolingMode): PipelineKey {
  const code = POOL_MODE_CODE[mode];
  if (code === undefined) throw new RangeError(`unknown pooling mode '${String(mode)}'`);
  return { kernel: POOLING_KERNEL, weightType: 'f32', constants: { HIDDEN: hidden, WORKGROUP_SIZE: ROW_WORKGROUP_SIZE, POOL_MODE: code } };
}

/** Per sequence (dimensions kept, 0 = all; normalize 0/1). */
export function packSequenceOptions(dimensions: ArrayLike<number>, normalize: ArrayLike<number | boolean>): Uint32Array {
  const packed = new Uint32Array(dimensions.length * 2);
  for (let i = 0; i < dimensions.length; i++) {
    packed[2 * i] = dimensions[i];
    packed[2 * i + 1] = normalize[i] ? 1 : 0;
  }
  return packed;
}

export function poolingParams(numSequences: number): ArrayBuffer {
  return uniformBlock([['u32', numSequences]]);
}

export function poolingWorkgroups(numSequences: number, maxPerDimension: number): [number, number, number] {
  return grid2d(numSequences, maxPerDimension);
}
