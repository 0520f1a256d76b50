// The rotary-BERT tensors of both families, named verbatim as their checkpoints store them, and the one role table
// (which tensor plays which part) that the reference forward and the native graph read through.
//
//   H = hidden_size, I = intermediate_size, V = vocab_size, T = type_vocab_size (0: no table)
//   NomicBERT (modeling_hf_nomic_bert.py NomicBertModel; transformers conversion_mapping.py "nomic_bert"):
//     embeddings.word_embeddings.weight [V, H], embeddings.token_type_embeddings.weight [T, H], emb_ln.{weight,bias} [H]
//     encoder.layers.N.attn.Wqkv.weight [3H, H] (q | k | v rows), attn.out_proj.weight [H, H], norm1.{weight,bias}
//     encoder.layers.N.mlp.fc11.weight [I, H] (up), mlp.fc12.weight [I, H] (gate), mlp.fc2.weight [H, I], norm2.*
//     (biases only when qkv_proj_bias / mlp_fc1_bias / mlp_fc2_bias are true; the released models have none)
//   GTE NewModel (Alibaba-NLP/new-impl modeling.py NewEmbeddings / NewAttention / NewGatedMLP / NewLayer):
//     embeddings.word_embeddings.weight [V, H], embeddings.token_type_embeddings.weight [T, H] (T > 0 only),
//     embeddings.LayerNorm.{weight,bias}
//     encoder.layer.N.attention.qkv_proj.{weight [3H, H], bias [3H]}, attention.o_proj.{weight, bias}, attn_ln.*
//     encoder.layer.N.mlp.up_gate_proj.weight [2I, H] (up rows, then gate rows; no bias), mlp.down_proj.{weight, bias}, mlp_ln.*
import { ModelLoadError } from '../../../errors.js';
import { checkWeightsAgainstLayout, type TensorSpec } from '../../layout_check.js';
import type { RotaryBertConfig, TensorView, WeightMap } from '../../types.js';

/** Where each part of a layer lives in one family's checkpoint (names after the layer prefix). */
export interface RotaryBertNaming {
  readonly embeddingLayerNorm: string; // prefix of .weight / .bias
  readonly layerPrefix: string; // `${layerPrefix}${index}.`
  readonly qkv: string; // prefix: .weight [3H, H], .bias [3H] when attentionBias
  readonly attentionOut: string;
  readonly attentionLayerNorm: string;
  /** Separate up and gate projections (NomicBERT fc11 / fc12), or one fused [2I, H] tensor, up rows first (GTE). */
  readonly mlpUp: { readonly kind: 'separate'; readonly up: string; readonly gate: string } | { readonly kind: 'fused_up_gate'; readonly upGate: string };
  readonly mlpDown: string;
  readonly mlpLayerNorm: string;
  /** Prefix task models put before the encoder's names (NewForMaskedLM: `new.`), stripped at load. */
  readonly taskModelPrefix: string | null;
}

export const NOMIC_BERT_NAMING: RotaryBertNaming = {
  embeddingLayerNorm: 'emb_ln',
  layerPrefix: 'encoder.layers.',
  qkv: 'attn.Wqkv',
  attentionOut: 'attn.out_proj',
  attentionLayerNorm: 'norm1',
  mlpUp: { kind: 'separate', up: 'mlp.fc11', gate: 'mlp.fc12' },
  mlpDown: 'mlp.fc2',
  mlpLayerNorm: 'norm2',
  taskModelPrefix: null,
};

export const GTE_NAMING: RotaryBertNaming = {
  embeddingLayerNorm: 'embeddings.LayerNorm',
  layerPrefix: 'encoder.layer.',
  qkv: 'attention.qkv_proj',
  attentionOut: 'attention.o_proj',
  attentionLayerNorm: 'attn_ln',
  mlpUp: { kind: 'fused_up_gate', upGate: 'mlp.up_gate_proj' },
  mlpDown: 'mlp.down_proj',
  mlpLayerNorm: 'mlp_ln',
  taskModelPrefix: 'new.',
};

