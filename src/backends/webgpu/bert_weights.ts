// BERT weights (and those of every BERT-shaped family: RoBERTa / XLM-RoBERTa, ERNIE) uploaded to the GPU once, at backend creation, in the storage type the kernels read (f32, or f16
// where the device has shader-f16). The three attention projections are concatenated into one [3H, H] weight so
// the encoder runs a single q|k|v GEMM per layer. Names follow the checkpoint (src/model/bert_layout.ts).
//
// The word-embedding table is the one tensor that can exceed a single storage binding (lavapipe binds at most
// 128 MiB; a 250k x 1024 f32 vocabulary is 1 GiB). When it does, it stays on the host in storage format and the
// backend gathers the batch's rows on the CPU (T x H values per forward, a small upload next to the encoder's
// work) and hands them to the same embeddings kernel (WORD_ROWS_PREGATHERED). Every other BERT tensor is at
// most I x H, far below the limit.
/// <reference types="@webgpu/types" />
import { bertTensorSpecs } from '../../model/bert_layout.js';
import { tensorToFloat32 } from '../../model/tensor_data.js';
import type { BertEncoderConfig, TensorView, WeightMap } from '../../model/types.js';
import type { WebGpuContext } from './device.js';
import type { WeightType } from './shader_source.js';
import { concatFloat32, WeightUploader } from './weight_uploader.js';

/** ERNIE's task-type table (src/model/bert_layout.ts), present when use_task_id is true. */
const TASK_TYPE_TABLE = 'embeddings.task_type_embeddings.weight';

export interface BertGpuLayer {
  /** [3H, H]: query rows, then key rows, then value rows. */
  readonly qkvWeight: GPUBuffer;
  readonly qkvBias: GPUBuffer;
  readonly attentionOutputWeight: GPUBuffer;
  readonly attentionOutputBias: GPUBuffer;
  /** [2H]: attention.output.LayerNorm gamma then beta. */
  readonly attentionOutputLn: GPUBuffer;
  readonly intermediateWeight: GPUBuffer;
  readonly intermediateBias: GPUBuffer;
  readonly outputWeight: GPUBuffer;
  readonly outputBias: GPUBuffer;
  /** [2H]: output.LayerNorm gamma then beta. */
  readonly outputLn: GPUBuffer;
}

export interface BertGpuWeights {
  readonly weightType: WeightType;
  /** The word table on the GPU, or null when it is gathered on the CPU (see wordTableHost). */
  readonly wordTable: GPUBuffer | null;
  /** The word table in storage format on the host, when it does not fit one binding. */
  readonly wordTableHost: Uint8Array | null;
  readonly positionTable: GPUBuffer;
  readonly typeTable: GPUBuffer;
  /** [2H]: embeddings.LayerNorm gamma then beta. */
  readonly embeddingLn: GPUBuffer;
  readonly layers: readonly BertGpuLayer[];
  /** Bytes uploaded to the GPU. */
  readonly gpuBytes: number;
}

export interface UploadOptions {
  readonly weightType: WeightType;
  /** Gather word rows on the CPU even when the table would fit one binding (tests cover that path this way). */
  readonly forceCpuWordGather?: boolean;
}

export function destroyBertWeights(weights: BertGpuWeights): void {
  const buffers: (GPUBuffer | null)[] = [weights.wordTable, weights.positionTable, weights.typeTable, weights.embeddingLn];
  for (const layer of weights.layers) buffers.push(...Object.values(layer));
  for (const buffer of buffers) buffer?.destroy();
}

