// BertForSequenceClassification's head (transformers models/bert/modeling_bert.py): BertPooler takes the first token's
// hidden state through dense + tanh (BertPooler.forward: `first_token_tensor = hidden_states[:, 0]`,
// `self.activation = nn.Tanh()`), then `classifier` (nn.Linear(hidden_size, num_labels)) gives the logits; dropout is
// the identity at inference. Checkpoints store the pooler under `bert.` and the classifier at the top level.
import type { ClassificationHead, ClassificationLabels } from '../../heads/classification.js';
import { readHeadLayer } from '../../heads/classification.js';
import type { TensorSpec } from '../../layout_check.js';
import type { BertConfig, TensorView } from '../../types.js';

/** `classifier` = nn.Linear(hidden_size, num_labels), stored at the top level (not under `bert.`). */
export function bertClassificationHeadTensors(config: BertConfig, numLabels: number): TensorSpec[] {
  return [
    { name: 'classifier.weight', shape: [numLabels, config.hiddenSize] },
    { name: 'classifier.bias', shape: [numLabels] },
  ];
}

export function readBertClassificationHead(
  tensors: ReadonlyMap<string, TensorView>,
  config: BertConfig,
  labels: ClassificationLabels,
  file: string,
): ClassificationHead {
  const H = config.hiddenSize;
  const prefix = tensors.has('bert.pooler.dense.weight') ? 'bert.' : '';
  return {
    ...labels,
    pooling: 'cls',
    layers: [
      readHeadLayer(tensors, `${prefix}pooler.dense.weight`, `${prefix}pooler.dense.bias`, [H, H], 'tanh', file),
      readHeadLayer(tensors, 'classifier.weight', 'classifier.bias', [labels.numLabels, H], 'identity', file),
    ],
  };
}
