// spec -> LoadedModel: resolve the folder, parse config.json, read the safetensors checkpoint, check it against the
// architecture's layout (its ArchitectureSpec, src/model/architectures/), read the sentence-transformers settings. Everything that can be wrong with a model fails here.
import { join } from 'node:path';
import { ModelLoadError } from '../errors.js';
import { architectureOf } from './architectures/registry.js';
import { weightDTypeSummary } from './bert_layout.js';
import { readCheckpoint } from './checkpoint.js';
import { parseModelConfig } from './config.js';
import { hasSequenceClassificationHead, parseClassificationLabels } from './heads/classification.js';
import { readJsonFile } from './json_file.js';
import { resolveModel, type ResolvedModel } from './resolve.js';
import { readEmbeddingSettings, type EmbeddingOverrides } from './sentence_transformers.js';
import type { ClassificationHead, LoadedModel, ModelTask } from './types.js';

export interface LoadModelOptions {
  readonly revision?: string;
  /** The id requests use; default the HF id or the folder name. */
  readonly servedModelName?: string;
  readonly overrides?: EmbeddingOverrides;
  readonly env?: NodeJS.ProcessEnv;
  readonly fetch?: typeof fetch;
  /**
   * What to serve (vLLM's --task / --convert); 'auto' or absent: from the checkpoint, 'score' for a one-label
   * *ForSequenceClassification checkpoint (a cross-encoder), 'classify' for more labels, else 'embed'.
   */
  readonly task?: ModelTask | 'auto';
  /**
   * config.json fields replaced before parsing (vLLM's --hf-overrides: is_matryoshka, matryoshka_dimensions,
   * architectures, ...). `is_causal` must agree with the family's attention (we run each family's own).
   */
  readonly hfOverrides?: Readonly<Record<string, unknown>>;
  /**
   * The model folder's vocabulary (token -> id), for heads that name tokens (a decoder reranker's "yes" / "no"). The
   * tokenizer lives a layer beside this one, so the caller (the Embedder) hands it in.
   */
  readonly vocabulary?: (folder: string) => (token: string) => number | undefined;
  /** Told once what the loader decided that a user should know (an unused head). */
  readonly log?: (message: string) => void;
}

/** LoadedModel plus where it came from (the extra fields are ignored by code that only knows LoadedModel). */
export interface LoadedModelWithOrigin extends LoadedModel {
  readonly source: ResolvedModel['source'];
  readonly commit?: string;
  /** `__metadata__` of the checkpoint (e.g. {format: 'pt'}). */
  readonly checkpointMetadata: Readonly<Record<string, string>>;
}

