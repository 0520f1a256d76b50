// The library API and the engine behind the HTTP server: load a model once, then turn texts or token ids into
// pooled embedding rows through the scheduler. The server is built on this class, not beside it.
import { cpus } from 'node:os';

import { supportsPagedKv, type Backend, type BackendName } from '../backends/backend.js';
import { createBackend, defaultBackendFor, type ComputeDType, type Quantization } from '../backends/select.js';
import { InvalidRequestError } from '../errors.js';
import { describeModel, loadModel } from '../model/load.js';
import { firstPositionOf, hasKvCache } from '../model/architectures/registry.js';
import { activate, headLogits } from '../model/heads/classification.js';
import type { ClassificationHead, LoadedModel, ModelTask, PairTemplate, PoolingMode } from '../model/types.js';
import { type EncodeOptions, TextTokenizer, type TruncationSide } from '../tokenizer/tokenizer.js';
import { TokenizerPool } from '../tokenizer/worker_pool.js';
import { DecoderScheduler, type DecoderSchedulerOptions } from './decoder_scheduler.js';
import { Scheduler, type EmbeddingScheduler, type SchedulerLimits } from './scheduler.js';

export interface EmbedderOptions {
  readonly backend?: BackendName;
  readonly dtype?: ComputeDType;
  /**
   * Weight quantization (vLLM's --quantization): 'int8' runs every GEMM on int8 weights (per output channel, at load)
   * and per-token uint8 activations; attention, norms and pooling stay float32. cpu backend, dtype float32. Default none.
   */
  readonly quantization?: Quantization | null;
  /** Compute threads for the native backend; default one per core. */
  readonly threads?: number;
  /** Native backend: seconds idle before its per-batch working buffers go back to the OS (0 = keep; default 10). */
  readonly releaseWorkingMemoryAfterSeconds?: number;
  readonly revision?: string;
  /** Name requests use for this model (default: the HF id or the folder name). */
  readonly servedModelName?: string;
  /** Overrides of the sentence-transformers metadata. */
  readonly pooling?: PoolingMode;
  readonly normalize?: boolean;
  readonly maxModelLen?: number;
  readonly defaultPromptName?: string;
  /** What to do with over-long inputs when a request doesn't say: reject (default) or cut. */
  readonly truncation?: TruncationSide;
  readonly limits?: Partial<SchedulerLimits>;
  /**
   * Paged KV for decoder models (--block-size, --kv-cache-memory, --enable-prefix-caching). Encoder models have no
   * KV cache and ignore it.
   */
  readonly kvCache?: DecoderSchedulerOptions;
  /** Tokenizer worker threads for large requests (0 = always tokenize on the calling thread). */
  readonly tokenizerWorkers?: number;
  /** Requests with at least this many characters tokenize in the workers. */
  readonly minCharsForTokenizerWorkers?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** What to serve: 'embed', 'classify', 'score' (a cross-encoder), or 'auto' (default: from the checkpoint). */
  readonly task?: ModelTask | 'auto';
  /** config.json fields replaced before parsing (vLLM's --hf-overrides). */
  readonly hfOverrides?: Readonly<Record<string, unknown>>;
  /** Where load-time notices go (an unused classification head); default console.warn. */
  readonly log?: (message: string) => void;
}

/** One input of a classification request: a text, or a text pair (two segments, as cross-encoders read them). */
export type ClassifyInput = string | readonly [string, string];

export interface ClassifyResult {
  /** Per input: the head's raw logits, one per label (float64). */
  readonly logits: Float64Array[];
  /** The sequences computed (a pair is one sequence), for metrics. */
  readonly sequences: readonly Int32Array[];
  readonly tokenizationSeconds: number;
  readonly numPromptTokens: number;
  readonly queueSeconds: number;
  readonly inferenceSeconds: number;
}

export interface PairScoreResult {
  /** Per pair: the cross-encoder's score, activated (sigmoid for one label) unless useActivation is false. */
  readonly scores: number[];
  readonly sequences: readonly Int32Array[];
  readonly tokenizationSeconds: number;
  readonly numPromptTokens: number;
  readonly queueSeconds: number;
  readonly inferenceSeconds: number;
}

