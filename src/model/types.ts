// Model descriptions as data. Loaders (src/model/) produce these; backends consume them. No I/O here.

export type DType = 'F32' | 'F16' | 'BF16' | 'I64';

/** One tensor of a checkpoint: a view into the file's bytes, never a copy. */
export interface TensorView {
  /** Name as stored in the file (before any prefix stripping). */
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Exactly the tensor's bytes (little-endian, as safetensors stores them). */
  readonly bytes: Uint8Array;
}

/** Pooling rules as sentence-transformers' Pooling module defines them. */
export type PoolingMode = 'cls' | 'mean' | 'last';

/** Feed-forward activations of encoder families (transformers ACT2FN names; see architectures/bert/config.ts). */
export type ActivationKind = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu';

/**
 * The activation of a gated MLP (GLU family: act(a) * b over the two halves of one fused projection), by ACT2FN name:
 * 'silu' (SwiGLU: Qwen3, NomicBERT), 'gelu' (exact erf GELU: ModernBERT's GeGLU), 'gelu_new' / 'gelu_pytorch_tanh'.
 */
export type GatedActivationKind = 'silu' | 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh';

/**
 * Hyperparameters every BERT-shaped encoder shares: post-LayerNorm layers, learned absolute positions, token-type
 * embeddings (transformers BertConfig field names in comments). BERT, RoBERTa / XLM-RoBERTa and ERNIE all run BERT's
 * forward (reference, native graph, WebGPU encoder); what differs between them is data here or in their spec
 * (ArchitectureSpec.firstPosition), never a branch on the family name.
 */
export interface BertEncoderConfig {
  readonly architecture: 'bert' | 'roberta' | 'ernie';
  readonly vocabSize: number; // vocab_size
  readonly hiddenSize: number; // hidden_size
  readonly numLayers: number; // num_hidden_layers
  readonly numHeads: number; // num_attention_heads
  readonly intermediateSize: number; // intermediate_size
  readonly maxPositionEmbeddings: number; // max_position_embeddings
  readonly typeVocabSize: number; // type_vocab_size
  readonly layerNormEps: number; // layer_norm_eps
  /** hidden_act: 'gelu' is the exact erf GELU in transformers (ACT2FN['gelu'] = GELUActivation). */
  readonly hiddenAct: ActivationKind;
  readonly padTokenId: number; // pad_token_id
  /**
   * Rows of `embeddings.task_type_embeddings.weight` (ERNIE with use_task_id: task_type_vocab_size); 0 = the model has
   * no such table (BERT, RoBERTa, ERNIE without use_task_id). Every token adds row 0 (task_type_ids default to 0).
   */
  readonly taskTypeVocabSize: number;
  /** Matryoshka support, read like vLLM: is_matryoshka / matryoshka_dimensions. */
  readonly isMatryoshka: boolean;
  readonly matryoshkaDimensions: readonly number[] | null;
}

/** BERT (transformers models/bert/configuration_bert.py BertConfig). */
export interface BertConfig extends BertEncoderConfig {
  readonly architecture: 'bert';
}

/**
 * RoBERTa and XLM-RoBERTa (models/roberta/configuration_roberta.py, models/xlm_roberta/configuration_xlm_roberta.py):
 * BERT's layers; positions start at pad_token_id + 1 (see architectures/roberta/spec.ts).
 */
export interface RobertaConfig extends BertEncoderConfig {
  readonly architecture: 'roberta';
  /** config.json model_type, for messages: the two share every tensor and convention. */
  readonly modelType: 'roberta' | 'xlm-roberta';
}

/** ERNIE 1.0-3.0 (models/ernie/configuration_ernie.py ErnieConfig): BERT plus task-type embeddings (use_task_id). */
export interface ErnieConfig extends BertEncoderConfig {
  readonly architecture: 'ernie';
}

/**
 * Qwen3 decoder hyperparameters, from config.json (transformers models/qwen3/configuration_qwen3.py Qwen3Config field
 * names in comments). Decoders attend causally, so they can run with paged KV blocks, prefix caching and chunked prefill.
 */
