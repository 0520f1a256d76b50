// Sequence classification heads (cross-encoder rerankers and classifiers): a few dense layers on one pooled row of
// the encoder's last hidden states, then the labels' logits. Every family's head is this shape:
//   BERT     BertForSequenceClassification: pooler (dense + tanh on the first token), then classifier
//            (transformers models/bert/modeling_bert.py BertPooler.forward, BertForSequenceClassification.forward)
//   RoBERTa  RobertaClassificationHead: dense + tanh on <s>, then out_proj (modeling_roberta.py)
// so a family only says which tensors hold the layers (its spec's `classificationHead`), and the arithmetic lives here.
//
// Why the head runs on the host in float64 for every backend: it is a few matrix-vector products per sequence (for a
// 768-wide BERT, 0.6 MFLOP against the encoder's ~1 GFLOP per 128 tokens), so a device round trip would cost more than
// it computes, and float64 makes the head exact against the reference whatever backend computed the encoder.
import { ModelLoadError } from '../../errors.js';
import { describeValue, type Json } from '../config_fields.js';
import { tensorToFloat64 } from '../tensor_data.js';
import type { ClassificationHead, ClassificationLabels, HeadActivation, HeadLayer, TensorView } from '../types.js';

export type { ClassificationHead, ClassificationLabels, HeadActivation, HeadLayer } from '../types.js';

/** config.json `architectures` entries that carry a sequence classification head. */
export function hasSequenceClassificationHead(configJson: Json): boolean {
  const architectures = configJson.architectures;
  return Array.isArray(architectures) && architectures.some((name) => typeof name === 'string' && name.endsWith('ForSequenceClassification'));
}

// sentence-transformers saves CrossEncoder activations by class path (CrossEncoder.save -> config.json
// "sentence_transformers": {"activation_fn": "torch.nn.modules.activation.Sigmoid"}).
const ACTIVATION_CLASSES: Readonly<Record<string, HeadActivation>> = {
  'torch.nn.modules.activation.Sigmoid': 'sigmoid',
  'torch.nn.modules.linear.Identity': 'identity',
  'torch.nn.modules.activation.Tanh': 'tanh',
  'torch.nn.modules.activation.Softmax': 'softmax',
};

/**
 * Labels and activations from config.json, as transformers' PretrainedConfig reads them (num_labels = len(id2label),
 * 2 when absent; problem_type), and as vLLM and sentence-transformers pick activations.
 */
export function parseClassificationLabels(configJson: Json, file: string): ClassificationLabels {
  const id2label = configJson.id2label;
  let labels: string[];
  if (id2label === undefined || id2label === null) {
    const numLabels = configJson.num_labels ?? 2;
    if (typeof numLabels !== 'number' || !Number.isSafeInteger(numLabels) || numLabels < 1) {
      throw new ModelLoadError(`${file}: "num_labels" must be a positive integer (found ${describeValue(numLabels)})`);
    }
    labels = Array.from({ length: numLabels }, (_, i) => `LABEL_${i}`);
  } else {
    if (typeof id2label !== 'object' || Array.isArray(id2label)) throw new ModelLoadError(`${file}: "id2label" must be an object of id -> label`);
    const entries = Object.entries(id2label as Record<string, unknown>);
    if (entries.length === 0) throw new ModelLoadError(`${file}: "id2label" is empty`);
    labels = new Array<string>(entries.length);
    for (const [key, label] of entries) {
      const id = Number(key);
      if (!Number.isInteger(id) || id < 0 || id >= entries.length || typeof label !== 'string' || labels[id] !== undefined) {
        throw new ModelLoadError(
          `${file}: "id2label" must map the ids 0..${entries.length - 1} to label strings (found ${describeValue(key)}: ${describeValue(label)})`,
        );
      }
      labels[id] = label;
    }
  }
  const numLabels = labels.length;
  // vLLM get_classification_activation_function: regression -> identity, multi-label -> sigmoid per label, otherwise
  // softmax (sigmoid when there is a single label).
  const problemType = configJson.problem_type ?? null;
  if (problemType !== null && problemType !== 'regression' && problemType !== 'single_label_classification' && problemType !== 'multi_label_classification') {
    throw new ModelLoadError(`${file}: unknown problem_type ${describeValue(problemType)}`);
  }
  const classifyActivation: HeadActivation =
    problemType === 'regression' ? 'identity' : problemType === 'multi_label_classification' || numLabels === 1 ? 'sigmoid' : 'softmax';
  // sentence-transformers cross_encoder/model.py get_default_activation_fn (vLLM's cross-encoder scoring reads the same
  // keys): config.json's "sentence_transformers": {"activation_fn": <class path>}, else the pre-v4 key
  // "sbert_ce_default_activation_function" (cross-encoder/ms-marco-* carry torch.nn.modules.linear.Identity there), else
  // Sigmoid for one label and Identity otherwise.
  const stBlock = configJson.sentence_transformers;
  const activationClass =
    (stBlock !== null && typeof stBlock === 'object' ? (stBlock as Json).activation_fn : undefined) ??
    configJson.sbert_ce_default_activation_function ??
    undefined;
  let scoreActivation: HeadActivation = numLabels === 1 ? 'sigmoid' : 'identity';
  if (activationClass !== undefined && activationClass !== null) {
    const known = typeof activationClass === 'string' ? ACTIVATION_CLASSES[activationClass] : undefined;
    if (known === undefined) {
      throw new ModelLoadError(
        `${file}: cross-encoder activation ${describeValue(activationClass)} is not supported; supported: ${Object.keys(ACTIVATION_CLASSES).join(', ')}`,
      );
    }
    scoreActivation = known;
  }
  return { numLabels, labels, classifyActivation, scoreActivation };
}

