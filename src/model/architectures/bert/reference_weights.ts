// BERT weights for the float64 reference forward (./reference.ts): every tensor the encoder reads, checked against the config's shapes and
// widened to float64 once, at construction. Keys are the checkpoint's canonical names (no `bert.` prefix), so the
// forward code reads like the checkpoint.
import { ModelLoadError } from '../../../errors.js';
import { bertTensorSpecs } from '../../bert_layout.js';
import { tensorToFloat64 } from '../../tensor_data.js';
import type { BertEncoderConfig, WeightMap } from '../../types.js';

/** Tensors of one encoder layer, named as in the checkpoint after `encoder.layer.<i>.`. */
export const BERT_LAYER_TENSOR_NAMES = [
  'attention.self.query.weight', // [H, H]
  'attention.self.query.bias', // [H]
  'attention.self.key.weight', // [H, H]
  'attention.self.key.bias', // [H]
  'attention.self.value.weight', // [H, H]
  'attention.self.value.bias', // [H]
  'attention.output.dense.weight', // [H, H]
  'attention.output.dense.bias', // [H]
  'attention.output.LayerNorm.weight', // [H]
  'attention.output.LayerNorm.bias', // [H]
  'intermediate.dense.weight', // [I, H]
  'intermediate.dense.bias', // [I]
  'output.dense.weight', // [H, I]
  'output.dense.bias', // [H]
  'output.LayerNorm.weight', // [H]
  'output.LayerNorm.bias', // [H]
] as const;

/** Embedding tensors, named as in the checkpoint. */
export const BERT_EMBEDDING_TENSOR_NAMES = [
  'embeddings.word_embeddings.weight', // [vocab, H]
  'embeddings.position_embeddings.weight', // [maxPositions, H]
  'embeddings.token_type_embeddings.weight', // [typeVocab, H]
  'embeddings.LayerNorm.weight', // [H]
  'embeddings.LayerNorm.bias', // [H]
] as const;

/** ERNIE's extra table (ErnieEmbeddings.task_type_embeddings, present when use_task_id is true). */
export const TASK_TYPE_EMBEDDINGS = 'embeddings.task_type_embeddings.weight';

export type BertLayerTensorName = (typeof BERT_LAYER_TENSOR_NAMES)[number];
export type BertEmbeddingTensorName = (typeof BERT_EMBEDDING_TENSOR_NAMES)[number];

export type BertLayerWeights64 = Readonly<Record<BertLayerTensorName, Float64Array>>;

export interface BertWeights64 {
  readonly embeddings: Readonly<Record<BertEmbeddingTensorName, Float64Array>>;
  /** ERNIE with use_task_id: `embeddings.task_type_embeddings.weight` [taskTypeVocabSize, H]; null otherwise. */
  readonly taskTypeEmbeddings: Float64Array | null;
  /** layers[i] holds `encoder.layer.<i>.*`. */
  readonly layers: readonly BertLayerWeights64[];
}

function loadTensor(weights: WeightMap, name: string, shape: readonly number[]): Float64Array {
  const view = weights.get(name);
  if (view === undefined) throw new ModelLoadError(`checkpoint is missing tensor ${name}`);
  if (view.dtype === 'I64') throw new ModelLoadError(`tensor ${name} is I64; the reference backend needs F32, F16 or BF16`);
  if (view.shape.length !== shape.length || view.shape.some((dim, i) => dim !== shape[i])) {
    throw new ModelLoadError(`tensor ${name} has shape [${view.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
  }
  return tensorToFloat64(view);
}

function checkConfig(config: BertEncoderConfig): void {
  const counts: [string, number][] = [
    ['hidden_size', config.hiddenSize],
    ['num_hidden_layers', config.numLayers],
    ['num_attention_heads', config.numHeads],
    ['intermediate_size', config.intermediateSize],
    ['vocab_size', config.vocabSize],
    ['max_position_embeddings', config.maxPositionEmbeddings],
    ['type_vocab_size', config.typeVocabSize],
  ];
  for (const [field, value] of counts) {
    if (!Number.isInteger(value) || value <= 0) throw new ModelLoadError(`config.json ${field} must be a positive integer, got ${value}`);
  }
  if (config.hiddenSize % config.numHeads !== 0) {
    throw new ModelLoadError(`hidden_size ${config.hiddenSize} is not a multiple of num_attention_heads ${config.numHeads}`);
  }
}

/** Reads and widens every encoder tensor; throws ModelLoadError naming the first missing or misshapen one. */
export function loadBertWeights64(config: BertEncoderConfig, weights: WeightMap): BertWeights64 {
  checkConfig(config);
  // Shapes come from the shared layout description (src/model/bert_layout.ts), the one the loader checks against.
  const nameToShape = new Map(bertTensorSpecs(config).map((spec) => [spec.name, spec.shape]));
  const shapeOf = (name: string): readonly number[] => {
    const shape = nameToShape.get(name);
    if (shape === undefined) throw new Error(`internal: bert_layout.ts has no shape for ${name}`);
    return shape;
  };
  const embeddings = {} as Record<BertEmbeddingTensorName, Float64Array>;
  for (const name of BERT_EMBEDDING_TENSOR_NAMES) embeddings[name] = loadTensor(weights, name, shapeOf(name));
  const taskTypeEmbeddings = config.taskTypeVocabSize > 0 ? loadTensor(weights, TASK_TYPE_EMBEDDINGS, shapeOf(TASK_TYPE_EMBEDDINGS)) : null;
  const layers: BertLayerWeights64[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const layer = {} as Record<BertLayerTensorName, Float64Array>;
    for (const name of BERT_LAYER_TENSOR_NAMES) {
      layer[name] = loadTensor(weights, `encoder.layer.${i}.${name}`, shapeOf(`encoder.layer.${i}.${name}`));
    }
    layers.push(layer);
  }
  return { embeddings, taskTypeEmbeddings, layers };
}
