// NomicBERT encoders (nomic-ai/nomic-embed-text-v1.5 and v1, Snowflake/snowflake-arctic-embed-m-long): the rotary-BERT forward
// (../rotary_bert/) under NomicBERT's config fields and tensor names.
import type { RotaryBertConfig } from '../../types.js';
import { rotaryBertSpec } from '../rotary_bert/spec.js';
import type { ArchitectureSpec } from '../spec.js';
import { NOMIC_BERT_SUPPORTED_SUMMARY, isNomicBertConfigJson, parseNomicBertConfig } from './config.js';

export const NOMIC_BERT: ArchitectureSpec<RotaryBertConfig> = rotaryBertSpec({
  name: 'nomic_bert',
  displayName: 'NomicBERT',
  supportedSummary: NOMIC_BERT_SUPPORTED_SUMMARY,
  claimsConfigJson: isNomicBertConfigJson,
  parseConfig: parseNomicBertConfig,
});
