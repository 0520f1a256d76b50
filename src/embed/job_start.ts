// Where a job starts: from its journal when one of the same job exists, else from the beginning of its shard, after
// refusing what must not be overwritten (the input itself, an output this job did not write).
import { mkdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

import { ResumeStateError } from './append_file.js';
import type { JobPlan } from './job_plan.js';
import { identityDifferences, JOURNAL_VERSION, readJournal, writeJournal, type JobIdentity, type JobPosition, type JournalState } from './journal.js';
import { lineNumberAt, resolveShardRange, type ShardRange } from './shard.js';

export interface JobStart {
  /** The journal this run resumes, or null for a fresh start. */
  readonly saved: JournalState | null;
  readonly range: ShardRange;
  readonly position: JobPosition;
}

/** Writing into the input would cut it to nothing and then read back our own output. */
export async function refuseToOverwriteInput(plan: JobPlan): Promise<void> {
  const inputStat = await stat(plan.inputPath);
  for (const path of Object.values(plan.paths)) {
    if (path === null) continue;
    const outputStat = await stat(path).catch(() => null);
    const same = path === plan.inputPath || (outputStat !== null && outputStat.dev === inputStat.dev && outputStat.ino === inputStat.ino);
    if (same) throw new ResumeStateError(`${path} is the input file; choose an --output that does not overwrite it`);
  }
}

async function existsNonEmpty(path: string): Promise<boolean> {
  const s = await stat(path).catch(() => null);
  return s !== null && s.size > 0;
}

export async function startJob(plan: JobPlan, identity: JobIdentity, input: FileHandle, inputSize: number, overwrite: boolean): Promise<JobStart> {
  await refuseToOverwriteInput(plan);
  const saved = overwrite ? null : await readJournal(plan.paths.journal);
  if (saved) {
    const differences = identityDifferences(saved.identity, identity);
    if (differences.length > 0) {
      throw new ResumeStateError(
        `${plan.paths.journal} records an earlier job that differs from this one in: ${differences.join(', ')}. ` +
          'Run the original command to finish it, pass --overwrite to start over, or choose another --output.',
      );
    }
    return { saved, range: saved.range, position: saved.position };
  }
  if (!overwrite) {
    for (const path of [plan.paths.embeddings, plan.paths.ids]) {
      if (path !== null && (await existsNonEmpty(path))) {
        throw new ResumeStateError(
          `${path} already exists and no progress journal (${plan.paths.journal}) says this job wrote it; pass --overwrite to replace it`,
        );
      }
    }
  }
  const range = await resolveShardRange(input, inputSize, plan.shard);
  const position: JobPosition = {
    inputOffset: range.start,
    nextLineNumber: await lineNumberAt(input, range.start),
    numDocuments: 0,
    numSkipped: 0,
    numTokens: 0,
    files: {},
  };
  // The journal is written before any output exists: outputs without a journal are refused above, and a run killed
  // before its first checkpoint must still be resumable.
  await mkdir(dirname(plan.paths.journal), { recursive: true });
  await writeJournal(plan.paths.journal, {
    version: JOURNAL_VERSION,
    identity,
    range,
    position,
    complete: false,
    elapsedSeconds: 0,
    updatedAt: new Date().toISOString(),
  });
  return { saved: null, range, position };
}
