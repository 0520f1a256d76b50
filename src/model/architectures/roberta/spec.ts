// RoBERTa and XLM-RoBERTa encoders (transformers models/roberta/modeling_roberta.py RobertaModel,
// models/xlm_roberta/modeling_xlm_roberta.py XLMRobertaModel): BERT's layers and tensor names under a `roberta.`
// prefix, positions from pad_token_id + 1. Bidirectional attention, no KV cache.
import { bertTensorSpecs, type BertEncoderLayout, canonicalizeBertEncoderWeights } from '../../bert_layout.js';
import type { RobertaConfig } from '../../types.js';
import { ROBERTA_CLASSIFICATION_HEAD } from '../bert/classification_head.js';
import type { ArchitectureSpec } from '../spec.js';
import { isRobertaConfigJson, parseRobertaConfig, ROBERTA_SUPPORTED_SUMMARY } from './config.js';
import { ROBERTA_REFERENCE } from './reference.js';

/** XLMRobertaPreTrainedModel.base_model_prefix = "roberta" (modeling_xlm_roberta.py l.492), RobertaPreTrainedModel alike. */
const ROBERTA_LAYOUT: BertEncoderLayout = { displayName: 'RoBERTa', taskModelPrefix: 'roberta.' };

export const ROBERTA: ArchitectureSpec<RobertaConfig> = {
  name: 'roberta',
  displayName: 'RoBERTa / XLM-RoBERTa',
  supportedSummary: ROBERTA_SUPPORTED_SUMMARY,
  claimsConfigJson: isRobertaConfigJson,
  parseConfig: parseRobertaConfig,
  attention: 'bidirectional',
  // XLMRobertaEmbeddings.create_position_ids_from_input_ids (modeling_xlm_roberta.py l.141-154): pads get padding_idx,
  // real tokens padding_idx + 1 + t (cumsum of the non-pad mask). Our ragged batches hold no pads, so token t of every
  // sequence sits at pad_token_id + 1 + t; with 514 positions and pad 1 that leaves 512 tokens.
  firstPosition: (config) => config.padTokenId + 1,
  poolings: ['cls', 'mean', 'last'],
  heads: ['classify'],
  classificationHead: ROBERTA_CLASSIFICATION_HEAD.read,
  classificationHeadTensors: ROBERTA_CLASSIFICATION_HEAD.tensors,
  tensorSpecs: bertTensorSpecs,
  optionalTensorSpecs: (config) => [
    { name: 'embeddings.position_ids', shape: [1, config.maxPositionEmbeddings] }, // older saves persisted the buffer
    { name: 'pooler.dense.weight', shape: [config.hiddenSize, config.hiddenSize] }, // XLMRobertaPooler
    { name: 'pooler.dense.bias', shape: [config.hiddenSize] },
  ],
  canonicalizeWeights: (tensors, config, file) => canonicalizeBertEncoderWeights(ROBERTA_LAYOUT, tensors, config, file),
  kvBytesPerToken: null,
  reference: ROBERTA_REFERENCE,
};
