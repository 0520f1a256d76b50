// The BERT encoder in float64 (the reference forward BERT's spec carries), one function per sub-layer, over a ragged batch (no padding, no attention mask:
// each sequence attends to exactly its own tokens). Post-LayerNorm BERT as transformers implements it in
// src/transformers/models/bert/modeling_bert.py; each function names the class whose forward() it mirrors.
// Dropout is the identity at inference and is left out.
//
// Shapes (T = tokens in the batch, H = hidden_size, I = intermediate_size, nH = heads, d = H / nH):
//   embeddings      [T] ids -> [T, H]
//   self-attention  [T, H] -> q, k, v [T, H] (head h in columns h*d..) -> context [T, H]
//   attention out   dense [T, H] + residual, LayerNorm -> [T, H]
//   intermediate    dense [T, I], activation
//   output          dense [T, H] + residual, LayerNorm -> [T, H]
import type { RaggedBatch } from '../../../backends/batch_types.js';
import { activation, addResidual, attention, embeddings, layerNorm, linear, pooledRows } from '../../reference/ops.js';
import type { BertConfig, BertEncoderConfig, BertEncoderFamilyConfig } from '../../types.js';
import type { ReferenceSpec } from '../spec.js';
import { type BertLayerWeights64, type BertWeights64, loadBertWeights64 } from './reference_weights.js';

/**
 * BertEmbeddings.forward: word + absolute position + token type embeddings, then LayerNorm. Positions come from
 * the batch (BERT counts from 0 within each sequence, RoBERTa from pad_token_id + 1: the scheduler asks the spec);
 * token types default to 0 as BertModel.forward does when token_type_ids is None (it uses the registered all-zeros
 * buffer). ERNIE with use_task_id adds task_type_embeddings(task_type_ids) after the position embeddings, and
 * task_type_ids default to zeros (transformers models/ernie/modeling_ernie.py ErnieEmbeddings.forward, v5.25 l.119-124:
 * `if task_type_ids is None: task_type_ids = torch.zeros(...)`, `embeddings += task_type_embeddings`): row 0 for every
 * token, added here literally (the native and WebGPU backends fold it into the token-type table instead).
 */
export function bertEmbeddings(config: BertEncoderConfig, weights: BertWeights64, batch: RaggedBatch): Float64Array {
  const w = weights.embeddings;
  const tokenTypeIds = batch.tokenTypeIds ?? new Int32Array(batch.tokenIds.length);
  return embeddings(
    batch.tokenIds,
    batch.positions,
    tokenTypeIds,
    w['embeddings.word_embeddings.weight'],
    w['embeddings.position_embeddings.weight'],
    w['embeddings.token_type_embeddings.weight'],
    config.hiddenSize,
    w['embeddings.LayerNorm.weight'],
    w['embeddings.LayerNorm.bias'],
    config.layerNormEps,
    weights.taskTypeEmbeddings?.subarray(0, config.hiddenSize) ?? null,
  );
}

/**
 * BertSelfAttention.forward (eager path; BertSdpaSelfAttention computes the same): q, k, v projections, softmax(q kᵀ
 * / sqrt(d)) v per head, heads concatenated back in column order. Returns the context layer [T, H].
 */
export function bertSelfAttention(config: BertEncoderConfig, layer: BertLayerWeights64, hidden: Float64Array, cuSeqLens: Int32Array): Float64Array {
  const H = config.hiddenSize;
  const numTokens = hidden.length / H;
  const q = linear(hidden, numTokens, H, layer['attention.self.query.weight'], layer['attention.self.query.bias'], H);
  const k = linear(hidden, numTokens, H, layer['attention.self.key.weight'], layer['attention.self.key.bias'], H);
  const v = linear(hidden, numTokens, H, layer['attention.self.value.weight'], layer['attention.self.value.bias'], H);
  return attention(q, k, v, cuSeqLens, config.numHeads, H / config.numHeads);
}

/** BertSelfOutput.forward: LayerNorm(dense(context) + input). */
export function bertSelfOutput(config: BertEncoderConfig, layer: BertLayerWeights64, context: Float64Array, input: Float64Array): Float64Array {
  const H = config.hiddenSize;
  const numTokens = context.length / H;
  const projected = linear(context, numTokens, H, layer['attention.output.dense.weight'], layer['attention.output.dense.bias'], H);
  return layerNorm(
    addResidual(projected, input),
    numTokens,
    H,
    layer['attention.output.LayerNorm.weight'],
    layer['attention.output.LayerNorm.bias'],
    config.layerNormEps,
  );
}

/** BertIntermediate.forward: act(dense(x)), act = ACT2FN[config.hidden_act]. */
export function bertIntermediate(config: BertEncoderConfig, layer: BertLayerWeights64, attentionOutput: Float64Array): Float64Array {
  const H = config.hiddenSize;
  const numTokens = attentionOutput.length / H;
  const projected = linear(attentionOutput, numTokens, H, layer['intermediate.dense.weight'], layer['intermediate.dense.bias'], config.intermediateSize);
  return activation(projected, config.hiddenAct);
}

/** BertOutput.forward: LayerNorm(dense(intermediate) + attentionOutput). */
export function bertOutput(config: BertEncoderConfig, layer: BertLayerWeights64, intermediate: Float64Array, attentionOutput: Float64Array): Float64Array {
  const H = config.hiddenSize;
  const numTokens = attentionOutput.length / H;
  const projected = linear(intermediate, numTokens, config.intermediateSize, layer['output.dense.weight'], layer['output.dense.bias'], H);
  return layerNorm(
    addResidual(projected, attentionOutput),
    numTokens,
    H,
    layer['output.LayerNorm.weight'],
    layer['output.LayerNorm.bias'],
    config.layerNormEps,
  );
}

/** BertLayer.forward (BertAttention = self-attention + self-output, then the feed-forward chunk). */
export function bertLayer(config: BertEncoderConfig, layer: BertLayerWeights64, hidden: Float64Array, cuSeqLens: Int32Array): Float64Array {
  const context = bertSelfAttention(config, layer, hidden, cuSeqLens);
  const attentionOutput = bertSelfOutput(config, layer, context, hidden);
  const intermediate = bertIntermediate(config, layer, attentionOutput);
  return bertOutput(config, layer, intermediate, attentionOutput);
}

/**
 * BertModel.forward up to last_hidden_state [T, H] (BertEncoder runs the layers in order). The pooler
 * (pooler.dense + tanh) is not used: sentence-transformers pools token embeddings itself.
 */
export function bertForward(config: BertEncoderConfig, weights: BertWeights64, batch: RaggedBatch): Float64Array {
  let hidden = bertEmbeddings(config, weights, batch);
  for (const layer of weights.layers) hidden = bertLayer(config, layer, hidden, batch.cuSeqLens);
  return hidden;
}

/**
 * The reference forward of every BERT-shaped family (BERT, RoBERTa / XLM-RoBERTa, ERNIE): whole sequences only
 * (bidirectional attention: no KV cache).
 */
export const BERT_ENCODER_REFERENCE: ReferenceSpec<BertEncoderFamilyConfig> = {
  create(config, weightMap) {
    const weights = loadBertWeights64(config, weightMap);
    return {
      pagedKv: null,
      forward: (batch) => pooledRows(bertForward(config, weights, batch), config.hiddenSize, batch),
    };
  },
};

/** BERT's reference forward for the spec. */
export const BERT_REFERENCE: ReferenceSpec<BertConfig> = BERT_ENCODER_REFERENCE;
