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

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
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

  /** Token ids of one text with special tokens, truncated or rejected per `opts`. */
  encode(text: string, opts: EncodeOptions): Int32Array {
    const content = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const total = content.length + this.numSpecialTokens;
    let kept = content;
    if (total > opts.maxLength) {
      if (opts.truncation === 'none') {
        throw new InvalidRequestError(
          `Input of ${total} tokens exceeds the model's maximum input length of ${opts.maxLength} tokens. Shorten the input or ask for truncation.`,
          opts.param ?? 'input',
          'context_length_exceeded',
        );
      }
      const room = Math.max(0, opts.maxLength - this.numSpecialTokens);
      kept = opts.truncation === 'end' ? content.slice(0, room) : content.slice(content.length - room);
    }
    const ids = new Int32Array(kept.length + this.numSpecialTokens);
    ids.set(this.prefixIds, 0);
    ids.set(kept, this.prefixIds.length);
    ids.set(this.suffixIds, this.prefixIds.length + kept.length);
    return ids;
  }

  /** The ids without the special tokens the post-processor added around the text. */
  stripSpecialTokens(ids: Int32Array): Int32Array {
    return ids.subarray(this.prefixIds.length, ids.length - this.suffixIds.length);
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
