// BERT on WebGPU: ./bert_weights.ts uploads, ../activation_pool.ts holds the layer's buffers, ../bert_encoder.ts records
// the dispatches (modeling_bert.py's BertLayer, post-LayerNorm).
import { ModelLoadError } from '../../../errors.js';
import { BERT } from '../../../model/architectures/bert/spec.js';
import { maxSequenceTokens } from '../../../model/architectures/registry.js';
import type { ArchitectureSpec } from '../../../model/architectures/spec.js';
import type { BertEncoderFamilyConfig } from '../../../model/types.js';
import { ActivationPool, floatsPerTokenOfWidestActivation } from '../activation_pool.js';
import { BertEncoder } from '../bert_encoder.js';
import { destroyBertWeights, uploadBertWeights } from '../bert_weights.js';
import { checkHeadDim, encoderCapacityTokens, resolveWeightType, type WebGpuEncoderBuilder, webGpuEncoder } from '../encoder_builder.js';
import { DEFAULT_ATTENTION_TILING } from '../kernels/attention.js';
import { activationPoolSession } from './pool_session.js';

/**
 * The encoder builder of any BERT-shaped family (BERT; RoBERTa / XLM-RoBERTa, ./roberta.ts; ERNIE, ./ernie.ts): one
 * dispatch sequence; positions arrive with the batch and ERNIE's task-type row is folded in at upload.
 */
export function bertShapedEncoder<C extends BertEncoderFamilyConfig>(spec: ArchitectureSpec<C>): WebGpuEncoderBuilder {
  return webGpuEncoder<C>({
    spec,
    async create(ctx, pipelines, model, opts) {
      const { config } = model;
      if (config.hiddenSize % config.numHeads !== 0) {
        throw new ModelLoadError(`hidden_size ${config.hiddenSize} is not a multiple of num_attention_heads ${config.numHeads}`);
      }
      checkHeadDim(config.hiddenSize, config.numHeads);
      const weightType = resolveWeightType(ctx, opts);
      const shape = { hiddenSize: config.hiddenSize, intermediateSize: config.intermediateSize, gatedSize: null };
      const capacityTokens = encoderCapacityTokens(ctx, opts, floatsPerTokenOfWidestActivation(shape), maxSequenceTokens(config));
      const weights = await ctx.checked('weight upload', () =>
        uploadBertWeights(ctx, config, model.weights, { weightType, forceCpuWordGather: opts.forceCpuWordGather }),
      );
      const attentionTiling = opts.attentionTiling ?? DEFAULT_ATTENTION_TILING;
      return activationPoolSession(ctx, {
        weights,
        destroyWeights: () => destroyBertWeights(weights),
        wordRowsGatheredOnCpu: weights.wordTable === null,
        pool: () =>
          new ActivationPool(ctx, shape, capacityTokens, capacityTokens, attentionTiling.queryTile, {
            wordRows: weights.wordTable === null ? weightType : null,
            separateLayerNorm: opts.layerNormFusion === 'separate',
          }),
        encoder: (pool) => BertEncoder.create(ctx, pipelines, config, weights, pool, model.settings.pooling, opts),
      });
    },
  });
}

export const BERT_WEBGPU_ENCODER = bertShapedEncoder(BERT);
