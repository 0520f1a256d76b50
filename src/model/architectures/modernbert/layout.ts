// The ModernBERT encoder's tensors as data: canonical names (ModernBertModel's state_dict keys, transformers
// models/modernbert/modeling_modernbert.py ModernBertEmbeddings / ModernBertEncoderLayer / ModernBertAttention /
// ModernBertMLP, v5.25) and shapes. nn.Linear stores weight as [out_features, in_features]; with attention_bias,
// mlp_bias and norm_bias false (the published models; anything else is refused in ./config.ts) there is no bias and
// every LayerNorm is weight only.
//
//   H = hidden_size, I = intermediate_size, V = vocab_size
//   embeddings.tok_embeddings.weight   [V, H]
//   embeddings.norm.weight             [H]
//   layers.N.attn_norm.weight          [H]       (N > 0: layer 0's attn_norm is nn.Identity, l.297-300)
//   layers.N.attn.Wqkv.weight          [3H, H]   (rows: q, then k, then v; `qkv.view(..., 3, -1, head_dim)`)
//   layers.N.attn.Wo.weight            [H, H]
//   layers.N.mlp_norm.weight           [H]
//   layers.N.mlp.Wi.weight             [2I, H]   (rows: the activated `input` half, then `gate`; `.chunk(2, dim=-1)`)
//   layers.N.mlp.Wo.weight             [H, I]
//   final_norm.weight                  [H]
//
// A ModernBertForMaskedLM save (answerdotai/ModernBERT-base) puts these under `model.` (base_model_prefix) next to
// its MLM head (`head.dense.weight`, `head.norm.weight`, `decoder.bias`, and `decoder.weight` when untied), which an
// embedding model never reads; a ModernBertModel save has no prefix.
import { ModelLoadError } from '../../../errors.js';
import { checkWeightsAgainstLayout, type TensorSpec } from '../../layout_check.js';
import type { ModernBertConfig, TensorView, WeightMap } from '../../types.js';

/** Tensors of encoder layer `layer`, named as in the checkpoint after `layers.<layer>.`, with their shapes. */
export function modernBertLayerTensorSpecs(config: ModernBertConfig, layer: number): TensorSpec[] {
  const { hiddenSize: H, intermediateSize: I } = config;
  return [
    ...(layer === 0 ? [] : [{ name: 'attn_norm.weight', shape: [H] }]),
    { name: 'attn.Wqkv.weight', shape: [3 * H, H] },
    { name: 'attn.Wo.weight', shape: [H, H] },
    { name: 'mlp_norm.weight', shape: [H] },
    { name: 'mlp.Wi.weight', shape: [2 * I, H] },
    { name: 'mlp.Wo.weight', shape: [H, I] },
  ];
}

/** Every tensor a ModernBertModel forward pass reads: embeddings, the layers in order, the final norm. */
export function modernBertTensorSpecs(config: ModernBertConfig): TensorSpec[] {
  const H = config.hiddenSize;
  const specs: TensorSpec[] = [
    { name: 'embeddings.tok_embeddings.weight', shape: [config.vocabSize, H] },
    { name: 'embeddings.norm.weight', shape: [H] },
  ];
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const spec of modernBertLayerTensorSpecs(config, layer)) specs.push({ name: `layers.${layer}.${spec.name}`, shape: spec.shape });
  }
  specs.push({ name: 'final_norm.weight', shape: [H] });
  return specs;
}

/** ModernBertPreTrainedModel.base_model_prefix: where ModernBertForMaskedLM keeps its ModernBertModel. */
const MASKED_LM_PREFIX = 'model.';

/** ModernBertForMaskedLM's head (ModernBertPredictionHead `head.*`, the `decoder` projection): never read here. */
function isMaskedLmHead(storedName: string): boolean {
  return storedName.startsWith('head.') || storedName.startsWith('decoder.');
}

function isModernBertNamespace(name: string): boolean {
  return name.startsWith('embeddings.') || name.startsWith('layers.') || name.startsWith('final_norm.');
}

/**
 * Maps checkpoint names to canonical ModernBertModel names (strips `model.`, drops the MLM head) and checks the result
 * against the config: every required tensor present with the exact shape and a float dtype, nothing unknown inside the
 * model's own namespaces (a layer-0 attn_norm, a bias, an extra layer). The views are the checkpoint's own (no copies).
 */
export function canonicalizeModernBertWeights(tensors: ReadonlyMap<string, TensorView>, config: ModernBertConfig, file: string): WeightMap {
  const canonicalToView = new Map<string, TensorView>();
  for (const [storedName, view] of tensors) {
    if (isMaskedLmHead(storedName)) continue;
    const canonicalName = storedName.startsWith(MASKED_LM_PREFIX) ? storedName.slice(MASKED_LM_PREFIX.length) : storedName;
    if (canonicalToView.has(canonicalName)) {
      throw new ModelLoadError(`${file}: tensor ${canonicalName} is stored twice (with and without the "model." prefix)`);
    }
    canonicalToView.set(canonicalName, view);
  }
  return checkWeightsAgainstLayout(
    canonicalToView,
    modernBertTensorSpecs(config),
    { architecture: 'ModernBERT', numLayers: config.numLayers, isOwnNamespace: isModernBertNamespace },
    file,
  );
}
