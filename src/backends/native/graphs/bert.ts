// BERT on the native engine: native/engine/graphs/bert.* (ParseBertConfig reads these fields). Every BERT-shaped
// family (./roberta.ts, ./ernie.ts) runs the same graph with its own config: positions arrive with the batch, and
// ERNIE's task-type table goes with its weights.
import { BERT } from '../../../model/architectures/bert/spec.js';
import type { BertConfig, BertEncoderConfig } from '../../../model/types.js';
import type { NativeEngineChoice } from '../addon.js';
import { engineDimensions, nativeGraph } from '../graph_builder.js';

/** The BERT engine and its config for any BERT-shaped model. */
export function bertEngineChoice(config: BertEncoderConfig): Extract<NativeEngineChoice, { family: 'bert' }> {
  return {
    family: 'bert',
    config: {
      ...engineDimensions(config),
      typeVocabSize: config.typeVocabSize,
      taskTypeVocabSize: config.taskTypeVocabSize,
      layerNormEps: config.layerNormEps,
      hiddenAct: config.hiddenAct,
    },
  };
}

export const BERT_NATIVE_GRAPH = nativeGraph<BertConfig>({ spec: BERT, engineChoice: bertEngineChoice });
