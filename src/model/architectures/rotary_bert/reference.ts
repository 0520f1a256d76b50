// The rotary-BERT encoder in float64 (NomicBERT and GTE's NewModel share it), over a ragged batch (no padding, no mask:
// each sequence attends to exactly its own tokens). Dropout is the identity at inference and is left out.
// Upstream, line by line:
//   NomicBERT: nomic-ai modeling_hf_nomic_bert.py (mirror aahrong/nomic-embed-text-v1.5@3185eb0) NomicBertEmbeddings
//     (l.985-1026: word + token type, no position table when rotary_emb_fraction > 0), NomicBertModel.forward (emb_ln,
//     l.1909), NomicBertAttention (l.1468-1597: Wqkv -> rearrange "(three h d)" -> rotary on q, k -> sdpa scale
//     1/sqrt(d) -> out_proj), NomciBertGatedMLP (l.1057-1097: y = fc11(x) * act(fc12(x)), act = silu for "swiglu"),
//     NomicBertBlock postnorm branch (l.1716-1729: norm1(attn + x), norm2(mlp + h)). Rotary: NomicBertRotaryEmbedding
//     rotate_half (non-interleaved: x1, x2 = chunk(2); l.1257-1283), inv_freq = 1 / base^(2i / d) (l.1331).
//   GTE: Alibaba-NLP/new-impl modeling.py NewEmbeddings (word + token type if type_vocab_size > 0, LayerNorm),
//     NewAttention (qkv_proj -> split q | k | v -> apply_rotary_pos_emb rotate_half -> softmax(qk^T / sqrt(d)) v ->
//     o_proj), NewGatedMLP (up_gate_proj -> split [up | gate] -> act(gate) * up -> down_proj), NewLayer (attn_ln(x +
//     attn), mlp_ln(h + mlp)); NTKScalingRotaryEmbedding for rope_scaling {type: ntk}.
//   transformers 5.25 ports both (models/nomic_bert, models/gte: JinaEmbeddingsV3Layer post-norm, GemmaMLP
//   act(gate_proj(x)) * up_proj(x)), loading the original layout through conversion_mapping.py.
//
// Shapes (T tokens, H hidden, I intermediate, nH heads, d = H / nH):
//   embeddings [T, H] -> per layer: qkv [T, 3H] -> q, k rotated -> context [T, H] -> attention out [T, H]
//   -> up, gate [T, I] -> act(gate) * up [T, I] -> down [T, H]
import type { RaggedBatch } from '../../../backends/batch_types.js';
import { ModelLoadError } from '../../../errors.js';
import { applyRotaryEmbeddingWith, silu } from '../../reference/decoder_ops.js';
import { erf } from '../../reference/erf.js';
import { addResidual, attention, layerNorm, linear, pooledRows } from '../../reference/ops.js';
import { tensorToFloat64 } from '../../tensor_data.js';
import type { RotaryBertConfig, WeightMap } from '../../types.js';
import type { ReferenceSpec } from '../spec.js';
import { namingOf, TOKEN_TYPE_EMBEDDINGS, WORD_EMBEDDINGS } from './layout.js';

interface LayerWeights64 {
  readonly qkvWeight: Float64Array; // [3H, H]
  readonly qkvBias: Float64Array | null;
  readonly outWeight: Float64Array; // [H, H]
  readonly outBias: Float64Array | null;
  readonly attentionLnWeight: Float64Array;
  readonly attentionLnBias: Float64Array;
  readonly upWeight: Float64Array; // [I, H]
  readonly upBias: Float64Array | null;
  readonly gateWeight: Float64Array; // [I, H]
  readonly gateBias: Float64Array | null;
  readonly downWeight: Float64Array; // [H, I]
  readonly downBias: Float64Array | null;
  readonly mlpLnWeight: Float64Array;
  readonly mlpLnBias: Float64Array;
}

interface Weights64 {
  readonly word: Float64Array;
  readonly tokenType: Float64Array | null;
  readonly embeddingLnWeight: Float64Array;
  readonly embeddingLnBias: Float64Array;
  readonly layers: readonly LayerWeights64[];
}

function load(weights: WeightMap, name: string, numElements: number): Float64Array {
  const view = weights.get(name);
  if (view === undefined) throw new ModelLoadError(`rotary BERT checkpoint is missing tensor ${name}`);
  const values = tensorToFloat64(view);
  if (values.length !== numElements) throw new ModelLoadError(`tensor ${name} has ${values.length} elements, config.json implies ${numElements}`);
  return values;
}

