// Tiny random-weight rotary-BERT checkpoints (NomicBERT, GTE NewModel) in the real layout and config field names, for
// the reference, native and upstream (test/upstream/test_rotary_bert.py) checks. The config.json files carry the
// fields the released models set (nomic-embed-text-v1.5: NomicBertConfig keys; gte-base-en-v1.5: NewConfig keys with
// rope_scaling ntk), shrunk; the tensors are the ones src/model/architectures/rotary_bert/layout.ts names, F32.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseModelConfig } from '../../src/model/architectures/registry.js';
import { rotaryBertTensorSpecs } from '../../src/model/architectures/rotary_bert/layout.js';
import { writeSafetensors } from '../../src/model/safetensors_write.js';
import type { RotaryBertConfig } from '../../src/model/types.js';

export type RotaryBertFamily = 'nomic_bert' | 'gte';

export interface TinyRotaryBertOptions {
  readonly hiddenSize?: number;
  readonly numHeads?: number;
  readonly numLayers?: number;
  readonly intermediateSize?: number;
  readonly vocabSize?: number;
  readonly seed?: number;
  /** Weights drawn uniformly in ±initScale·√3 (std initScale); LayerNorm gammas around 1, betas around 0. */
  readonly initScale?: number;
  /** GTE only: rope_scaling {type: ntk, factor}; null leaves it out. */
  readonly ntkFactor?: number | null;
  readonly typeVocabSize?: number;
  readonly maxPositions?: number;
  /** Further config.json fields (e.g. matryoshka_dimensions), written as given. */
  readonly extraConfig?: Readonly<Record<string, unknown>>;
}

export function tinyRotaryBertConfigJson(family: RotaryBertFamily, o: TinyRotaryBertOptions = {}): Record<string, unknown> {
  const H = o.hiddenSize ?? 32;
  const common = { vocab_size: o.vocabSize ?? 64, type_vocab_size: o.typeVocabSize ?? 2 };
  if (family === 'nomic_bert') {
    return {
      architectures: ['NomicBertModel'],
      model_type: 'nomic_bert',
      activation_function: 'swiglu',
      prenorm: false,
      causal: false,
      parallel_block: false,
      qkv_proj_bias: false,
      mlp_fc1_bias: false,
      mlp_fc2_bias: false,
      rotary_emb_fraction: 1.0,
      rotary_emb_base: 1000,
      rotary_emb_interleaved: false,
      rotary_emb_scale_base: null,
      rotary_scaling_factor: null,
      max_trained_positions: 2048,
      n_positions: o.maxPositions ?? 8192,
      n_embd: H,
      n_head: o.numHeads ?? 4,
      n_layer: o.numLayers ?? 2,
      n_inner: o.intermediateSize ?? 64,
      layer_norm_epsilon: 1e-12,
      ...common,
    };
  }
  return {
    architectures: ['NewModel'],
    model_type: 'new',
    hidden_act: 'gelu',
    hidden_size: H,
    num_attention_heads: o.numHeads ?? 4,
    num_hidden_layers: o.numLayers ?? 2,
    intermediate_size: o.intermediateSize ?? 64,
    layer_norm_eps: 1e-12,
    layer_norm_type: 'layer_norm',
    logn_attention_clip1: false,
    logn_attention_scale: false,
    max_position_embeddings: o.maxPositions ?? 8192,
    pack_qkv: true,
    position_embedding_type: 'rope',
    rope_theta: 500000,
    rope_scaling: o.ntkFactor === null ? null : { type: 'ntk', factor: o.ntkFactor ?? 2.0 },
    ...common,
  };
}

/** mulberry32: a small seeded generator, so fixtures are the same on every machine. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes config.json and model.safetensors (F32) into `dir`; returns the parsed config. */
export async function writeTinyRotaryBert(dir: string, family: RotaryBertFamily, o: TinyRotaryBertOptions = {}): Promise<RotaryBertConfig> {
  await mkdir(dir, { recursive: true });
  const json = { ...tinyRotaryBertConfigJson(family, o), ...o.extraConfig };
  const config = parseModelConfig(json, 'tiny config.json') as RotaryBertConfig;
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(json, null, 2)}\n`);
  const next = random(o.seed ?? 1);
  const scale = (o.initScale ?? 0.1) * Math.sqrt(3);
  const tensors = rotaryBertTensorSpecs(config).map((spec) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    const isGamma = spec.shape.length === 1 && /(LayerNorm|_ln|norm\d)\.weight$/.test(spec.name);
    for (let i = 0; i < n; i++) values[i] = (isGamma ? 1 : 0) + (2 * next() - 1) * scale;
    return { name: spec.name, dtype: 'F32' as const, shape: spec.shape, data: new Uint8Array(values.buffer) };
  });
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  return config;
}
