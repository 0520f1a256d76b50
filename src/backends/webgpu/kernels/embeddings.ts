// Host side of shaders/embeddings.wgsl: word + position + token-type gather, then LayerNorm.
import type { KernelSpec, PipelineKey } from '../kernel_spec.js';
import type { WeightType } from '../shader_source.js';
import { grid2d, uniformBlock } from '../gpu_buffers.js';
import { ROW_WORKGROUP_SIZE } from './layer_norm.js';

export const EMBEDDINGS_KERNEL: KernelSpec = {
  name: 'embeddings',
  file: 'embeddings.wgsl',
  readsWeights: true,
  // tokens, word_rows, position_table, type_table, ln_params (gamma | beta), y, params
  bindings: ['read', 'read', 'read', 'read', 'read', 'write', 'uniform'],
};

export function embeddingsPipelineKey(weightType: WeightType, hidden: number, wordRowsPregathered: boolean): PipelineKey {
  return {
    kernel: EMBEDDINGS_KERNEL,
    weightType,
    constants: { HIDDEN: hidden, WORKGROUP_SIZE: ROW_WORKGROUP_SIZE, WORD_ROWS_PREGATHERED: wordRowsPregathered ? 1 : 0 },
  };
}

/** Token records as the kernel reads them: (word id, position, token type, unused) per token. */
export function packTokens(tokenIds: ArrayLike<number>, positions: ArrayLike<number>, tokenTypeIds: ArrayLike<number> | undefined): Uint32Array {
  const packed = new Uint32Array(tokenIds.length * 4);
  for (let t = 0; t < tokenIds.length; t++) {
    packed[4 * t] = tokenIds[t];
    packed[4 * t + 1] = positions[t];
    packed[4 * t + 2] = tokenTypeIds === undefined ? 0 : tokenTypeIds[t];
  }
  return packed;
}

export function embeddingsParams(numTokens: number, eps: number): ArrayBuffer {
  return uniformBlock([
    ['u32', numTokens],
    ['f32', eps],
  ]);
}

export function embeddingsWorkgroups(numTokens: number, maxPerDimension: number): [number, number, number] {
  return grid2d(numTokens, maxPerDimension);
}
