// Qwen3 weights on the GPU, uploaded once at backend creation. Names follow the checkpoint (src/model/qwen3_layout.ts);
// the shapes are checked by the reference loader (loadQwen3Weights), whose float32 copies are uploaded and then
// dropped. gate_proj and up_proj are concatenated into one [2I, H] matrix so the MLP runs one GEMM then gated_activation.wgsl.
//
// embed_tokens stays on the host, always: Qwen3 has no embedding LayerNorm, so the gathered rows ARE the first hidden
// state, and gathering T rows on the CPU and writing them is one T x H upload per forward. A GPU copy would save only
// that upload, and the real table (151669 x 1024 f32, 621 MB; 311 MB in f16) exceeds the 128 MiB lavapipe binds and
// the 128 MiB - 2 GiB other devices bind anyway.
/// <reference types="@webgpu/types" />
import type { Qwen3Config, WeightMap } from '../../model/types.js';
import { loadQwen3Weights, type Qwen3LayerTensorName } from '../../model/architectures/qwen3/weights.js';
import type { TensorView } from '../../model/types.js';
import type { WebGpuContext } from './device.js';
import { createBufferWithData, weightBytes } from './gpu_buffers.js';
import type { WeightType } from './shader_source.js';

export interface Qwen3GpuLayer {
  readonly inputLayernorm: GPUBuffer; // [H] f32
  readonly qProj: GPUBuffer; // [nH * d, H]
  readonly kProj: GPUBuffer; // [nKV * d, H]
  readonly vProj: GPUBuffer; // [nKV * d, H]
  readonly oProj: GPUBuffer; // [H, nH * d]
  readonly qNorm: GPUBuffer; // [d] f32
  readonly kNorm: GPUBuffer; // [d] f32
  readonly postAttentionLayernorm: GPUBuffer; // [H] f32
  readonly gateUpProj: GPUBuffer; // [2I, H]: gate_proj rows, then up_proj rows
  readonly downProj: GPUBuffer; // [H, I]
}

export interface Qwen3GpuWeights {
  readonly weightType: WeightType;
  /** embed_tokens.weight [V, H] as stored in the checkpoint; rows are decoded per forward. */
  readonly embedTokens: TensorView;
  readonly layers: readonly Qwen3GpuLayer[];
  readonly norm: GPUBuffer; // [H] f32
  readonly gpuBytes: number;
}

export function destroyQwen3Weights(weights: Qwen3GpuWeights): void {
  weights.norm.destroy();
  for (const layer of weights.layers) for (const buffer of Object.values(layer)) buffer.destroy();
}

export function uploadQwen3Weights(ctx: WebGpuContext, config: Qwen3Config, weightMap: WeightMap, weightType: WeightType): Qwen3GpuWeights {
  const host = loadQwen3Weights(config, weightMap);
  let gpuBytes = 0;
  const maxBinding = ctx.limit('maxStorageBufferBindingSize');
  const upload = (label: string, bytes: Uint8Array | Float32Array): GPUBuffer => {
    if (bytes.byteLength > maxBinding) throw new Error(`${label} takes ${bytes.byteLength} bytes, more than the ${maxBinding} one storage binding holds`);
    gpuBytes += bytes.byteLength;
    return createBufferWithData(ctx, label, bytes);
  };
  const layers = host.layers.map((layer, i): Qwen3GpuLayer => {
    const name = (tensor: Qwen3LayerTensorName): string => `layers.${i}.${tensor}`;
    const matrix = (tensor: Qwen3LayerTensorName): GPUBuffer => upload(`gemm: ${name(tensor)}`, weightBytes(layer[tensor], weightType));
    const vector = (kernel: string, tensor: Qwen3LayerTensorName): GPUBuffer => upload(`${kernel}: ${name(tensor)}`, layer[tensor]);
    const gate = layer['mlp.gate_proj.weight'];
    const gateUp = new Float32Array(2 * gate.length);
    gateUp.set(gate, 0);
    gateUp.set(layer['mlp.up_proj.weight'], gate.length);
    return {
      inputLayernorm: vector('rms_norm', 'input_layernorm.weight'),
      qProj: matrix('self_attn.q_proj.weight'),
      kProj: matrix('self_attn.k_proj.weight'),
      vProj: matrix('self_attn.v_proj.weight'),
      oProj: matrix('self_attn.o_proj.weight'),
      qNorm: vector('rms_norm', 'self_attn.q_norm.weight'),
      kNorm: vector('rms_norm', 'self_attn.k_norm.weight'),
      postAttentionLayernorm: vector('rms_norm', 'post_attention_layernorm.weight'),
      gateUpProj: upload(`gemm: layers.${i}.mlp.{gate,up}_proj.weight`, weightBytes(gateUp, weightType)),
      downProj: matrix('mlp.down_proj.weight'),
    };
  });
  const norm = upload('rms_norm: norm.weight', host.norm);
  return { weightType, embedTokens: host.embedTokens, layers, norm, gpuBytes };
}
