// The Hugging Face hub cache layout, shared with Python's huggingface_hub (file_download.py `hf_hub_download`,
// constants.py) so either tool reuses the other's downloads:
//   <cache>/models--ORG--NAME/blobs/<etag>                      file contents (git sha1, or sha256 for LFS)
//   <cache>/models--ORG--NAME/snapshots/<commit>/<path>         relative symlinks into blobs/
//   <cache>/models--ORG--NAME/refs/<revision>                   commit hash a branch/tag pointed to
//   <cache>/models--ORG--NAME/.no_exist/<commit>/<path>         empty marker: the repo has no such file
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const COMMIT_HASH_PATTERN = /^[0-9a-f]{40}$/;

/** Hub cache folder, resolved like huggingface_hub constants.py: HF_HUB_CACHE > HUGGINGFACE_HUB_CACHE > HF_HOME/hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv): string {
  const explicit = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  if (explicit) return expandHome(explicit);
  const hfHome = env.HF_HOME ? expandHome(env.HF_HOME) : join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
  return join(hfHome, 'hub');
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** HF_HUB_OFFLINE, parsed like huggingface_hub's `_is_true` (1, ON, YES, TRUE; any case). */
export function isHubOffline(env: NodeJS.ProcessEnv): boolean {
  return ['1', 'ON', 'YES', 'TRUE'].includes((env.HF_HUB_OFFLINE ?? '').trim().toUpperCase());
}

/** `models--ORG--NAME` (huggingface_hub `repo_folder_name`). */
export function repoFolderName(repoId: string): string {
  return ['models', ...repoId.split('/')].join('--');
}

export function snapshotFolder(repoFolder: string, commit: string): string {
  return join(repoFolder, 'snapshots', commit);
}

/** The commit a branch or tag pointed to when it was last downloaded, or null. */
export async function readRef(repoFolder: string, revision: string): Promise<string | null> {
  try {
    const commit = (await readFile(join(repoFolder, 'refs', revision), 'utf8')).trim();
    return COMMIT_HASH_PATTERN.test(commit) ? commit : null;
  } catch {
    return null;
  }
}

/** Records revision -> commit; a commit hash needs no ref (huggingface_hub `_cache_commit_hash_for_specific_revision`). */
export async function writeRef(repoFolder: string, revision: string, commit: string): Promise<void> {
  if (revision === commit) return;
  const refPath = join(repoFolder, 'refs', revision);
  await mkdir(dirname(refPath), { recursive: true });
  await writeFile(refPath, commit);
}

function noExistMarker(repoFolder: string, commit: string, file: string): string {
  return join(repoFolder, '.no_exist', commit, file);
}

export async function markFileMissing(repoFolder: string, commit: string, file: string): Promise<void> {
  const marker = noExistMarker(repoFolder, commit, file);
  await mkdir(dirname(marker), { recursive: true });
  await writeFile(marker, '');
}

export async function isFileMarkedMissing(repoFolder: string, commit: string, file: string): Promise<boolean> {
  return isRegularFile(noExistMarker(repoFolder, commit, file));
}

/** True for a file, or a symlink that resolves to one (a dangling snapshot link is not a usable file). */
export async function isRegularFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
