// The BERT encoder's tensors as data: canonical names (BertModel's state_dict keys, transformers
// models/bert/modeling_bert.py BertEmbeddings / BertSelfAttention / BertSelfOutput / BertIntermediate /
// BertOutput) and shapes. nn.Linear stores weight as [out_features, in_features]. RoBERTa / XLM-RoBERTa
// (modeling_roberta.py, modeling_xlm_roberta.py) and ERNIE (modeling_ernie.py) name every tensor the same way; ERNIE
// with use_task_id adds one table (ErnieEmbeddings.task_type_embeddings), and each family's task models put the
// encoder under their own prefix (base_model_prefix: `bert.`, `roberta.`, `ernie.`).
//
//   H = hidden_size, I = intermediate_size, V = vocab_size, P = max_position_embeddings, T = type_vocab_size
//   embeddings.word_embeddings.weight        [V, H]
//   embeddings.position_embeddings.weight    [P, H]
//   embeddings.token_type_embeddings.weight  [T, H]
//   embeddings.task_type_embeddings.weight   [K, H]  (ERNIE use_task_id only; K = task_type_vocab_size)
//   embeddings.LayerNorm.{weight,bias}       [H]
//   encoder.layer.N.attention.self.{query,key,value}.weight [H, H], .bias [H]
//   encoder.layer.N.attention.output.dense.weight [H, H], .bias [H]
//   encoder.layer.N.attention.output.LayerNorm.{weight,bias} [H]
//   encoder.layer.N.intermediate.dense.weight [I, H], .bias [I]
//   encoder.layer.N.output.dense.weight      [H, I], .bias [H]
//   encoder.layer.N.output.LayerNorm.{weight,bias} [H]
import { ModelLoadError } from '../errors.js';
import type { BertEncoderConfig, TensorView, WeightMap } from './types.js';
import { checkWeightsAgainstLayout, type TensorSpec } from './layout_check.js';

export type { TensorSpec } from './layout_check.js';

/** Every tensor a BertModel (RobertaModel, ErnieModel) forward pass reads, in checkpoint order of appearance. */
export function bertTensorSpecs(config: BertEncoderConfig): TensorSpec[] {
  const { hiddenSize: H, intermediateSize: I, vocabSize: V, maxPositionEmbeddings: P, typeVocabSize: T } = config;
  const specs: TensorSpec[] = [
    { name: 'embeddings.word_embeddings.weight', shape: [V, H] },
    { name: 'embeddings.position_embeddings.weight', shape: [P, H] },
    { name: 'embeddings.token_type_embeddings.weight', shape: [T, H] },
    { name: 'embeddings.LayerNorm.weight', shape: [H] },
    { name: 'embeddings.LayerNorm.bias', shape: [H] },
  ];
  // ErnieEmbeddings.__init__ registers it after LayerNorm, so safetensors (sorted by name) and state_dict order agree
  // on nothing; canonical order puts it with the other embeddings.
  if (config.taskTypeVocabSize > 0) specs.push({ name: 'embeddings.task_type_embeddings.weight', shape: [config.taskTypeVocabSize, H] });
  const linear = (prefix: string, outFeatures: number, inFeatures: number): TensorSpec[] => [
    { name: `${prefix}.weight`, shape: [outFeatures, inFeatures] },
    { name: `${prefix}.bias`, shape: [outFeatures] },
  ];
  const layerNorm = (prefix: string): TensorSpec[] => [
    { name: `${prefix}.weight`, shape: [H] },
    { name: `${prefix}.bias`, shape: [H] },
  ];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const prefix = `encoder.layer.${layer}`;
    specs.push(
      ...linear(`${prefix}.attention.self.query`, H, H),
      ...linear(`${prefix}.attention.self.key`, H, H),
      ...linear(`${prefix}.attention.self.value`, H, H),
      ...linear(`${prefix}.attention.output.dense`, H, H),
      ...layerNorm(`${prefix}.attention.output.LayerNorm`),
      ...linear(`${prefix}.intermediate.dense`, I, H),
      ...linear(`${prefix}.output.dense`, H, I),
      ...layerNorm(`${prefix}.output.LayerNorm`),
    );
  }
  return specs;
}

