// RoBERTa / XLM-RoBERTa in float64: BERT's reference forward, unchanged. transformers' XLMRobertaSelfAttention,
// XLMRobertaSelfOutput, XLMRobertaIntermediate, XLMRobertaOutput (modeling_xlm_roberta.py l.185-400) compute what
// their Bert* namesakes compute (post-LayerNorm, the config's eps and hidden_act), and XLMRobertaEmbeddings.forward
// (l.76-120) sums word + token type + position embeddings and applies LayerNorm as BertEmbeddings does. The one
// difference, positions counted from pad_token_id + 1, arrives with the batch (spec.firstPosition).
import type { RobertaConfig } from '../../types.js';
import { BERT_ENCODER_REFERENCE } from '../bert/reference.js';
import type { ReferenceSpec } from '../spec.js';

export const ROBERTA_REFERENCE: ReferenceSpec<RobertaConfig> = BERT_ENCODER_REFERENCE;
