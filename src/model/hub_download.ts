// Downloads the files a model needs from the Hugging Face hub into the shared cache layout (see hf_cache.ts),
// through @huggingface/hub. HTTP requests made (all under hubUrl, with `Authorization: Bearer <token>` when given):
//   GET  /api/models/ORG/NAME/revision/REV?expand=...&expand=sha   revision -> commit (modelInfo)
//   POST /api/models/ORG/NAME/paths-info/COMMIT {paths}            which of the wanted files exist (pathsInfo)
//   per file, by downloadFileToCacheDir: paths-info again (etag), GET /ORG/NAME/resolve/COMMIT/PATH with
//   `Range: bytes=0-0` (size, etag), then the full GET; it writes blobs/ and the snapshots/ symlink.
// The library names a snapshot folder after the *file's* last commit unless given a commit hash, so every call
// here passes the resolved commit: all files then land in one snapshots/<commit>/ folder, as in Python.
// It does not write refs/ or .no_exist/ markers; we do, so Python tools and our cache check agree.
import { HubApiError, downloadFileToCacheDir, modelInfo, pathsInfo } from '@huggingface/hub';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelLoadError } from '../errors.js';
import { SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, parseShardIndex } from './checkpoint.js';
import { COMMIT_HASH_PATTERN, markFileMissing, repoFolderName, snapshotFolder, writeRef } from './hf_cache.js';
import { OPTIONAL_METADATA_FILES, REQUIRED_METADATA_FILES } from './model_files.js';
import { moduleConfigFiles } from './sentence_transformers.js';

export interface HubDownloadOptions {
  readonly repoId: string;
  readonly revision: string;
  readonly cacheDir: string;
  readonly hubUrl: string;
  readonly accessToken?: string;
  readonly fetch?: typeof fetch;
}

export interface DownloadedSnapshot {
  readonly path: string;
  readonly commit: string;
}

/** Turns the library's errors into a ModelLoadError that says what to do. */
function toModelLoadError(error: unknown, opts: HubDownloadOptions, what: string): ModelLoadError {
  if (error instanceof ModelLoadError) return error;
  const where = `${opts.repoId} (revision ${opts.revision}) at ${opts.hubUrl}`;
  if (error instanceof HubApiError) {
    const detail = error.message.split('. URL:')[0];
    switch (error.statusCode) {
      case 401:
        return new ModelLoadError(
          `${what}: ${where}: authentication failed (HTTP 401: ${detail}); ` +
            (opts.accessToken ? 'check HF_TOKEN' : 'the repo may be private or gated: set HF_TOKEN'),
        );
      case 403:
        return new ModelLoadError(`${what}: ${where}: access denied (HTTP 403: ${detail}); gated repos need an accepted licence and HF_TOKEN`);
      case 404:
        return new ModelLoadError(
          `${what}: ${where}: not found (HTTP 404: ${detail}); check the model id and revision` +
            (opts.accessToken ? '' : ' (a private repo also needs HF_TOKEN)'),
        );
      default:
        return new ModelLoadError(`${what}: ${where}: hub error HTTP ${error.statusCode} (${detail})`);
    }
  }
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const message = (error as Error)?.message ?? String(error);
  return new ModelLoadError(
    `${what}: ${where}: ${message}${cause?.code || cause?.message ? ` (${cause.code ?? cause.message})` : ''}; ` +
      'set HF_HUB_OFFLINE=1 to use only the local cache',
  );
}

async function existingPaths(opts: HubDownloadOptions, commit: string, paths: readonly string[]): Promise<Set<string>> {
  try {
    const infos = await pathsInfo({
      repo: { type: 'model', name: opts.repoId },
      paths: [...paths],
      revision: commit,
      hubUrl: opts.hubUrl,
      accessToken: opts.accessToken,
      fetch: opts.fetch,
    });
    return new Set(infos.filter((info) => info.type === 'file').map((info) => info.path));
  } catch (error) {
    throw toModelLoadError(error, opts, 'listing files');
  }
}

/**
 * Downloads config, tokenizer, sentence-transformers metadata and safetensors weights of one revision, skipping
 * files already in the cache, and returns the snapshot folder. Optional files the repo lacks are recorded as
 * .no_exist markers; missing required files are a ModelLoadError naming them.
 */
