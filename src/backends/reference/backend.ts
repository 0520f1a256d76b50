// The reference backend: plain TypeScript in float64, slow on purpose and written for clarity. It is the oracle
// the native and WebGPU backends are compared with, and a fallback that runs anywhere Node runs.
import { ModelLoadError } from '../../errors.js';
import { BERT } from '../../model/architectures/bert/spec.js';
import { hasKvCache, isConfigOf } from '../../model/architectures/registry.js';
import type { BertConfig, LoadedModel } from '../../model/types.js';
import type { Backend, BackendFactory, PooledRows, RaggedBatch } from '../backend.js';
import { bertForward } from './bert.js';
import { type BertWeights64, loadBertWeights64 } from './bert_weights.js';
import { checkBertBatch } from '../batch_checks.js';
import { pool, postprocess } from './ops.js';

export class ReferenceBackend implements Backend {
  readonly name = 'reference' as const;
  private weights: BertWeights64 | null;

  private constructor(
    private readonly config: BertConfig,
    weights: BertWeights64,
  ) {
    this.weights = weights;
  }

  /**
   * Converts the model's weights to float64 once. Throws ModelLoadError for anything but a BERT encoder (Qwen3
   * decoders have their own class, ReferenceQwen3Backend in ./qwen3_backend.ts; createReferenceBackend picks).
   */
  static async create(model: LoadedModel): Promise<ReferenceBackend> {
    const { config } = model;
    if (!isConfigOf(config, BERT)) {
      throw new ModelLoadError(
        `ReferenceBackend runs BERT encoders only, not '${config.architecture}' (model ${model.id}); use ReferenceQwen3Backend`,
      );
    }
    return new ReferenceBackend(config, loadBertWeights64(config, model.weights));
  }

  /**
   * Pooled, post-processed rows in float64 (the oracle's full precision, for tests): encoder, then per sequence
   * pool -> keep dimensions[i] -> L2-normalize when normalize[i] is 1.
   */
  forward64(batch: RaggedBatch): Float64Array[] {
    if (this.weights === null) throw new Error('reference backend: forward after dispose()');
    const { config } = this;
    checkBertBatch(batch, config);
    const hidden = bertForward(config, this.weights, batch);
    const pooled = pool(hidden, batch.cuSeqLens, config.hiddenSize, batch.pooling);
    return pooled.map((row, i) => postprocess(row, batch.dimensions[i], batch.normalize[i] !== 0));
  }

  async forward(batch: RaggedBatch): Promise<PooledRows> {
    return this.forward64(batch).map((row) => Float32Array.from(row));
  }

  async dispose(): Promise<void> {
    this.weights = null;
  }
}

/** The reference backend for any registered architecture: encoders here, decoders (KV cache) in ./qwen3_backend.ts. */
export const createReferenceBackend: BackendFactory = async (model) => {
  if (hasKvCache(model.config)) {
    const { ReferenceQwen3Backend } = await import('./qwen3_backend.js');
    return ReferenceQwen3Backend.create(model);
  }
  return ReferenceBackend.create(model);
};
