// Every model family the server runs, in one list. Adding a family = one folder next to bert/ and qwen3/ with its
// ArchitectureSpec, one line here (docs/adding-an-architecture.md). Code outside src/model/architectures/ asks these
// functions rather than comparing config.architecture with a name.
import { ModelLoadError } from '../../errors.js';
import { describeValue } from '../config_fields.js';
import type { ModelConfig } from '../types.js';
import { BERT } from './bert/spec.js';
import { ERNIE } from './ernie/spec.js';
import { GTE } from './gte/spec.js';
import { MODERNBERT } from './modernbert/spec.js';
import { NOMIC_BERT } from './nomic_bert/spec.js';
import { QWEN3 } from './qwen3/spec.js';
import { ROBERTA } from './roberta/spec.js';
import type { ArchitectureSpec } from './spec.js';

/** The registered families; each claims the config.json files it parses (by model_type), no two the same one. */
const ARCHITECTURES: readonly ArchitectureSpec[] = [
  BERT as unknown as ArchitectureSpec,
  ROBERTA as unknown as ArchitectureSpec,
  ERNIE as unknown as ArchitectureSpec,
  QWEN3 as unknown as ArchitectureSpec,
  NOMIC_BERT as unknown as ArchitectureSpec,
  GTE as unknown as ArchitectureSpec,
  MODERNBERT as unknown as ArchitectureSpec,
];

/** Names of the registered families ('bert', 'roberta', 'ernie', 'qwen3', 'nomic_bert', 'gte'), in registry order. */
export function architectureNames(): string[] {
  return ARCHITECTURES.map((spec) => spec.name);
}

/** The spec registered under `name`, or undefined. */
export function findArchitecture(name: string): ArchitectureSpec | undefined {
  return ARCHITECTURES.find((spec) => spec.name === name);
}

/** The spec of a parsed config (every ModelConfig comes from a registered family's parser). */
export function architectureOf(config: ModelConfig): ArchitectureSpec {
  const spec = findArchitecture(config.architecture);
  if (spec === undefined) throw new RangeError(`no registered architecture '${config.architecture}'`);
  return spec;
}

/** Narrows a config to one family's config type, for family-specific code (a graph builder, an encoder). */
export function isConfigOf<C extends ModelConfig>(config: ModelConfig, spec: ArchitectureSpec<C>): config is C {
  return config.architecture === spec.name;
}

/** Position id of every sequence's first token for this model (0, or pad_token_id + 1 for RoBERTa). */
export function firstPositionOf(config: ModelConfig): number {
  return architectureOf(config).firstPosition(config);
}

/**
 * Most tokens one sequence may hold (special tokens included): the position table's rows from the first position on.
 * RoBERTa's 514 rows with pad_token_id 1 give 512 (modeling_roberta.py create_position_ids_from_input_ids).
 */
export function maxSequenceTokens(config: ModelConfig): number {
  return config.maxPositionEmbeddings - firstPositionOf(config);
}

/** True for families that attend causally (and so can use a paged KV cache, prefix caching and chunked prefill). */
export function hasKvCache(config: ModelConfig): boolean {
  return architectureOf(config).kvBytesPerToken !== null;
}

/** What every family accepts, for "supported: ..." in errors: 'model_type "bert" or ...; or model_type "qwen3" (...)'. */
export function supportedConfigsSummary(): string {
  return ARCHITECTURES.map((spec) => spec.supportedSummary).join('; or ');
}

/** Validates a parsed config.json with the family that claims it; `file` names it in errors. */
export function parseModelConfig(json: unknown, file: string): ModelConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelLoadError(`${file}: config is not a JSON object`);
  }
  const spec = ARCHITECTURES.find((candidate) => candidate.claimsConfigJson(json));
  if (spec !== undefined) return spec.parseConfig(json, file, supportedConfigsSummary());
  const fields = json as Record<string, unknown>;
  const architectures = fields.architectures ?? [];
  if (!Array.isArray(architectures) || !architectures.every((name) => typeof name === 'string')) {
    throw new ModelLoadError(`${file}: "architectures" must be a list of class names (found ${describeValue(architectures)})`);
  }
  throw new ModelLoadError(
    `${file}: unsupported model_type ${describeValue(fields.model_type)}` +
      (architectures.length > 0 ? ` (architectures ${architectures.join(', ')})` : '') +
      `; supported: ${supportedConfigsSummary()}`,
  );
}