export async function downloadModelToCache(opts: HubDownloadOptions): Promise<DownloadedSnapshot> {
  const repo = { type: 'model' as const, name: opts.repoId };
  const repoFolder = join(opts.cacheDir, repoFolderName(opts.repoId));

  let commit: string;
  try {
    const info = await modelInfo({
      name: opts.repoId,
      revision: opts.revision,
      hubUrl: opts.hubUrl,
      accessToken: opts.accessToken,
      fetch: opts.fetch,
      additionalFields: ['sha'],
    });
    commit = info.sha;
  } catch (error) {
    throw toModelLoadError(error, opts, 'resolving the revision');
  }
  if (typeof commit !== 'string' || !COMMIT_HASH_PATTERN.test(commit)) {
    throw new ModelLoadError(`${opts.repoId}: the hub at ${opts.hubUrl} returned no commit hash for revision ${opts.revision}`);
  }
  const snapshot = snapshotFolder(repoFolder, commit);

  const download = async (path: string): Promise<void> => {
    try {
      await downloadFileToCacheDir({
        repo,
        path,
        revision: commit,
        hubUrl: opts.hubUrl,
        accessToken: opts.accessToken,
        cacheDir: opts.cacheDir,
        fetch: opts.fetch,
      });
    } catch (error) {
      throw toModelLoadError(error, opts, `downloading ${path}`);
    }
  };
  const downloadOrMark = async (paths: readonly string[], present: Set<string>): Promise<void> => {
    for (const path of paths) {
      if (present.has(path)) await download(path);
      else await markFileMissing(repoFolder, commit, path);
    }
  };

  const firstRound = [...REQUIRED_METADATA_FILES, ...OPTIONAL_METADATA_FILES, SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME];
  const present = await existingPaths(opts, commit, firstRound);
  const missingRequired = REQUIRED_METADATA_FILES.filter((path) => !present.has(path));
  if (!present.has(SAFE_WEIGHTS_NAME) && !present.has(SAFE_WEIGHTS_INDEX_NAME)) {
    missingRequired.push(`${SAFE_WEIGHTS_NAME} (or ${SAFE_WEIGHTS_INDEX_NAME}; pytorch_model.bin is not supported)`);
  }
  if (missingRequired.length > 0) {
    throw new ModelLoadError(`${opts.repoId} (revision ${opts.revision}) has no ${missingRequired.join(', ')} on ${opts.hubUrl}`);
  }

  for (const path of REQUIRED_METADATA_FILES) await download(path);
  await downloadOrMark(OPTIONAL_METADATA_FILES, present);

  if (present.has('modules.json')) {
    const modulesFile = join(snapshot, 'modules.json');
    const moduleFiles = moduleConfigFiles(JSON.parse(await readFile(modulesFile, 'utf8')), modulesFile).filter((path) => !firstRound.includes(path));
    if (moduleFiles.length > 0) await downloadOrMark(moduleFiles, await existingPaths(opts, commit, moduleFiles));
  }

  if (present.has(SAFE_WEIGHTS_NAME)) {
    await download(SAFE_WEIGHTS_NAME);
  } else {
    await download(SAFE_WEIGHTS_INDEX_NAME);
    const indexFile = join(snapshot, SAFE_WEIGHTS_INDEX_NAME);
    let indexJson: unknown;
    try {
      indexJson = JSON.parse(await readFile(indexFile, 'utf8'));
    } catch (error) {
      throw new ModelLoadError(`${indexFile}: not valid JSON (${(error as Error).message})`);
    }
    const shards = [...new Set(parseShardIndex(indexJson, indexFile).values())];
    const presentShards = await existingPaths(opts, commit, shards);
    const missingShards = shards.filter((shard) => !presentShards.has(shard));
    if (missingShards.length > 0) {
      throw new ModelLoadError(`${opts.repoId}: ${SAFE_WEIGHTS_INDEX_NAME} names shards the repo lacks: ${missingShards.join(', ')}`);
    }
    for (const shard of shards) await download(shard);
  }

  await writeRef(repoFolder, opts.revision, commit);
  return { path: snapshot, commit };
}