export const WORD_EMBEDDINGS = 'embeddings.word_embeddings.weight';
export const TOKEN_TYPE_EMBEDDINGS = 'embeddings.token_type_embeddings.weight';

export function namingOf(config: RotaryBertConfig): RotaryBertNaming {
  return config.architecture === 'nomic_bert' ? NOMIC_BERT_NAMING : GTE_NAMING;
}

/** Every tensor the forward reads, in checkpoint order of appearance. */
export function rotaryBertTensorSpecs(config: RotaryBertConfig): TensorSpec[] {
  const { hiddenSize: H, intermediateSize: I, vocabSize: V, typeVocabSize: T } = config;
  const naming = namingOf(config);
  const specs: TensorSpec[] = [{ name: WORD_EMBEDDINGS, shape: [V, H] }];
  if (T > 0) specs.push({ name: TOKEN_TYPE_EMBEDDINGS, shape: [T, H] });
  const layerNorm = (prefix: string): TensorSpec[] => [
    { name: `${prefix}.weight`, shape: [H] },
    { name: `${prefix}.bias`, shape: [H] },
  ];
  const linear = (prefix: string, outFeatures: number, inFeatures: number, bias: boolean): TensorSpec[] => [
    { name: `${prefix}.weight`, shape: [outFeatures, inFeatures] },
    ...(bias ? [{ name: `${prefix}.bias`, shape: [outFeatures] }] : []),
  ];
  specs.push(...layerNorm(naming.embeddingLayerNorm));
  for (let layer = 0; layer < config.numLayers; layer++) {
    const p = `${naming.layerPrefix}${layer}.`;
    specs.push(...linear(p + naming.qkv, 3 * H, H, config.attentionBias), ...linear(p + naming.attentionOut, H, H, config.attentionBias));
    specs.push(...layerNorm(p + naming.attentionLayerNorm));
    if (naming.mlpUp.kind === 'separate') {
      specs.push(...linear(p + naming.mlpUp.up, I, H, config.mlpUpBias), ...linear(p + naming.mlpUp.gate, I, H, config.mlpUpBias));
    } else {
      specs.push(...linear(p + naming.mlpUp.upGate, 2 * I, H, config.mlpUpBias));
    }
    specs.push(...linear(p + naming.mlpDown, H, I, config.mlpDownBias), ...layerNorm(p + naming.mlpLayerNorm));
  }
  return specs;
}

/** Tensors a checkpoint may hold that the forward never reads: poolers and the masked-LM / classifier heads. */
function isIgnoredTensor(name: string): boolean {
  return (
    name.startsWith('pooler.') || name.startsWith('lm_head.') || name.startsWith('cls.') || name.startsWith('classifier.') || name === 'embeddings.position_ids'
  );
}

/** Strips a task model's prefix, drops heads, and checks the rest against the layout (views, no copies). */
export function canonicalizeRotaryBertWeights(tensors: ReadonlyMap<string, TensorView>, config: RotaryBertConfig, file: string): WeightMap {
  const naming = namingOf(config);
  const canonicalToView = new Map<string, TensorView>();
  for (const [storedName, view] of tensors) {
    const prefix = naming.taskModelPrefix;
    const name = prefix !== null && storedName.startsWith(prefix) ? storedName.slice(prefix.length) : storedName;
    if (isIgnoredTensor(name)) continue;
    if (canonicalToView.has(name)) throw new ModelLoadError(`${file}: tensor ${name} is stored twice (with and without the "${prefix}" prefix)`);
    canonicalToView.set(name, view);
  }
  const ownPrefixes = ['embeddings.', 'encoder.', `${naming.embeddingLayerNorm}.`];
  return checkWeightsAgainstLayout(
    canonicalToView,
    rotaryBertTensorSpecs(config),
    {
      architecture: config.architecture === 'nomic_bert' ? 'NomicBERT' : 'GTE',
      numLayers: config.numLayers,
      isOwnNamespace: (name) => ownPrefixes.some((p) => name.startsWith(p)),
    },
    file,
  );
}
