// Tokenization with @huggingface/tokenizers, plus our own truncation.
//
// Why truncation is ours: tokenizer.json may carry `truncation`/`padding` settings (all-MiniLM-L6-v2 ships
// `padding: Fixed 128`, `truncation: 128`); the napi `tokenizers` binding would apply them, @huggingface/tokenizers
// ignores them, and an embedding server must neither pad (ragged batches) nor silently cut text. So inputs longer
// than the model's limit are rejected unless the request or the server asks for truncation, and then we cut the
// text's own tokens while keeping the special tokens that the post-processor adds ([CLS] ... [SEP], or Qwen's
// trailing <|endoftext|>), as Hugging Face tokenizers do when truncation is enabled.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Tokenizer } from '@huggingface/tokenizers';

import { InvalidRequestError, ModelLoadError } from '../errors.js';

/** Which side loses tokens when an input is too long; 'none' rejects it with 400. */
export type TruncationSide = 'none' | 'end' | 'start';

export interface EncodeOptions {
  readonly maxLength: number;
  readonly truncation: TruncationSide;
  /** Request field name to blame in an error (e.g. 'input'). */
  readonly param?: string;
  /** false: no special tokens around the text (vLLM's add_special_tokens); default true. */
  readonly addSpecialTokens?: boolean;
}

function readJsonFile(folder: string, name: string, required: boolean): unknown {
  for (const candidate of [name, `${name}.gz`]) {
    const path = join(folder, candidate);
    if (!existsSync(path)) continue;
    const raw = readFileSync(path);
    const text = candidate.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ModelLoadError(`${path}: not valid JSON (${(err as Error).message})`);
    }
  }
  if (required) throw new ModelLoadError(`${join(folder, name)}: file not found (the tokenizer needs it)`);
  return {};
}

/** A text pair as a cross-encoder reads it: ids with the special tokens, and each token's segment (token type). */
export interface EncodedPair {
  readonly ids: Int32Array;
  readonly typeIds: Int32Array;
}

/**
 * The special tokens the post-processor puts around a pair: [CLS] a [SEP] b [SEP] with types 0..0 1..1 (BERT's
 * TemplateProcessing), <s> a </s></s> b </s> with types all 0 (RoBERTa's RobertaProcessing).
 */
interface PairFrame {
  readonly prefix: readonly number[];
  readonly middle: readonly number[];
  readonly suffix: readonly number[];
  /** Token types of prefix, first text, middle, second text, suffix. */
  readonly types: readonly [number, number, number, number, number];
}

/**
 * Content lengths after 'longest_first' truncation to `budget` tokens, as Hugging Face tokenizers compute it
 * (tokenizers/src/utils/truncation.rs, truncate_encodings, TruncationStrategy::LongestFirst): with n1 <= n2, the longer
 * is cut to max(n1, budget - n1); when both must be cut, the shorter gets floor(budget / 2) and the longer the rest.
 */
