// BERT encoders (transformers models/bert/modeling_bert.py BertModel): bidirectional attention, no KV cache.
import { bertTensorSpecs, canonicalizeBertWeights } from '../../bert_layout.js';
import type { BertConfig } from '../../types.js';
import type { ArchitectureSpec } from '../spec.js';
import { poolerClassifierHead } from './classification_head.js';
import { BERT_SUPPORTED_SUMMARY, isBertConfigJson, parseBertConfig } from './config.js';
import { BERT_REFERENCE } from './reference.js';

/** BertPreTrainedModel.base_model_prefix = "bert": the pooler sits under it in BertForSequenceClassification saves. */
const BERT_HEAD = poolerClassifierHead('bert.');

export const BERT: ArchitectureSpec<BertConfig> = {
  name: 'bert',
  displayName: 'BERT',
  supportedSummary: BERT_SUPPORTED_SUMMARY,
  claimsConfigJson: isBertConfigJson,
  parseConfig: parseBertConfig,
  attention: 'bidirectional',
  // modeling_bert.py BertEmbeddings.forward (v5.25 l.85): position_ids = self.position_ids[:, 0 : seq_length] (no cache).
  firstPosition: () => 0,
  poolings: ['cls', 'mean', 'last'],
  heads: ['classify'],
  classificationHead: BERT_HEAD.read,
  classificationHeadTensors: BERT_HEAD.tensors,
  tensorSpecs: bertTensorSpecs,
  optionalTensorSpecs: (config) => [
    { name: 'embeddings.position_ids', shape: [1, config.maxPositionEmbeddings] }, // BertEmbeddings' registered buffer
    { name: 'pooler.dense.weight', shape: [config.hiddenSize, config.hiddenSize] }, // BertPooler
    { name: 'pooler.dense.bias', shape: [config.hiddenSize] },
  ],
  canonicalizeWeights: canonicalizeBertWeights,
  kvBytesPerToken: null,
  reference: BERT_REFERENCE,
};
