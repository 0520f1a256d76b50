// ModernBERT weights uploaded to the GPU once, at backend creation, in the storage type the kernels read (f32, or f16
// where the device has shader-f16). Names follow the checkpoint (src/model/architectures/modernbert/layout.ts): Wqkv is
// already one [3H, H] matrix and Wi one [2I, H], so each projection is one GEMM as stored.
//
// As for BERT (./bert_weights.ts), the token-embedding table is the one tensor that can exceed a storage binding
// (ModernBERT-base's 50368 x 768 f32 table is 155 MB; lavapipe binds 128 MiB): it then stays on the host in storage
// format and the batch's rows are gathered on the CPU for the same embeddings kernel (WORD_ROWS_PREGATHERED).
// ModernBERT's LayerNorms have no bias (norm_bias false): each is uploaded as gamma | zeros, the layout the LayerNorm
// kernels read.
/// <reference types="@webgpu/types" />
import { ModelLoadError } from '../../errors.js';
import { modernBertTensorSpecs } from '../../model/architectures/modernbert/layout.js';
import { tensorToFloat32 } from '../../model/tensor_data.js';
import type { ModernBertConfig, TensorView, WeightMap } from '../../model/types.js';
import type { WebGpuContext } from './device.js';
import { createBufferWithData, weightBytes } from './gpu_buffers.js';
import type { WeightType } from './shader_source.js';

export interface ModernBertGpuLayer {
  /** [2H]: attn_norm gamma | zeros; null in layer 0 (nn.Identity). */
  readonly attnNorm: GPUBuffer | null;
  /** [3H, H]: q rows, then k rows, then v rows. */
  readonly wqkv: GPUBuffer;
  readonly wo: GPUBuffer;
  /** [2H]: mlp_norm gamma | zeros. */
  readonly mlpNorm: GPUBuffer;
  /** [2I, H]: the activated half's rows, then the gate's. */
  readonly wi: GPUBuffer;
  readonly mlpWo: GPUBuffer;
}

export interface ModernBertGpuWeights {
  readonly weightType: WeightType;
  /** The token table on the GPU, or null when it is gathered on the CPU (see tokenTableHost). */
  readonly tokenTable: GPUBuffer | null;
  /** The token table in storage format on the host, when it does not fit one binding. */
  readonly tokenTableHost: Uint8Array | null;
  /** [1, H] zeros: the embeddings kernel's position and token-type rows (ModernBERT has neither). */
  readonly zeroRow: GPUBuffer;
  /** [2H]: embeddings.norm gamma | zeros. */
  readonly embeddingNorm: GPUBuffer;
  /** [2H]: final_norm gamma | zeros. */
  readonly finalNorm: GPUBuffer;
  readonly layers: readonly ModernBertGpuLayer[];
  /** Bytes uploaded to the GPU. */
  readonly gpuBytes: number;
}

export function destroyModernBertWeights(weights: ModernBertGpuWeights): void {
  const buffers: (GPUBuffer | null)[] = [weights.tokenTable, weights.zeroRow, weights.embeddingNorm, weights.finalNorm];
  for (const layer of weights.layers) buffers.push(...Object.values(layer));
  for (const buffer of buffers) buffer?.destroy();
}

export function uploadModernBertWeights(
  ctx: WebGpuContext,
  config: ModernBertConfig,
  weights: WeightMap,
  opts: { readonly weightType: WeightType; readonly forceCpuWordGather?: boolean },
): ModernBertGpuWeights {
  const nameToShape = new Map(modernBertTensorSpecs(config).map((spec) => [spec.name, spec.shape]));
  const tensor = (name: string): TensorView => {
    const view = weights.get(name);
    const shape = nameToShape.get(name);
    if (view === undefined) throw new ModelLoadError(`ModernBERT checkpoint is missing tensor ${name}`);
    if (shape === undefined) throw new Error(`internal: modernbert/layout.ts has no shape for ${name}`);
    if (view.dtype === 'I64') throw new ModelLoadError(`tensor ${name} is I64; the webgpu backend needs F32, F16 or BF16`);
    if (view.shape.length !== shape.length || view.shape.some((dim, i) => dim !== shape[i])) {
      throw new ModelLoadError(`tensor ${name} has shape [${view.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
    }
    return view;
  };
  const { weightType } = opts;
  const H = config.hiddenSize;
  let gpuBytes = 0;
  const uploadMatrix = (label: string, view: TensorView): GPUBuffer => {
    const bytes = weightType === 'f16' && view.dtype === 'F16' ? view.bytes : weightBytes(tensorToFloat32(view), weightType);
    gpuBytes += bytes.byteLength;
    return createBufferWithData(ctx, label, bytes);
  };
  /** gamma | zeros: LayerNorm without bias in the kernels' [2H] layout. */
  const uploadNorm = (label: string, name: string): GPUBuffer => {
    const values = new Float32Array(2 * H);
    values.set(tensorToFloat32(tensor(name)));
    gpuBytes += values.byteLength;
    return createBufferWithData(ctx, `${label}: ${name} (gamma|zeros)`, values);
  };

  const tokenView = tensor('embeddings.tok_embeddings.weight');
  const tokenTableBytes = config.vocabSize * H * (weightType === 'f16' ? 2 : 4);
  const gatherOnCpu = (opts.forceCpuWordGather ?? false) || tokenTableBytes > ctx.limit('maxStorageBufferBindingSize');
  let tokenTable: GPUBuffer | null = null;
  let tokenTableHost: Uint8Array | null = null;
  if (gatherOnCpu) {
    tokenTableHost = weightType === 'f16' && tokenView.dtype === 'F16' ? tokenView.bytes : weightBytes(tensorToFloat32(tokenView), weightType);
  } else {
    tokenTable = uploadMatrix('embeddings: embeddings.tok_embeddings.weight', tokenView);
  }
  const zeroBytes = weightBytes(new Float32Array(H), weightType);
  gpuBytes += zeroBytes.byteLength;
  const zeroRow = createBufferWithData(ctx, 'embeddings: zero position / token-type row', zeroBytes);
  const embeddingNorm = uploadNorm('embeddings', 'embeddings.norm.weight');

  const layers: ModernBertGpuLayer[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `layers.${i}`;
    layers.push({
      attnNorm: i === 0 ? null : uploadNorm('layer_norm', `${p}.attn_norm.weight`),
      wqkv: uploadMatrix(`gemm: ${p}.attn.Wqkv.weight`, tensor(`${p}.attn.Wqkv.weight`)),
      wo: uploadMatrix(`gemm: ${p}.attn.Wo.weight`, tensor(`${p}.attn.Wo.weight`)),
      mlpNorm: uploadNorm('layer_norm', `${p}.mlp_norm.weight`),
      wi: uploadMatrix(`gemm: ${p}.mlp.Wi.weight`, tensor(`${p}.mlp.Wi.weight`)),
      mlpWo: uploadMatrix(`gemm: ${p}.mlp.Wo.weight`, tensor(`${p}.mlp.Wo.weight`)),
    });
  }
  const finalNorm = uploadNorm('layer_norm', 'final_norm.weight');
  return { weightType, tokenTable, tokenTableHost, zeroRow, embeddingNorm, finalNorm, layers, gpuBytes };
}
