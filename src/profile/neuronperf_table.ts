// The neuronperf table (AWS Neuron's benchmarking tool, the Inferentia embedding benchmarks): one row per
// (batch size, sequence length, load) with the columns that say what a deployment costs: batch_size (inputs
// per request), seq_len (tokens per input), n_models (replicas behind the URL), workers_per_model (requests
// in flight per replica), latency p50/p99 of a request (one batch), throughput in inferences (inputs)/s and
// tokens/s, and, given an hourly price, the cost of a million inferences. Printed, written as CSV, and drawn
// by `pooled report`.
import type { ProfileSummary } from './aggregate.js';
import type { InputVariant, LoadPoint } from './options.js';

export const NEURONPERF_CSV = 'neuronperf.csv';

export interface NeuronperfRow {
  readonly folder: string;
  readonly batch_size: number;
  readonly seq_len: number;
  readonly n_models: number;
  /** Requests in flight per replica: concurrency / n_models; null for an open-loop (request-rate) point without a cap. */
  readonly workers_per_model: number | null;
  readonly latency_ms_p50: number | null;
  readonly latency_ms_p99: number | null;
  readonly throughput_inferences_per_s: number;
  /** From the server's usage when it reports one (special tokens included), else the client's token count. */
  readonly throughput_tokens_per_s: number | null;
  readonly cost_per_1m_inferences: number | null;
}

export interface NeuronperfSource {
  readonly folder: string;
  readonly load: LoadPoint;
  readonly variant: InputVariant | null;
  readonly summary: ProfileSummary;
}

function inFlight(load: LoadPoint): number | null {
  return load.mode === 'concurrency' ? load.concurrency : load.maxConcurrency;
}

export function neuronperfRow(source: NeuronperfSource, numModels: number, costPerHour: number | null): NeuronperfRow {
  const s = source.summary;
  // Every input of a successful request is one inference; batch_size's mean covers input files of mixed sizes.
  const inferencesPerSecond = s.request_throughput.avg * (s.batch_size?.avg ?? 0);
  const clientTokensPerSecond = s.total_isl && s.benchmark_duration.avg > 0 ? s.total_isl.avg / s.benchmark_duration.avg : null;
  const workers = inFlight(source.load);
  return {
    folder: source.folder,
    batch_size: source.variant?.batchSize ?? s.batch_size?.avg ?? 0,
    seq_len: source.variant?.seqLen ?? (s.input_sequence_length && s.batch_size ? s.input_sequence_length.avg / s.batch_size.avg : 0),
    n_models: numModels,
    workers_per_model: workers === null ? null : workers / numModels,
    latency_ms_p50: s.request_latency?.p50 ?? null,
    latency_ms_p99: s.request_latency?.p99 ?? null,
    throughput_inferences_per_s: inferencesPerSecond,
    throughput_tokens_per_s: s.input_token_throughput?.avg ?? clientTokensPerSecond,
    cost_per_1m_inferences: costPerHour !== null && inferencesPerSecond > 0 ? (costPerHour / 3600 / inferencesPerSecond) * 1e6 : null,
  };
}

export const NEURONPERF_COLUMNS = [
  'batch_size',
  'seq_len',
  'n_models',
  'workers_per_model',
  'latency_ms_p50',
  'latency_ms_p99',
  'throughput_inferences_per_s',
  'throughput_tokens_per_s',
  'cost_per_1m_inferences',
] as const satisfies readonly (keyof NeuronperfRow)[];

const cell = (value: number | null, digits: number): string => (value === null ? '' : Number.isInteger(value) ? String(value) : value.toFixed(digits));

export function neuronperfCsv(rows: readonly NeuronperfRow[]): string {
  const digits = (column: (typeof NEURONPERF_COLUMNS)[number]): number => (column === 'cost_per_1m_inferences' ? 4 : 2);
  const lines = [NEURONPERF_COLUMNS.join(','), ...rows.map((row) => NEURONPERF_COLUMNS.map((c) => cell(row[c], digits(c))).join(','))];
  return `${lines.join('\n')}\n`;
}
