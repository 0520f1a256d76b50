// NomicBERT and GTE on the native engine: one C++ graph for both (native/engine/graphs/rotary_bert.*, whose
// ParseRotaryBertConfig reads these fields; `architecture` picks the checkpoint's tensor names).
import { GTE } from '../../../model/architectures/gte/spec.js';
import { NOMIC_BERT } from '../../../model/architectures/nomic_bert/spec.js';
import type { RotaryBertConfig } from '../../../model/types.js';
import type { NativeEngineChoice } from '../addon.js';
import { engineDimensions, nativeGraph } from '../graph_builder.js';

function rotaryBertEngineChoice(config: RotaryBertConfig): NativeEngineChoice {
  return {
    family: 'rotary_bert',
    config: {
      architecture: config.architecture,
      ...engineDimensions(config),
      typeVocabSize: config.typeVocabSize,
      layerNormEps: config.layerNormEps,
      ropeTheta: config.ropeTheta,
      ropeNtkFactor: config.ropeNtkFactor ?? 1,
      hiddenAct: config.hiddenAct,
      attentionBias: config.attentionBias ? 1 : 0,
      mlpUpBias: config.mlpUpBias ? 1 : 0,
      mlpDownBias: config.mlpDownBias ? 1 : 0,
    },
  };
}

export const NOMIC_BERT_NATIVE_GRAPH = nativeGraph({ spec: NOMIC_BERT, engineChoice: rotaryBertEngineChoice });
export const GTE_NATIVE_GRAPH = nativeGraph({ spec: GTE, engineChoice: rotaryBertEngineChoice });
