// config.json -> BertConfig for the BERT family (transformers models/bert/configuration_bert.py BertConfig).
import { ModelLoadError } from '../../../errors.js';
import { describeValue, type Json } from '../../config_fields.js';
import type { BertConfig } from '../../types.js';
import { type BertEncoderDefaults, parseBertEncoderFields } from './encoder_config.js';

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

// BertConfig.__init__ defaults (configuration_bert.py), used when config.json leaves a field out (as transformers
// does). Fields that fix tensor shapes (sizes, layer counts) have no default: a wrong guess would only surface as a
// shape error.
const BERT_DEFAULTS: BertEncoderDefaults = { layerNormEps: 1e-12, typeVocabSize: 2, padTokenId: 0, hiddenAct: 'gelu' };

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

  return { architecture: 'bert', ...parseBertEncoderFields(config, file, BERT_DEFAULTS), taskTypeVocabSize: 0 };
}