function loadWeights64(config: RotaryBertConfig, weights: WeightMap): Weights64 {
  const { hiddenSize: H, intermediateSize: I } = config;
  const naming = namingOf(config);
  const optional = (present: boolean, name: string, n: number) => (present ? load(weights, name, n) : null);
  const layers: LayerWeights64[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    const p = `${naming.layerPrefix}${l}.`;
    let up: { upWeight: Float64Array; upBias: Float64Array | null; gateWeight: Float64Array; gateBias: Float64Array | null };
    if (naming.mlpUp.kind === 'separate') {
      up = {
        upWeight: load(weights, `${p}${naming.mlpUp.up}.weight`, I * H),
        upBias: optional(config.mlpUpBias, `${p}${naming.mlpUp.up}.bias`, I),
        gateWeight: load(weights, `${p}${naming.mlpUp.gate}.weight`, I * H),
        gateBias: optional(config.mlpUpBias, `${p}${naming.mlpUp.gate}.bias`, I),
      };
    } else {
      // NewGatedMLP.forward: up_states, gate = torch.split(up_gate, intermediate_size, dim=-1): up rows come first.
      const fused = load(weights, `${p}${naming.mlpUp.upGate}.weight`, 2 * I * H);
      const fusedBias = optional(config.mlpUpBias, `${p}${naming.mlpUp.upGate}.bias`, 2 * I);
      up = {
        upWeight: fused.subarray(0, I * H),
        upBias: fusedBias === null ? null : fusedBias.subarray(0, I),
        gateWeight: fused.subarray(I * H),
        gateBias: fusedBias === null ? null : fusedBias.subarray(I),
      };
    }
    layers.push({
      qkvWeight: load(weights, `${p}${naming.qkv}.weight`, 3 * H * H),
      qkvBias: optional(config.attentionBias, `${p}${naming.qkv}.bias`, 3 * H),
      outWeight: load(weights, `${p}${naming.attentionOut}.weight`, H * H),
      outBias: optional(config.attentionBias, `${p}${naming.attentionOut}.bias`, H),
      attentionLnWeight: load(weights, `${p}${naming.attentionLayerNorm}.weight`, H),
      attentionLnBias: load(weights, `${p}${naming.attentionLayerNorm}.bias`, H),
      ...up,
      downWeight: load(weights, `${p}${naming.mlpDown}.weight`, H * I),
      downBias: optional(config.mlpDownBias, `${p}${naming.mlpDown}.bias`, H),
      mlpLnWeight: load(weights, `${p}${naming.mlpLayerNorm}.weight`, H),
      mlpLnBias: load(weights, `${p}${naming.mlpLayerNorm}.bias`, H),
    });
  }
  return {
    word: load(weights, WORD_EMBEDDINGS, config.vocabSize * H),
    tokenType: config.typeVocabSize > 0 ? load(weights, TOKEN_TYPE_EMBEDDINGS, config.typeVocabSize * H) : null,
    embeddingLnWeight: load(weights, `${naming.embeddingLayerNorm}.weight`, H),
    embeddingLnBias: load(weights, `${naming.embeddingLayerNorm}.bias`, H),
    layers,
  };
}

/**
 * The rotary inverse frequencies, d / 2 of them. Plain: 1 / theta^(2i / d) (NomicBertRotaryEmbedding._compute_inv_freq,
 * new-impl RotaryEmbedding). GTE's NTK (new-impl NTKScalingRotaryEmbedding._set_cos_sin_cache with mixed_b None, which
 * __init__ calls with seq_len = max_position_embeddings * factor, so the scaled branch always runs for factor > 1):
 * base' = theta * factor, inv_freq = 1 / base'^(2i / d) / factor^(2 / d).
 */
export function rotaryInverseFrequencies(config: RotaryBertConfig): Float64Array {
  const d = config.hiddenSize / config.numHeads;
  const factor = config.ropeNtkFactor ?? 1;
  const base = config.ropeTheta * factor;
  const inverse = new Float64Array(d / 2);
  for (let i = 0; i < d / 2; i++) inverse[i] = 1 / base ** ((2 * i) / d) / factor ** (2 / d);
  return inverse;
}

/** act(gate) * up, elementwise: SiLU (NomicBERT swiglu: F.silu) or exact erf GELU (GTE: ACT2FN['gelu']). */
function gated(gate: Float64Array, up: Float64Array, kind: RotaryBertConfig['hiddenAct']): Float64Array {
  const y = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i];
    y[i] = (kind === 'silu' ? silu(g) : 0.5 * g * (1 + erf(g / Math.SQRT2))) * up[i];
  }
  return y;
}

