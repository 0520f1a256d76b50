// config.json -> RobertaConfig for RoBERTa and XLM-RoBERTa (transformers models/roberta/configuration_roberta.py
// RobertaConfig, models/xlm_roberta/configuration_xlm_roberta.py XLMRobertaConfig: the same fields and defaults).
import { ModelLoadError } from '../../../errors.js';
import type { Json } from '../../config_fields.js';
import type { RobertaConfig } from '../../types.js';
import { type BertEncoderDefaults, type BertVariantIdentity, checkBertVariantIdentity, parseBertEncoderFields } from '../bert/encoder_config.js';

const ROBERTA_IDENTITY: BertVariantIdentity = {
  modelTypes: ['xlm-roberta', 'roberta'],
  // Task models keep the encoder under `roberta.` and their heads outside it (lm_head.*, classifier.*, qa_outputs.*):
  // they load as the encoder (the head itself is another issue's question).
  architectures: [
    'XLMRobertaModel',
    'XLMRobertaForMaskedLM',
    'XLMRobertaForSequenceClassification',
    'XLMRobertaForTokenClassification',
    'XLMRobertaForQuestionAnswering',
    'XLMRobertaForMultipleChoice',
    'RobertaModel',
    'RobertaForMaskedLM',
    'RobertaForSequenceClassification',
    'RobertaForTokenClassification',
    'RobertaForQuestionAnswering',
    'RobertaForMultipleChoice',
  ],
};

// XLMRobertaConfig / RobertaConfig class defaults (configuration_xlm_roberta.py l.49-56): pad_token_id 1, the rest as BERT.
const ROBERTA_DEFAULTS: BertEncoderDefaults = { layerNormEps: 1e-12, typeVocabSize: 2, padTokenId: 1, hiddenAct: 'gelu' };

export const ROBERTA_SUPPORTED_SUMMARY = `model_type "xlm-roberta" or "roberta" (${ROBERTA_IDENTITY.architectures.join(', ')})`;

export function isRobertaConfigJson(json: unknown): boolean {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return false;
  const modelType = (json as Json).model_type;
  return typeof modelType === 'string' && ROBERTA_IDENTITY.modelTypes.includes(modelType);
}

/** Validates a parsed RoBERTa / XLM-RoBERTa config.json; errors name the field and what is supported. */
export function parseRobertaConfig(json: unknown, file: string, supportedList: string = ROBERTA_SUPPORTED_SUMMARY): RobertaConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelLoadError(`${file}: config is not a JSON object`);
  const config = json as Json;
  const modelType = checkBertVariantIdentity(config, file, ROBERTA_IDENTITY, supportedList) as RobertaConfig['modelType'];
  const fields = parseBertEncoderFields(config, file, ROBERTA_DEFAULTS);
  // Positions run from pad_token_id + 1 (architectures/roberta/spec.ts): the table needs a row past them.
  if (fields.maxPositionEmbeddings <= fields.padTokenId + 1) {
    throw new ModelLoadError(
      `${file}: "max_position_embeddings" ${fields.maxPositionEmbeddings} leaves no position for a token: ` +
        `positions start at pad_token_id + 1 = ${fields.padTokenId + 1}`,
    );
  }
  return { architecture: 'roberta', modelType, ...fields, taskTypeVocabSize: 0 };
}
