// config.json -> RotaryBertConfig for GTE's NewModel (Alibaba-NLP/new-impl configuration.py NewConfig: model_type
// "new", architectures NewModel; Snowflake's arctic-embed-m-v2.0 names it GteModel). vLLM tells these apart from other
// "NewModel"s only with --hf-overrides; we recognise them by model_type "new" (or "gte") plus their rope fields.
import { ModelLoadError } from '../../../errors.js';
import { describeValue, type Json, parseMatryoshka, requirePositiveInteger } from '../../config_fields.js';
import type { RotaryBertConfig } from '../../types.js';
import { checkHeads, refuseUnless, requirePositiveNumberField, typeVocabSize } from '../rotary_bert/config_checks.js';

export const GTE_SUPPORTED_SUMMARY =
  'model_type "new" or "gte" (GTE NewModel: rope position_embedding_type, optional rope_scaling {type: "ntk"}, layer_norm, packed qkv)';

/** NewConfig defaults (new-impl configuration.py) for fields that change the forward. */
const DEFAULT_ROPE_THETA = 10_000;
const DEFAULT_LAYER_NORM_EPS = 1e-12;

/** NewGatedMLP: act_fn = ACT2FN[hidden_act]; 'gelu' is transformers' GELUActivation, the exact erf GELU. */
const HIDDEN_ACT_TO_GATE: Readonly<Record<string, RotaryBertConfig['hiddenAct']>> = { gelu: 'gelu', silu: 'silu' };

/** model_type values this family claims: "new" (NewConfig), "gte" (Snowflake's copy and transformers 5's port). */
export const GTE_MODEL_TYPES: readonly string[] = ['new', 'gte'];

export function isGteConfigJson(json: unknown): boolean {
  return json !== null && typeof json === 'object' && !Array.isArray(json) && GTE_MODEL_TYPES.includes((json as Json).model_type as string);
}

/** rope_scaling: null, or {type: "ntk", factor >= 1} without mixed_b (the only variant the released models use). */
function ntkFactor(config: Json, file: string): number | null {
  const scaling = config.rope_scaling;
  if (scaling === undefined || scaling === null) return null;
  const s = scaling as Json;
  if (typeof scaling !== 'object' || s.type !== 'ntk') {
    throw new ModelLoadError(`${file}: rope_scaling ${describeValue(scaling)} is not supported; supported: null or {"type": "ntk", "factor": >= 1}`);
  }
  if (s.mixed_b !== undefined && s.mixed_b !== null) throw new ModelLoadError(`${file}: rope_scaling.mixed_b (mixed NTK) is not supported`);
  if (typeof s.factor !== 'number' || !(s.factor >= 1))
    throw new ModelLoadError(`${file}: rope_scaling.factor must be a number >= 1 (found ${describeValue(s.factor)})`);
  return s.factor;
}

export function parseGteConfig(json: unknown, file: string): RotaryBertConfig {
  if (!isGteConfigJson(json))
    throw new ModelLoadError(`${file}: model_type ${describeValue((json as Json)?.model_type)} is not one of ${GTE_MODEL_TYPES.join(', ')}`);
  const config = json as Json;
  if (config.position_embedding_type !== 'rope') {
    throw new ModelLoadError(`${file}: position_embedding_type ${describeValue(config.position_embedding_type)} is not supported; supported: "rope"`);
  }
  refuseUnless(config, 'layer_norm_type', ['layer_norm'], file, 'RMSNorm layers');
  refuseUnless(config, 'pack_qkv', [true], file, 'separate q_proj / k_proj / v_proj');
  refuseUnless(config, 'logn_attention_scale', [false], file, 'log-n attention scaling');
  if (config.rope_parameters !== undefined && config.rope_parameters !== null) {
    throw new ModelLoadError(
      `${file}: rope_parameters (a transformers 5 rewrite of the config) is not read; supported: rope_theta + rope_scaling as NewConfig writes them`,
    );
  }
  const hiddenSize = requirePositiveInteger(config, 'hidden_size', file);
  const numHeads = requirePositiveInteger(config, 'num_attention_heads', file);
  checkHeads(hiddenSize, numHeads, file);
  const rawHiddenAct = config.hidden_act ?? 'gelu';
  const hiddenAct = typeof rawHiddenAct === 'string' ? HIDDEN_ACT_TO_GATE[rawHiddenAct] : undefined;
  if (hiddenAct === undefined) {
    throw new ModelLoadError(`${file}: hidden_act ${describeValue(rawHiddenAct)} is not supported; supported: ${Object.keys(HIDDEN_ACT_TO_GATE).join(', ')}`);
  }
  return {
    architecture: 'gte',
    vocabSize: requirePositiveInteger(config, 'vocab_size', file),
    hiddenSize,
    numLayers: requirePositiveInteger(config, 'num_hidden_layers', file),
    numHeads,
    intermediateSize: requirePositiveInteger(config, 'intermediate_size', file),
    maxPositionEmbeddings: requirePositiveInteger(config, 'max_position_embeddings', file),
    typeVocabSize: typeVocabSize(config, 0, file),
    layerNormEps: requirePositiveNumberField(config, 'layer_norm_eps', DEFAULT_LAYER_NORM_EPS, file),
    ropeTheta: requirePositiveNumberField(config, 'rope_theta', DEFAULT_ROPE_THETA, file),
    ropeNtkFactor: ntkFactor(config, file),
    hiddenAct,
    // NewAttention: qkv_proj and o_proj with bias=True; NewGatedMLP: up_gate_proj bias=False, down_proj bias=True.
    attentionBias: true,
    mlpUpBias: false,
    mlpDownBias: true,
    ...parseMatryoshka(config, hiddenSize, file),
  };
}
