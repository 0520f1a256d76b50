// The sequence-classification heads of the BERT-shaped families, as transformers builds them:
// - BertForSequenceClassification (models/bert/modeling_bert.py) and ErnieForSequenceClassification
//   (models/ernie/modeling_ernie.py): the encoder's pooler takes the first token's hidden state through dense + tanh
//   (BertPooler.forward: `first_token_tensor = hidden_states[:, 0]`, `self.activation = nn.Tanh()`), then `classifier`
//   (nn.Linear(hidden_size, num_labels)) gives the logits. The pooler is stored under the model prefix (`bert.`,
//   `ernie.`), the classifier at the top level.
// - RobertaForSequenceClassification / XLMRobertaForSequenceClassification (models/roberta/modeling_roberta.py
//   RobertaClassificationHead.forward): `x = features[:, 0, :]`, dense, tanh, out_proj; the encoder is built with
//   add_pooling_layer=False, and the head's tensors are classifier.dense.* and classifier.out_proj.* at the top level.
// Dropout is the identity at inference.
import type { ClassificationHead, ClassificationLabels } from '../../heads/classification.js';
import { readHeadLayer } from '../../heads/classification.js';
import type { TensorSpec } from '../../layout_check.js';
import type { BertEncoderConfig, TensorView } from '../../types.js';

type HeadReader = (tensors: ReadonlyMap<string, TensorView>, config: BertEncoderConfig, labels: ClassificationLabels, file: string) => ClassificationHead;

/** BERT's and ERNIE's head: the pooler under `modelPrefix` (or unprefixed), then the top-level classifier. */
export function poolerClassifierHead(modelPrefix: string): { read: HeadReader; tensors: (config: BertEncoderConfig, numLabels: number) => TensorSpec[] } {
  return {
    read(tensors, config, labels, file) {
      const H = config.hiddenSize;
      const prefix = tensors.has(`${modelPrefix}pooler.dense.weight`) ? modelPrefix : '';
      return {
        ...labels,
        pooling: 'cls',
        layers: [
          readHeadLayer(tensors, `${prefix}pooler.dense.weight`, `${prefix}pooler.dense.bias`, [H, H], 'tanh', file),
          readHeadLayer(tensors, 'classifier.weight', 'classifier.bias', [labels.numLabels, H], 'identity', file),
        ],
      };
    },
    tensors: (config, numLabels) => [
      { name: 'classifier.weight', shape: [numLabels, config.hiddenSize] },
      { name: 'classifier.bias', shape: [numLabels] },
    ],
  };
}

/** RoBERTa's and XLM-R's RobertaClassificationHead: classifier.dense + tanh, classifier.out_proj, on <s>. */
export const ROBERTA_CLASSIFICATION_HEAD: { read: HeadReader; tensors: (config: BertEncoderConfig, numLabels: number) => TensorSpec[] } = {
  read(tensors, config, labels, file) {
    const H = config.hiddenSize;
    return {
      ...labels,
      pooling: 'cls',
      layers: [
        readHeadLayer(tensors, 'classifier.dense.weight', 'classifier.dense.bias', [H, H], 'tanh', file),
        readHeadLayer(tensors, 'classifier.out_proj.weight', 'classifier.out_proj.bias', [labels.numLabels, H], 'identity', file),
      ],
    };
  },
  tensors: (config, numLabels) => [
    { name: 'classifier.dense.weight', shape: [config.hiddenSize, config.hiddenSize] },
    { name: 'classifier.dense.bias', shape: [config.hiddenSize] },
    { name: 'classifier.out_proj.weight', shape: [numLabels, config.hiddenSize] },
    { name: 'classifier.out_proj.bias', shape: [numLabels] },
  ],
};
