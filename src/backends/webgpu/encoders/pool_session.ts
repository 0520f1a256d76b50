// The session of an encoder family whose activations live in an ActivationPool (BERT-shaped ./bert.ts, rotary BERT
// ./rotary_bert.ts): allocates the pool and builds the encoder on weights already uploaded, freeing the weights and
// the pool when either step throws.
import type { ActivationPool } from '../activation_pool.js';
import type { WebGpuContext } from '../device.js';
import type { EncoderInputs, WebGpuEncoderSession } from '../encoder_builder.js';
import type { WeightType } from '../shader_source.js';

export interface PoolSessionParts {
  readonly weights: { readonly weightType: WeightType; readonly gpuBytes: number };
  readonly destroyWeights: () => void;
  readonly wordRowsGatheredOnCpu: boolean;
  readonly pool: () => ActivationPool;
  readonly encoder: (pool: ActivationPool) => Promise<{ readonly numDispatches: number; encodeAndSubmit(inputs: EncoderInputs): Promise<number> }>;
}

export async function activationPoolSession(ctx: WebGpuContext, parts: PoolSessionParts): Promise<WebGpuEncoderSession> {
  const { weights, destroyWeights } = parts;
  let pool: ActivationPool | null = null;
  try {
    const activations = await ctx.checked('activation buffers', parts.pool);
    pool = activations;
    const encoder = await ctx.checked('pipeline creation', () => parts.encoder(activations));
    return {
      capacityTokens: activations.capacityTokens,
      staging: activations.staging,
      weightType: weights.weightType,
      wordRowsGatheredOnCpu: parts.wordRowsGatheredOnCpu,
      weightBytes: weights.gpuBytes,
      activationBytes: activations.bytes,
      dispatchesPerForward: encoder.numDispatches,
      encodeAndSubmit: (inputs) => encoder.encodeAndSubmit(inputs),
      destroy() {
        destroyWeights();
        activations.destroy();
      },
    };
  } catch (error) {
    destroyWeights();
    pool?.destroy();
    throw error;
  }
}
