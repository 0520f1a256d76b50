// The Qwen3 decoder in float64 (the reference forward Qwen3's spec carries), one function per sub-layer, over a ragged batch. Mirrors transformers
// src/transformers/models/qwen3/modeling_qwen3.py (Qwen3Model.forward, Qwen3DecoderLayer, Qwen3Attention, Qwen3MLP,
// Qwen3RMSNorm); each function names the class whose forward() it follows. Dropout is the identity at inference.
//
// Two ways to run the same math:
// - one-shot (no KV store): whole sequences, causal attention within each (causalAttention);
// - paged (a ReferenceKvStore plus the batch's blockTables / numCachedTokens): each sequence's new tokens are a chunk
//   at positions numCachedTokens[i].., their K/V are written into the store through the block table, then attention
//   reads cached + new K/V through it (pagedCausalAttention). Chunked prefill and prefix caching are this path.
//
// Shapes (T = tokens in the batch, H = hidden_size, I = intermediate_size, nH / nKV = query / kv heads, d = head_dim):
//   embed_tokens          [T] ids -> [T, H]
//   input_layernorm       RMSNorm [T, H]
//   q_proj / k_proj / v_proj  [T, H] -> [T, nH*d] / [T, nKV*d] / [T, nKV*d]
//   q_norm / k_norm       RMSNorm over each head's d values, then RoPE (rotate-half) at each token's position
//   attention             causal, GQA (query head h reads kv head h / (nH / nKV)) -> [T, nH*d]
//   o_proj                [T, nH*d] -> [T, H], + residual
//   post_attention_layernorm, mlp: down_proj(silu(gate_proj(x)) * up_proj(x)) [T, I] -> [T, H], + residual
//   norm                  final RMSNorm [T, H] (last_hidden_state; sentence-transformers pools this)
import type { RaggedBatch } from '../../../backends/batch_types.js';
import { applyRotaryEmbedding, causalAttention, pagedCausalAttention, rmsNorm, swiGlu } from '../../reference/decoder_ops.js';
import type { ReferenceKvStore } from '../../reference/kv_store.js';
import { linear, pooledRows, postprocess } from '../../reference/ops.js';
import type { Qwen3Config } from '../../types.js';
import type { ReferenceSpec } from '../spec.js';
import { embeddingRow, loadQwen3Weights, type Qwen3LayerWeights, type Qwen3Weights } from './weights.js';

/** Qwen3Model.embed_tokens (nn.Embedding): one table row per token; no position embeddings (RoPE is in attention). */
export function qwen3Embeddings(config: Qwen3Config, weights: Qwen3Weights, tokenIds: ArrayLike<number>): Float64Array {
  const H = config.hiddenSize;
  const hidden = new Float64Array(tokenIds.length * H);
  for (let t = 0; t < tokenIds.length; t++) hidden.set(embeddingRow(weights.embedTokens, tokenIds[t]), t * H);
  return hidden;
}

/** The paged KV state of one forward: the store, and the batch's decoder fields. */
export interface Qwen3PagedKv {
  readonly store: ReferenceKvStore;
  readonly blockTables: readonly Int32Array[];
  readonly numCachedTokens: Int32Array;
}

/**
 * Writes each new token's K and V (after k_norm and RoPE, as DynamicCache.update receives them in
 * Qwen3Attention.forward) into its slot: position p of sequence i -> block blockTables[i][p / B], slot p % B.
 */
function writeKv(kv: Qwen3PagedKv, layerIndex: number, k: Float64Array, v: Float64Array, batch: RaggedBatch): void {
  const { store } = kv;
  const width = store.rowWidth;
  const numSequences = batch.cuSeqLens.length - 1;
  for (let s = 0; s < numSequences; s++) {
    const table = kv.blockTables[s];
    for (let t = batch.cuSeqLens[s]; t < batch.cuSeqLens[s + 1]; t++) {
      const position = kv.numCachedTokens[s] + (t - batch.cuSeqLens[s]);
      store.write(layerIndex, table[Math.floor(position / store.blockSize)], position % store.blockSize, k, v, t * width);
    }
  }
}

/**
 * Qwen3Attention.forward: q/k/v projections (no bias), q_norm / k_norm per head BEFORE RoPE (upstream:
 * `self.q_norm(self.q_proj(x).view(hidden_shape))`, then apply_rotary_pos_emb), causal GQA attention with scaling
 * head_dim^-0.5, then o_proj. With `kv`, the chunk's K/V go to the store first and attention reads cached + new K/V
 * through the block tables. Returns o_proj's output [T, H] (before the residual).
 */
export function qwen3Attention(
  config: Qwen3Config,
  layer: Qwen3LayerWeights,
  layerIndex: number,
  hidden: Float64Array,
  batch: RaggedBatch,
  kv: Qwen3PagedKv | null,
): Float64Array {
  const { hiddenSize: H, numHeads: nH, numKeyValueHeads: nKV, headDim: d, rmsNormEps: eps, ropeTheta } = config;
  const numTokens = hidden.length / H;
  const qProjected = linear(hidden, numTokens, H, layer['self_attn.q_proj.weight'], null, nH * d);
  const kProjected = linear(hidden, numTokens, H, layer['self_attn.k_proj.weight'], null, nKV * d);
  const v = linear(hidden, numTokens, H, layer['self_attn.v_proj.weight'], null, nKV * d);
  const qNormed = rmsNorm(qProjected, numTokens * nH, d, layer['self_attn.q_norm.weight'], eps);
  const kNormed = rmsNorm(kProjected, numTokens * nKV, d, layer['self_attn.k_norm.weight'], eps);
  const q = applyRotaryEmbedding(qNormed, batch.positions, nH, d, ropeTheta);
  const k = applyRotaryEmbedding(kNormed, batch.positions, nKV, d, ropeTheta);
  let context: Float64Array;
  if (kv === null) {
    context = causalAttention(q, k, v, batch.cuSeqLens, nH, nKV, d);
  } else {
    writeKv(kv, layerIndex, k, v, batch);
    context = pagedCausalAttention(q, batch.cuSeqLens, kv.numCachedTokens, kv.blockTables, kv.store.layer(layerIndex), nH, nKV, d);
  }
  return linear(context, numTokens, nH * d, layer['self_attn.o_proj.weight'], null, H);
}

