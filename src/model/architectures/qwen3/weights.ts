// Qwen3 weights as float32 host arrays (the reference forward computes from them; the WebGPU backend uploads them),
// checked against the layout (src/model/qwen3_layout.ts) once, at
// construction. Matrices are widened to Float32Array: every F32/BF16/F16 value is exactly a float32, so nothing is
// lost, and the ops accumulate in float64 anyway (half the memory of float64 copies). The embedding table stays the
// checkpoint's view and is decoded one row per token (the real table is 151669 x 1024: 600 MB as float32, of which a
// batch reads a few rows).
import { ModelLoadError } from '../../../errors.js';
import { qwen3LayerTensorSpecs } from '../../qwen3_layout.js';
import { DTYPE_ITEM_SIZE, tensorToFloat32 } from '../../tensor_data.js';
import type { Qwen3Config, TensorView, WeightMap } from '../../types.js';

/** Tensors of one decoder layer, named as in the checkpoint after `layers.<i>.`. */
export const QWEN3_LAYER_TENSOR_NAMES = [
  'input_layernorm.weight', // [H]
  'self_attn.q_proj.weight', // [nH * d, H]
  'self_attn.k_proj.weight', // [nKV * d, H]
  'self_attn.v_proj.weight', // [nKV * d, H]
  'self_attn.o_proj.weight', // [H, nH * d]
  'self_attn.q_norm.weight', // [d]
  'self_attn.k_norm.weight', // [d]
  'post_attention_layernorm.weight', // [H]
  'mlp.gate_proj.weight', // [I, H]
  'mlp.up_proj.weight', // [I, H]
  'mlp.down_proj.weight', // [H, I]
] as const;

export type Qwen3LayerTensorName = (typeof QWEN3_LAYER_TENSOR_NAMES)[number];
export type Qwen3LayerWeights = Readonly<Record<Qwen3LayerTensorName, Float32Array>>;

export interface Qwen3Weights {
  /** `embed_tokens.weight` [V, H], as stored; read with embeddingRow. */
  readonly embedTokens: TensorView;
  /** layers[i] holds `layers.<i>.*`. */
  readonly layers: readonly Qwen3LayerWeights[];
  /** `norm.weight` [H], the final RMSNorm. */
  readonly norm: Float32Array;
}

function checkedView(weights: WeightMap, name: string, shape: readonly number[]): TensorView {
  const view = weights.get(name);
  if (view === undefined) throw new ModelLoadError(`Qwen3 checkpoint is missing tensor ${name}`);
  if (view.dtype === 'I64') throw new ModelLoadError(`tensor ${name} is I64; the reference backend needs F32, F16 or BF16`);
  if (view.shape.length !== shape.length || view.shape.some((dim, i) => dim !== shape[i])) {
    throw new ModelLoadError(`tensor ${name} has shape [${view.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
  }
  return view;
}

/** Reads every tensor the forward pass needs; throws ModelLoadError naming the first missing or misshapen one. */
export function loadQwen3Weights(config: Qwen3Config, weights: WeightMap): Qwen3Weights {
  const embedTokens = checkedView(weights, 'embed_tokens.weight', [config.vocabSize, config.hiddenSize]);
  const layerSpecs = new Map(qwen3LayerTensorSpecs(config).map((spec) => [spec.name, spec.shape]));
  const layers: Qwen3LayerWeights[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const layer = {} as Record<Qwen3LayerTensorName, Float32Array>;
    for (const name of QWEN3_LAYER_TENSOR_NAMES) {
      const shape = layerSpecs.get(name);
      if (shape === undefined) throw new Error(`internal: qwen3_layout.ts has no shape for ${name}`);
      // A copy even where tensorToFloat32 could return a view: the weights outlive nothing else, but a copy keeps
      // the checkpoint's buffer free to be unmapped.
      layer[name] = Float32Array.from(tensorToFloat32(checkedView(weights, `layers.${i}.${name}`, shape)));
    }
    layers.push(layer);
  }
  const norm = Float32Array.from(tensorToFloat32(checkedView(weights, 'norm.weight', [config.hiddenSize])));
  return { embedTokens, layers, norm };
}

/** Row `tokenId` of the embedding table, decoded exactly. */
export function embeddingRow(table: TensorView, tokenId: number): Float32Array {
  const [numRows, width] = table.shape;
  if (!Number.isInteger(tokenId) || tokenId < 0 || tokenId >= numRows) throw new RangeError(`token id ${tokenId} is outside [0, ${numRows})`);
  const rowBytes = width * DTYPE_ITEM_SIZE[table.dtype];
  const bytes = table.bytes.subarray(tokenId * rowBytes, (tokenId + 1) * rowBytes);
  return Float32Array.from(tensorToFloat32({ name: `${table.name}[${tokenId}]`, dtype: table.dtype, shape: [width], bytes }));
}
