// The ModernBERT encoder in float64 (the reference forward ModernBERT's spec carries), one function per sub-layer,
// over a ragged batch (no padding: each sequence attends to its own tokens, all of them in global layers, those within
// the sliding window in local ones). Mirrors transformers models/modernbert/modeling_modernbert.py (v5.25) eager path
// (attn_implementation="eager", `eager_attention_forward` l.154-173 with the masks of ModernBertModel.forward
// l.440-449); each function names the class whose forward() it mirrors. Dropout is the identity at inference.
//
// The unpadded flash-attention path computes the same thing: it calls flash attention with window_size
// (sliding_window - 1, sliding_window - 1) = (local_attention // 2, local_attention // 2) (ModernBertAttention l.238-241
// sets self.sliding_window = config.sliding_window + 1 because flash attention's bounds are inclusive), i.e. the same
// |i - j| <= local_attention // 2 as the eager mask (masking_utils.py sliding_window_bidirectional_overlay l.144-147).
//
// Shapes (T = tokens in the batch, H = hidden_size, I = intermediate_size, nH = heads, d = H / nH):
//   embeddings  [T] ids -> tok_embeddings [T, H] -> norm
//   layer       x = attn_norm(h) (identity in layer 0); Wqkv [T, 3H] -> q, k, v [T, H]; RoPE on q, k (global or
//               local theta); attention (global, or sliding window) [T, H]; h += Wo(context)
//               m = mlp_norm(h); Wi [T, 2I] -> input, gate [T, I]; h += Wo(act(input) * gate)
//   final_norm  [T, H]
import type { RaggedBatch } from '../../../backends/batch_types.js';
import { ModelLoadError } from '../../../errors.js';
import { applyRotaryEmbedding } from '../../reference/decoder_ops.js';
import { attention, gatedActivation, layerNorm, linear, pooledRows } from '../../reference/ops.js';
import { tensorToFloat64 } from '../../tensor_data.js';
import type { ModernBertConfig, WeightMap } from '../../types.js';
import type { ReferenceSpec } from '../spec.js';
import { modernBertTensorSpecs } from './layout.js';

/** Every tensor, widened to float64 once, keyed by canonical name (./layout.ts). */
type ModernBertWeights64 = ReadonlyMap<string, Float64Array>;

function loadWeights64(config: ModernBertConfig, weights: WeightMap): ModernBertWeights64 {
  const out = new Map<string, Float64Array>();
  for (const spec of modernBertTensorSpecs(config)) {
    const view = weights.get(spec.name);
    // The spec's canonicalizeWeights checked presence and shape; a hand-built map may still miss one.
    if (view === undefined) throw new ModelLoadError(`ModernBERT reference: missing tensor ${spec.name}`);
    out.set(spec.name, tensorToFloat64(view));
  }
  return out;
}

function weight(weights: ModernBertWeights64, name: string): Float64Array {
  const w = weights.get(name);
  if (w === undefined) throw new RangeError(`ModernBERT reference: missing tensor ${name}`);
  return w;
}

/** nn.LayerNorm(H, eps=norm_eps, bias=norm_bias=False): weight only, so beta is 0. */
function layerNormNoBias(config: ModernBertConfig, x: Float64Array, gamma: Float64Array): Float64Array {
  const H = config.hiddenSize;
  return layerNorm(x, x.length / H, H, gamma, new Float64Array(H), config.normEps);
}

/** ModernBertEmbeddings.forward: norm(tok_embeddings(input_ids)); no position embeddings (positions are rotary). */
export function modernBertEmbeddings(config: ModernBertConfig, weights: ModernBertWeights64, tokenIds: Int32Array): Float64Array {
  const H = config.hiddenSize;
  const table = weight(weights, 'embeddings.tok_embeddings.weight');
  const rows = new Float64Array(tokenIds.length * H);
  tokenIds.forEach((id, t) => {
    if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize)
      throw new RangeError(`token id ${id} at ${t} is outside the vocabulary (${config.vocabSize})`);
    rows.set(table.subarray(id * H, (id + 1) * H), t * H);
  });
  return layerNormNoBias(config, rows, weight(weights, 'embeddings.norm.weight'));
}

/**
 * ModernBertAttention.forward: Wqkv, split into q | k | v (`view(..., 3, -1, head_dim)`), rotate-half RoPE on q and k at
 * the tokens' positions (ModernBertModel.forward: position_ids = arange(seq_len), so 0.. per sequence) with the layer
 * type's theta (ModernBertRotaryEmbedding: global_rope_theta for full_attention, local_rope_theta for
 * sliding_attention), softmax(q kᵀ / sqrt(d)) v over the whole sequence or its window, then Wo.
 */
