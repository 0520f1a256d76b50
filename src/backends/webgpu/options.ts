// Options of the WebGPU backend (a type file: the backend, the per-family encoder builders and the CLI read it).
import type { WebGpuDeviceOptions } from './device.js';
import type { AttentionTiling } from './kernels/attention.js';
import type { GemmTiling } from './kernels/gemm.js';
import type { WeightType } from './shader_source.js';

/** Kernel tilings and fusion choices of the encoders (benchmarks and tests vary them; defaults are measured). */
export interface EncoderTuning {
  readonly gemmTiling?: GemmTiling;
  readonly rowPanelTiling?: GemmTiling;
  readonly attentionTiling?: AttentionTiling;
  /** 'fused' (default): bias + residual + LayerNorm inside the GEMM; 'separate': GEMM, then layer_norm. */
  readonly layerNormFusion?: 'fused' | 'separate';
}

export interface WebGpuBackendOptions extends WebGpuDeviceOptions, EncoderTuning {
  /**
   * Weight storage: 'f32' (default; matches the reference to ~1e-6), 'f16' (half the memory and bandwidth, f32
   * accumulation; needs shader-f16), or 'auto' (f16 when the device has shader-f16, else f32).
   */
  readonly weightType?: WeightType | 'auto';
  /** Token capacity of the activation pool: the scheduler's token budget (default 8192). */
  readonly maxBatchTokens?: number;
  /** Keep the word-embedding table on the host and gather rows on the CPU even when it fits one binding. */
  readonly forceCpuWordGather?: boolean;
}

export const DEFAULT_MAX_BATCH_TOKENS = 8192;
