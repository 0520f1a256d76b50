// NomicBERT encoders (nomic-ai/nomic-embed-text-v1.5 and v1, Snowflake/snowflake-arctic-embed-m-long): the rotary-BERT forward
// (../rotary_bert/) under NomicBERT's config fields and tensor names.
import type { RotaryBertConfig } from '../../types.js';
import { canonicalizeRotaryBertWeights, rotaryBertTensorSpecs } from '../rotary_bert/layout.js';
import { ROTARY_BERT_REFERENCE } from '../rotary_bert/reference.js';
import type { ArchitectureSpec } from '../spec.js';
import { NOMIC_BERT_SUPPORTED_SUMMARY, isNomicBertConfigJson, parseNomicBertConfig } from './config.js';

export const NOMIC_BERT: ArchitectureSpec<RotaryBertConfig> = {
  name: 'nomic_bert',
  displayName: 'NomicBERT',
  supportedSummary: NOMIC_BERT_SUPPORTED_SUMMARY,
  claimsConfigJson: isNomicBertConfigJson,
  parseConfig: parseNomicBertConfig,
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
