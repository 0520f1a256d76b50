// The resume journal: a small JSON file next to the output saying how far the job has durably got (the input byte
// offset to continue from, the counters, and each output file's synced length). It is replaced atomically
// (write a temporary file, fsync, rename, fsync the folder), and only AFTER the outputs it describes were fsync'd,
// so at any instant, whatever kills the process, the journal on disk describes a prefix of what the files hold.
// A restart cuts the files back to the journal's lengths and seeks the input to its offset.
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

import { ResumeStateError } from './append_file.js';
import type { FileLengths } from './output_writers.js';

export const JOURNAL_VERSION = 1;

/** Everything that decides the output's bytes; a journal only resumes a job whose identity is equal. */
export type JobIdentity = Readonly<Record<string, string | number | boolean | null>>;

export interface JobPosition {
  /** Byte offset in the input of the first line not yet accounted for. */
  readonly inputOffset: number;
  /** 1-based number of the line at `inputOffset`. */
  readonly nextLineNumber: number;
  readonly numDocuments: number;
  readonly numSkipped: number;
  readonly numTokens: number;
  /** Synced length of each output file, by role ('embeddings', 'ids', 'errors'). */
  readonly files: FileLengths;
}

export interface JournalState {
  readonly version: number;
  readonly identity: JobIdentity;
  /** The shard's line-aligned byte range, so a resumed run need not recompute it. */
  readonly range: { readonly start: number; readonly end: number };
  readonly position: JobPosition;
  readonly complete: boolean;
  /** Time spent over all runs of this job. */
  readonly elapsedSeconds: number;
  readonly updatedAt: string;
}

export async function readJournal(path: string): Promise<JournalState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let state: JournalState;
  try {
    state = JSON.parse(text) as JournalState;
  } catch (err) {
    // Cannot happen through rename-based replacement; means someone edited or truncated the file.
    throw new ResumeStateError(`${path} is not valid JSON (${(err as Error).message}); start over with --overwrite`);
  }
  if (state.version !== JOURNAL_VERSION) {
    throw new ResumeStateError(`${path} was written by journal version ${state.version}, this build reads ${JOURNAL_VERSION}; start over with --overwrite`);
  }
  return state;
}

export async function writeJournal(path: string, state: JournalState): Promise<void> {
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w');
  try {
    await file.writeFile(`${JSON.stringify(state, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  await syncFolder(dirname(path));
}

/** Makes a rename durable. Some platforms cannot open a folder for syncing; the rename is still atomic there. */
async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // EISDIR / EPERM / EINVAL on platforms without directory fsync.
  } finally {
    await handle?.close();
  }
}

/** Names of the identity fields that differ between a journal and the job asked for now. */
export function identityDifferences(saved: JobIdentity, wanted: JobIdentity): string[] {
  const keys = new Set([...Object.keys(saved), ...Object.keys(wanted)]);
  return [...keys].filter((key) => saved[key] !== wanted[key]).sort();
}
