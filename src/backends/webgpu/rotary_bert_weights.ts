// NomicBERT / GTE weights uploaded to the GPU once, at backend creation, in the storage type the kernels read, named
// through the family's role table (src/model/architectures/rotary_bert/layout.ts). The gated MLP's up and gate
// projections go up as one [2I, H] matrix, up rows first (GTE stores them so; NomicBERT's fc11 / fc12 are stacked), so
// one GEMM computes both and the gated activation reads act(second half) * first half.
//
// The kernels this encoder shares with BERT always read a bias and a position / token type table; where the
// checkpoint has none (NomicBERT's biases, every rotary model's position table, gte-base-en-v1.5's token types), a
// zero vector or one zero row stands in: adding +0 leaves every float32 sum bitwise unchanged.
/// <reference types="@webgpu/types" />
import { namingOf, rotaryBertTensorSpecs, TOKEN_TYPE_EMBEDDINGS, WORD_EMBEDDINGS } from '../../model/architectures/rotary_bert/layout.js';
import { tensorToFloat32 } from '../../model/tensor_data.js';
import type { RotaryBertConfig, WeightMap } from '../../model/types.js';
import type { WebGpuContext } from './device.js';
import { ropeInverseFrequencies32 } from './kernels/rope.js';
import type { WeightType } from './shader_source.js';
import { concatFloat32, WeightUploader } from './weight_uploader.js';

export interface RotaryBertGpuLayer {
  /** [3H, H]: query rows, then key rows, then value rows (Wqkv / qkv_proj as stored). */
  readonly qkvWeight: GPUBuffer;
  readonly qkvBias: GPUBuffer;
  readonly attentionOutputWeight: GPUBuffer;
  readonly attentionOutputBias: GPUBuffer;
  /** [2H]: norm1 / attn_ln gamma then beta. */
  readonly attentionLn: GPUBuffer;
  /** [2I, H]: up rows, then gate rows. */
  readonly upGateWeight: GPUBuffer;
  readonly upGateBias: GPUBuffer;
  readonly downWeight: GPUBuffer;
  readonly downBias: GPUBuffer;
  /** [2H]: norm2 / mlp_ln gamma then beta. */
  readonly mlpLn: GPUBuffer;
}

export interface RotaryBertGpuWeights {
  readonly weightType: WeightType;
  readonly wordTable: GPUBuffer;
  /** One zero row: there is no position table (rotary). */
  readonly positionTable: GPUBuffer;
  /** [T, H], or one zero row when the checkpoint has no token types. */
  readonly typeTable: GPUBuffer;
  readonly hasTokenTypes: boolean;
  /** [2H]: emb_ln / embeddings.LayerNorm gamma then beta. */
  readonly embeddingLn: GPUBuffer;
  /** [head_dim / 2] rotary inverse frequencies (NTK-scaled for GTE's rope_scaling). */
  readonly inverseFrequencies: GPUBuffer;
  readonly layers: readonly RotaryBertGpuLayer[];
  readonly gpuBytes: number;
}

export function destroyRotaryBertWeights(weights: RotaryBertGpuWeights): void {
  const buffers: GPUBuffer[] = [weights.wordTable, weights.positionTable, weights.typeTable, weights.embeddingLn, weights.inverseFrequencies];
  for (const layer of weights.layers) buffers.push(...Object.values(layer));
  for (const buffer of buffers) buffer.destroy();
}

/**
 * The rotary inverse frequencies as the WGSL kernel reads them: GTE's NTK (new-impl NTKScalingRotaryEmbedding, the
 * formula cited in rotary_bert/reference.ts rotaryInverseFrequencies) is base theta * factor and every frequency
 * times factor^(-2 / d); factor 1 is the plain rotary.
 */
export function rotaryInverseFrequencies32(config: RotaryBertConfig): Float32Array {
  const headDim = config.hiddenSize / config.numHeads;
  const factor = config.ropeNtkFactor ?? 1;
  return ropeInverseFrequencies32(headDim, config.ropeTheta * factor, factor ** (-2 / headDim));
}

