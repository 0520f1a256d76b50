// config.json -> ModernBertConfig (transformers models/modernbert/configuration_modernbert.py ModernBertConfig, v5.25),
// as answerdotai/ModernBERT-base / -large (ModernBertForMaskedLM) and the embedding models fine-tuned from them
// (Alibaba-NLP/gte-modernbert-base, nomic-ai/modernbert-embed-base) save it. Both spellings are read: the legacy
// top-level `global_rope_theta` / `local_rope_theta` / `global_attn_every_n_layers` of the published configs, and
// transformers v5's `rope_parameters` / `layer_types`.
//
// Everything that changes the forward pass and that we don't implement is refused here, at load time: biases
// (attention_bias, mlp_bias, norm_bias), RoPE scaling variants, activations other than GELU / SiLU.
import { ModelLoadError } from '../../../errors.js';
import { describeValue, optionalPositiveInteger, optionalPositiveNumber, parseMatryoshka, requirePositiveInteger, type Json } from '../../config_fields.js';
import type { GatedActivationKind, ModernBertConfig, ModernBertLayerType } from '../../types.js';

/** transformers classes whose checkpoints hold a ModernBertModel (under `model.` for the MLM, plus a head we ignore). */
export const SUPPORTED_MODERNBERT_ARCHITECTURES: readonly string[] = ['ModernBertModel', 'ModernBertForMaskedLM'];

// ModernBertConfig defaults (configuration_modernbert.py) for fields a config.json may leave out.
const DEFAULT_NORM_EPS = 1e-5;
const DEFAULT_HIDDEN_ACTIVATION = 'gelu';
const DEFAULT_MAX_POSITIONS = 8192;
const DEFAULT_LOCAL_ATTENTION = 128;
// ModernBertConfig.__post_init__: kwargs.get("global_attn_every_n_layers", 3).
const DEFAULT_GLOBAL_EVERY_N_LAYERS = 3;
// ModernBertConfig.default_theta.
const DEFAULT_GLOBAL_ROPE_THETA = 160_000;
const DEFAULT_LOCAL_ROPE_THETA = 10_000;

/** hidden_activation values (ACT2FN keys) the gated-activation kernels implement. */
const GATED_ACTIVATIONS: readonly GatedActivationKind[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'silu'];

/** True when config.json describes a ModernBERT model (model_type is what transformers' AutoConfig dispatches on). */
export function isModernBertConfigJson(json: unknown): boolean {
  return json !== null && typeof json === 'object' && !Array.isArray(json) && (json as Json).model_type === 'modernbert';
}

function checkArchitectures(json: Json, file: string): void {
  const architectures = json.architectures;
  if (architectures === undefined || architectures === null) return;
  if (!Array.isArray(architectures) || !architectures.every((name) => typeof name === 'string')) {
    throw new ModelLoadError(`${file}: "architectures" must be a list of class names (found ${describeValue(architectures)})`);
  }
  const unsupported = (architectures as string[]).filter((name) => !SUPPORTED_MODERNBERT_ARCHITECTURES.includes(name));
  if (unsupported.length > 0) {
    throw new ModelLoadError(
      `${file}: unsupported ModernBERT architecture ${unsupported.join(', ')}; supported: ${SUPPORTED_MODERNBERT_ARCHITECTURES.join(', ')}`,
    );
  }
}

function refuseTrue(json: Json, field: string, what: string, file: string): void {
  const value = json[field];
  if (value === undefined || value === null || value === false) return;
  if (value === true) throw new ModelLoadError(`${file}: ${field} true (${what}) is not supported`);
  throw new ModelLoadError(`${file}: "${field}" must be true or false (found ${describeValue(value)})`);
}

/**
 * Per layer, global or sliding-window: `layer_types` when given (v5), else ModernBertConfig.__post_init__'s rule,
 * "sliding_attention" if i % global_attn_every_n_layers else "full_attention" (layer 0 is global).
 */
function parseLayerTypes(json: Json, numLayers: number, file: string): ModernBertLayerType[] {
  const raw = json.layer_types;
  if (raw !== undefined && raw !== null) {
    if (!Array.isArray(raw) || raw.length !== numLayers || !raw.every((t) => t === 'full_attention' || t === 'sliding_attention')) {
      throw new ModelLoadError(
        `${file}: "layer_types" must list "full_attention" or "sliding_attention" for each of the ${numLayers} layers (found ${describeValue(raw)})`,
      );
    }
    return [...(raw as ModernBertLayerType[])];
  }
  const every = optionalPositiveInteger(json, 'global_attn_every_n_layers', DEFAULT_GLOBAL_EVERY_N_LAYERS, file);
  return Array.from({ length: numLayers }, (_, i) => (i % every !== 0 ? 'sliding_attention' : 'full_attention'));
}

/**
 * The two rotary bases. ModernBertConfig.convert_rope_params_to_dict: rope_parameters[layer type].rope_theta when
 * given, else the legacy global_rope_theta / local_rope_theta, else 160000 / 10000; a `rope_scaling` dict applies to
 * both. Only the default (unscaled) RoPE is implemented (ModernBertRotaryEmbedding.compute_default_rope_parameters).
 */
