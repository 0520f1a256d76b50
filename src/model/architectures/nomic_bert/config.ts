// config.json -> RotaryBertConfig for NomicBERT (model_type "nomic_bert"). The released configs use nomic-ai's
// NomicBertConfig (configuration_hf_nomic_bert.py: a GPT2Config with n_embd / n_layer / n_head / n_inner /
// layer_norm_epsilon / activation_function, plus the rotary_* and *_bias fields); configs rewritten for transformers 5's
// NomicBertConfig use hidden_size / num_hidden_layers / ... / hidden_act / rope_parameters. Both are read.
import { ModelLoadError } from '../../../errors.js';
import { describeValue, type Json, parseMatryoshka, requirePositiveInteger } from '../../config_fields.js';
import type { RotaryBertConfig } from '../../types.js';
import { booleanField, checkHeads, firstPresent, refuseUnless, requireFirstPositiveInteger, typeVocabSize } from '../rotary_bert/config_checks.js';

export const NOMIC_BERT_SUPPORTED_SUMMARY =
  'model_type "nomic_bert" (NomicBertModel: post-norm, full rotary, swiglu or geglu, no MoE, no dynamic NTK rotary_scaling_factor)';

/** NomicBertConfig.__init__ defaults (configuration_hf_nomic_bert.py l.7-31) for the fields that change the forward. */
const DEFAULT_ROTARY_EMB_BASE = 10_000;
const DEFAULT_TYPE_VOCAB_SIZE = 2;

/**
 * activation_function -> the gate's activation. NomicBertBlock.__init__ (modeling_hf_nomic_bert.py l.1609-1613):
 * "swiglu" -> F.silu, "geglu" -> F.gelu (exact erf), "glu" -> F.sigmoid; transformers 5 writes hidden_act "silu".
 */
const ACTIVATION_TO_GATE: Readonly<Record<string, RotaryBertConfig['hiddenAct']>> = { swiglu: 'silu', silu: 'silu', geglu: 'gelu', gelu: 'gelu' };

export function isNomicBertConfigJson(json: unknown): boolean {
  return json !== null && typeof json === 'object' && !Array.isArray(json) && (json as Json).model_type === 'nomic_bert';
}

function rotaryBase(config: Json, file: string): number {
  const parameters = config.rope_parameters;
  if (parameters !== undefined && parameters !== null) {
    const p = parameters as Json;
    if (typeof parameters !== 'object' || (p.rope_type !== undefined && p.rope_type !== 'default')) {
      throw new ModelLoadError(`${file}: rope_parameters ${describeValue(parameters)} is not supported (only rope_type "default")`);
    }
    if (p.rope_theta !== undefined) {
      if (typeof p.rope_theta !== 'number' || !(p.rope_theta > 0)) throw new ModelLoadError(`${file}: rope_parameters.rope_theta must be a positive number`);
      if (config.rotary_emb_base !== undefined && config.rotary_emb_base !== p.rope_theta) {
        throw new ModelLoadError(`${file}: rotary_emb_base ${describeValue(config.rotary_emb_base)} and rope_parameters.rope_theta ${p.rope_theta} disagree`);
      }
      return p.rope_theta;
    }
  }
  const base = config.rotary_emb_base ?? DEFAULT_ROTARY_EMB_BASE;
  if (typeof base !== 'number' || !(base > 0)) throw new ModelLoadError(`${file}: "rotary_emb_base" must be a positive number (found ${describeValue(base)})`);
  return base;
}

