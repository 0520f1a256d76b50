// GTE NewModel encoders (Alibaba-NLP/gte-base-en-v1.5, gte-large-en-v1.5, gte-multilingual-base, Snowflake/snowflake-arctic-embed-m-v2.0):
// the rotary-BERT forward (../rotary_bert/) under NewConfig's fields and tensor names.
import type { RotaryBertConfig } from '../../types.js';
import { rotaryBertSpec } from '../rotary_bert/spec.js';
import type { ArchitectureSpec } from '../spec.js';
import { GTE_SUPPORTED_SUMMARY, isGteConfigJson, parseGteConfig } from './config.js';

export const GTE: ArchitectureSpec<RotaryBertConfig> = rotaryBertSpec({
  name: 'gte',
  displayName: 'GTE',
  supportedSummary: GTE_SUPPORTED_SUMMARY,
  claimsConfigJson: isGteConfigJson,
  parseConfig: parseGteConfig,
});
