// Uploading one checkpoint's tensors to the GPU, as every encoder family's weights file does: each tensor checked
// against the family's layout (present, not I64, the shape config.json implies) before anything is uploaded from it,
// matrices in the weight storage type (f32, or f16 where the device has shader-f16), vectors in f32, and the bytes
// counted for the backend's report.
/// <reference types="@webgpu/types" />
import { ModelLoadError } from '../../errors.js';
import type { TensorSpec } from '../../model/layout_check.js';
import { tensorToFloat32 } from '../../model/tensor_data.js';
import type { TensorView, WeightMap } from '../../model/types.js';
import type { WebGpuContext } from './device.js';
import { createBufferWithData, weightBytes } from './gpu_buffers.js';
import type { WeightType } from './shader_source.js';

export class WeightUploader {
  private readonly nameToShape: Map<string, readonly number[]>;
  /** Bytes uploaded so far. */
  gpuBytes = 0;

  constructor(
    private readonly ctx: WebGpuContext,
    private readonly weights: WeightMap,
    specs: readonly TensorSpec[],
    readonly weightType: WeightType,
    /** Names the family in errors ("NomicBERT checkpoint is missing tensor ..."); null: "checkpoint is missing ...". */
    private readonly family: string | null,
  ) {
    this.nameToShape = new Map(specs.map((spec) => [spec.name, spec.shape]));
  }

  /** The tensor, checked against the layout; ModelLoadError naming it when missing, I64 or misshapen. */
  tensor(name: string): TensorView {
    const view = this.weights.get(name);
    const shape = this.nameToShape.get(name);
    if (view === undefined) throw new ModelLoadError(`${this.family === null ? '' : `${this.family} `}checkpoint is missing tensor ${name}`);
    if (shape === undefined) throw new Error(`internal: the layout has no shape for ${name}`);
    if (view.dtype === 'I64') throw new ModelLoadError(`tensor ${name} is I64; the webgpu backend needs F32, F16 or BF16`);
    if (view.shape.length !== shape.length || view.shape.some((dim, i) => dim !== shape[i])) {
      throw new ModelLoadError(`tensor ${name} has shape [${view.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
    }
    return view;
  }

  /** A matrix or table in storage format (F16 checkpoints go up as they are when storing f16). */
  storageBytes(view: TensorView): Uint8Array {
    return this.weightType === 'f16' && view.dtype === 'F16' ? view.bytes : weightBytes(tensorToFloat32(view), this.weightType);
  }

  /** A matrix or table in the weight storage type. */
  matrix(label: string, view: TensorView): GPUBuffer {
    return this.upload(label, this.storageBytes(view));
  }

  /** Float32 values in the weight storage type (fused matrices built on the host). */
  matrixValues(label: string, values: Float32Array): GPUBuffer {
    return this.upload(label, weightBytes(values, this.weightType));
  }

  /** Vectors (biases, LayerNorm parameters) stay f32. */
  f32(label: string, values: Float32Array): GPUBuffer {
    return this.upload(label, values);
  }

  private upload(label: string, bytes: Uint8Array | Float32Array): GPUBuffer {
    this.gpuBytes += bytes.byteLength;
    return createBufferWithData(this.ctx, label, bytes);
  }
}

/** The tensors' values as one float32 array, in order. */
export function concatFloat32(...views: TensorView[]): Float32Array {
  const parts = views.map((view) => tensorToFloat32(view));
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
