// ERNIE encoders (transformers models/ernie/modeling_ernie.py ErnieModel; e.g. nghuyong/ernie-3.0-base-zh and
// shibing624/text2vec-base-chinese-sentence built on it): BERT's layers and tensor names under an `ernie.` prefix,
// plus task-type embeddings when use_task_id is true. Bidirectional attention, no KV cache.
import { bertTensorSpecs, type BertEncoderLayout, canonicalizeBertEncoderWeights } from '../../bert_layout.js';
import type { ErnieConfig } from '../../types.js';
import { poolerClassifierHead } from '../bert/classification_head.js';
import type { ArchitectureSpec } from '../spec.js';
import { ERNIE_SUPPORTED_SUMMARY, isErnieConfigJson, parseErnieConfig } from './config.js';
import { ERNIE_REFERENCE } from './reference.js';

const ERNIE_LAYOUT: BertEncoderLayout = { displayName: 'ERNIE', taskModelPrefix: 'ernie.' };
/** ErnieForSequenceClassification: BERT's head (pooler under `ernie.`, then classifier), modeling_ernie.py. */
const ERNIE_HEAD = poolerClassifierHead('ernie.');

export const ERNIE: ArchitectureSpec<ErnieConfig> = {
  name: 'ernie',
  displayName: 'ERNIE',
  supportedSummary: ERNIE_SUPPORTED_SUMMARY,
  claimsConfigJson: isErnieConfigJson,
  parseConfig: parseErnieConfig,
  attention: 'bidirectional',
  // ErnieEmbeddings.forward (modeling_ernie.py l.93-94): position_ids = self.position_ids[:, 0 : seq_length], as BERT.
  firstPosition: () => 0,
  poolings: ['cls', 'mean', 'last'],
  heads: ['classify'],
  classificationHead: ERNIE_HEAD.read,
  classificationHeadTensors: ERNIE_HEAD.tensors,
  tensorSpecs: bertTensorSpecs,
  optionalTensorSpecs: (config) => [
    { name: 'embeddings.position_ids', shape: [1, config.maxPositionEmbeddings] }, // older saves persisted the buffer
    { name: 'pooler.dense.weight', shape: [config.hiddenSize, config.hiddenSize] }, // ErniePooler
    { name: 'pooler.dense.bias', shape: [config.hiddenSize] },
  ],
  canonicalizeWeights: (tensors, config, file) => canonicalizeBertEncoderWeights(ERNIE_LAYOUT, tensors, config, file),
  kvBytesPerToken: null,
  reference: ERNIE_REFERENCE,
};
