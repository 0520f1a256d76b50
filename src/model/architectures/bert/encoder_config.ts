// config.json fields every BERT-shaped encoder family reads alike (BERT, RoBERTa / XLM-RoBERTa, ERNIE): their
// configuration classes (transformers configuration_bert.py, configuration_roberta.py, configuration_xlm_roberta.py,
// configuration_ernie.py) share these names and meanings; only defaults differ (pad_token_id is 1 for RoBERTa), and
// each family checks its own identity (model_type, architectures) before calling this.
import { ModelLoadError } from '../../../errors.js';
import { describeValue, optionalPositiveInteger, parseMatryoshka, requirePositiveInteger, type Json } from '../../config_fields.js';
import type { BertEncoderConfig } from '../../types.js';

/**
 * hidden_act values we run, keyed by config string, mapped to the activation the backends implement
 * (transformers activations.py ACT2CLS): 'gelu' -> GELUActivation = exact erf GELU (torch.nn.functional.gelu);
 * 'gelu_python' is the same erf formula in Python; 'gelu_new' -> NewGELUActivation (tanh approximation);
 * 'gelu_fast' -> FastGELUActivation, the same tanh formula with sqrt(2/pi) folded in, so it runs as gelu_new;
 * 'gelu_pytorch_tanh' -> PytorchGELUTanh (torch's tanh approximation); 'relu' -> nn.ReLU.
 */
const HIDDEN_ACT_TO_ACTIVATION: Readonly<Record<string, BertEncoderConfig['hiddenAct']>> = {
  gelu: 'gelu',
  gelu_python: 'gelu',
  gelu_new: 'gelu_new',
  gelu_fast: 'gelu_new',
  gelu_pytorch_tanh: 'gelu_pytorch_tanh',
  relu: 'relu',
};

/** Defaults of the configuration class, used when config.json leaves a field out (as transformers does). */
export interface BertEncoderDefaults {
  readonly layerNormEps: number;
  readonly typeVocabSize: number;
  readonly padTokenId: number;
  readonly hiddenAct: string;
}

/** The fields of BertEncoderConfig that config.json gives alike for every BERT-shaped family. */
export type BertEncoderFields = Omit<BertEncoderConfig, 'architecture' | 'taskTypeVocabSize'>;

function parseHiddenAct(json: Json, fallback: string, file: string): BertEncoderConfig['hiddenAct'] {
  const value = json.hidden_act ?? fallback;
  const activation = typeof value === 'string' ? HIDDEN_ACT_TO_ACTIVATION[value] : undefined;
  if (activation === undefined) {
    throw new ModelLoadError(`${file}: unsupported hidden_act ${describeValue(value)}; supported: ${Object.keys(HIDDEN_ACT_TO_ACTIVATION).join(', ')}`);
  }
  return activation;
}

/** "architectures" as a list of class names (absent = none); anything else is an error naming the field. */
export function architectureNamesOf(json: Json, file: string): string[] {
  const architectures = json.architectures;
  if (architectures === undefined || architectures === null) return [];
  if (!Array.isArray(architectures) || !architectures.every((name) => typeof name === 'string')) {
    throw new ModelLoadError(`${file}: "architectures" must be a list of class names (found ${describeValue(architectures)})`);
  }
  return architectures as string[];
}

/**
 * Reads and checks the shared fields; refuses every option that changes the forward pass and that no backend runs
 * (relative position embeddings, causal "decoder" use).
 */
export function parseBertEncoderFields(config: Json, file: string, defaults: BertEncoderDefaults): BertEncoderFields {
  const positionEmbeddingType = config.position_embedding_type;
  if (positionEmbeddingType !== undefined && positionEmbeddingType !== null && positionEmbeddingType !== 'absolute') {
    throw new ModelLoadError(`${file}: position_embedding_type ${describeValue(positionEmbeddingType)} is not supported (only "absolute")`);
  }
  if (config.is_decoder === true) {
    throw new ModelLoadError(`${file}: is_decoder is true (causal use of an encoder); only bidirectional encoders are supported`);
  }
  const hiddenSize = requirePositiveInteger(config, 'hidden_size', file);
  const numHeads = requirePositiveInteger(config, 'num_attention_heads', file);
  if (hiddenSize % numHeads !== 0) {
    throw new ModelLoadError(`${file}: hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}`);
  }
  const layerNormEps = config.layer_norm_eps ?? defaults.layerNormEps;
  if (typeof layerNormEps !== 'number' || !Number.isFinite(layerNormEps) || layerNormEps <= 0) {
    throw new ModelLoadError(`${file}: "layer_norm_eps" must be a positive number (found ${describeValue(layerNormEps)})`);
  }
  const padTokenId = config.pad_token_id ?? defaults.padTokenId;
  if (typeof padTokenId !== 'number' || !Number.isSafeInteger(padTokenId) || padTokenId < 0) {
    throw new ModelLoadError(`${file}: "pad_token_id" must be a non-negative integer (found ${describeValue(padTokenId)})`);
  }
  return {
    vocabSize: requirePositiveInteger(config, 'vocab_size', file),
    hiddenSize,
    numLayers: requirePositiveInteger(config, 'num_hidden_layers', file),
    numHeads,
    intermediateSize: requirePositiveInteger(config, 'intermediate_size', file),
    maxPositionEmbeddings: requirePositiveInteger(config, 'max_position_embeddings', file),
    typeVocabSize: optionalPositiveInteger(config, 'type_vocab_size', defaults.typeVocabSize, file),
    layerNormEps,
    hiddenAct: parseHiddenAct(config, defaults.hiddenAct, file),
    padTokenId,
    ...parseMatryoshka(config, hiddenSize, file),
  };
}

/** Which config.json files a BERT-variant family (RoBERTa, ERNIE) claims: by model_type, always present in theirs. */
export interface BertVariantIdentity {
  readonly modelTypes: readonly string[];
  /** transformers classes whose checkpoints hold the plain encoder (under the family's prefix, plus heads we ignore). */
  readonly architectures: readonly string[];
}

/**
 * Refuses a config.json of this family that is not a plain encoder checkpoint: a class outside `identity.architectures`
 * (e.g. *ForCausalLM), or remote code (auto_map: jina-embeddings-v3 is model_type "xlm-roberta" with its own flash
 * implementation and LoRA adapters). Returns the model_type.
 */
export function checkBertVariantIdentity(json: Json, file: string, identity: BertVariantIdentity, supportedList: string): string {
  const modelType = json.model_type;
  if (typeof modelType !== 'string' || !identity.modelTypes.includes(modelType)) {
    throw new ModelLoadError(`${file}: unsupported model_type ${describeValue(modelType)}; supported: ${supportedList}`);
  }
  const names = architectureNamesOf(json, file);
  const unsupported = names.filter((name) => !identity.architectures.includes(name));
  if (unsupported.length > 0) {
    throw new ModelLoadError(`${file}: unsupported architecture ${unsupported.join(', ')} for model_type "${modelType}"; supported: ${supportedList}`);
  }
  if (json.auto_map !== undefined && json.auto_map !== null) {
    throw new ModelLoadError(`${file}: model_type "${modelType}" with auto_map needs the model's own code (trust_remote_code); supported: ${supportedList}`);
  }
  return modelType;
}
