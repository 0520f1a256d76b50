// The profiler's only contact with tokenization: count the tokens of a text with the model's own tokenizer,
// so that `--synthetic-input-tokens-mean 100` means 100 tokens to that model. Kept in one small file so the
// project's src/tokenizer/ wrapper can replace it without touching the rest of the profiler.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Tokenizer } from '@huggingface/tokenizers';

export interface TokenCounter {
  /** Tokens in `text` without special tokens ([CLS]/[SEP], <|endoftext|>), as AIPerf counts prompt length. */
  countTokens(text: string): number;
  /** The folder the tokenizer was read from, for the record. */
  readonly source: string;
}

function readJson(path: string): unknown {
  const bytes = readFileSync(path);
  return JSON.parse((path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8'));
}

function hasTokenizerFile(folder: string): boolean {
  return existsSync(join(folder, 'tokenizer.json')) || existsSync(join(folder, 'tokenizer.json.gz'));
}

/** Hugging Face hub cache roots in the order huggingface_hub consults them. */
function hubCacheRoots(env: NodeJS.ProcessEnv): string[] {
  const roots: string[] = [];
  if (env.HF_HUB_CACHE) roots.push(env.HF_HUB_CACHE);
  if (env.HUGGINGFACE_HUB_CACHE) roots.push(env.HUGGINGFACE_HUB_CACHE);
  if (env.HF_HOME) roots.push(join(env.HF_HOME, 'hub'));
  const cacheHome = env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  roots.push(join(cacheHome, 'huggingface', 'hub'));
  return roots;
}

/** The snapshot folder of `repoId` in a hub cache: the one refs/main names, else the newest holding a tokenizer. */
function findInHubCache(repoId: string, root: string): string | null {
  const repoFolder = join(root, `models--${repoId.replace(/\//g, '--')}`);
  const snapshots = join(repoFolder, 'snapshots');
  if (!existsSync(snapshots)) return null;
  const mainRef = join(repoFolder, 'refs', 'main');
  if (existsSync(mainRef)) {
    const pinned = join(snapshots, readFileSync(mainRef, 'utf8').trim());
    if (hasTokenizerFile(pinned)) return pinned;
  }
  const candidates = readdirSync(snapshots)
    .map((name) => join(snapshots, name))
    .filter(hasTokenizerFile)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return candidates[0] ?? null;
}

/** Resolves a folder path or an HF id to a folder holding tokenizer.json(.gz); throws with every place tried. */
export function resolveTokenizerFolder(spec: string, env: NodeJS.ProcessEnv = process.env): string {
  if (existsSync(spec) && statSync(spec).isDirectory()) {
    if (hasTokenizerFile(spec)) return spec;
    throw new Error(`tokenizer folder ${spec} has no tokenizer.json or tokenizer.json.gz`);
  }
  const roots = hubCacheRoots(env);
  for (const root of roots) {
    const found = findInHubCache(spec, root);
    if (found) return found;
  }
  throw new Error(
    `cannot find a tokenizer for "${spec}": not a folder, and not in the Hugging Face cache (${roots.join(', ')}). ` +
      'Pass --tokenizer FOLDER (a folder with tokenizer.json), or download the model first.',
  );
}

export function loadTokenCounter(spec: string, env: NodeJS.ProcessEnv = process.env): TokenCounter {
  const folder = resolveTokenizerFolder(spec, env);
  const jsonPath = existsSync(join(folder, 'tokenizer.json')) ? join(folder, 'tokenizer.json') : join(folder, 'tokenizer.json.gz');
  const configPath = join(folder, 'tokenizer_config.json');
  const config = existsSync(configPath) ? readJson(configPath) : {};
  const tokenizer = new Tokenizer(readJson(jsonPath) as object, config as object);
  return {
    source: folder,
    countTokens: (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids.length,
  };
}