export function uploadBertWeights(ctx: WebGpuContext, config: BertEncoderConfig, weights: WeightMap, opts: UploadOptions): BertGpuWeights {
  const { weightType } = opts;
  const up = new WeightUploader(ctx, weights, bertTensorSpecs(config), weightType, null);
  const tensor = (name: string): TensorView => up.tensor(name);
  const vector = (label: string, name: string): GPUBuffer => up.f32(label, tensorToFloat32(tensor(name)));

  /**
   * ERNIE with use_task_id (modeling_ernie.py ErnieEmbeddings.forward): every token adds task_type_embeddings[0]
   * (task_type_ids default to zeros), so row 0 joins every token-type row here, in f32, and the embeddings kernel runs
   * unchanged. Same sum with one rounding moved (type + task rounded once, ~1 ulp of f32, before the word and position
   * rows join); with f16 storage the folded row is rounded to f16 once instead of the two tables separately.
   */
  const uploadTypeTableWithTaskRow = (typeView: TensorView, taskView: TensorView): GPUBuffer => {
    // A copy: tensorToFloat32 returns F32 checkpoints as views of the file's bytes, which must stay untouched.
    const folded = Float32Array.from(tensorToFloat32(typeView));
    const taskRow = tensorToFloat32(taskView).subarray(0, config.hiddenSize);
    for (let i = 0; i < folded.length; i++) folded[i] += taskRow[i % config.hiddenSize];
    return up.matrixValues('embeddings: embeddings.token_type_embeddings.weight + task_type_embeddings.weight[0]', folded);
  };

  const H = config.hiddenSize;
  const wordView = tensor('embeddings.word_embeddings.weight');
  const bytesPerWeight = weightType === 'f16' ? 2 : 4;
  const wordTableBytes = config.vocabSize * H * bytesPerWeight;
  const gatherOnCpu = (opts.forceCpuWordGather ?? false) || wordTableBytes > ctx.limit('maxStorageBufferBindingSize');
  let wordTable: GPUBuffer | null = null;
  let wordTableHost: Uint8Array | null = null;
  if (gatherOnCpu) {
    wordTableHost = up.storageBytes(wordView);
  } else {
    wordTable = up.matrix('embeddings: embeddings.word_embeddings.weight', wordView);
  }
  const positionTable = up.matrix('embeddings: embeddings.position_embeddings.weight', tensor('embeddings.position_embeddings.weight'));
  const typeTable =
    config.taskTypeVocabSize > 0
      ? uploadTypeTableWithTaskRow(tensor('embeddings.token_type_embeddings.weight'), tensor(TASK_TYPE_TABLE))
      : up.matrix('embeddings: embeddings.token_type_embeddings.weight', tensor('embeddings.token_type_embeddings.weight'));
  const embeddingLn = up.f32(
    'embeddings: embeddings.LayerNorm (gamma|beta)',
    concatFloat32(tensor('embeddings.LayerNorm.weight'), tensor('embeddings.LayerNorm.bias')),
  );

  const layers: BertGpuLayer[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `encoder.layer.${i}`;
    layers.push({
      qkvWeight: up.matrixValues(
        `gemm: ${p}.attention.self.{query,key,value}.weight`,
        concatFloat32(tensor(`${p}.attention.self.query.weight`), tensor(`${p}.attention.self.key.weight`), tensor(`${p}.attention.self.value.weight`)),
      ),
      qkvBias: up.f32(
        `gemm: ${p}.attention.self.{query,key,value}.bias`,
        concatFloat32(tensor(`${p}.attention.self.query.bias`), tensor(`${p}.attention.self.key.bias`), tensor(`${p}.attention.self.value.bias`)),
      ),
      attentionOutputWeight: up.matrix(`gemm_residual_layernorm: ${p}.attention.output.dense.weight`, tensor(`${p}.attention.output.dense.weight`)),
      attentionOutputBias: vector(`gemm_residual_layernorm: ${p}.attention.output.dense.bias`, `${p}.attention.output.dense.bias`),
      attentionOutputLn: up.f32(
        `gemm_residual_layernorm: ${p}.attention.output.LayerNorm (gamma|beta)`,
        concatFloat32(tensor(`${p}.attention.output.LayerNorm.weight`), tensor(`${p}.attention.output.LayerNorm.bias`)),
      ),
      intermediateWeight: up.matrix(`gemm: ${p}.intermediate.dense.weight`, tensor(`${p}.intermediate.dense.weight`)),
      intermediateBias: vector(`gemm: ${p}.intermediate.dense.bias`, `${p}.intermediate.dense.bias`),
      outputWeight: up.matrix(`gemm_residual_layernorm: ${p}.output.dense.weight`, tensor(`${p}.output.dense.weight`)),
      outputBias: vector(`gemm_residual_layernorm: ${p}.output.dense.bias`, `${p}.output.dense.bias`),
      outputLn: up.f32(
        `gemm_residual_layernorm: ${p}.output.LayerNorm (gamma|beta)`,
        concatFloat32(tensor(`${p}.output.LayerNorm.weight`), tensor(`${p}.output.LayerNorm.bias`)),
      ),
    });
  }
  return { weightType, wordTable, wordTableHost, positionTable, typeTable, embeddingLn, layers, gpuBytes: up.gpuBytes };
}