export interface EmbedOptions {
  /** L2-normalize each row; default: whether the model's sentence-transformers pipeline has a Normalize module. */
  readonly normalize?: boolean;
  /** Matryoshka truncation (then normalize); only for models trained for it. */
  readonly dimensions?: number;
  /** A prompt from config_sentence_transformers.json, prepended to every text. */
  readonly promptName?: string;
  /** Over-long inputs: 'none' rejects (400), 'end'/'start' cut that side; default: the server's setting. */
  readonly truncate?: TruncationSide;
  /** Cut inputs to this many tokens (<= the model's max length); implies truncation 'end' unless given. */
  readonly maxLength?: number;
  /**
   * The request fields that carried these options, named by their errors (default: the options' own names). The
   * HTTP routes pass theirs: truncate_prompt_tokens, or Cohere's max_tokens and output_dimension.
   */
  readonly fieldNames?: { readonly maxLength?: string; readonly dimensions?: string };
  /** false: tokenize texts without the tokenizer's special tokens (vLLM's add_special_tokens); default true. */
  readonly addSpecialTokens?: boolean;
}

/** One input: a text, or token ids used verbatim (no special tokens added). */
export type EmbedInput = string | ArrayLike<number>;

export interface EmbedResult {
  readonly rows: Float32Array[];
  /** Tokens computed, special tokens included (the `usage.prompt_tokens` of OpenAI's API). */
  readonly numPromptTokens: number;
  readonly queueSeconds: number;
  readonly inferenceSeconds: number;
}

/** Token ids of a request's inputs, ready for the scheduler. */
export interface PreparedInputs {
  readonly sequences: Int32Array[];
  readonly tokenizationSeconds: number;
}

/** Scheduling of one request: priority (lower first) and cancellation. */
export interface RequestControl {
  readonly priority?: number;
  readonly signal?: AbortSignal;
  /** Prefix-cache isolation for decoder models (vLLM's `cache_salt`): only equal salts share cached blocks. */
  readonly cacheSalt?: string;
}

/** What /info reports about KV caching. */
export interface KvCacheDescription {
  /** Both false for encoders (bidirectional attention: nothing to page, reuse or chunk). */
  readonly prefixCaching: boolean;
  readonly chunkedPrefill: boolean;
  /** Why the features are off, when they are. */
  readonly reason?: string;
  readonly blockSize?: number;
  readonly numBlocks?: number;
  readonly maxTokensPerSequence?: number;
}

export const DEFAULT_LIMITS: SchedulerLimits = {
  maxNumBatchedTokens: 16384,
  maxNumSeqs: 256,
  maxQueuedTokens: 1 << 20,
};

export class Embedder {
  readonly model: LoadedModel;
  readonly tokenizer: TextTokenizer;
  readonly backend: Backend;
  readonly scheduler: EmbeddingScheduler;
  readonly defaultTruncation: TruncationSide;
  /** What the backend was built with (reported in /info and /v1/models). */
  readonly dtype: ComputeDType;
  readonly quantization: Quantization | null;
  private readonly tokenizerPool: TokenizerPool;

