// The ArchitectureSpec of a rotary-BERT family (NomicBERT ../nomic_bert/spec.ts, GTE ../gte/spec.ts): one forward,
// one tensor layout and one reference; each family brings its name and its config.json reader.
import type { RotaryBertConfig } from '../../types.js';
import type { ArchitectureSpec } from '../spec.js';
import { canonicalizeRotaryBertWeights, rotaryBertTensorSpecs } from './layout.js';
import { ROTARY_BERT_REFERENCE } from './reference.js';

export type RotaryBertFamily = Pick<ArchitectureSpec<RotaryBertConfig>, 'name' | 'displayName' | 'supportedSummary' | 'claimsConfigJson' | 'parseConfig'>;

export function rotaryBertSpec(family: RotaryBertFamily): ArchitectureSpec<RotaryBertConfig> {
  return {
    ...family,
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
}
