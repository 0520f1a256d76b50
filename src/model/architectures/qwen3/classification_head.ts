// Qwen3 rerankers, served as vLLM serves them: a one-label head on the last token's final hidden state.
// - Qwen/Qwen3-Reranker-* are Qwen3ForCausalLM checkpoints; vLLM runs them with
//   `--hf-overrides '{"architectures": ["Qwen3ForSequenceClassification"], "classifier_from_token": ["no", "yes"],
//   "is_original_qwen3_reranker": true}'` and turns the language-model head's two rows into one
//   (vllm/model_executor/models/adapters.py, load_weights_using_from_2_way_softmax: score = lm_head[yes] - lm_head[no]),
//   because the model card scores P(yes) = softmax([logit(no), logit(yes)])[1] = sigmoid(logit(yes) - logit(no)).
//   The model card formats each pair with the reranker's prompt (QWEN3_RERANKER_PROMPT below); we apply it when the
//   config says is_original_qwen3_reranker, as the model card's own code does.
// - A converted Qwen3ForSequenceClassification checkpoint stores that head as `score.weight` [num_labels, hidden]
//   (no bias; modeling_qwen3.py Qwen3ForSequenceClassification via GenericForSequenceClassification).
// lm_head is tied to embed_tokens in the 0.6B model (tie_word_embeddings); an untied checkpoint's lm_head.weight is used.
import { ModelLoadError } from '../../../errors.js';
import { describeValue } from '../../config_fields.js';
import { readHeadLayer } from '../../heads/classification.js';
import { tensorToFloat64 } from '../../tensor_data.js';
import type { ClassificationHead, ClassificationLabels, HeadContext, PairTemplate, Qwen3Config, TensorView } from '../../types.js';

/**
 * The prompt of Qwen3-Reranker's model card (Qwen/Qwen3-Reranker-0.6B README, "Transformers Usage"): prefix and suffix
 * tokenized on their own, the instruction/query/document text in between (cut from its end when too long).
 */
export const QWEN3_RERANKER_PROMPT: PairTemplate = {
  prefix:
    '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n',
  body: ['<Instruct>: ', '\n<Query>: ', '\n<Document>: '],
  suffix: '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
  defaultInstruction: 'Given a web search query, retrieve relevant passages that answer the query',
};

function stored(tensors: ReadonlyMap<string, TensorView>, name: string): TensorView | undefined {
  return tensors.get(name) ?? tensors.get(`model.${name}`);
}

export function readQwen3ClassificationHead(
  tensors: ReadonlyMap<string, TensorView>,
  config: Qwen3Config,
  labels: ClassificationLabels,
  file: string,
  context: HeadContext,
): ClassificationHead {
  const H = config.hiddenSize;
  const fromTokens = context.configJson.classifier_from_token;
  if (fromTokens === undefined) {
    if (!tensors.has('score.weight')) {
      throw new ModelLoadError(
        `${file}: a Qwen3ForSequenceClassification checkpoint needs score.weight, or classifier_from_token in the config (--hf-overrides)`,
      );
    }
    return { ...labels, pooling: 'last', layers: [readHeadLayer(tensors, 'score.weight', null, [labels.numLabels, H], 'identity', file)] };
  }
  if (!Array.isArray(fromTokens) || fromTokens.length !== 2 || !fromTokens.every((token) => typeof token === 'string')) {
    throw new ModelLoadError(
      `${file}: classifier_from_token must name two tokens, [false, true] (found ${describeValue(fromTokens)}); vLLM's from_2_way_softmax`,
    );
  }
  const [noId, yesId] = fromTokens.map((token: string) => {
    const id = context.tokenId(token);
    if (id === undefined) throw new ModelLoadError(`${file}: classifier_from_token "${token}" is not a token of tokenizer.json`);
    if (id >= config.vocabSize) throw new ModelLoadError(`${file}: classifier_from_token "${token}" has id ${id}, beyond vocab_size ${config.vocabSize}`);
    return id;
  });
  const table =
    (config.tieWordEmbeddings ? undefined : stored(tensors, 'lm_head.weight')) ?? tensors.get('lm_head.weight') ?? stored(tensors, 'embed_tokens.weight');
  if (table === undefined) throw new ModelLoadError(`${file}: no lm_head.weight or embed_tokens.weight to take the reranker's token rows from`);
  if (table.shape.length !== 2 || table.shape[0] !== config.vocabSize || table.shape[1] !== H) {
    throw new ModelLoadError(`${file}: ${table.name} has shape [${table.shape.join(', ')}], expected [${config.vocabSize}, ${H}]`);
  }
  // Two rows only: widen just those (a full float64 copy of a 151k x 1024 table would cost 1.2 GB).
  const rowBytes = (table.bytes.length / config.vocabSize) | 0;
  const row = (id: number) => tensorToFloat64({ ...table, shape: [H], bytes: table.bytes.subarray(id * rowBytes, (id + 1) * rowBytes) });
  const yes = row(yesId);
  const no = row(noId);
  const weight = yes.map((value, i) => value - no[i]);
  const isOriginal = context.configJson.is_original_qwen3_reranker === true;
  return {
    numLabels: 1,
    labels: [fromTokens[1]],
    // One logit, logit(yes) - logit(no): sigmoid gives the model card's P(yes) (vLLM: from_2_way_softmax, num_labels 1).
    classifyActivation: 'sigmoid',
    scoreActivation: 'sigmoid',
    pooling: 'last',
    layers: [{ weight, bias: null, inFeatures: H, outFeatures: 1, activation: 'identity' }],
    ...(isOriginal ? { pairTemplate: QWEN3_RERANKER_PROMPT } : {}),
  };
}
