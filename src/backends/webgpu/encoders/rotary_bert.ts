// NomicBERT and GTE on WebGPU, one encoder for both: ../rotary_bert_weights.ts uploads (through the family's role
// table), ../activation_pool.ts holds the layer's buffers, ../rotary_bert_encoder.ts records the dispatches.
import { ModelLoadError } from '../../../errors.js';
import type { ArchitectureSpec } from '../../../model/architectures/spec.js';
import { GTE } from '../../../model/architectures/gte/spec.js';
import { NOMIC_BERT } from '../../../model/architectures/nomic_bert/spec.js';
import type { RotaryBertConfig } from '../../../model/types.js';
import { ActivationPool, floatsPerTokenOfWidestActivation } from '../activation_pool.js';
import { checkHeadDim, encoderCapacityTokens, resolveWeightType, webGpuEncoder, type WebGpuEncoderBuilder } from '../encoder_builder.js';
import { DEFAULT_ATTENTION_TILING } from '../kernels/attention.js';
import { activationPoolSession } from './pool_session.js';
import { RotaryBertEncoder } from '../rotary_bert_encoder.js';
import { destroyRotaryBertWeights, uploadRotaryBertWeights } from '../rotary_bert_weights.js';

function rotaryBertEncoder(spec: ArchitectureSpec<RotaryBertConfig>): WebGpuEncoderBuilder {
  return webGpuEncoder({
    spec,
    async create(ctx, pipelines, model, opts) {
      const { config } = model;
      checkHeadDim(config.hiddenSize, config.numHeads);
      if (opts.layerNormFusion === 'separate') throw new ModelLoadError(`layerNormFusion 'separate' is a BERT test option; ${spec.displayName} runs fused`);
      if (opts.forceCpuWordGather === true)
        throw new ModelLoadError(`forceCpuWordGather is a BERT test option; ${spec.displayName} keeps its word table on the GPU`);
      const weightType = resolveWeightType(ctx, opts);
      const wordTableBytes = config.vocabSize * config.hiddenSize * (weightType === 'f16' ? 2 : 4);
      if (wordTableBytes > ctx.limit('maxStorageBufferBindingSize')) {
        throw new ModelLoadError(
          `${ctx.adapterName} binds at most ${ctx.limit('maxStorageBufferBindingSize')} bytes per buffer; this model's word table needs ${wordTableBytes}`,
        );
      }
      const I = config.intermediateSize;
      const shape = { hiddenSize: config.hiddenSize, intermediateSize: 2 * I, gatedSize: I };
      const capacityTokens = encoderCapacityTokens(ctx, opts, floatsPerTokenOfWidestActivation(shape), config.maxPositionEmbeddings);
      const weights = await ctx.checked('weight upload', () => uploadRotaryBertWeights(ctx, config, model.weights, weightType));
      const attentionTiling = opts.attentionTiling ?? DEFAULT_ATTENTION_TILING;
      return activationPoolSession(ctx, {
        weights,
        destroyWeights: () => destroyRotaryBertWeights(weights),
        wordRowsGatheredOnCpu: false,
        pool: () =>
          new ActivationPool(ctx, shape, capacityTokens, capacityTokens, attentionTiling.queryTile, {
            wordRows: null,
            separateLayerNorm: false,
            rotaryPositions: true,
          }),
        encoder: (pool) => RotaryBertEncoder.create(ctx, pipelines, config, weights, pool, model.settings.pooling, opts),
      });
    },
  });
}

export const NOMIC_BERT_WEBGPU_ENCODER = rotaryBertEncoder(NOMIC_BERT);
export const GTE_WEBGPU_ENCODER = rotaryBertEncoder(GTE);