/** One post-norm layer: norm1(x + out_proj(attention(rotary(q), rotary(k), v))), then norm2(h + down(act(gate) * up)). */
function rotaryBertLayer(config: RotaryBertConfig, w: LayerWeights64, x: Float64Array, batch: RaggedBatch, inverse: Float64Array): Float64Array {
  const { hiddenSize: H, intermediateSize: I, numHeads } = config;
  const d = H / numHeads;
  const T = x.length / H;
  const qkv = linear(x, T, H, w.qkvWeight, w.qkvBias, 3 * H);
  const q = new Float64Array(T * H);
  const k = new Float64Array(T * H);
  const v = new Float64Array(T * H);
  for (let t = 0; t < T; t++) {
    q.set(qkv.subarray(t * 3 * H, t * 3 * H + H), t * H);
    k.set(qkv.subarray(t * 3 * H + H, t * 3 * H + 2 * H), t * H);
    v.set(qkv.subarray(t * 3 * H + 2 * H, t * 3 * H + 3 * H), t * H);
  }
  const qRotated = applyRotaryEmbeddingWith(q, batch.positions, numHeads, d, inverse);
  const kRotated = applyRotaryEmbeddingWith(k, batch.positions, numHeads, d, inverse);
  const context = attention(qRotated, kRotated, v, batch.cuSeqLens, numHeads, d);
  const attentionOut = linear(context, T, H, w.outWeight, w.outBias, H);
  const h = layerNorm(addResidual(attentionOut, x), T, H, w.attentionLnWeight, w.attentionLnBias, config.layerNormEps);
  const up = linear(h, T, H, w.upWeight, w.upBias, I);
  const gate = linear(h, T, H, w.gateWeight, w.gateBias, I);
  const down = linear(gated(gate, up, config.hiddenAct), T, I, w.downWeight, w.downBias, H);
  return layerNorm(addResidual(down, h), T, H, w.mlpLnWeight, w.mlpLnBias, config.layerNormEps);
}

/** Word (+ token type, 0 when the batch gives none) embeddings, then the embedding LayerNorm. No position table. */
function rotaryBertEmbeddings(config: RotaryBertConfig, w: Weights64, batch: RaggedBatch): Float64Array {
  const H = config.hiddenSize;
  const T = batch.tokenIds.length;
  const x = new Float64Array(T * H);
  for (let t = 0; t < T; t++) {
    const id = batch.tokenIds[t];
    if (id < 0 || id >= config.vocabSize) throw new RangeError(`tokenIds[${t}] = ${id} is outside [0, ${config.vocabSize})`);
    x.set(w.word.subarray(id * H, id * H + H), t * H);
    if (w.tokenType !== null) {
      const type = batch.tokenTypeIds?.[t] ?? 0;
      if (type < 0 || type >= config.typeVocabSize) throw new RangeError(`tokenTypeIds[${t}] = ${type} is outside [0, ${config.typeVocabSize})`);
      for (let c = 0; c < H; c++) x[t * H + c] += w.tokenType[type * H + c];
    }
  }
  return layerNorm(x, T, H, w.embeddingLnWeight, w.embeddingLnBias, config.layerNormEps);
}

/** last_hidden_state [T, H] of the whole encoder. */
export function rotaryBertForward(config: RotaryBertConfig, weights: WeightMap, batch: RaggedBatch): Float64Array {
  return forwardWith(config, loadWeights64(config, weights), rotaryInverseFrequencies(config), batch);
}

function forwardWith(config: RotaryBertConfig, w: Weights64, inverse: Float64Array, batch: RaggedBatch): Float64Array {
  let hidden = rotaryBertEmbeddings(config, w, batch);
  for (const layer of w.layers) hidden = rotaryBertLayer(config, layer, hidden, batch, inverse);
  return hidden;
}

/** Both families' reference forward: whole sequences only (bidirectional attention: no KV cache). */
export const ROTARY_BERT_REFERENCE: ReferenceSpec<RotaryBertConfig> = {
  create(config, weightMap) {
    const weights = loadWeights64(config, weightMap);
    const inverse = rotaryInverseFrequencies(config);
    return {
      pagedKv: null,
      forward: (batch) => pooledRows(forwardWith(config, weights, inverse, batch), config.hiddenSize, batch),
    };
  },
};
