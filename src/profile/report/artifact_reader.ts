// Reads what `pooled profile` wrote: a single load point (profile_export_aiperf.json in the folder itself) or a
// sweep (sweep_summary.json, one sub-folder per point). The report works from these files only, so a
// report can be made later, on another machine, from a copied artifacts folder.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ProfileSummary } from '../aggregate.js';
import { AGGREGATE_JSON, LEGACY_AGGREGATE_JSON, RECORDS_JSONL, SWEEP_SUMMARY_JSON } from '../artifacts.js';
import type { NeuronperfRow } from '../neuronperf_table.js';
import type { LoadPoint } from '../options.js';
import { parseJsonlRecords, type JsonlRecord } from '../records_jsonl.js';

export type AggregateDocument = ProfileSummary & {
  readonly load: LoadPoint;
  readonly warmup?: { readonly request_count: number; readonly error_count: number };
  readonly server_metrics?: Record<string, unknown> | null;
  /** Every option of the run (pooled's own layout); artifacts written before the AIPerf layout kept it in input_config. */
  readonly pooled_config?: Record<string, unknown>;
  readonly input_config?: Record<string, unknown>;
};

export interface PointArtifacts {
  readonly name: string;
  readonly folder: string;
  readonly aggregate: AggregateDocument;
  readonly records: readonly JsonlRecord[];
  /** server_metrics_delta.json when both scrapes succeeded. */
  readonly serverMetricsDelta: Readonly<Record<string, number>> | null;
}

export interface ArtifactSet {
  readonly dir: string;
  readonly isSweep: boolean;
  readonly points: readonly PointArtifacts[];
  /** An input sweep's neuronperf table (sweep_summary.json), with the hourly price the run was given. */
  readonly neuronperf?: { readonly rows: readonly NeuronperfRow[]; readonly costPerHour: number | null };
}

/** The aggregate file of a point folder: AIPerf's name, or the name used before the AIPerf layout; null if neither. */
function aggregatePath(folder: string): string | null {
  for (const name of [AGGREGATE_JSON, LEGACY_AGGREGATE_JSON]) if (existsSync(join(folder, name))) return join(folder, name);
  return null;
}

/** The run's options as pooled wrote them, whichever artifact layout the folder has. */
export function runConfig(aggregate: AggregateDocument): Record<string, unknown> {
  return aggregate.pooled_config ?? aggregate.input_config ?? {};
}

function readPoint(folder: string, name: string): PointArtifacts {
  const aggregate = JSON.parse(readFileSync(aggregatePath(folder)!, 'utf8')) as AggregateDocument;
  const recordsPath = join(folder, RECORDS_JSONL);
  const records = existsSync(recordsPath) ? parseJsonlRecords(readFileSync(recordsPath, 'utf8')) : [];
  const deltaPath = join(folder, 'server_metrics_delta.json');
  const serverMetricsDelta = existsSync(deltaPath) ? (JSON.parse(readFileSync(deltaPath, 'utf8')) as Record<string, number>) : null;
  return { name, folder, aggregate, records: records.filter((r) => r.metadata.benchmark_phase === 'profiling'), serverMetricsDelta };
}

export function readArtifacts(dir: string): ArtifactSet {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
  if (aggregatePath(dir) !== null) return { dir, isSweep: false, points: [readPoint(dir, 'run')] };
  let folders: string[];
  const sweepPath = join(dir, SWEEP_SUMMARY_JSON);
  if (existsSync(sweepPath)) {
    const sweep = JSON.parse(readFileSync(sweepPath, 'utf8')) as {
      points: { folder: string }[];
      neuronperf?: NeuronperfRow[] | null;
      cost_per_hour?: number | null;
    };
    folders = sweep.points.map((p) => p.folder);
    if (sweep.neuronperf) {
      const points = folders.map((folder) => readPoint(join(dir, folder), folder));
      return { dir, isSweep: true, points, neuronperf: { rows: sweep.neuronperf, costPerHour: sweep.cost_per_hour ?? null } };
    }
  } else {
    // A sweep cut short before its summary was written still has its finished points.
    folders = readdirSync(dir)
      .filter((name) => aggregatePath(join(dir, name)) !== null)
      .sort();
  }
  if (folders.length === 0) throw new Error(`${dir} holds no ${AGGREGATE_JSON}: is it a \`pooled profile\` artifact folder?`);
  return { dir, isSweep: true, points: folders.map((folder) => readPoint(join(dir, folder), folder)) };
}