export async function loadModel(spec: string, opts: LoadModelOptions = {}): Promise<LoadedModelWithOrigin> {
  if (opts.servedModelName !== undefined && opts.servedModelName.trim() === '') {
    throw new ModelLoadError('served model name must not be empty');
  }
  const resolved = await resolveModel(spec, { revision: opts.revision, env: opts.env, fetch: opts.fetch });
  const configPath = join(resolved.path, 'config.json');
  const fileConfigJson = await readJsonFile(configPath);
  if (fileConfigJson === null || typeof fileConfigJson !== 'object' || Array.isArray(fileConfigJson)) {
    throw new ModelLoadError(`${configPath}: config is not a JSON object`);
  }
  const { is_causal: isCausal, ...overrides } = opts.hfOverrides ?? {};
  const configJson = { ...(fileConfigJson as Record<string, unknown>), ...overrides };
  const config = parseModelConfig(configJson, opts.hfOverrides === undefined ? configPath : `${configPath} (with --hf-overrides)`);
  const checkpoint = await readCheckpoint(resolved.path);
  const files = checkpoint.files.join(', ');
  const architecture = architectureOf(config);
  if (isCausal !== undefined && isCausal !== (architecture.attention === 'causal')) {
    throw new ModelLoadError(
      `--hf-overrides is_causal ${String(isCausal)}: ${architecture.displayName} models attend ${architecture.attention}ly here, and the other way is not implemented`,
    );
  }
  const weights = architecture.canonicalizeWeights(checkpoint.tensors, config, files);
  const hasHead = hasSequenceClassificationHead(configJson);
  const requested = opts.task ?? 'auto';
  let task: ModelTask;
  let head: ClassificationHead | undefined;
  if (requested === 'embed' || (requested === 'auto' && !hasHead)) {
    task = 'embed';
    // A head is never dropped silently: embedding a classification checkpoint takes an explicit --task embed.
    if (hasHead) opts.log?.(`${configPath}: the checkpoint's sequence-classification head is unused (task embed): serving the encoder's pooled embeddings`);
  } else {
    if (!hasHead) {
      throw new ModelLoadError(
        `task ${requested} needs a sequence-classification head, and ${configPath} names none (architectures ${JSON.stringify(configJson.architectures ?? [])}); use task embed`,
      );
    }
    if (architecture.classificationHead === undefined) {
      throw new ModelLoadError(`${architecture.displayName} models have no sequence-classification head implemented; use task embed to serve the encoder`);
    }
    const labels = parseClassificationLabels(configJson, configPath);
    let tokenId: ((token: string) => number | undefined) | null = null;
    const lookup = (token: string): number | undefined => {
      if (opts.vocabulary === undefined)
        throw new ModelLoadError(`${configPath}: this head names tokens, and the loader was given no vocabulary to look them up`);
      tokenId ??= opts.vocabulary(resolved.path);
      return tokenId(token);
    };
    head = architecture.classificationHead(checkpoint.tensors, config, labels, files, { configJson, tokenId: lookup });
    // The head's own label count: a decoder reranker turns two token rows into one logit (qwen3/classification_head.ts).
    task = requested === 'auto' ? (head.numLabels === 1 ? 'score' : 'classify') : requested;
    if (task === 'score' && head.numLabels !== 1) {
      throw new ModelLoadError(
        `task score needs a one-label cross-encoder; ${configPath} has ${head.numLabels} labels (${head.labels.join(', ')}): use task classify`,
      );
    }
  }
  const embeddingSettings = await readEmbeddingSettings(resolved.path, config, opts.overrides);
  // The head reads its own pooled row (BERT: the first token), unnormalized, whatever the sentence-transformers files say.
  const settings =
    head === undefined
      ? embeddingSettings
      : {
          ...embeddingSettings,
          pooling: head.pooling,
          normalize: false,
          sources: { ...embeddingSettings.sources, pooling: 'classification head', normalize: 'classification head' },
        };
  if (!architecture.poolings.includes(settings.pooling)) {
    throw new ModelLoadError(
      `${architecture.displayName} models pool ${architecture.poolings.join(', ')}, not ${settings.pooling} (${settings.sources.pooling ?? 'settings'})`,
    );
  }
  return {
    id: opts.servedModelName ?? resolved.id,
    path: resolved.path,
    config,
    weights,
    settings,
    ...(head === undefined ? {} : { task, head }),
    source: resolved.source,
    commit: resolved.commit,
    checkpointMetadata: checkpoint.metadata,
  };
}

export interface ModelDescription {
  readonly id: string;
  readonly path: string;
  readonly architecture: string;
  /** What the model serves: embed, or classify / score through its classification head. */
  readonly task: string;
  /** The head's labels (id order), for classify / score models. */
  readonly labels?: readonly string[];
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
  readonly hiddenAct: string;
  readonly weightsDType: string;
  readonly numParameters: number;
  readonly pooling: string;
  readonly normalize: boolean;
  readonly maxSeqLength: number;
  readonly prompts: Readonly<Record<string, string>>;
  readonly defaultPromptName: string | null;
  readonly isMatryoshka: boolean;
  readonly matryoshkaDimensions: readonly number[] | null;
  readonly sources: Readonly<Record<string, string>>;
  readonly source?: string;
  readonly commit?: string;
}

/** A plain, JSON-ready summary for logs, /v1/models and /info. */
export function describeModel(model: LoadedModel): ModelDescription {
  const { config, settings } = model;
  let numParameters = 0;
  for (const view of model.weights.values()) numParameters += view.shape.reduce((product, dim) => product * dim, 1);
  const origin = model as Partial<LoadedModelWithOrigin>;
  return {
    id: model.id,
    path: model.path,
    architecture: config.architecture,
    task: model.task ?? 'embed',
    ...(model.head === undefined ? {} : { labels: [...model.head.labels] }),
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    numHeads: config.numHeads,
    intermediateSize: config.intermediateSize,
    vocabSize: config.vocabSize,
    maxPositionEmbeddings: config.maxPositionEmbeddings,
    hiddenAct: config.hiddenAct,
    weightsDType: weightDTypeSummary(model.weights),
    numParameters,
    pooling: settings.pooling,
    normalize: settings.normalize,
    maxSeqLength: settings.maxSeqLength,
    prompts: { ...settings.prompts },
    defaultPromptName: settings.defaultPromptName,
    isMatryoshka: config.isMatryoshka,
    matryoshkaDimensions: config.matryoshkaDimensions === null ? null : [...config.matryoshkaDimensions],
    sources: { ...settings.sources },
    ...(origin.source !== undefined ? { source: origin.source } : {}),
    ...(origin.commit !== undefined ? { commit: origin.commit } : {}),
  };
}