  private constructor(model: LoadedModel, tokenizer: TextTokenizer, backend: Backend, opts: EmbedderOptions) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.backend = backend;
    this.defaultTruncation = opts.truncation ?? 'none';
    this.dtype = opts.dtype ?? 'float32';
    this.quantization = opts.quantization ?? null;
    this.scheduler = createScheduler(model, backend, { ...DEFAULT_LIMITS, ...opts.limits }, opts.kvCache);
    this.tokenizerPool = new TokenizerPool(model.path, tokenizer, {
      numWorkers: opts.tokenizerWorkers ?? Math.min(2, Math.max(1, cpus().length - 1)),
      minCharsForWorkers: opts.minCharsForTokenizerWorkers ?? 32768,
    });
  }

  static async load(modelIdOrPath: string, opts: EmbedderOptions = {}): Promise<Embedder> {
    let headTokenizer: TextTokenizer | undefined;
    const model = await loadModel(modelIdOrPath, {
      revision: opts.revision,
      servedModelName: opts.servedModelName,
      env: opts.env,
      overrides: {
        pooling: opts.pooling,
        normalize: opts.normalize,
        maxModelLen: opts.maxModelLen,
        defaultPromptName: opts.defaultPromptName,
      },
      task: opts.task,
      hfOverrides: opts.hfOverrides,
      // A head that names tokens (Qwen3-Reranker's "yes" / "no") needs the tokenizer during the load; it is kept and
      // reused below rather than read and built a second time.
      vocabulary: (folder) => {
        headTokenizer = TextTokenizer.load(folder);
        const loaded = headTokenizer;
        return (token) => loaded.tokenId(token);
      },
      log: opts.log ?? ((message) => console.warn(message)),
    });
    const tokenizer = headTokenizer ?? TextTokenizer.load(model.path);
    const backend = await createBackend(opts.backend ?? defaultBackendFor(model), model, {
      dtype: opts.dtype ?? 'float32',
      quantization: opts.quantization ?? null,
      threads: opts.threads ?? cpus().length,
      releaseWorkingMemoryAfterSeconds: opts.releaseWorkingMemoryAfterSeconds,
      maxBatchTokens: opts.limits?.maxNumBatchedTokens ?? DEFAULT_LIMITS.maxNumBatchedTokens,
    });
    return new Embedder(model, tokenizer, backend, opts);
  }

  get id(): string {
    return this.model.id;
  }

  get hiddenSize(): number {
    return this.model.config.hiddenSize;
  }

  get maxSeqLength(): number {
    return this.model.settings.maxSeqLength;
  }

  /** What this model serves: 'embed' (pooled embeddings), 'classify' or 'score' (its classification head). */
  get task(): ModelTask {
    return this.model.task ?? 'embed';
  }

  /** The classification head; throws a 400 naming the route's need when the model serves embeddings. */
  requireHead(what: string): ClassificationHead {
    const head = this.model.head;
    if (head === undefined) {
      throw new InvalidRequestError(`${what} needs a classification model (a cross-encoder); model "${this.id}" serves task ${this.task}.`, 'model');
    }
    return head;
  }

  /** Throws a 400 unless this model serves embeddings (a classification model needs --task embed for that). */
  requireEmbedTask(): void {
    if (this.task !== 'embed') {
      throw new InvalidRequestError(
        `Model "${this.id}" serves task ${this.task} (its classification head): use /classify, /score or /rerank, or start the server with --task embed for embeddings.`,
        'model',
      );
    }
  }

  /**
   * Texts and text pairs through the encoder and the classification head: one sequence per input (a pair's second text
   * gets token type 1 where the tokenizer says so), the head's logits per input. Long inputs follow opts.truncate /
   * maxLength ('end' cuts pairs longest-first, as Hugging Face tokenizers do).
   */
  async classifyInputs(
    inputs: readonly ClassifyInput[],
    opts: EmbedOptions = {},
    control: RequestControl = {},
    params?: readonly string[],
  ): Promise<ClassifyResult> {
    const head = this.requireHead('classification');
    const started = performance.now();
    const encode = this.encodeOptions(opts);
    const sequences: Int32Array[] = [];
    const tokenTypeIds: Int32Array[] = [];
    inputs.forEach((input, i) => {
      const param = params?.[i] ?? (inputs.length === 1 ? 'input' : `input[${i}]`);
      if (typeof input === 'string') {
        const ids = this.tokenizer.encode(this.textToEncode(input, opts), { ...encode, param });
        sequences.push(ids);
        tokenTypeIds.push(new Int32Array(ids.length));
      } else if (head.pairTemplate !== undefined) {
        const ids = this.encodeTemplatedPair(head.pairTemplate, input[0], input[1], { ...encode, param });
        sequences.push(ids);
        tokenTypeIds.push(new Int32Array(ids.length));
      } else {
        const pair = this.tokenizer.encodePair(this.textToEncode(input[0], opts), this.textToEncode(input[1], opts), { ...encode, param });
        sequences.push(pair.ids);
        tokenTypeIds.push(pair.typeIds);
      }
    });
    const tokenizationSeconds = (performance.now() - started) / 1000;
    const result = await this.scheduler.submit(sequences, {
      dimensions: 0,
      normalize: false,
      tokenTypeIds,
      priority: control.priority,
      signal: control.signal,
    });
    let numPromptTokens = 0;
    for (const s of sequences) numPromptTokens += s.length;
    return {
      logits: result.rows.map((row) => headLogits(head, row)),
      sequences,
      tokenizationSeconds,
      numPromptTokens,
      queueSeconds: result.queueSeconds,
      inferenceSeconds: result.inferenceSeconds,
    };
  }

  /**
   * A decoder reranker's pair in its prompt (Qwen3-Reranker's model card code): prefix and suffix tokenized on their own
   * and kept whole, the instruction / query / document text between them cut from its end (or start) when too long.
   */
  private encodeTemplatedPair(template: PairTemplate, query: string, document: string, opts: EncodeOptions): Int32Array {
    const prefix = this.tokenizer.encodeBare(template.prefix);
    const suffix = this.tokenizer.encodeBare(template.suffix);
    const [beforeInstruction, beforeQuery, beforeDocument] = template.body;
    let body = this.tokenizer.encodeBare(`${beforeInstruction}${template.defaultInstruction}${beforeQuery}${query}${beforeDocument}${document}`);
    const total = prefix.length + body.length + suffix.length;
    if (total > opts.maxLength) {
      if (opts.truncation === 'none') {
        throw new InvalidRequestError(
          `Input pair of ${total} tokens (with the reranker's prompt) exceeds the model's maximum input length of ${opts.maxLength} tokens. Shorten the texts or ask for truncation.`,
          opts.param ?? 'input',
          'context_length_exceeded',
        );
      }
      const room = Math.max(0, opts.maxLength - prefix.length - suffix.length);
      body = opts.truncation === 'end' ? body.slice(0, room) : body.slice(body.length - room);
    }
    return Int32Array.from([...prefix, ...body, ...suffix]);
  }

  /** Probabilities (or scores) per label for /classify: the head's classify activation, unless useActivation is false. */
  classProbabilities(logits: Float64Array, useActivation = true): Float64Array {
    const head = this.requireHead('classification');
    return useActivation ? activate(logits, head.classifyActivation) : logits.slice();
  }

  /** Cross-encoder scores of (query, document) pairs: one sequence per pair, the one-label head's activated logit. */
  async scorePairs(
    pairs: readonly (readonly [string, string])[],
    opts: EmbedOptions & { readonly useActivation?: boolean } = {},
    control: RequestControl = {},
    params?: readonly string[],
  ): Promise<PairScoreResult> {
    const head = this.requireHead('scoring text pairs');
    if (head.numLabels !== 1) {
      throw new InvalidRequestError(`Model "${this.id}" has ${head.numLabels} labels; scoring pairs needs a one-label cross-encoder (use /classify).`, 'model');
    }
    const result = await this.classifyInputs(pairs, opts, control, params);
    const useActivation = opts.useActivation ?? true;
    return {
      scores: result.logits.map((logits) => (useActivation ? activate(logits, head.scoreActivation) : logits)[0]),
      sequences: result.sequences,
      tokenizationSeconds: result.tokenizationSeconds,
      numPromptTokens: result.numPromptTokens,
      queueSeconds: result.queueSeconds,
      inferenceSeconds: result.inferenceSeconds,
    };
  }

  /** Whether this model runs with paged KV blocks, prefix caching and chunked prefill, and the cache's geometry. */
  describeKvCache(): KvCacheDescription {
    if (this.scheduler instanceof DecoderScheduler) {
      const { kv, maxTokensPerSequence } = this.scheduler.stats;
      return {
        prefixCaching: kv.prefixCachingEnabled,
        chunkedPrefill: true,
        blockSize: kv.blockSize,
        numBlocks: kv.numUsableBlocks,
        maxTokensPerSequence,
        ...(kv.prefixCachingEnabled ? {} : { reason: 'prefix caching disabled (--no-enable-prefix-caching)' }),
      };
    }
    const reason = !hasKvCache(this.model.config)
      ? 'encoder model: bidirectional attention, every input is computed whole'
      : this.model.settings.pooling !== 'last'
        ? `decoder with ${this.model.settings.pooling} pooling: needs every token's hidden state, so inputs are computed whole`
        : `the ${this.backend.name} backend has no paged KV cache: inputs are computed whole`;
    return { prefixCaching: false, chunkedPrefill: false, reason };
  }

  /** Plain description for logs, /v1/models and /info. */
  describe(): Record<string, unknown> {
    return { ...describeModel(this.model), backend: this.backend.name };
  }

  /** Checks `dimensions` the way vLLM does for Matryoshka models; returns 0 for "all". */
  resolveDimensions(dimensions: number | undefined, param = 'dimensions'): number {
    if (dimensions === undefined) return 0;
    const { config } = this.model;
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new InvalidRequestError(`${param} must be a positive integer, got ${dimensions}.`, param);
    }
    if (!config.isMatryoshka) {
      throw new InvalidRequestError(
        `Model "${this.id}" does not support matryoshka representation; changing output dimensions would give poor results.`,
        param,
      );
    }
    if (dimensions > config.hiddenSize) {
      throw new InvalidRequestError(`${param} (${dimensions}) exceeds the model's embedding size (${config.hiddenSize}).`, param);
    }
    const allowed = config.matryoshkaDimensions;
    if (allowed && !allowed.includes(dimensions)) {
      throw new InvalidRequestError(`Model "${this.id}" only supports dimensions ${allowed.join(', ')} (matryoshka_dimensions), got ${dimensions}.`, param);
    }
    return dimensions === config.hiddenSize ? 0 : dimensions;
  }

  /** Text -> token ids with special tokens, after the prompt prefix, truncated or rejected per options. */
  tokenize(text: string, opts: EmbedOptions = {}, param = 'input'): Int32Array {
    return this.tokenizer.encode(this.textToEncode(text, opts), { ...this.encodeOptions(opts), param });
  }

  /** Token ids as an embedding request would compute them, with no length limit (for /tokenize). */
  tokenizeUnbounded(text: string, promptName?: string): Int32Array {
    return this.tokenizer.encode(this.textToEncode(text, { promptName }), { maxLength: Infinity, truncation: 'none' });
  }

  /** The text the tokenizer sees: prompt prefix, then sentence-transformers' optional lowercasing. */
  private textToEncode(text: string, opts: EmbedOptions): string {
    const input = this.promptPrefix(opts.promptName) + text;
    // sentence-transformers' Transformer module lowercases the whole input (prompt included) when
    // sentence_bert_config.json says do_lower_case (sentence_transformers/models/Transformer.py, tokenize()).
    return this.model.settings.doLowerCase ? input.toLowerCase() : input;
  }

  private encodeOptions(opts: EmbedOptions): { maxLength: number; truncation: TruncationSide; addSpecialTokens?: boolean } {
    const maxLength = this.effectiveMaxLength(opts.maxLength, opts.fieldNames?.maxLength);
    const truncation = opts.truncate ?? (opts.maxLength !== undefined ? 'end' : this.defaultTruncation);
    return { maxLength, truncation, ...(opts.addSpecialTokens === false ? { addSpecialTokens: false } : {}) };
  }

  /**
   * Texts and token-id inputs -> validated sequences. Large requests tokenize in worker threads so the event
   * loop keeps serving; `params` names each input for error messages (default "input[i]").
   */
  async prepare(inputs: readonly EmbedInput[], opts: EmbedOptions = {}, params?: readonly string[]): Promise<PreparedInputs> {
    const started = performance.now();
    const paramOf = (i: number) => params?.[i] ?? (inputs.length === 1 ? 'input' : `input[${i}]`);
    const sequences = new Array<Int32Array>(inputs.length);
    const textIndices: number[] = [];
    inputs.forEach((input, i) => {
      if (typeof input === 'string') textIndices.push(i);
      else sequences[i] = this.checkTokenIds(input, opts, paramOf(i));
    });
    if (textIndices.length > 0) {
      const texts = textIndices.map((i) => this.textToEncode(inputs[i] as string, opts));
      const encoded = await this.tokenizerPool.encodeMany(texts, textIndices.map(paramOf), this.encodeOptions(opts));
      textIndices.forEach((inputIndex, k) => (sequences[inputIndex] = encoded[k]));
    }
    return { sequences, tokenizationSeconds: (performance.now() - started) / 1000 };
  }

  /** Validates token ids given by the client (used verbatim, like vLLM's prompt_token_ids). */
  checkTokenIds(ids: ArrayLike<number>, opts: EmbedOptions = {}, param = 'input'): Int32Array {
    if (ids.length === 0) throw new InvalidRequestError('Token id inputs must not be empty.', param);
    const vocabSize = this.model.config.vocabSize;
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new InvalidRequestError(`Token id ${id} at position ${i} is outside the model's vocabulary [0, ${vocabSize}).`, param, 'invalid_token_id', 422);
      }
      out[i] = id;
    }
    const maxLength = this.effectiveMaxLength(opts.maxLength, opts.fieldNames?.maxLength);
    if (out.length > maxLength) {
      const truncation = opts.truncate ?? (opts.maxLength !== undefined ? 'end' : this.defaultTruncation);
      if (truncation === 'none') {
        throw new InvalidRequestError(
          `Input of ${out.length} tokens exceeds the model's maximum input length of ${maxLength} tokens. Shorten the input or ask for truncation.`,
          param,
          'context_length_exceeded',
        );
      }
      return truncation === 'end' ? out.slice(0, maxLength) : out.slice(out.length - maxLength);
    }
    return out;
  }

  /** Texts or token ids -> pooled rows, with the token count for usage accounting. */
  async embedInputs(inputs: readonly EmbedInput[], opts: EmbedOptions = {}, control: RequestControl = {}): Promise<EmbedResult> {
    this.requireEmbedTask();
    const dimensions = this.resolveDimensions(opts.dimensions, opts.fieldNames?.dimensions);
    const { sequences } = await this.prepare(inputs, opts);
    return this.embedSequences(sequences, { ...opts, dimensions }, control);
  }

  /** Already-tokenized sequences -> pooled rows (dimensions already resolved by resolveDimensions). */
  async embedSequences(sequences: readonly Int32Array[], opts: EmbedOptions = {}, control: RequestControl = {}): Promise<EmbedResult> {
    const normalize = opts.normalize ?? this.model.settings.normalize;
    const result = await this.scheduler.submit(sequences, {
      dimensions: opts.dimensions ?? 0,
      normalize,
      priority: control.priority,
      signal: control.signal,
      cacheSalt: control.cacheSalt,
    });
    let numPromptTokens = 0;
    for (const s of sequences) numPromptTokens += s.length;
    return { ...result, numPromptTokens };
  }

  async embed(texts: readonly string[], opts: EmbedOptions = {}): Promise<Float32Array[]> {
    return (await this.embedInputs(texts, opts)).rows;
  }

  /** Cosine similarity of two texts' embeddings. */
  async score(a: string, b: string, opts: EmbedOptions = {}): Promise<number> {
    const [x, y] = await this.embed([a, b], { ...opts, normalize: false });
    return cosineSimilarity(x, y);
  }

  async close(): Promise<void> {
    await this.scheduler.close();
    await this.tokenizerPool.close();
    await this.backend.dispose();
  }

  private promptPrefix(promptName: string | undefined): string {
    const name = promptName ?? this.model.settings.defaultPromptName ?? undefined;
    if (name === undefined) return '';
    const prompts = this.model.settings.prompts;
    if (!Object.hasOwn(prompts, name)) {
      const known = Object.keys(prompts);
      throw new InvalidRequestError(
        `Unknown prompt name "${name}"; this model defines ${known.length ? known.map((k) => `"${k}"`).join(', ') : 'no prompts'}.`,
        'prompt_name',
      );
    }
    return prompts[name];
  }

  private effectiveMaxLength(requested: number | undefined, param = 'maxLength'): number {
    const max = this.maxSeqLength;
    if (requested === undefined || requested === -1) return max;
    if (!Number.isInteger(requested) || requested < 1) {
      throw new InvalidRequestError(`${param} must be a positive integer or -1, got ${requested}.`, param);
    }
    if (requested > max) {
      throw new InvalidRequestError(`${param} (${requested}) exceeds the model's maximum input length (${max}).`, param);
    }
    return requested;
  }
}

/**
 * The decoder scheduler (paged KV, prefix caching, chunked prefill) for decoder models on a backend with a paged KV
 * cache and LAST pooling; the encoder scheduler (whole sequences per step) for everything else, decoders included,
 * whose backend then computes causal attention one-shot.
 */
function createScheduler(model: LoadedModel, backend: Backend, limits: SchedulerLimits, kvCache: DecoderSchedulerOptions | undefined): EmbeddingScheduler {
  if (hasKvCache(model.config) && supportsPagedKv(backend) && model.settings.pooling === 'last') {
    return new DecoderScheduler(backend, model.settings.pooling, limits, kvCache);
  }
  return new Scheduler(backend, model.settings.pooling, limits, firstPositionOf(model.config));
}

export function cosineSimilarity(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`cosine of vectors of different lengths ${x.length} and ${y.length}`);
  let dot = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i] * y[i];
    xx += x[i] * x[i];
    yy += y[i] * y[i];
  }
  const denom = Math.sqrt(xx) * Math.sqrt(yy);
  return denom === 0 ? 0 : dot / denom;
}
