// ERNIE in float64: BERT's reference forward, with ErnieEmbeddings' task-type row added literally (see bertEmbeddings
// in ../bert/reference.ts). ErnieSelfAttention, ErnieSelfOutput, ErnieIntermediate and ErnieOutput
// (transformers models/ernie/modeling_ernie.py l.159-375) compute what their Bert* namesakes compute; ErnieEmbeddings
// (l.58-128) is BertEmbeddings plus `embeddings += task_type_embeddings(task_type_ids)` when use_task_id is true, with
// task_type_ids all zero unless the caller passes them (l.120-124; nothing in sentence-transformers does).
import type { ErnieConfig } from '../../types.js';
import { BERT_ENCODER_REFERENCE } from '../bert/reference.js';
import type { ReferenceSpec } from '../spec.js';

export const ERNIE_REFERENCE: ReferenceSpec<ErnieConfig> = BERT_ENCODER_REFERENCE;