/** Qwen3MLP.forward: down_proj(act_fn(gate_proj(x)) * up_proj(x)), act_fn = SiLU; no biases. */
export function qwen3Mlp(config: Qwen3Config, layer: Qwen3LayerWeights, x: Float64Array): Float64Array {
  const { hiddenSize: H, intermediateSize: I } = config;
  const numTokens = x.length / H;
  const gate = linear(x, numTokens, H, layer['mlp.gate_proj.weight'], null, I);
  const up = linear(x, numTokens, H, layer['mlp.up_proj.weight'], null, I);
  return linear(swiGlu(gate, up), numTokens, I, layer['mlp.down_proj.weight'], null, H);
}

function addInPlace(target: Float64Array, addend: Float64Array): Float64Array {
  for (let i = 0; i < target.length; i++) target[i] += addend[i];
  return target;
}

/**
 * Qwen3DecoderLayer.forward (pre-norm): h = x + attn(input_layernorm(x)); out = h + mlp(post_attention_layernorm(h)).
 */
export function qwen3DecoderLayer(
  config: Qwen3Config,
  layer: Qwen3LayerWeights,
  layerIndex: number,
  hidden: Float64Array,
  batch: RaggedBatch,
  kv: Qwen3PagedKv | null,
): Float64Array {
  const H = config.hiddenSize;
  const numTokens = hidden.length / H;
  const attentionInput = rmsNorm(hidden, numTokens, H, layer['input_layernorm.weight'], config.rmsNormEps);
  const afterAttention = addInPlace(qwen3Attention(config, layer, layerIndex, attentionInput, batch, kv), hidden);
  const mlpInput = rmsNorm(afterAttention, numTokens, H, layer['post_attention_layernorm.weight'], config.rmsNormEps);
  return addInPlace(qwen3Mlp(config, layer, mlpInput), afterAttention);
}

/**
 * Qwen3Model.forward up to last_hidden_state [T, H]: embed, the layers in order, the final norm. With `kv`, every
 * layer writes and reads its K/V through the block tables (see the file header).
 */
export function qwen3Forward(config: Qwen3Config, weights: Qwen3Weights, batch: RaggedBatch, kv: Qwen3PagedKv | null): Float64Array {
  let hidden = qwen3Embeddings(config, weights, batch.tokenIds);
  weights.layers.forEach((layer, layerIndex) => {
    hidden = qwen3DecoderLayer(config, layer, layerIndex, hidden, batch, kv);
  });
  return rmsNorm(hidden, hidden.length / config.hiddenSize, config.hiddenSize, weights.norm, config.rmsNormEps);
}

/**
 * Qwen3's reference forward for the spec. It runs both kinds of batch the contract allows (src/backends/batch_types.ts):
 * one-shot (whole sequences, causal attention, any pooling, nothing kept between calls) and paged (chunks with
 * blockTables / numCachedTokens / isLastChunk, K/V kept in the caller's ReferenceKvStore between calls: chunked
 * prefill, prefix caching), LAST pooling on the chunk that ends each input.
 */
export const QWEN3_REFERENCE: ReferenceSpec<Qwen3Config> = {
  create(config, weightMap) {
    const weights = loadQwen3Weights(config, weightMap);
    const { numLayers, numKeyValueHeads, headDim, hiddenSize: H } = config;
    return {
      pagedKv: { numLayers, numKeyValueHeads, headDim },
      forward(batch, store) {
        const { blockTables, numCachedTokens, isLastChunk, cuSeqLens } = batch;
        if (blockTables === undefined || numCachedTokens === undefined || isLastChunk === undefined) {
          return pooledRows(qwen3Forward(config, weights, batch, null), H, batch);
        }
        if (store === null) throw new RangeError('paged decoder batch without a KV store (initKvCache was not called)');
        // Only LAST pooling survives chunking and prefix hits: the hidden states of earlier chunks and of cached tokens
        // are never computed in this call (vLLM likewise turns both features off for other pooling types).
        if (batch.pooling !== 'last') throw new RangeError(`paged decoder batches pool 'last' only, not '${batch.pooling}'`);
        const hidden = qwen3Forward(config, weights, batch, { store, blockTables, numCachedTokens });
        const rows: Float64Array[] = [];
        for (let i = 0; i < cuSeqLens.length - 1; i++) {
          if (isLastChunk[i] === 0) continue;
          const last = cuSeqLens[i + 1] - 1;
          rows.push(postprocess(hidden.subarray(last * H, (last + 1) * H), batch.dimensions[i], batch.normalize[i] !== 0));
        }
        return rows;
      },
    };
  },
};
