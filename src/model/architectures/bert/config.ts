// config.json -> BertConfig for the BERT family (transformers models/bert/configuration_bert.py BertConfig).
import { ModelLoadError } from '../../../errors.js';
import { describeValue, optionalPositiveInteger, parseMatryoshka, requirePositiveInteger, type Json } from '../../config_fields.js';
import type { BertConfig } from '../../types.js';

/** transformers classes whose checkpoints hold a plain BERT encoder (possibly under a `bert.` prefix, plus heads). */
export const SUPPORTED_BERT_ARCHITECTURES: readonly string[] = [
  'BertModel',
  'BertForMaskedLM',
  'BertForPreTraining',
  'BertForSequenceClassification',
  'BertForTokenClassification',
  'BertForQuestionAnswering',
  'BertForNextSentencePrediction',
  'BertForMultipleChoice',
];

/**
 * hidden_act values we run, keyed by config string, mapped to the activation the backends implement
 * (transformers activations.py ACT2CLS): 'gelu' -> GELUActivation = exact erf GELU (torch.nn.functional.gelu);
 * 'gelu_python' is the same erf formula in Python; 'gelu_new' -> NewGELUActivation (tanh approximation);
 * 'gelu_fast' -> FastGELUActivation, the same tanh formula with sqrt(2/pi) folded in, so it runs as gelu_new;
 * 'gelu_pytorch_tanh' -> PytorchGELUTanh (torch's tanh approximation); 'relu' -> nn.ReLU.
 */
const HIDDEN_ACT_TO_ACTIVATION: Readonly<Record<string, BertConfig['hiddenAct']>> = {
  gelu: 'gelu',
  gelu_python: 'gelu',
  gelu_new: 'gelu_new',
  gelu_fast: 'gelu_new',
  gelu_pytorch_tanh: 'gelu_pytorch_tanh',
  relu: 'relu',
};

// BertConfig.__init__ defaults, used when config.json leaves a field out (as transformers does). Fields that fix
// tensor shapes (sizes, layer counts) have no default here: a wrong guess would only surface as a shape error.
const BERT_DEFAULT_LAYER_NORM_EPS = 1e-12;
const BERT_DEFAULT_TYPE_VOCAB_SIZE = 2;
const BERT_DEFAULT_PAD_TOKEN_ID = 0;
const BERT_DEFAULT_HIDDEN_ACT = 'gelu';

/** How this family describes what it accepts, in error messages. */
export const BERT_SUPPORTED_SUMMARY = `model_type "bert" or architectures ${SUPPORTED_BERT_ARCHITECTURES.join(', ')}`;

/** True when config.json is BERT's to parse: model_type "bert", or none (older checkpoints name only architectures). */
export function isBertConfigJson(json: unknown): boolean {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return false;
  const modelType = (json as Json).model_type;
  return modelType === undefined || modelType === 'bert';
}

function checkIsBert(json: Json, file: string, supportedList: string): void {
  const modelType = json.model_type;
  const architectures = json.architectures;
  if (architectures !== undefined && architectures !== null) {
    if (!Array.isArray(architectures) || !architectures.every((name) => typeof name === 'string')) {
      throw new ModelLoadError(`${file}: "architectures" must be a list of class names (found ${describeValue(architectures)})`);
    }
  }
  const architectureNames = (architectures ?? []) as string[];
  if (modelType !== undefined && modelType !== 'bert') {
    throw new ModelLoadError(
      `${file}: unsupported model_type ${describeValue(modelType)}` +
        (architectureNames.length > 0 ? ` (architectures ${architectureNames.join(', ')})` : '') +
        `; supported: ${supportedList}`,
    );
  }
  if (modelType === undefined && !architectureNames.some((name) => SUPPORTED_BERT_ARCHITECTURES.includes(name))) {
    throw new ModelLoadError(
      `${file}: unsupported architecture ${architectureNames.length > 0 ? architectureNames.join(', ') : '(none given)'}; ` + `supported: ${supportedList}`,
    );
  }
  // Remote-code models that reuse model_type "bert" (e.g. Jina's ALiBi BERT) announce themselves through auto_map.
  if (json.auto_map !== undefined && !architectureNames.some((name) => SUPPORTED_BERT_ARCHITECTURES.includes(name))) {
    throw new ModelLoadError(`${file}: architectures ${architectureNames.join(', ') || '(none)'} need custom code (auto_map); supported: ${supportedList}`);
  }
}

function parseHiddenAct(json: Json, file: string): BertConfig['hiddenAct'] {
  const value = json.hidden_act ?? BERT_DEFAULT_HIDDEN_ACT;
  const activation = typeof value === 'string' ? HIDDEN_ACT_TO_ACTIVATION[value] : undefined;
  if (activation === undefined) {
    throw new ModelLoadError(`${file}: unsupported hidden_act ${describeValue(value)}; supported: ${Object.keys(HIDDEN_ACT_TO_ACTIVATION).join(', ')}`);
  }
  return activation;
}

/**
 * Validates a parsed BERT config.json; anything else is an error naming what is supported (`supportedList`: what every
 * registered family accepts, given by the registry; this family's own summary by default).
 */
export function parseBertConfig(json: unknown, file: string, supportedList: string = BERT_SUPPORTED_SUMMARY): BertConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelLoadError(`${file}: config is not a JSON object`);
  }
  const config = json as Json;
  checkIsBert(config, file, supportedList);

  const positionEmbeddingType = config.position_embedding_type;
  if (positionEmbeddingType !== undefined && positionEmbeddingType !== null && positionEmbeddingType !== 'absolute') {
    throw new ModelLoadError(`${file}: position_embedding_type ${describeValue(positionEmbeddingType)} is not supported (only "absolute")`);
  }
  if (config.is_decoder === true) {
    throw new ModelLoadError(`${file}: is_decoder is true (causal BERT); only bidirectional encoders are supported`);
  }

  const hiddenSize = requirePositiveInteger(config, 'hidden_size', file);
  const numHeads = requirePositiveInteger(config, 'num_attention_heads', file);
  if (hiddenSize % numHeads !== 0) {
    throw new ModelLoadError(`${file}: hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}`);
  }
  const layerNormEps = config.layer_norm_eps ?? BERT_DEFAULT_LAYER_NORM_EPS;
  if (typeof layerNormEps !== 'number' || !Number.isFinite(layerNormEps) || layerNormEps <= 0) {
    throw new ModelLoadError(`${file}: "layer_norm_eps" must be a positive number (found ${describeValue(layerNormEps)})`);
  }
  const padTokenId = config.pad_token_id ?? BERT_DEFAULT_PAD_TOKEN_ID;
  if (typeof padTokenId !== 'number' || !Number.isSafeInteger(padTokenId) || padTokenId < 0) {
    throw new ModelLoadError(`${file}: "pad_token_id" must be a non-negative integer (found ${describeValue(padTokenId)})`);
  }

  return {
    architecture: 'bert',
    vocabSize: requirePositiveInteger(config, 'vocab_size', file),
    hiddenSize,
    numLayers: requirePositiveInteger(config, 'num_hidden_layers', file),
    numHeads,
    intermediateSize: requirePositiveInteger(config, 'intermediate_size', file),
    maxPositionEmbeddings: requirePositiveInteger(config, 'max_position_embeddings', file),
    typeVocabSize: optionalPositiveInteger(config, 'type_vocab_size', BERT_DEFAULT_TYPE_VOCAB_SIZE, file),
    layerNormEps,
    hiddenAct: parseHiddenAct(config, file),
    padTokenId,
    ...parseMatryoshka(config, hiddenSize, file),
  };
}
