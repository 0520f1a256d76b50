// ModernBERT encoders (transformers models/modernbert/modeling_modernbert.py ModernBertModel), as
// Alibaba-NLP/gte-modernbert-base and nomic-ai/modernbert-embed-base use them: bidirectional attention, global in every
// global_attn_every_n_layers-th layer and within a sliding window in the others, so no KV cache.
import type { ModernBertConfig } from '../../types.js';
import type { ArchitectureSpec } from '../spec.js';
import { isModernBertConfigJson, parseModernBertConfig, SUPPORTED_MODERNBERT_ARCHITECTURES } from './config.js';
import { canonicalizeModernBertWeights, modernBertTensorSpecs } from './layout.js';
import { MODERNBERT_REFERENCE } from './reference.js';

export const MODERNBERT: ArchitectureSpec<ModernBertConfig> = {
  name: 'modernbert',
  displayName: 'ModernBERT',
  supportedSummary: `model_type "modernbert" (${SUPPORTED_MODERNBERT_ARCHITECTURES.join(', ')})`,
  claimsConfigJson: isModernBertConfigJson,
  parseConfig: (json, file) => parseModernBertConfig(json, file),
  // Bidirectional within each sequence; the sliding window of local layers is a per-layer detail of the forward pass,
  // not the causal 'sliding_window' kind (tokens still see both sides).
  attention: 'bidirectional',
  // ModernBertModel.forward: position_ids = arange(seq_len), from 0.
  firstPosition: () => 0,
  poolings: ['cls', 'mean', 'last'],
  heads: [],
  tensorSpecs: modernBertTensorSpecs,
  // The MLM head of a ModernBertForMaskedLM save is dropped by canonicalizeWeights, so nothing else is optional.
  optionalTensorSpecs: () => [],
  canonicalizeWeights: canonicalizeModernBertWeights,
  kvBytesPerToken: null,
  reference: MODERNBERT_REFERENCE,
};