export interface Qwen3Config {
  readonly architecture: 'qwen3';
  readonly vocabSize: number; // vocab_size
  readonly hiddenSize: number; // hidden_size
  readonly numLayers: number; // num_hidden_layers
  readonly numHeads: number; // num_attention_heads (query heads)
  readonly numKeyValueHeads: number; // num_key_value_heads (grouped-query attention; default num_attention_heads)
  readonly headDim: number; // head_dim (explicit in Qwen3: 128 for every size, not hidden_size / heads)
  readonly intermediateSize: number; // intermediate_size
  readonly maxPositionEmbeddings: number; // max_position_embeddings
  readonly rmsNormEps: number; // rms_norm_eps
  readonly ropeTheta: number; // rope_theta (or rope_parameters.rope_theta in newer configs)
  /** hidden_act: Qwen3MLP's ACT2FN['silu'] (nn.SiLU); nothing else is accepted. */
  readonly hiddenAct: 'silu';
  readonly tieWordEmbeddings: boolean; // tie_word_embeddings (lm_head is never used for embeddings either way)
  readonly isMatryoshka: boolean;
  readonly matryoshkaDimensions: readonly number[] | null;
}

/**
 * Rotary BERT: post-LayerNorm BERT-like encoders with rotary positions (no position table), a fused QKV projection and
 * a gated MLP. Two families share this shape and one forward: NomicBERT (model_type "nomic_bert", nomic-ai's
 * modeling_hf_nomic_bert.py / transformers models/nomic_bert) and GTE's NewModel (model_type "new", Alibaba-NLP/new-impl
 * modeling.py / transformers models/gte). config.json field names differ per family (see their config.ts).
 */
export interface RotaryBertConfig {
  readonly architecture: 'nomic_bert' | 'gte';
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  /** The longest input the model takes (NomicBERT: n_positions; GTE: max_position_embeddings). */
  readonly maxPositionEmbeddings: number;
  /** 0: the checkpoint has no token_type_embeddings (gte-base-en-v1.5). */
  readonly typeVocabSize: number;
  readonly layerNormEps: number;
  /** rotary base: rotary_emb_base (NomicBERT) or rope_theta (GTE). */
  readonly ropeTheta: number;
  /** GTE's rope_scaling {type: "ntk", factor} (NTKScalingRotaryEmbedding, mixed_b absent); null = plain rotary. */
  readonly ropeNtkFactor: number | null;
  /** The gate's activation, act(gate) * up (describeModel reports it as hiddenAct). 'silu' = SwiGLU (NomicBERT "swiglu"), 'gelu' = exact erf GELU (GTE "gelu"). */
  readonly hiddenAct: 'silu' | 'gelu';
  /** Biases present: Wqkv / out_proj (NomicBERT qkv_proj_bias; GTE always), the gated up projection(s), fc2 / down_proj. */
  readonly attentionBias: boolean;
  readonly mlpUpBias: boolean;
  readonly mlpDownBias: boolean;
  readonly isMatryoshka: boolean;
  readonly matryoshkaDimensions: readonly number[] | null;
}

/** How one ModernBERT layer attends: globally, or within the sliding window (config.json `layer_types` names). */
export type ModernBertLayerType = 'full_attention' | 'sliding_attention';

/**
 * ModernBERT encoder hyperparameters, from config.json (transformers models/modernbert/configuration_modernbert.py
 * ModernBertConfig field names in comments). Pre-norm layers without biases, fused Wqkv, GeGLU MLP, rotary positions
 * with one theta for global and one for sliding-window layers.
 */
export interface ModernBertConfig {
  readonly architecture: 'modernbert';
  readonly vocabSize: number; // vocab_size
  readonly hiddenSize: number; // hidden_size
  readonly numLayers: number; // num_hidden_layers
  readonly numHeads: number; // num_attention_heads (head_dim = hidden_size / num_attention_heads)
  readonly intermediateSize: number; // intermediate_size (Wi projects to 2 * intermediate_size)
  readonly maxPositionEmbeddings: number; // max_position_embeddings (8192)
  readonly normEps: number; // norm_eps
  /** hidden_activation: the activation of the GeGLU's first half (ACT2FN name; 'gelu' = exact erf GELU). */
  readonly hiddenAct: GatedActivationKind;
  /** Per layer (layer_types, or every global_attn_every_n_layers-th layer global from layer 0). */
  readonly layerTypes: readonly ModernBertLayerType[];
  readonly globalRopeTheta: number; // global_rope_theta / rope_parameters.full_attention.rope_theta
  readonly localRopeTheta: number; // local_rope_theta / rope_parameters.sliding_attention.rope_theta
  /** Half-width of the sliding window: local_attention // 2 (ModernBertConfig.sliding_window). */
  readonly slidingWindow: number;
  readonly isMatryoshka: boolean;
  readonly matryoshkaDimensions: readonly number[] | null;
}

/** The configs of every family that runs BERT's forward. */
export type BertEncoderFamilyConfig = BertConfig | RobertaConfig | ErnieConfig;

