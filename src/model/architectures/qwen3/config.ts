// config.json -> Qwen3Config for Qwen3 decoders (transformers models/qwen3/configuration_qwen3.py Qwen3Config), as
// saved by Qwen/Qwen3-Embedding-* (architectures ["Qwen3ForCausalLM"], weights without the `model.` prefix) or by a
// plain Qwen3Model / Qwen3ForCausalLM save_pretrained.
//
// Everything that changes what the forward pass computes and that we don't implement is refused here, at load time,
// rather than silently ignored: biased projections (attention_bias), sliding-window layers, RoPE scaling variants and
// activations other than SiLU.
import { ModelLoadError } from '../../../errors.js';
import { describeValue, optionalPositiveInteger, optionalPositiveNumber, parseMatryoshka, requirePositiveInteger, type Json } from '../../config_fields.js';
import type { Qwen3Config } from '../../types.js';

/** transformers classes whose checkpoints hold a Qwen3Model (possibly under `model.`, plus an lm_head we ignore). */
export const SUPPORTED_QWEN3_ARCHITECTURES: readonly string[] = ['Qwen3Model', 'Qwen3ForCausalLM', 'Qwen3ForSequenceClassification'];

// Qwen3Config defaults (configuration_qwen3.py) for fields a config.json may leave out. Unlike BERT's parser, head_dim
// and num_key_value_heads do get defaults: transformers itself fills them (head_dim = 128; num_key_value_heads =
// num_attention_heads in __post_init__), so a config relying on them means exactly these values.
const QWEN3_DEFAULT_HEAD_DIM = 128;
const QWEN3_DEFAULT_RMS_NORM_EPS = 1e-6;
const QWEN3_DEFAULT_ROPE_THETA = 10000;
const QWEN3_DEFAULT_HIDDEN_ACT = 'silu';

/** True when config.json describes a Qwen3 model (model_type is what transformers' AutoConfig dispatches on). */
export function isQwen3ConfigJson(json: unknown): boolean {
  return json !== null && typeof json === 'object' && !Array.isArray(json) && (json as Json).model_type === 'qwen3';
}

function checkArchitectures(json: Json, file: string): void {
  const architectures = json.architectures;
  if (architectures === undefined || architectures === null) return;
  if (!Array.isArray(architectures) || !architectures.every((name) => typeof name === 'string')) {
    throw new ModelLoadError(`${file}: "architectures" must be a list of class names (found ${describeValue(architectures)})`);
  }
  const unsupported = (architectures as string[]).filter((name) => !SUPPORTED_QWEN3_ARCHITECTURES.includes(name));
  if (unsupported.length > 0) {
    throw new ModelLoadError(`${file}: unsupported Qwen3 architecture ${unsupported.join(', ')}; supported: ${SUPPORTED_QWEN3_ARCHITECTURES.join(', ')}`);
  }
}

/**
 * rope_theta: top-level in the configs Qwen3 shipped with; newer transformers moves it into `rope_parameters`
 * ({rope_type: 'default', rope_theta}), and `rope_scaling` is the older name of the same dict. Only the default
 * (unscaled) RoPE is implemented: Qwen3RotaryEmbedding.compute_default_rope_parameters.
 */
function parseRopeTheta(json: Json, file: string): number {
  for (const field of ['rope_scaling', 'rope_parameters']) {
    const value = json[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new ModelLoadError(`${file}: "${field}" must be an object or null`);
    const params = value as Json;
    const ropeType = params.rope_type ?? params.type ?? 'default';
    if (ropeType !== 'default') {
      throw new ModelLoadError(`${file}: ${field}.rope_type ${describeValue(ropeType)} is not supported (only the default, unscaled RoPE)`);
    }
    if (params.rope_theta !== undefined) return optionalPositiveNumber(params, 'rope_theta', QWEN3_DEFAULT_ROPE_THETA, `${file} ${field}`);
  }
  return optionalPositiveNumber(json, 'rope_theta', QWEN3_DEFAULT_ROPE_THETA, file);
}

/** Validates a parsed Qwen3 config.json (model_type "qwen3"); `file` names it in errors. */
export function parseQwen3Config(json: unknown, file: string): Qwen3Config {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelLoadError(`${file}: config is not a JSON object`);
  }
  const config = json as Json;
  if (config.model_type !== 'qwen3') {
    throw new ModelLoadError(`${file}: model_type ${describeValue(config.model_type)} is not "qwen3"`);
  }
  checkArchitectures(config, file);

  const hiddenAct = config.hidden_act ?? QWEN3_DEFAULT_HIDDEN_ACT;
  if (hiddenAct !== 'silu') {
    throw new ModelLoadError(`${file}: unsupported hidden_act ${describeValue(hiddenAct)} for Qwen3; supported: silu`);
  }
  if (config.attention_bias === true) {
    throw new ModelLoadError(`${file}: attention_bias true (biased q/k/v/o projections) is not supported`);
  }
  // Qwen3Config.__post_init__: sliding_window only takes effect when use_sliding_window is true.
  if (config.use_sliding_window === true) {
    throw new ModelLoadError(`${file}: use_sliding_window true (sliding-window attention layers) is not supported`);
  }
  if (Array.isArray(config.layer_types) && config.layer_types.some((type) => type !== 'full_attention')) {
    throw new ModelLoadError(`${file}: layer_types other than "full_attention" are not supported`);
  }

  const hiddenSize = requirePositiveInteger(config, 'hidden_size', file);
  const numHeads = requirePositiveInteger(config, 'num_attention_heads', file);
  const numKeyValueHeads = optionalPositiveInteger(config, 'num_key_value_heads', numHeads, file);
  if (numHeads % numKeyValueHeads !== 0) {
    // Qwen3Attention: num_key_value_groups = num_attention_heads // num_key_value_heads (repeat_kv needs it exact).
    throw new ModelLoadError(`${file}: num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKeyValueHeads}`);
  }
  const headDim = optionalPositiveInteger(config, 'head_dim', QWEN3_DEFAULT_HEAD_DIM, file);
  if (headDim % 2 !== 0) {
    throw new ModelLoadError(`${file}: head_dim ${headDim} must be even (rotate-half RoPE splits each head in two)`);
  }
  const tie = config.tie_word_embeddings ?? false;
  if (typeof tie !== 'boolean') throw new ModelLoadError(`${file}: "tie_word_embeddings" must be true or false (found ${describeValue(tie)})`);

  return {
    architecture: 'qwen3',
    vocabSize: requirePositiveInteger(config, 'vocab_size', file),
    hiddenSize,
    numLayers: requirePositiveInteger(config, 'num_hidden_layers', file),
    numHeads,
    numKeyValueHeads,
    headDim,
    intermediateSize: requirePositiveInteger(config, 'intermediate_size', file),
    maxPositionEmbeddings: requirePositiveInteger(config, 'max_position_embeddings', file),
    rmsNormEps: optionalPositiveNumber(config, 'rms_norm_eps', QWEN3_DEFAULT_RMS_NORM_EPS, file),
    ropeTheta: parseRopeTheta(config, file),
    hiddenAct: 'silu',
    tieWordEmbeddings: tie,
    ...parseMatryoshka(config, hiddenSize, file),
  };
}
