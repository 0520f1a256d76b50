// Model spec -> a folder on disk: (1) a local folder, (2) a complete snapshot in the HF cache, (3) a download
// from the hub into that cache (hub_download.ts). Env vars as huggingface_hub reads them: HF_ENDPOINT,
// HF_TOKEN, HF_HUB_OFFLINE, HF_HUB_CACHE / HF_HOME.
import { stat } from 'node:fs/promises';
import { basename, join, resolve as resolvePath } from 'node:path';
import { ModelLoadError } from '../errors.js';
import { listCheckpointFiles, SAFE_WEIGHTS_NAME } from './checkpoint.js';
import { COMMIT_HASH_PATTERN, hubCacheDir, isFileMarkedMissing, isHubOffline, isRegularFile, readRef, repoFolderName, snapshotFolder } from './hf_cache.js';
import { downloadModelToCache } from './hub_download.js';
import { readOptionalJsonFile } from './json_file.js';
import { OPTIONAL_METADATA_FILES, REQUIRED_METADATA_FILES } from './model_files.js';
import { moduleConfigFiles } from './sentence_transformers.js';

export interface ResolveOptions {
  /** Branch, tag or commit hash (default 'main'); ignored for local folders. */
  readonly revision?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** For tests and proxies; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

export interface ResolvedModel {
  /** Folder holding config.json, tokenizer and weights. */
  readonly path: string;
  /** HF repo id, or the folder's name for a local folder. */
  readonly id: string;
  readonly source: 'folder' | 'cache' | 'hub';
  /** Commit of the snapshot (cache and hub only). */
  readonly commit?: string;
}

const DEFAULT_HUB_URL = 'https://huggingface.co';
const DEFAULT_REVISION = 'main';

// huggingface_hub validators.py `validate_repo_id`: one or two name parts of [A-Za-z0-9_.-], no "--" or "..",
// not starting or ending with "-" or ".".
const REPO_ID_PATTERN = /^(?:[\w.-]{1,96}\/)?[\w.-]{1,96}$/;

export function isValidRepoId(spec: string): boolean {
  if (!REPO_ID_PATTERN.test(spec) || spec.includes('--') || spec.includes('..')) return false;
  return spec.split('/').every((part) => !/^[-.]|[-.]$/.test(part));
}

/** Revisions become paths under refs/ and snapshots/: keep them inside. */
function checkRevision(revision: string): void {
  const segments = revision.split('/');
  if (revision === '' || revision.includes('\\') || segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new ModelLoadError(`invalid revision ${JSON.stringify(revision)}`);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export interface CachedSnapshotState {
  readonly path: string;
  readonly commit: string;
  /** Needed files that are not in the snapshot. */
  readonly missing: readonly string[];
  /** Optional files neither present nor known to be absent (.no_exist marker). */
  readonly unknown: readonly string[];
}

/** What the cache holds for repoId@revision, or null when the revision was never downloaded. */
export async function inspectCachedSnapshot(cacheDir: string, repoId: string, revision: string): Promise<CachedSnapshotState | null> {
  const repoFolder = join(cacheDir, repoFolderName(repoId));
  const commit = COMMIT_HASH_PATTERN.test(revision) ? revision : await readRef(repoFolder, revision);
  if (commit === null) return null;
  const path = snapshotFolder(repoFolder, commit);
  if (!(await isDirectory(path))) return null;

  const missing: string[] = [];
  const unknown: string[] = [];
  for (const file of REQUIRED_METADATA_FILES) if (!(await isRegularFile(join(path, file)))) missing.push(file);
  const weightFiles = await listCheckpointFiles(path);
  if (weightFiles.length === 0) missing.push(SAFE_WEIGHTS_NAME);
  for (const file of weightFiles) if (!(await isRegularFile(join(path, file)))) missing.push(file);

  const optionalFiles = [...OPTIONAL_METADATA_FILES];
  const modulesJson = await readOptionalJsonFile(join(path, 'modules.json'));
  if (modulesJson !== undefined) optionalFiles.push(...moduleConfigFiles(modulesJson, join(path, 'modules.json')));
  for (const file of optionalFiles) {
    if (!(await isRegularFile(join(path, file))) && !(await isFileMarkedMissing(repoFolder, commit, file))) unknown.push(file);
  }
  return { path, commit, missing, unknown };
}

/**
 * Finds or fetches a model. A cached snapshot is used without any network access when every needed file is
 * there and every optional one is present or known absent; offline (HF_HUB_OFFLINE=1) any snapshot with the
 * needed files is used, as Python does. Otherwise the missing files are downloaded.
 */
export async function resolveModel(spec: string, opts: ResolveOptions = {}): Promise<ResolvedModel> {
  const env = opts.env ?? process.env;
  if (spec.trim() === '') throw new ModelLoadError('no model given');

  const folder = resolvePath(spec);
  if (await isDirectory(folder)) {
    if (!(await isRegularFile(join(folder, 'config.json')))) {
      throw new ModelLoadError(`${folder}: model folder has no config.json`);
    }
    return { path: folder, id: basename(folder), source: 'folder' };
  }
  if (!isValidRepoId(spec)) {
    throw new ModelLoadError(`${spec}: no such folder, and not a Hugging Face model id (ORG/NAME)`);
  }

  const revision = opts.revision ?? DEFAULT_REVISION;
  checkRevision(revision);
  const cacheDir = hubCacheDir(env);
  const offline = isHubOffline(env);
  const cached = await inspectCachedSnapshot(cacheDir, spec, revision);
  if (cached !== null && cached.missing.length === 0 && (offline || cached.unknown.length === 0)) {
    return { path: cached.path, id: spec, source: 'cache', commit: cached.commit };
  }
  if (offline) {
    const state = cached === null ? `revision ${revision} is not in the cache` : `the cached snapshot ${cached.path} lacks ${cached.missing.join(', ')}`;
    throw new ModelLoadError(`${spec}: HF_HUB_OFFLINE is set and ${state} (cache: ${cacheDir}); download it once online`);
  }

  const accessToken = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined;
  if (accessToken !== undefined && !accessToken.startsWith('hf_')) {
    // @huggingface/hub refuses such tokens with a TypeError; say it plainly instead.
    throw new ModelLoadError('HF_TOKEN does not look like a Hugging Face access token (it must start with "hf_")');
  }
  const hubUrl = (env.HF_ENDPOINT || DEFAULT_HUB_URL).replace(/\/+$/, '');
  const downloaded = await downloadModelToCache({ repoId: spec, revision, cacheDir, hubUrl, accessToken, fetch: opts.fetch });
  return { path: downloaded.path, id: spec, source: 'hub', commit: downloaded.commit };
}
