// Qwen3 decoders (transformers models/qwen3/modeling_qwen3.py Qwen3Model), as Qwen3-Embedding uses them: causal
// attention with grouped K/V heads, so they run with paged KV blocks, prefix caching and chunked prefill.
import { canonicalizeQwen3Weights, qwen3TensorSpecs } from '../../qwen3_layout.js';
import type { Qwen3Config } from '../../types.js';
import { type ArchitectureSpec, KV_DTYPE_BYTES } from '../spec.js';
import { isQwen3ConfigJson, parseQwen3Config, SUPPORTED_QWEN3_ARCHITECTURES } from './config.js';
import { readQwen3ClassificationHead } from './classification_head.js';
import { QWEN3_REFERENCE } from './reference.js';

export const QWEN3: ArchitectureSpec<Qwen3Config> = {
  name: 'qwen3',
  displayName: 'Qwen3',
  supportedSummary: `model_type "qwen3" (${SUPPORTED_QWEN3_ARCHITECTURES.join(', ')})`,
  claimsConfigJson: isQwen3ConfigJson,
  parseConfig: (json, file) => parseQwen3Config(json, file),
  attention: 'causal',
  // modeling_qwen3.py Qwen3Model.forward (v5.25 l.382): position_ids = arange(seq_len) + past_seen_tokens, 0 first.
  firstPosition: () => 0,
  // One-shot batches pool any way; paged batches (chunks, prefix hits) pool LAST only (the scheduler's business).
  poolings: ['cls', 'mean', 'last'],
  heads: ['classify'],
  classificationHead: readQwen3ClassificationHead,
  classificationHeadTensors: (config, numLabels) => [{ name: 'score.weight', shape: [numLabels, config.hiddenSize] }],
  tensorSpecs: qwen3TensorSpecs,
  // Qwen3ForCausalLM's head, when a source stores it untied; embeddings never read it.
  optionalTensorSpecs: (config) => [{ name: 'lm_head.weight', shape: [config.vocabSize, config.hiddenSize] }],
  canonicalizeWeights: canonicalizeQwen3Weights,
  // K and V, per layer, per KV head (grouped-query attention stores nKV heads, not nH), head_dim values each.
  kvBytesPerToken: (config, kvDType) => 2 * config.numLayers * config.numKeyValueHeads * config.headDim * KV_DTYPE_BYTES[kvDType],
  reference: QWEN3_REFERENCE,
};
