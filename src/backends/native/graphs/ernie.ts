// ERNIE on the native engine: BERT's graph (native/engine/graphs/bert.*) with taskTypeVocabSize set, which makes it
// load embeddings.task_type_embeddings.weight and fold row 0 into the token-type table (BertEngine::Load).
import { ERNIE } from '../../../model/architectures/ernie/spec.js';
import type { ErnieConfig } from '../../../model/types.js';
import { nativeGraph } from '../graph_builder.js';
import { bertEngineChoice } from './bert.js';

export const ERNIE_NATIVE_GRAPH = nativeGraph<ErnieConfig>({ spec: ERNIE, engineChoice: bertEngineChoice });
