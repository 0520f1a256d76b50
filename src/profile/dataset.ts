// The inputs a run sends: a list of entries, each the content of one request (texts and/or images),
// reused round-robin. Entries come either from synthesis (exact token lengths, seeded) or from a JSONL file
// in AIPerf's single_turn format.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import type { InputSource, SyntheticImageOptions } from './options.js';
import { SeededRandom, sampleCount } from './rng.js';
import { syntheticPngDataUri } from './synthetic_image.js';
import { SyntheticTextGenerator } from './synthetic_text.js';
import type { TokenCounter } from './tokenizer_loader.js';

export interface DatasetEntry {
  readonly id: string;
  readonly texts: readonly string[];
  /** Image URLs: data URIs (synthetic or read from local files) or http(s) URLs passed through. */
  readonly images: readonly string[];
  /** Sum of the client-side token counts of the texts; null when no tokenizer is available. */
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

export function buildSyntheticDataset(
  source: Extract<InputSource, { kind: 'synthetic' }>,
  counter: TokenCounter,
  seed: number,
  numEntries: number,
): DatasetEntry[] {
  const rng = new SeededRandom(seed);
  const textGenerator = new SyntheticTextGenerator(counter, rng);
  const entries: DatasetEntry[] = [];
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

/** Reads AIPerf single_turn JSONL: {"text": ...} | {"texts": [...]}, optional "image" | "images". */
export function loadInputFile(path: string, counter: TokenCounter | null): DatasetEntry[] {
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
      const texts = [...stringList(row.text, 'text', lineNumber), ...stringList(row.texts, 'texts', lineNumber)];
      const images = [...stringList(row.image, 'image', lineNumber), ...stringList(row.images, 'images', lineNumber)].map((ref) => imageReference(ref, folder));
      if (texts.length === 0 && images.length === 0) throw new Error(`${path} line ${lineNumber}: no "text", "texts", "image" or "images"`);
      const inputSequenceLength = counter ? texts.reduce((sum, text) => sum + counter.countTokens(text), 0) : null;
      entries.push({ id: `line_${lineNumber}`, texts, images, inputSequenceLength });
    });
  if (entries.length === 0) throw new Error(`${path} has no requests`);
  return entries;
}