export type ModelConfig = BertEncoderFamilyConfig | Qwen3Config | RotaryBertConfig | ModernBertConfig;

/**
 * Weights keyed by canonical name: the BertModel names with any `bert.` (`roberta.`, `ernie.`) prefix stripped
 * (e.g. `embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`), or the Qwen3Model names
 * with any `model.` prefix stripped (e.g. `embed_tokens.weight`, `layers.0.self_attn.q_proj.weight`).
 */
export type WeightMap = ReadonlyMap<string, TensorView>;

/** sentence-transformers metadata, after CLI overrides were applied. */
export interface EmbeddingSettings {
  readonly pooling: PoolingMode;
  /** Whether a Normalize module follows pooling (default for requests that don't say). */
  readonly normalize: boolean;
  /** Max tokens per input, special tokens included. */
  readonly maxSeqLength: number;
  /** config_sentence_transformers.json `prompts`, name -> prefix text. */
  readonly prompts: Readonly<Record<string, string>>;
  readonly defaultPromptName: string | null;
  /** Where each value came from, for logs and /v1/models (e.g. {pooling: '1_Pooling/config.json'}). */
  readonly sources: Readonly<Record<string, string>>;
  /**
   * sentence_bert_config.json `do_lower_case`: sentence-transformers' Transformer module lowercases every text
   * before tokenizing when true (sentence_transformers/models/Transformer.py `tokenize`). Absent = false.
   */
  readonly doLowerCase?: boolean;
}

// Sequence classification heads (the arithmetic and config parsing: ./heads/classification.ts).
/** What a head's labels mean to a caller: raw logits, a probability per label, or one score. */
export type HeadActivation = 'identity' | 'sigmoid' | 'softmax' | 'tanh';

/** One dense layer of a head: y = activation(W x + b), W [out, in] row-major. */
export interface HeadLayer {
  readonly weight: Float64Array;
  readonly bias: Float64Array | null;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly activation: 'identity' | 'tanh';
}

/** The labels and activations a classification checkpoint declares in config.json. */
export interface ClassificationLabels {
  readonly numLabels: number;
  /** id2label in id order ('LABEL_0', ... when config.json has none). */
  readonly labels: readonly string[];
  /** Applied for /classify (vLLM: softmax over labels, sigmoid for one label or multi-label problems, none for regression). */
  readonly classifyActivation: HeadActivation;
  /** Applied for /score and /rerank (sentence-transformers CrossEncoder: its activation_fn, else sigmoid for one label). */
  readonly scoreActivation: HeadActivation;
}

/**
 * How a decoder reranker reads a (query, document) pair: prefix + body[0] + instruction + body[1] + query + body[2] +
 * document + suffix, the prefix and suffix tokenized on their own and kept whole, the middle cut from its end when too
 * long (Qwen3-Reranker's model card code). No special tokens are added.
 */
export interface PairTemplate {
  readonly prefix: string;
  readonly body: readonly [string, string, string];
  readonly suffix: string;
  readonly defaultInstruction: string;
}

/** What a head reader may look up besides the tensors: config.json as given (with --hf-overrides) and the vocabulary. */
export interface HeadContext {
  readonly configJson: Readonly<Record<string, unknown>>;
  tokenId(token: string): number | undefined;
}

export interface ClassificationHead extends ClassificationLabels {
  /** The hidden-state row the head reads (BERT, RoBERTa: the first token). */
  readonly pooling: PoolingMode;
  readonly layers: readonly HeadLayer[];
  /** Decoder rerankers: the prompt a pair is formatted into (absent: the tokenizer's own pair template). */
  readonly pairTemplate?: PairTemplate;
}

/**
 * What a loaded model serves (vLLM's pooling tasks): 'embed' pooled embeddings; 'classify' and 'score' a sequence
 * classification head on the pooled row ('score': a one-label cross-encoder scoring text pairs, /score and /rerank;
 * 'classify': labels with probabilities, /classify).
 */
export type ModelTask = 'embed' | 'classify' | 'score';

/** A model ready to hand to a backend. */
export interface LoadedModel {
  /** The id requests use (served-model-name, else the HF id or folder name). */
  readonly id: string;
  /** Resolved folder on disk. */
  readonly path: string;
  readonly config: ModelConfig;
  readonly weights: WeightMap;
  readonly settings: EmbeddingSettings;
  /** Absent: 'embed'. */
  readonly task?: ModelTask;
  /** The classification head, present exactly when task is 'classify' or 'score'. */
  readonly head?: ClassificationHead;
}