function parseRopeThetas(json: Json, file: string): { globalRopeTheta: number; localRopeTheta: number } {
  const scaling = json.rope_scaling;
  if (scaling !== undefined && scaling !== null) {
    if (typeof scaling !== 'object' || Array.isArray(scaling)) throw new ModelLoadError(`${file}: "rope_scaling" must be an object or null`);
    const ropeType = (scaling as Json).rope_type ?? (scaling as Json).type ?? 'default';
    if (ropeType !== 'default')
      throw new ModelLoadError(`${file}: rope_scaling.rope_type ${describeValue(ropeType)} is not supported (only the default, unscaled RoPE)`);
  }
  const params = json.rope_parameters;
  if (params !== undefined && params !== null && (typeof params !== 'object' || Array.isArray(params))) {
    throw new ModelLoadError(`${file}: "rope_parameters" must be an object or null`);
  }
  const theta = (layerType: ModernBertLayerType, legacyField: string, fallback: number): number => {
    const entry = (params as Json | null | undefined)?.[layerType];
    if (entry !== undefined && entry !== null) {
      if (typeof entry !== 'object' || Array.isArray(entry)) throw new ModelLoadError(`${file}: rope_parameters.${layerType} must be an object`);
      const ropeType = (entry as Json).rope_type ?? 'default';
      if (ropeType !== 'default') {
        throw new ModelLoadError(
          `${file}: rope_parameters.${layerType}.rope_type ${describeValue(ropeType)} is not supported (only the default, unscaled RoPE)`,
        );
      }
      if ((entry as Json).rope_theta !== undefined)
        return optionalPositiveNumber(entry as Json, 'rope_theta', fallback, `${file} rope_parameters.${layerType}`);
    }
    return optionalPositiveNumber(json, legacyField, fallback, file);
  };
  return {
    globalRopeTheta: theta('full_attention', 'global_rope_theta', DEFAULT_GLOBAL_ROPE_THETA),
    localRopeTheta: theta('sliding_attention', 'local_rope_theta', DEFAULT_LOCAL_ROPE_THETA),
  };
}

/** Validates a parsed ModernBERT config.json (model_type "modernbert"); `file` names it in errors. */
export function parseModernBertConfig(json: unknown, file: string): ModernBertConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelLoadError(`${file}: config is not a JSON object`);
  }
  const config = json as Json;
  if (config.model_type !== 'modernbert') {
    throw new ModelLoadError(`${file}: model_type ${describeValue(config.model_type)} is not "modernbert"`);
  }
  checkArchitectures(config, file);
  refuseTrue(config, 'attention_bias', 'biased Wqkv / Wo', file);
  refuseTrue(config, 'mlp_bias', 'biased Wi / Wo', file);
  refuseTrue(config, 'norm_bias', 'LayerNorms with a bias', file);

  const hiddenActivation = config.hidden_activation ?? DEFAULT_HIDDEN_ACTIVATION;
  if (!GATED_ACTIVATIONS.includes(hiddenActivation as GatedActivationKind)) {
    throw new ModelLoadError(
      `${file}: unsupported hidden_activation ${describeValue(hiddenActivation)} for ModernBERT; supported: ${GATED_ACTIVATIONS.join(', ')}`,
    );
  }

  const hiddenSize = requirePositiveInteger(config, 'hidden_size', file);
  const numHeads = requirePositiveInteger(config, 'num_attention_heads', file);
  // ModernBertAttention.__init__ raises unless hidden_size is a multiple of num_attention_heads; RoPE splits heads in two.
  if (hiddenSize % numHeads !== 0) throw new ModelLoadError(`${file}: hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}`);
  if ((hiddenSize / numHeads) % 2 !== 0) {
    throw new ModelLoadError(`${file}: head size ${hiddenSize / numHeads} (hidden_size / num_attention_heads) must be even (rotate-half RoPE)`);
  }
  const numLayers = requirePositiveInteger(config, 'num_hidden_layers', file);
  const localAttention = optionalPositiveInteger(config, 'local_attention', DEFAULT_LOCAL_ATTENTION, file);
  // ModernBertConfig.sliding_window = local_attention // 2; a window of 0 would let a token see only itself.
  if (localAttention < 2) throw new ModelLoadError(`${file}: "local_attention" must be at least 2 (found ${localAttention})`);

  return {
    architecture: 'modernbert',
    vocabSize: requirePositiveInteger(config, 'vocab_size', file),
    hiddenSize,
    numLayers,
    numHeads,
    intermediateSize: requirePositiveInteger(config, 'intermediate_size', file),
    maxPositionEmbeddings: optionalPositiveInteger(config, 'max_position_embeddings', DEFAULT_MAX_POSITIONS, file),
    normEps: optionalPositiveNumber(config, 'norm_eps', DEFAULT_NORM_EPS, file),
    hiddenAct: hiddenActivation as GatedActivationKind,
    layerTypes: parseLayerTypes(config, numLayers, file),
    ...parseRopeThetas(config, file),
    slidingWindow: Math.floor(localAttention / 2),
    ...parseMatryoshka(config, hiddenSize, file),
  };
}