export function modernBertAttention(config: ModernBertConfig, weights: ModernBertWeights64, layer: number, x: Float64Array, batch: RaggedBatch): Float64Array {
  const H = config.hiddenSize;
  const numTokens = x.length / H;
  const headDim = H / config.numHeads;
  const qkv = linear(x, numTokens, H, weight(weights, `layers.${layer}.attn.Wqkv.weight`), null, 3 * H);
  const q = new Float64Array(numTokens * H);
  const k = new Float64Array(numTokens * H);
  const v = new Float64Array(numTokens * H);
  for (let t = 0; t < numTokens; t++) {
    q.set(qkv.subarray(t * 3 * H, t * 3 * H + H), t * H);
    k.set(qkv.subarray(t * 3 * H + H, t * 3 * H + 2 * H), t * H);
    v.set(qkv.subarray(t * 3 * H + 2 * H, (t + 1) * 3 * H), t * H);
  }
  const sliding = config.layerTypes[layer] === 'sliding_attention';
  const theta = sliding ? config.localRopeTheta : config.globalRopeTheta;
  const context = attention(
    applyRotaryEmbedding(q, batch.positions, config.numHeads, headDim, theta),
    applyRotaryEmbedding(k, batch.positions, config.numHeads, headDim, theta),
    v,
    batch.cuSeqLens,
    config.numHeads,
    headDim,
    sliding ? config.slidingWindow : 0,
  );
  return linear(context, numTokens, H, weight(weights, `layers.${layer}.attn.Wo.weight`), null, H);
}

/** ModernBertMLP.forward: `input, gate = Wi(x).chunk(2, dim=-1)`; Wo(act(input) * gate), act = ACT2FN[hidden_activation]. */
export function modernBertMlp(config: ModernBertConfig, weights: ModernBertWeights64, layer: number, x: Float64Array): Float64Array {
  const H = config.hiddenSize;
  const I = config.intermediateSize;
  const numTokens = x.length / H;
  const wi = linear(x, numTokens, H, weight(weights, `layers.${layer}.mlp.Wi.weight`), null, 2 * I);
  const input = new Float64Array(numTokens * I);
  const gate = new Float64Array(numTokens * I);
  for (let t = 0; t < numTokens; t++) {
    input.set(wi.subarray(t * 2 * I, t * 2 * I + I), t * I);
    gate.set(wi.subarray(t * 2 * I + I, (t + 1) * 2 * I), t * I);
  }
  return linear(gatedActivation(input, gate, config.hiddenAct), numTokens, I, weight(weights, `layers.${layer}.mlp.Wo.weight`), null, H);
}

function addInPlace(target: Float64Array, addend: Float64Array): Float64Array {
  for (let i = 0; i < target.length; i++) target[i] += addend[i];
  return target;
}

/** ModernBertEncoderLayer.forward (pre-norm): h += attn(attn_norm(h)); h += mlp(mlp_norm(h)). attn_norm is nn.Identity in layer 0. */
export function modernBertLayer(config: ModernBertConfig, weights: ModernBertWeights64, layer: number, hidden: Float64Array, batch: RaggedBatch): Float64Array {
  const attentionInput = layer === 0 ? hidden : layerNormNoBias(config, hidden, weight(weights, `layers.${layer}.attn_norm.weight`));
  const afterAttention = addInPlace(modernBertAttention(config, weights, layer, attentionInput, batch), hidden);
  const mlpInput = layerNormNoBias(config, afterAttention, weight(weights, `layers.${layer}.mlp_norm.weight`));
  return addInPlace(modernBertMlp(config, weights, layer, mlpInput), afterAttention);
}

/** ModernBertModel.forward up to last_hidden_state [T, H]: embeddings, the layers in order, final_norm. */
export function modernBertForward(config: ModernBertConfig, weights: ModernBertWeights64, batch: RaggedBatch): Float64Array {
  let hidden = modernBertEmbeddings(config, weights, batch.tokenIds);
  for (let layer = 0; layer < config.numLayers; layer++) hidden = modernBertLayer(config, weights, layer, hidden, batch);
  return layerNormNoBias(config, hidden, weight(weights, 'final_norm.weight'));
}

/** ModernBERT's reference forward for the spec: whole sequences only (bidirectional attention: no KV cache). */
export const MODERNBERT_REFERENCE: ReferenceSpec<ModernBertConfig> = {
  create(config, weightMap) {
    const weights = loadWeights64(config, weightMap);
    return {
      pagedKv: null,
      forward: (batch) => pooledRows(modernBertForward(config, weights, batch), config.hiddenSize, batch),
    };
  },
};
