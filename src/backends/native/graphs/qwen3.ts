// Qwen3 on the native engine: native/engine/graphs/qwen3.* (ParseQwen3Config reads these fields). A causal family:
// the backend is the paged one (a float32 KV cache in the engine).
import { QWEN3 } from '../../../model/architectures/qwen3/spec.js';
import { engineDimensions, nativeGraph } from '../graph_builder.js';

export const QWEN3_NATIVE_GRAPH = nativeGraph({
  spec: QWEN3,
  engineChoice: (config) => ({
    family: 'qwen3',
    config: {
      ...engineDimensions(config),
      numKeyValueHeads: config.numKeyValueHeads,
      headDim: config.headDim,
      rmsNormEps: config.rmsNormEps,
      ropeTheta: config.ropeTheta,
    },
  }),
});
