// ModernBERT on the native engine: native/engine/graphs/modernbert.* (ParseModernBertConfig reads these fields). An
// encoder: the plain (unpaged) backend.
import { MODERNBERT } from '../../../model/architectures/modernbert/spec.js';
import { engineDimensions, nativeGraph } from '../graph_builder.js';

export const MODERNBERT_NATIVE_GRAPH = nativeGraph({
  spec: MODERNBERT,
  engineChoice: (config) => ({
    family: 'modernbert',
    config: {
      ...engineDimensions(config),
      normEps: config.normEps,
      hiddenAct: config.hiddenAct,
      globalRopeTheta: config.globalRopeTheta,
      localRopeTheta: config.localRopeTheta,
      slidingWindow: config.slidingWindow,
      // The engine's config holds numbers and strings: one comma-separated list, a layer type per layer.
      layerTypes: config.layerTypes.join(','),
    },
  }),
});
