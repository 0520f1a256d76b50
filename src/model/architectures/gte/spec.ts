// GTE NewModel encoders (Alibaba-NLP/gte-base-en-v1.5, gte-large-en-v1.5, gte-multilingual-base, Snowflake/snowflake-arctic-embed-m-v2.0):
// the rotary-BERT forward (../rotary_bert/) under NewConfig's fields and tensor names.
import type { RotaryBertConfig } from '../../types.js';
import { canonicalizeRotaryBertWeights, rotaryBertTensorSpecs } from '../rotary_bert/layout.js';
import { ROTARY_BERT_REFERENCE } from '../rotary_bert/reference.js';
import type { ArchitectureSpec } from '../spec.js';
import { GTE_SUPPORTED_SUMMARY, isGteConfigJson, parseGteConfig } from './config.js';

export const GTE: ArchitectureSpec<RotaryBertConfig> = {
  name: 'gte',
  displayName: 'GTE',
  supportedSummary: GTE_SUPPORTED_SUMMARY,
  claimsConfigJson: isGteConfigJson,
  parseConfig: parseGteConfig,
  attention: 'bidirectional',
  // Rotary positions count from 0 (NomicBertModel / NewModel build position_ids as arange(seq_len)).
  firstPosition: () => 0,
  poolings: ['cls', 'mean', 'last'],
  heads: [],
  tensorSpecs: rotaryBertTensorSpecs,
  optionalTensorSpecs: () => [],
  canonicalizeWeights: canonicalizeRotaryBertWeights,
  kvBytesPerToken: null,
  reference: ROTARY_BERT_REFERENCE,
};