export function parseNomicBertConfig(json: unknown, file: string): RotaryBertConfig {
  if (!isNomicBertConfigJson(json)) throw new ModelLoadError(`${file}: model_type ${describeValue((json as Json)?.model_type)} is not "nomic_bert"`);
  const config = json as Json;
  // What NomicBertModel can be configured to do that we do not run: refused by name.
  refuseUnless(config, 'prenorm', [false], file, 'pre-norm blocks');
  refuseUnless(config, 'parallel_block', [false], file, 'parallel attention / MLP blocks');
  refuseUnless(config, 'causal', [false], file, 'causal attention');
  refuseUnless(config, 'use_rms_norm', [false], file, 'RMSNorm');
  refuseUnless(config, 'norm_mlp', [false], file, 'LayerNorm inside the MLP');
  refuseUnless(config, 'rotary_emb_fraction', [1, 1.0], file, 'partial rotary with a learned position table');
  refuseUnless(config, 'rotary_emb_interleaved', [false], file, 'GPT-J interleaved rotary; only rotate-half');
  refuseUnless(config, 'rotary_emb_scale_base', [], file, 'xPos-scaled rotary');
  // NomicBertDynamicNTKRotaryEmbedding rescales the base from the padded batch length (l.1409-1416): a text's vector
  // would depend on its batch neighbours. nomic-embed-text-v1.5 ships it null.
  refuseUnless(config, 'rotary_scaling_factor', [], file, 'dynamic NTK rotary depends on the padded batch length');
  refuseUnless(config, 'moe_every_n_layers', [0], file, 'mixture-of-experts layers (nomic-embed-text-v2-moe)');
  refuseUnless(config, 'num_heads_kv', [], file, 'grouped K/V heads');
  if (config.rotary_emb_fraction === undefined && config.rope_parameters === undefined && config.hidden_act === undefined) {
    // NomicBertConfig defaults rotary_emb_fraction to 0.0 (learned absolute positions): not this family's released models.
    throw new ModelLoadError(`${file}: "rotary_emb_fraction" is missing (NomicBertConfig's default 0.0 means learned positions); supported: 1.0`);
  }

  const hiddenSize = requireFirstPositiveInteger(config, ['n_embd', 'hidden_size'], file);
  const numHeads = requireFirstPositiveInteger(config, ['n_head', 'num_attention_heads'], file);
  checkHeads(hiddenSize, numHeads, file);
  const activationField = firstPresent(config, ['activation_function', 'hidden_act']) ?? 'activation_function';
  const activation = config[activationField];
  const hiddenAct = typeof activation === 'string' ? ACTIVATION_TO_GATE[activation] : undefined;
  if (hiddenAct === undefined) {
    throw new ModelLoadError(
      `${file}: ${activationField} ${describeValue(activation)} is not supported; supported: ${Object.keys(ACTIVATION_TO_GATE).join(', ')}`,
    );
  }
  const epsField = firstPresent(config, ['layer_norm_epsilon', 'layer_norm_eps']) ?? 'layer_norm_epsilon';
  const layerNormEps = config[epsField];
  if (typeof layerNormEps !== 'number' || !(layerNormEps > 0)) {
    throw new ModelLoadError(`${file}: "${epsField}" must be a positive number (found ${describeValue(layerNormEps)})`);
  }
  // NomicBertModel.__init__ (l.1871-1873) pads vocab_size up to pad_vocab_size_multiple; the table has the padded rows.
  let vocabSize = requirePositiveInteger(config, 'vocab_size', file);
  const multiple = config.pad_vocab_size_multiple ?? 1;
  if (typeof multiple !== 'number' || !Number.isSafeInteger(multiple) || multiple <= 0) {
    throw new ModelLoadError(`${file}: "pad_vocab_size_multiple" must be a positive integer (found ${describeValue(multiple)})`);
  }
  if (vocabSize % multiple !== 0) vocabSize += multiple - (vocabSize % multiple);
  // n_positions is the context the model is published for (8192 for nomic-embed-text-v1.5, trained to
  // max_trained_positions 2048); rotary has no table, so it only bounds the input length.
  const maxPositionEmbeddings = requireFirstPositiveInteger(config, ['n_positions', 'max_position_embeddings'], file);
  const bias = booleanField(config, 'qkv_proj_bias', true, file);
  return {
    architecture: 'nomic_bert',
    vocabSize,
    hiddenSize,
    numLayers: requireFirstPositiveInteger(config, ['n_layer', 'num_hidden_layers'], file),
    numHeads,
    intermediateSize: requireFirstPositiveInteger(config, ['n_inner', 'intermediate_size'], file),
    maxPositionEmbeddings,
    typeVocabSize: typeVocabSize(config, DEFAULT_TYPE_VOCAB_SIZE, file),
    layerNormEps,
    ropeTheta: rotaryBase(config, file),
    ropeNtkFactor: null,
    hiddenAct,
    attentionBias: bias,
    mlpUpBias: booleanField(config, 'mlp_fc1_bias', true, file),
    mlpDownBias: booleanField(config, 'mlp_fc2_bias', true, file),
    ...parseMatryoshka(config, hiddenSize, file),
  };
}
