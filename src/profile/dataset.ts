// The inputs a run sends: a list of entries, each the content of one request (texts and/or images, or a query
// and its passages for rankings), reused round-robin. Entries come either from synthesis (exact token lengths,
// seeded) or from a JSONL file in AIPerf's single_turn format.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import type { InputSource, RankingsOptions, SyntheticImageOptions } from './options.js';
import { SeededRandom, sampleCount } from './rng.js';
import { syntheticPngDataUri } from './synthetic_image.js';
import { SyntheticTextGenerator } from './synthetic_text.js';
import type { TokenCounter } from './tokenizer_loader.js';

export interface DatasetEntry {
  readonly id: string;
  /** The texts to embed; for rankings, the passages to rank against `query`. */
  readonly texts: readonly string[];
  /** Rankings only: the query (AIPerf's text named "query"). */
  readonly query?: string;
  /** Image URLs: data URIs (synthetic or read from local files) or http(s) URLs passed through. */
  readonly images: readonly string[];
  /** Sum of the client-side token counts of the texts (and query); null when no tokenizer is available. */
  readonly inputSequenceLength: number | null;
}

function syntheticImages(options: SyntheticImageOptions, rng: SeededRandom): string[] {
  const images: string[] = [];
  for (let i = 0; i < options.batchSize; i++) {
    const width = sampleCount(rng, options.widthMean, options.widthStddev);
    const height = sampleCount(rng, options.heightMean, options.heightStddev);
    images.push(syntheticPngDataUri(width, height, rng));
  }
  return images;
}

/** AIPerf's synthetic rankings composer: per entry a query and a sampled number of passages, each of sampled length. */
function syntheticRankingsEntry(id: string, rankings: RankingsOptions, textGenerator: SyntheticTextGenerator, rng: SeededRandom): DatasetEntry {
  const numPassages = sampleCount(rng, rankings.passagesMean, rankings.passagesStddev);
  const query = textGenerator.generate(sampleCount(rng, rankings.queryTokensMean, rankings.queryTokensStddev));
  const passages: string[] = [];
  let numTokens = query.numTokens;
  for (let p = 0; p < numPassages; p++) {
    const passage = textGenerator.generate(sampleCount(rng, rankings.passageTokensMean, rankings.passageTokensStddev));
    passages.push(passage.text);
    numTokens += passage.numTokens;
  }
  return { id, query: query.text, texts: passages, images: [], inputSequenceLength: numTokens };
}

export function buildSyntheticDataset(
  source: Extract<InputSource, { kind: 'synthetic' }>,
  counter: TokenCounter,
  seed: number,
  numEntries: number,
): DatasetEntry[] {
  const rng = new SeededRandom(seed);
  const textGenerator = new SyntheticTextGenerator(counter, rng);
  const entries: DatasetEntry[] = [];
  if (source.rankings) {
    for (let e = 0; e < numEntries; e++) entries.push(syntheticRankingsEntry(`synthetic_${e}`, source.rankings, textGenerator, rng));
    return entries;
  }
  for (let e = 0; e < numEntries; e++) {
    const texts: string[] = [];
    let numTokens = 0;
    for (let t = 0; t < source.batchSizeText; t++) {
      const generated = textGenerator.generate(sampleCount(rng, source.tokensMean, source.tokensStddev));
      texts.push(generated.text);
      numTokens += generated.numTokens;
    }
    const images = source.images ? syntheticImages(source.images, rng) : [];
    entries.push({ id: `synthetic_${e}`, texts, images, inputSequenceLength: numTokens });
  }
  return entries;
}

const IMAGE_MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
};

/** URLs pass through; a local path becomes a data URI, looked up next to the input file first, then from cwd. */
function imageReference(reference: string, inputFileFolder: string): string {
  if (/^(data:|https?:\/\/)/i.test(reference)) return reference;
  const besideInputFile = isAbsolute(reference) ? reference : resolve(inputFileFolder, reference);
  const path = existsSync(besideInputFile) ? besideInputFile : resolve(reference);
  const mime = IMAGE_MIME_BY_EXTENSION[extname(path).toLowerCase()];
  if (!mime) throw new Error(`image "${reference}": unknown image type (png, jpg, jpeg, webp, gif)`);
  return `data:${mime};base64,${readFileSync(path).toString('base64')}`;
}

