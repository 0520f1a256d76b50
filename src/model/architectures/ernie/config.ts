// config.json -> ErnieConfig for ERNIE 1.0-3.0 encoders (transformers models/ernie/configuration_ernie.py ErnieConfig).
import { ModelLoadError } from '../../../errors.js';
import { describeValue, optionalPositiveInteger, type Json } from '../../config_fields.js';
import type { ErnieConfig } from '../../types.js';
import { type BertEncoderDefaults, type BertVariantIdentity, checkBertVariantIdentity, parseBertEncoderFields } from '../bert/encoder_config.js';

const ERNIE_IDENTITY: BertVariantIdentity = {
  modelTypes: ['ernie'],
  // Task models keep the encoder under `ernie.` (ErniePreTrainedModel.base_model_prefix, modeling_ernie.py l.525).
  architectures: [
    'ErnieModel',
    'ErnieForMaskedLM',
    'ErnieForPreTraining',
    'ErnieForSequenceClassification',
    'ErnieForTokenClassification',
    'ErnieForQuestionAnswering',
    'ErnieForNextSentencePrediction',
    'ErnieForMultipleChoice',
  ],
};

// ErnieConfig class defaults (configuration_ernie.py l.48-63): as BERT, plus task_type_vocab_size 3, use_task_id false.
const ERNIE_DEFAULTS: BertEncoderDefaults = { layerNormEps: 1e-12, typeVocabSize: 2, padTokenId: 0, hiddenAct: 'gelu' };
const ERNIE_DEFAULT_TASK_TYPE_VOCAB_SIZE = 3;

export const ERNIE_SUPPORTED_SUMMARY = `model_type "ernie" (${ERNIE_IDENTITY.architectures.join(', ')})`;

export function isErnieConfigJson(json: unknown): boolean {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return false;
  return (json as Json).model_type === 'ernie';
}

/**
 * ErnieEmbeddings creates task_type_embeddings only when use_task_id is true (modeling_ernie.py l.73-75), with
 * task_type_vocab_size rows; the checkpoint then holds `embeddings.task_type_embeddings.weight`.
 */
function parseTaskTypeVocabSize(config: Json, file: string): number {
  const useTaskId = config.use_task_id ?? false;
  if (typeof useTaskId !== 'boolean') throw new ModelLoadError(`${file}: "use_task_id" must be true or false (found ${describeValue(useTaskId)})`);
  return useTaskId ? optionalPositiveInteger(config, 'task_type_vocab_size', ERNIE_DEFAULT_TASK_TYPE_VOCAB_SIZE, file) : 0;
}

/** Validates a parsed ERNIE config.json; errors name the field and what is supported. */
export function parseErnieConfig(json: unknown, file: string, supportedList: string = ERNIE_SUPPORTED_SUMMARY): ErnieConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelLoadError(`${file}: config is not a JSON object`);
  const config = json as Json;
  checkBertVariantIdentity(config, file, ERNIE_IDENTITY, supportedList);
  return { architecture: 'ernie', ...parseBertEncoderFields(config, file, ERNIE_DEFAULTS), taskTypeVocabSize: parseTaskTypeVocabSize(config, file) };
}