export function uploadRotaryBertWeights(ctx: WebGpuContext, config: RotaryBertConfig, weights: WeightMap, weightType: WeightType): RotaryBertGpuWeights {
  const up = new WeightUploader(ctx, weights, rotaryBertTensorSpecs(config), weightType, config.architecture === 'nomic_bert' ? 'NomicBERT' : 'GTE');
  const naming = namingOf(config);
  const { hiddenSize: H, intermediateSize: I } = config;
  const vector = (label: string, name: string, present: boolean, size: number): GPUBuffer =>
    up.f32(label, present ? tensorToFloat32(up.tensor(name)) : new Float32Array(size));
  const layerNorm = (label: string, prefix: string): GPUBuffer => up.f32(label, concatFloat32(up.tensor(`${prefix}.weight`), up.tensor(`${prefix}.bias`)));

  const wordTable = up.matrix(`embeddings: ${WORD_EMBEDDINGS}`, up.tensor(WORD_EMBEDDINGS));
  const zeroRow = new Float32Array(H);
  const positionTable = up.matrixValues('embeddings: no position table (one zero row)', zeroRow);
  const hasTokenTypes = config.typeVocabSize > 0;
  const typeTable = hasTokenTypes
    ? up.matrix(`embeddings: ${TOKEN_TYPE_EMBEDDINGS}`, up.tensor(TOKEN_TYPE_EMBEDDINGS))
    : up.matrixValues('embeddings: no token type table (one zero row)', zeroRow);
  const embeddingLn = layerNorm(`embeddings: ${naming.embeddingLayerNorm} (gamma|beta)`, naming.embeddingLayerNorm);
  const inverseFrequencies = up.f32('rope: inv_freq', rotaryInverseFrequencies32(config));

  const layers: RotaryBertGpuLayer[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `${naming.layerPrefix}${i}.`;
    const qkv = p + naming.qkv;
    const out = p + naming.attentionOut;
    const down = p + naming.mlpDown;
    let upGateWeight: GPUBuffer;
    let upGateBias: GPUBuffer;
    if (naming.mlpUp.kind === 'separate') {
      const [upName, gateName] = [p + naming.mlpUp.up, p + naming.mlpUp.gate];
      upGateWeight = up.matrixValues(
        `gemm: ${upName}.weight | ${gateName}.weight`,
        concatFloat32(up.tensor(`${upName}.weight`), up.tensor(`${gateName}.weight`)),
      );
      upGateBias = config.mlpUpBias
        ? up.f32(`gemm: ${upName}.bias | ${gateName}.bias`, concatFloat32(up.tensor(`${upName}.bias`), up.tensor(`${gateName}.bias`)))
        : up.f32(`gemm: ${upName} | ${gateName} (no bias)`, new Float32Array(2 * I));
    } else {
      const upGate = p + naming.mlpUp.upGate;
      upGateWeight = up.matrix(`gemm: ${upGate}.weight`, up.tensor(`${upGate}.weight`));
      upGateBias = vector(`gemm: ${upGate}.bias`, `${upGate}.bias`, config.mlpUpBias, 2 * I);
    }
    layers.push({
      qkvWeight: up.matrix(`gemm: ${qkv}.weight`, up.tensor(`${qkv}.weight`)),
      qkvBias: vector(`gemm: ${qkv}.bias`, `${qkv}.bias`, config.attentionBias, 3 * H),
      attentionOutputWeight: up.matrix(`gemm_residual_layernorm: ${out}.weight`, up.tensor(`${out}.weight`)),
      attentionOutputBias: vector(`gemm_residual_layernorm: ${out}.bias`, `${out}.bias`, config.attentionBias, H),
      attentionLn: layerNorm(`gemm_residual_layernorm: ${p}${naming.attentionLayerNorm} (gamma|beta)`, p + naming.attentionLayerNorm),
      upGateWeight,
      upGateBias,
      downWeight: up.matrix(`gemm_residual_layernorm: ${down}.weight`, up.tensor(`${down}.weight`)),
      downBias: vector(`gemm_residual_layernorm: ${down}.bias`, `${down}.bias`, config.mlpDownBias, H),
      mlpLn: layerNorm(`gemm_residual_layernorm: ${p}${naming.mlpLayerNorm} (gamma|beta)`, p + naming.mlpLayerNorm),
    });
  }
  return { weightType, wordTable, positionTable, typeTable, hasTokenTypes, embeddingLn, inverseFrequencies, layers, gpuBytes: up.gpuBytes };
}