function stringList(value: unknown, field: string, lineNumber: number): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw new Error(`line ${lineNumber}: "${field}" must be a string or a list of strings`);
}

/** One of AIPerf's named texts, {"name": "passages", "contents": [...]}; a bare string has no name. */
interface NamedTexts {
  readonly name: string | null;
  readonly contents: readonly string[];
}

function isNamedTexts(value: unknown): value is { name?: unknown; contents?: unknown } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** "texts": a list of strings, or (AIPerf's full single_turn form) a list of {name, contents}. */
function textList(value: unknown, lineNumber: number): NamedTexts[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.length > 0 && value.every(isNamedTexts)) {
    return value.map((item) => {
      const { name, contents } = item as { name?: unknown; contents?: unknown };
      if (name !== undefined && name !== null && typeof name !== 'string') throw new Error(`line ${lineNumber}: a "texts" name must be a string`);
      return { name: typeof name === 'string' ? name : null, contents: stringList(contents ?? [], 'contents', lineNumber) };
    });
  }
  return stringList(value, 'texts', lineNumber).map((text) => ({ name: null, contents: [text] }));
}

/**
 * A rankings request from named texts, as AIPerf's rankings endpoints read a turn: the query from the text named
 * "query" (or "queries", genai-perf's name; the first one), the passages from "passages". AIPerf only warns about
 * other names and a missing query fails its request; here both refuse the file, since the request would not be
 * the one the file describes.
 */
function rankingsEntry(id: string, named: readonly NamedTexts[], where: string, counter: TokenCounter | null): DatasetEntry {
  const queries: string[] = [];
  const passages: string[] = [];
  for (const { name, contents } of named) {
    if (name === 'query' || name === 'queries') queries.push(...contents);
    else if (name === 'passages') passages.push(...contents);
    else {
      throw new Error(
        `${where}: rankings reads texts named "query" and "passages", got ${name === null ? 'an unnamed text' : `"${name}"`} ` +
          '(e.g. {"texts": [{"name": "query", "contents": ["..."]}, {"name": "passages", "contents": ["...", "..."]}]})',
      );
    }
  }
  if (queries.length === 0) throw new Error(`${where}: no text named "query"`);
  if (queries.length > 1) throw new Error(`${where}: ${queries.length} queries; a rankings request has one`);
  if (passages.length === 0) throw new Error(`${where}: no passages (a text named "passages" with at least one content)`);
  const query = queries[0]!;
  const inputSequenceLength = counter ? [query, ...passages].reduce((sum, text) => sum + counter.countTokens(text), 0) : null;
  return { id, query, texts: passages, images: [], inputSequenceLength };
}

/**
 * Reads AIPerf single_turn JSONL: {"text": ...} | {"texts": [...] or [{name, contents}]}, optional "image" | "images".
 * With `rankings`, each line is one query and its passages, as named texts.
 */
export function loadInputFile(path: string, counter: TokenCounter | null, options: { rankings?: boolean } = {}): DatasetEntry[] {
  const folder = dirname(resolve(path));
  const entries: DatasetEntry[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      const lineNumber = index + 1;
      if (line.trim() === '') return;
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line) as Record<string, unknown>;
      } catch (error) {
        throw new Error(`${path} line ${lineNumber}: not JSON (${(error as Error).message})`);
      }
      const named = [...stringList(row.text, 'text', lineNumber).map((text) => ({ name: 'text', contents: [text] })), ...textList(row.texts, lineNumber)];
      if (options.rankings) {
        if (row.image !== undefined || row.images !== undefined) throw new Error(`${path} line ${lineNumber}: rankings requests carry no images`);
        entries.push(rankingsEntry(`line_${lineNumber}`, named, `${path} line ${lineNumber}`, counter));
        return;
      }
      const texts = named.flatMap((item) => item.contents);
      const images = [...stringList(row.image, 'image', lineNumber), ...stringList(row.images, 'images', lineNumber)].map((ref) => imageReference(ref, folder));
      if (texts.length === 0 && images.length === 0) throw new Error(`${path} line ${lineNumber}: no "text", "texts", "image" or "images"`);
      const inputSequenceLength = counter ? texts.reduce((sum, text) => sum + counter.countTokens(text), 0) : null;
      entries.push({ id: `line_${lineNumber}`, texts, images, inputSequenceLength });
    });
  if (entries.length === 0) throw new Error(`${path} has no requests`);
  return entries;
}
