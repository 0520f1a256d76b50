// ModernBERT on WebGPU: ../modernbert_weights.ts uploads, ../modernbert_encoder.ts holds the buffers and records the
// dispatches (modeling_modernbert.py's ModernBertModel: pre-norm, GeGLU, global / sliding-window attention).
import { MODERNBERT } from '../../../model/architectures/modernbert/spec.js';
import { checkHeadDim, encoderCapacityTokens, resolveWeightType, webGpuEncoder } from '../encoder_builder.js';
import { DEFAULT_ATTENTION_TILING } from '../kernels/attention.js';
import { ModernBertEncoder, modernBertFloatsPerToken } from '../modernbert_encoder.js';
import { destroyModernBertWeights, uploadModernBertWeights } from '../modernbert_weights.js';

export const MODERNBERT_WEBGPU_ENCODER = webGpuEncoder({
  spec: MODERNBERT,
  async create(ctx, pipelines, model, opts) {
    const { config } = model;
    checkHeadDim(config.hiddenSize, config.numHeads);
    const weightType = resolveWeightType(ctx, opts);
    // Refuses (naming the binding limit) a device that cannot hold one max_position_embeddings-token sequence.
    const capacityTokens = encoderCapacityTokens(ctx, opts, modernBertFloatsPerToken(config), config.maxPositionEmbeddings);
    const weights = await ctx.checked('weight upload', () =>
      uploadModernBertWeights(ctx, config, model.weights, { weightType, forceCpuWordGather: opts.forceCpuWordGather }),
    );
    try {
      const attentionTiling = opts.attentionTiling ?? DEFAULT_ATTENTION_TILING;
      const encoder = await ctx.checked('buffers and pipelines', () =>
        ModernBertEncoder.create(ctx, pipelines, config, weights, capacityTokens, model.settings.pooling, attentionTiling),
      );
      return {
        capacityTokens,
        staging: encoder.buffers.staging,
        weightType: weights.weightType,
        wordRowsGatheredOnCpu: weights.tokenTable === null,
        weightBytes: weights.gpuBytes,
        activationBytes: encoder.buffers.bytes,
        dispatchesPerForward: encoder.numDispatches,
        encodeAndSubmit: (inputs) => encoder.encodeAndSubmit(inputs),
        destroy() {
          encoder.destroy();
          destroyModernBertWeights(weights);
        },
      };
    } catch (error) {
      destroyModernBertWeights(weights);
      throw error;
    }
  },
});
