// BERT on the native engine: native/engine/graphs/bert.* (ParseBertConfig reads these fields).
import { BERT } from '../../../model/architectures/bert/spec.js';
import { nativeGraph } from '../graph_builder.js';

export const BERT_NATIVE_GRAPH = nativeGraph({
  spec: BERT,
  engineChoice: (config) => ({
    family: 'bert',
    config: {
      vocabSize: config.vocabSize,
      hiddenSize: config.hiddenSize,
      numLayers: config.numLayers,
      numHeads: config.numHeads,
      intermediateSize: config.intermediateSize,
      maxPositionEmbeddings: config.maxPositionEmbeddings,
      typeVocabSize: config.typeVocabSize,
      layerNormEps: config.layerNormEps,
      hiddenAct: config.hiddenAct,
    },
  }),
});