export function longestFirstLengths(firstLength: number, secondLength: number, budget: number): [number, number] {
  if (firstLength + secondLength <= budget) return [firstLength, secondLength];
  const swap = firstLength > secondLength;
  let n1 = swap ? secondLength : firstLength;
  let n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  return swap ? [n2, n1] : [n1, n2];
}

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  private pairFrame: PairFrame | null = null;
  /** Special tokens the post-processor puts before and after a single text. */
  private readonly prefixIds: readonly number[];
  private readonly suffixIds: readonly number[];
  readonly vocabSize: number;

  private constructor(tokenizer: Tokenizer) {
    this.tokenizer = tokenizer;
    const frame = TextTokenizer.findSpecialFrame(tokenizer);
    this.prefixIds = frame.prefix;
    this.suffixIds = frame.suffix;
    let maxId = -1;
    for (const id of tokenizer.get_vocab(true).values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
  }

  static load(folder: string): TextTokenizer {
    const tokenizerJson = readJsonFile(folder, 'tokenizer.json', true);
    const tokenizerConfig = readJsonFile(folder, 'tokenizer_config.json', false);
    try {
      return new TextTokenizer(new Tokenizer(tokenizerJson as object, tokenizerConfig as object));
    } catch (err) {
      throw new ModelLoadError(`${join(folder, 'tokenizer.json')}: cannot build the tokenizer (${(err as Error).message})`);
    }
  }

  /** The ids the post-processor adds around a text: encode a probe with and without special tokens and diff. */
  private static findSpecialFrame(tokenizer: Tokenizer): { prefix: number[]; suffix: number[] } {
    const bare: number[] = tokenizer.encode('hello', { add_special_tokens: false }).ids;
    const framed: number[] = tokenizer.encode('hello', { add_special_tokens: true }).ids;
    for (let start = 0; start + bare.length <= framed.length; start++) {
      if (bare.every((id: number, i: number) => framed[start + i] === id)) {
        return { prefix: framed.slice(0, start), suffix: framed.slice(start + bare.length) };
      }
    }
    throw new ModelLoadError('tokenizer post-processor changes the text tokens themselves; cannot truncate safely');
  }

  /** Number of special tokens added around every text. */
  get numSpecialTokens(): number {
    return this.prefixIds.length + this.suffixIds.length;
  }

  /** Token ids of one text with special tokens (unless opts.addSpecialTokens is false), truncated or rejected per `opts`. */
  encode(text: string, opts: EncodeOptions): Int32Array {
    const content = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const framed = opts.addSpecialTokens !== false;
    const prefix = framed ? this.prefixIds : [];
    const suffix = framed ? this.suffixIds : [];
    const numSpecial = prefix.length + suffix.length;
    const total = content.length + numSpecial;
    let kept = content;
    if (total > opts.maxLength) {
      if (opts.truncation === 'none') {
        throw new InvalidRequestError(
          `Input of ${total} tokens exceeds the model's maximum input length of ${opts.maxLength} tokens. Shorten the input or ask for truncation.`,
          opts.param ?? 'input',
          'context_length_exceeded',
        );
      }
      const room = Math.max(0, opts.maxLength - numSpecial);
      kept = opts.truncation === 'end' ? content.slice(0, room) : content.slice(content.length - room);
    }
    if (kept.length + numSpecial === 0) throw new InvalidRequestError('The input has no tokens (and add_special_tokens is false).', opts.param ?? 'input');
    const ids = new Int32Array(kept.length + numSpecial);
    ids.set(prefix, 0);
    ids.set(kept, prefix.length);
    ids.set(suffix, prefix.length + kept.length);
    return ids;
  }

  /**
   * Token ids and token types of a text pair (query, document) with the pair's special tokens. Too long: rejected
   * (truncation 'none'), or cut 'longest_first' as transformers' tokenizers do for cross-encoders (sentence-transformers
   * CrossEncoder tokenizes pairs with truncation=True, whose strategy is longest_first); 'start' cuts each text's start.
   */
  encodePair(first: string, second: string, opts: EncodeOptions): EncodedPair {
    const frame = this.findPairFrame();
    const a: number[] = this.tokenizer.encode(first, { add_special_tokens: false }).ids;
    const b: number[] = this.tokenizer.encode(second, { add_special_tokens: false }).ids;
    const numSpecial = frame.prefix.length + frame.middle.length + frame.suffix.length;
    let keptA = a;
    let keptB = b;
    if (a.length + b.length + numSpecial > opts.maxLength) {
      if (opts.truncation === 'none') {
        throw new InvalidRequestError(
          `Input pair of ${a.length + b.length + numSpecial} tokens exceeds the model's maximum input length of ${opts.maxLength} tokens. Shorten the texts or ask for truncation.`,
          opts.param ?? 'input',
          'context_length_exceeded',
        );
      }
      const [lengthA, lengthB] = longestFirstLengths(a.length, b.length, Math.max(0, opts.maxLength - numSpecial));
      keptA = opts.truncation === 'end' ? a.slice(0, lengthA) : a.slice(a.length - lengthA);
      keptB = opts.truncation === 'end' ? b.slice(0, lengthB) : b.slice(b.length - lengthB);
    }
    const parts = [frame.prefix, keptA, frame.middle, keptB, frame.suffix];
    const ids = new Int32Array(numSpecial + keptA.length + keptB.length);
    const typeIds = new Int32Array(ids.length);
    let offset = 0;
    parts.forEach((part, k) => {
      ids.set(part, offset);
      typeIds.fill(frame.types[k], offset, offset + part.length);
      offset += part.length;
    });
    return { ids, typeIds };
  }

  /** The pair's special tokens and segment types, found once by encoding a probe pair with and without them. */
  private findPairFrame(): PairFrame {
    if (this.pairFrame !== null) return this.pairFrame;
    const a: number[] = this.tokenizer.encode('hello', { add_special_tokens: false }).ids;
    const b: number[] = this.tokenizer.encode('world', { add_special_tokens: false }).ids;
    const framed = this.tokenizer.encode('hello', { text_pair: 'world', add_special_tokens: true, return_token_type_ids: true });
    const ids: number[] = framed.ids;
    const types: number[] = framed.token_type_ids;
    const find = (needle: number[], from: number): number => {
      for (let start = from; start + needle.length <= ids.length; start++) if (needle.every((id, i) => ids[start + i] === id)) return start;
      return -1;
    };
    const startA = find(a, 0);
    const startB = startA === -1 ? -1 : find(b, startA + a.length);
    if (startA === -1 || startB === -1) throw new ModelLoadError('tokenizer post-processor changes the texts of a pair; cannot encode pairs safely');
    const endB = startB + b.length;
    const typeAt = (index: number, fallback: number): number => (index < types.length ? (types[index] ?? fallback) : fallback);
    this.pairFrame = {
      prefix: ids.slice(0, startA),
      middle: ids.slice(startA + a.length, startB),
      suffix: ids.slice(endB),
      types: [typeAt(0, 0), typeAt(startA, 0), typeAt(startA + a.length, 0), typeAt(startB, 0), typeAt(endB, typeAt(startB, 0))],
    };
    return this.pairFrame;
  }

  /** The ids without the special tokens the post-processor added around the text. */
  stripSpecialTokens(ids: Int32Array): Int32Array {
    return ids.subarray(this.prefixIds.length, ids.length - this.suffixIds.length);
  }

  /** The id of one token of the vocabulary (added tokens included), or undefined. */
  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token) ?? undefined;
  }

  /** Token ids of a text as the tokenizer's model and normalizers give them, without any special tokens. */
  encodeBare(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Token strings for /tokenize-style introspection. */
  tokens(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.tokenizer.id_to_token(id) ?? '');
  }

  decode(ids: ArrayLike<number>, skipSpecialTokens = false): string {
    // @huggingface/tokenizers throws on an empty list; no tokens is the empty text (as transformers decodes it).
    if (ids.length === 0) return '';
    return this.tokenizer.decode(Array.from(ids), { skip_special_tokens: skipSpecialTokens });
  }
}