/** How one BERT-shaped family stores its encoder. */
export interface BertEncoderLayout {
  /** For messages: 'BERT', 'RoBERTa', 'ERNIE'. */
  readonly displayName: string;
  /**
   * Prefix that task models (BertForMaskedLM, XLMRobertaForSequenceClassification, ...) put before the encoder's
   * names: their encoder attribute, base_model_prefix (modeling_bert.py `bert`, modeling_roberta.py and
   * modeling_xlm_roberta.py `roberta`, modeling_ernie.py `ernie`).
   */
  readonly taskModelPrefix: string;
}

export const BERT_ENCODER_LAYOUT: BertEncoderLayout = { displayName: 'BERT', taskModelPrefix: 'bert.' };

/**
 * Tensors that are not part of the encoder computation: the `position_ids` buffer (persisted by older
 * transformers; positions come from the batch), the pooler (BertPooler: sentence-transformers and vLLM
 * embeddings never use it) and task heads (BERT/ERNIE `cls.*`, RoBERTa `lm_head.*`, every family's `classifier.*`
 * and `qa_outputs.*`).
 */
function isIgnoredTensor(canonicalName: string): boolean {
  return (
    canonicalName === 'embeddings.position_ids' ||
    canonicalName.startsWith('pooler.') ||
    canonicalName.startsWith('cls.') ||
    canonicalName.startsWith('lm_head.') ||
    canonicalName.startsWith('classifier.') ||
    canonicalName.startsWith('qa_outputs.')
  );
}

/**
 * Maps checkpoint names to canonical names (the family's task-model prefix stripped) and checks the result against
 * the config: every required tensor present, with the exact shape and a float dtype. Unknown `embeddings.*`/`encoder.*`
 * tensors are an error too (the checkpoint is something other than the config says). The views are the checkpoint's
 * own (no copies).
 */
export function canonicalizeBertEncoderWeights(
  layout: BertEncoderLayout,
  tensors: ReadonlyMap<string, TensorView>,
  config: BertEncoderConfig,
  file: string,
): WeightMap {
  const prefix = layout.taskModelPrefix;
  const canonicalToView = new Map<string, TensorView>();
  for (const [storedName, view] of tensors) {
    // Heads of task models sit outside the prefix (cls.*, lm_head.*, classifier.*), so strip it only where present.
    const canonicalName = storedName.startsWith(prefix) ? storedName.slice(prefix.length) : storedName;
    if (isIgnoredTensor(canonicalName)) continue;
    if (canonicalToView.has(canonicalName)) {
      throw new ModelLoadError(`${file}: tensor ${canonicalName} is stored twice (with and without the "${prefix}" prefix)`);
    }
    canonicalToView.set(canonicalName, view);
  }

  return checkWeightsAgainstLayout(
    canonicalToView,
    bertTensorSpecs(config),
    {
      architecture: layout.displayName,
      numLayers: config.numLayers,
      isOwnNamespace: (name) => name.startsWith('embeddings.') || name.startsWith('encoder.'),
    },
    file,
  );
}

/** BERT's checkpoints (`bert.` prefix in task models). */
export function canonicalizeBertWeights(tensors: ReadonlyMap<string, TensorView>, config: BertEncoderConfig, file: string): WeightMap {
  return canonicalizeBertEncoderWeights(BERT_ENCODER_LAYOUT, tensors, config, file);
}

/** The float dtype(s) of a weight map, e.g. 'F32' or 'F16+F32' (for logs and describeModel). */
export function weightDTypeSummary(weights: WeightMap): string {
  return [...new Set([...weights.values()].map((view) => view.dtype))].sort().join('+');
}
