// A tiny BERT checkpoint folder (hidden 8, 1 layer) written with our safetensors writer, for model-loading tests.
// Values are a deterministic function of the tensor index, so tests can check bytes survived a round trip.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors, type TensorToWrite } from '../../src/model/safetensors_write.js';
import { float32ToBytes, numElements } from '../../src/model/tensor_data.js';
import type { DType } from '../../src/model/types.js';

export const TINY_BERT_CONFIG = {
  architectures: ['BertModel'],
  model_type: 'bert',
  vocab_size: 16,
  hidden_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 16,
  max_position_embeddings: 32,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  hidden_act: 'gelu',
  pad_token_id: 0,
  position_embedding_type: 'absolute',
} as const;

/** Canonical BertModel tensor names and shapes of TINY_BERT_CONFIG (written out, independent of bert_layout.ts). */
export function tinyBertShapes(): [string, number[]][] {
  const H = 8;
  const I = 16;
  const shapes: [string, number[]][] = [
    ['embeddings.word_embeddings.weight', [16, H]],
    ['embeddings.position_embeddings.weight', [32, H]],
    ['embeddings.token_type_embeddings.weight', [2, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ];
  const p = 'encoder.layer.0';
  for (const name of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
    shapes.push([`${p}.${name}.weight`, [H, H]], [`${p}.${name}.bias`, [H]]);
  }
  shapes.push([`${p}.attention.output.LayerNorm.weight`, [H]], [`${p}.attention.output.LayerNorm.bias`, [H]]);
  shapes.push([`${p}.intermediate.dense.weight`, [I, H]], [`${p}.intermediate.dense.bias`, [I]]);
  shapes.push([`${p}.output.dense.weight`, [H, I]], [`${p}.output.dense.bias`, [H]]);
  shapes.push([`${p}.output.LayerNorm.weight`, [H]], [`${p}.output.LayerNorm.bias`, [H]]);
  return shapes;
}

/** Value j of tensor i: small, exactly representable in F16/BF16 (multiples of 1/64 below 4). */
export function tinyValue(tensorIndex: number, elementIndex: number): number {
  return (((tensorIndex * 31 + elementIndex * 7) % 256) - 128) / 64;
}

export interface TinyTensorOptions {
  readonly prefix?: string;
  readonly dtype?: DType;
  readonly withPositionIds?: boolean;
  readonly withPooler?: boolean;
  /** Extra head tensors (e.g. `cls.predictions.bias`), written without the prefix. */
  readonly extra?: readonly [string, number[]][];
}

export function tinyBertTensors(opts: TinyTensorOptions = {}): TensorToWrite[] {
  const prefix = opts.prefix ?? '';
  const dtype = opts.dtype ?? 'F32';
  const tensors: TensorToWrite[] = tinyBertShapes().map(([name, shape], tensorIndex) => {
    const values = Float32Array.from({ length: numElements(shape) }, (_, j) => tinyValue(tensorIndex, j));
    return { name: prefix + name, dtype, shape, data: float32ToBytes(values, dtype) };
  });
  if (opts.withPositionIds) {
    tensors.push({
      name: `${prefix}embeddings.position_ids`,
      dtype: 'I64',
      shape: [1, 32],
      data: float32ToBytes(
        Float32Array.from({ length: 32 }, (_, j) => j),
        'I64',
      ),
    });
  }
  if (opts.withPooler) {
    tensors.push(
      { name: `${prefix}pooler.dense.weight`, dtype, shape: [8, 8], data: float32ToBytes(new Float32Array(64), dtype) },
      { name: `${prefix}pooler.dense.bias`, dtype, shape: [8], data: float32ToBytes(new Float32Array(8), dtype) },
    );
  }
  for (const [name, shape] of opts.extra ?? []) {
    tensors.push({ name, dtype, shape, data: float32ToBytes(new Float32Array(numElements(shape)), dtype) });
  }
  return tensors;
}

/** A minimal but real WordPiece tokenizer.json over a 16-token vocabulary. */
export function tinyTokenizerJson(): object {
  const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', 'the', 'a', '##s', 'cat', 'dog', '.', ',', '!', '?'];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: tokens.slice(0, 5).map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(tokens.map((token, id) => [token, id])),
    },
  };
}

export interface TinyFolderOptions extends TinyTensorOptions {
  readonly config?: Record<string, unknown>;
  /** sentence-transformers pipeline; omit for a plain transformers checkpoint. */
  readonly pooling?: 'cls' | 'mean' | 'last' | 'max';
  readonly normalize?: boolean;
  readonly maxSeqLength?: number;
  readonly prompts?: Record<string, string>;
  readonly defaultPromptName?: string | null;
  /** Split the weights over this many shards with an index. */
  readonly numShards?: number;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2));
}

/** Writes a complete tiny model folder; returns the tensors written (in file order). */
export async function writeTinyBertFolder(folder: string, opts: TinyFolderOptions = {}): Promise<TensorToWrite[]> {
  await mkdir(folder, { recursive: true });
  await writeJson(join(folder, 'config.json'), { ...TINY_BERT_CONFIG, ...opts.config });
  await writeJson(join(folder, 'tokenizer.json'), tinyTokenizerJson());
  await writeJson(join(folder, 'tokenizer_config.json'), { model_max_length: 32, tokenizer_class: 'BertTokenizer', do_lower_case: true });
  if (opts.pooling !== undefined) {
    const modules = [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    ];
    if (opts.normalize ?? true) modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
    await writeJson(join(folder, 'modules.json'), modules);
    await mkdir(join(folder, '1_Pooling'), { recursive: true });
    await writeJson(join(folder, '1_Pooling', 'config.json'), {
      word_embedding_dimension: 8,
      pooling_mode_cls_token: opts.pooling === 'cls',
      pooling_mode_mean_tokens: opts.pooling === 'mean',
      pooling_mode_max_tokens: opts.pooling === 'max',
      pooling_mode_mean_sqrt_len_tokens: false,
      pooling_mode_weightedmean_tokens: false,
      pooling_mode_lasttoken: opts.pooling === 'last',
      include_prompt: true,
    });
    await writeJson(join(folder, 'sentence_bert_config.json'), { max_seq_length: opts.maxSeqLength ?? 24, do_lower_case: false });
    await writeJson(join(folder, 'config_sentence_transformers.json'), {
      prompts: opts.prompts ?? {},
      default_prompt_name: opts.defaultPromptName ?? null,
    });
  }
  const tensors = tinyBertTensors(opts);
  const numShards = opts.numShards ?? 1;
  if (numShards === 1) {
    await writeSafetensors(join(folder, 'model.safetensors'), tensors, { format: 'pt' });
  } else {
    const weightMap: Record<string, string> = {};
    const perShard = Math.ceil(tensors.length / numShards);
    for (let shard = 0; shard < numShards; shard++) {
      const file = `model-${String(shard + 1).padStart(5, '0')}-of-${String(numShards).padStart(5, '0')}.safetensors`;
      const part = tensors.slice(shard * perShard, (shard + 1) * perShard);
      for (const tensor of part) weightMap[tensor.name] = file;
      await writeSafetensors(join(folder, file), part, { format: 'pt' });
    }
    await writeJson(join(folder, 'model.safetensors.index.json'), { metadata: { total_size: 0 }, weight_map: weightMap });
  }
  return tensors;
}
