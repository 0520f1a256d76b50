// The Qwen3 decoder's tensors as data: canonical names (Qwen3Model's state_dict keys, transformers
// models/qwen3/modeling_qwen3.py Qwen3Model / Qwen3DecoderLayer / Qwen3Attention / Qwen3MLP / Qwen3RMSNorm) and
// shapes. nn.Linear stores weight as [out_features, in_features]; Qwen3 projections have no bias
// (attention_bias false, Qwen3MLP bias=False).
//
//   H = hidden_size, I = intermediate_size, V = vocab_size, nH = num_attention_heads, nKV = num_key_value_heads,
//   d = head_dim (Qwen3 sets it explicitly: nH * d need not equal H, e.g. 16 * 128 = 2048 for H = 1024)
//   embed_tokens.weight                          [V, H]
//   layers.N.input_layernorm.weight              [H]
//   layers.N.self_attn.q_proj.weight             [nH * d, H]
//   layers.N.self_attn.k_proj.weight             [nKV * d, H]
//   layers.N.self_attn.v_proj.weight             [nKV * d, H]
//   layers.N.self_attn.o_proj.weight             [H, nH * d]
//   layers.N.self_attn.q_norm.weight             [d]        (per-head RMSNorm, before RoPE)
//   layers.N.self_attn.k_norm.weight             [d]
//   layers.N.post_attention_layernorm.weight     [H]
//   layers.N.mlp.gate_proj.weight                [I, H]
//   layers.N.mlp.up_proj.weight                  [I, H]
//   layers.N.mlp.down_proj.weight                [H, I]
//   norm.weight                                  [H]
//
// Qwen/Qwen3-Embedding-0.6B stores exactly these names (no `model.` prefix, no lm_head: tied embeddings). A
// Qwen3ForCausalLM save puts them under `model.` (its base_model_prefix) next to `lm_head.weight`, which an embedding
// model never reads, tied or not.
import { ModelLoadError } from '../errors.js';
import type { Qwen3Config, TensorView, WeightMap } from './types.js';
import { checkWeightsAgainstLayout, type TensorSpec } from './layout_check.js';

/** Tensors of one decoder layer, named as in the checkpoint after `layers.<i>.`, with their shapes. */
export function qwen3LayerTensorSpecs(config: Qwen3Config): TensorSpec[] {
  const { hiddenSize: H, intermediateSize: I, numHeads, numKeyValueHeads, headDim: d } = config;
  return [
    { name: 'input_layernorm.weight', shape: [H] },
    { name: 'self_attn.q_proj.weight', shape: [numHeads * d, H] },
    { name: 'self_attn.k_proj.weight', shape: [numKeyValueHeads * d, H] },
    { name: 'self_attn.v_proj.weight', shape: [numKeyValueHeads * d, H] },
    { name: 'self_attn.o_proj.weight', shape: [H, numHeads * d] },
    { name: 'self_attn.q_norm.weight', shape: [d] },
    { name: 'self_attn.k_norm.weight', shape: [d] },
    { name: 'post_attention_layernorm.weight', shape: [H] },
    { name: 'mlp.gate_proj.weight', shape: [I, H] },
    { name: 'mlp.up_proj.weight', shape: [I, H] },
    { name: 'mlp.down_proj.weight', shape: [H, I] },
  ];
}

/** Every tensor a Qwen3Model forward pass reads: embeddings, the layers in order, the final norm. */
export function qwen3TensorSpecs(config: Qwen3Config): TensorSpec[] {
  const specs: TensorSpec[] = [{ name: 'embed_tokens.weight', shape: [config.vocabSize, config.hiddenSize] }];
  const layerSpecs = qwen3LayerTensorSpecs(config);
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const spec of layerSpecs) specs.push({ name: `layers.${layer}.${spec.name}`, shape: spec.shape });
  }
  specs.push({ name: 'norm.weight', shape: [config.hiddenSize] });
  return specs;
}

/** Qwen3PreTrainedModel.base_model_prefix: where Qwen3ForCausalLM keeps its Qwen3Model. */
const CAUSAL_LM_PREFIX = 'model.';

/**
 * Tensors that are not part of the Qwen3Model computation: the LM head (embeddings are pooled hidden states, never
 * logits) and the non-persistent `rotary_emb.inv_freq` buffer that some older saves still carry (the frequencies are
 * recomputed from rope_theta).
 */
function isIgnoredTensor(canonicalName: string): boolean {
  return canonicalName === 'lm_head.weight' || canonicalName === 'lm_head.bias' || canonicalName.endsWith('rotary_emb.inv_freq');
}

function isQwen3Namespace(name: string): boolean {
  return name.startsWith('embed_tokens.') || name.startsWith('layers.') || name.startsWith('norm.');
}

/**
 * Maps checkpoint names to canonical Qwen3Model names (strips `model.`, drops lm_head) and checks the result against
 * the config: every required tensor present with the exact shape and a float dtype, nothing unknown inside the
 * model's own namespaces (embed_tokens, layers, norm). The views are the checkpoint's own (no copies).
 */
export function canonicalizeQwen3Weights(tensors: ReadonlyMap<string, TensorView>, config: Qwen3Config, file: string): WeightMap {
  const canonicalToView = new Map<string, TensorView>();
  for (const [storedName, view] of tensors) {
    const canonicalName = storedName.startsWith(CAUSAL_LM_PREFIX) ? storedName.slice(CAUSAL_LM_PREFIX.length) : storedName;
    if (isIgnoredTensor(canonicalName)) continue;
    if (canonicalToView.has(canonicalName)) {
      throw new ModelLoadError(`${file}: tensor ${canonicalName} is stored twice (with and without the "model." prefix)`);
    }
    canonicalToView.set(canonicalName, view);
  }

  return checkWeightsAgainstLayout(
    canonicalToView,
    qwen3TensorSpecs(config),
    { architecture: 'Qwen3', numLayers: config.numLayers, isOwnNamespace: isQwen3Namespace },
    file,
  );
}