/** One dense layer read from the checkpoint, shapes checked. */
export function readHeadLayer(
  tensors: ReadonlyMap<string, TensorView>,
  weightName: string,
  biasName: string | null,
  shape: readonly [number, number],
  activation: HeadLayer['activation'],
  file: string,
): HeadLayer {
  const weight = tensors.get(weightName);
  if (weight === undefined) throw new ModelLoadError(`${file}: the classification head's tensor ${weightName} is missing`);
  const [outFeatures, inFeatures] = shape;
  if (weight.shape.length !== 2 || weight.shape[0] !== outFeatures || weight.shape[1] !== inFeatures) {
    throw new ModelLoadError(`${file}: ${weightName} has shape [${weight.shape.join(', ')}], expected [${outFeatures}, ${inFeatures}]`);
  }
  let bias: Float64Array | null = null;
  if (biasName !== null) {
    const view = tensors.get(biasName);
    if (view === undefined) throw new ModelLoadError(`${file}: the classification head's tensor ${biasName} is missing`);
    if (view.shape.length !== 1 || view.shape[0] !== outFeatures) {
      throw new ModelLoadError(`${file}: ${biasName} has shape [${view.shape.join(', ')}], expected [${outFeatures}]`);
    }
    bias = checkedFloat64(view, file);
  }
  return { weight: checkedFloat64(weight, file), bias, inFeatures, outFeatures, activation };
}

function checkedFloat64(view: TensorView, file: string): Float64Array {
  if (view.dtype === 'I64') throw new ModelLoadError(`${file}: ${view.name} is ${view.dtype}; a head's weights must be floats`);
  return tensorToFloat64(view);
}

/** The head's logits for one pooled hidden row, in float64. */
export function headLogits(head: ClassificationHead, pooled: ArrayLike<number>): Float64Array {
  let x: ArrayLike<number> = pooled;
  for (const layer of head.layers) {
    if (x.length !== layer.inFeatures) throw new RangeError(`head layer reads ${layer.inFeatures} values, got ${x.length}`);
    const y = new Float64Array(layer.outFeatures);
    for (let o = 0; o < layer.outFeatures; o++) {
      let sum = layer.bias === null ? 0 : layer.bias[o];
      const row = o * layer.inFeatures;
      for (let i = 0; i < layer.inFeatures; i++) sum += layer.weight[row + i] * x[i];
      y[o] = layer.activation === 'tanh' ? Math.tanh(sum) : sum;
    }
    x = y;
  }
  return x as Float64Array;
}

/** `activation` applied to logits (softmax over all labels; the others per label). */
export function activate(logits: Float64Array, activation: HeadActivation): Float64Array {
  switch (activation) {
    case 'identity':
      return logits.slice();
    case 'sigmoid':
      return logits.map((z) => 1 / (1 + Math.exp(-z)));
    case 'tanh':
      return logits.map((z) => Math.tanh(z));
    case 'softmax': {
      let max = -Infinity;
      for (const z of logits) max = Math.max(max, z);
      const exps = logits.map((z) => Math.exp(z - max));
      let sum = 0;
      for (const e of exps) sum += e;
      return exps.map((e) => e / sum);
    }
  }
}
