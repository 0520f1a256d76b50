// RoBERTa / XLM-RoBERTa on the native engine: BERT's graph (native/engine/graphs/bert.*) unchanged; the positions the
// scheduler builds from the spec (pad_token_id + 1 onwards) index the same position table.
import { ROBERTA } from '../../../model/architectures/roberta/spec.js';
import type { RobertaConfig } from '../../../model/types.js';
import { nativeGraph } from '../graph_builder.js';
import { bertEngineChoice } from './bert.js';

export const ROBERTA_NATIVE_GRAPH = nativeGraph<RobertaConfig>({ spec: ROBERTA, engineChoice: bertEngineChoice });
