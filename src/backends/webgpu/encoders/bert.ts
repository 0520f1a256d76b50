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
import { encoderCapacityTokens, resolveWeightType, type WebGpuEncoderBuilder, webGpuEncoder } from '../encoder_builder.js';
import { DEFAULT_ATTENTION_TILING, MAX_HEAD_DIM } from '../kernels/attention.js';

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
      const headDim = config.hiddenSize / config.numHeads;
      if (headDim > MAX_HEAD_DIM) throw new ModelLoadError(`the webgpu attention kernel supports head sizes up to ${MAX_HEAD_DIM}, this model has ${headDim}`);
      const weightType = resolveWeightType(ctx, opts);
      const shape = { hiddenSize: config.hiddenSize, intermediateSize: config.intermediateSize, gatedSize: null };
      const capacityTokens = encoderCapacityTokens(ctx, opts, floatsPerTokenOfWidestActivation(shape), maxSequenceTokens(config));
      const weights = await ctx.checked('weight upload', () =>
        uploadBertWeights(ctx, config, model.weights, { weightType, forceCpuWordGather: opts.forceCpuWordGather }),
      );
      let pool: ActivationPool | null = null;
      try {
        const attentionTiling = opts.attentionTiling ?? DEFAULT_ATTENTION_TILING;
        const activations = await ctx.checked(
          'activation buffers',
          () =>
            new ActivationPool(ctx, shape, capacityTokens, capacityTokens, attentionTiling.queryTile, {
              wordRows: weights.wordTable === null ? weightType : null,
              separateLayerNorm: opts.layerNormFusion === 'separate',
            }),
        );
        pool = activations;
        const encoder = await ctx.checked('pipeline creation', () =>
          BertEncoder.create(ctx, pipelines, config, weights, activations, model.settings.pooling, opts),
        );
        return {
          capacityTokens: activations.capacityTokens,
          staging: activations.staging,
          weightType: weights.weightType,
          wordRowsGatheredOnCpu: weights.wordTable === null,
          weightBytes: weights.gpuBytes,
          activationBytes: activations.bytes,
          dispatchesPerForward: encoder.numDispatches,
          encodeAndSubmit: (inputs) => encoder.encodeAndSubmit(inputs),
          destroy() {
            destroyBertWeights(weights);
            activations.destroy();
          },
        };
      } catch (error) {
        destroyBertWeights(weights);
        pool?.destroy();
        throw error;
      }
    },
  });
}

export const BERT_WEBGPU_ENCODER = bertShapedEncoder(BERT);
