// One `pooled profile` invocation: prepare the inputs (once, or once per input variant of an input sweep), then
// for each load point scrape the server's metrics, warm up, measure, scrape again, and write the artifacts and
// tables; a sweep ends with its summary and, for an input sweep, the neuronperf table.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { summarize, type ProfileSummary } from './aggregate.js';
import { writeInputs, writePointArtifacts, writeSweepSummary, type SweepRow } from './artifacts.js';
import { formatNeuronperf, formatSummary, formatSweep } from './console_table.js';
import { buildSyntheticDataset, loadInputFile, type DatasetEntry } from './dataset.js';
import { createAgent, sendHttpRequest } from './http_transport.js';
import { runLoad, type IssueRequest } from './load_generator.js';
import {
  describeInputVariant,
  describeLoadPoint,
  type InputVariant,
  type LoadPoint,
  type ProfileOptions,
  requestCountFor,
  withInputVariant,
} from './options.js';
import { prepareRequest, type PreparedRequest } from './payload.js';
import { ProgressReporter, type ProgressSink } from './progress.js';
import { isRankingsEndpoint, type RequestRecord } from './records.js';
import { responseMetrics } from './response_metrics.js';
import { SeededRandom } from './rng.js';
import { scrapeMetrics, type MetricsScrape } from './server_metrics.js';
import { parseServerTiming } from './server_timing.js';
import { loadTokenCounter, type TokenCounter } from './tokenizer_loader.js';

export interface ProfileIO {
  /** Tables and the final summary. */
  readonly out: ProgressSink;
  /** Progress and notes; `isTTY` picks live or plain progress when --ui-type is auto. */
  readonly err: ProgressSink & { readonly isTTY?: boolean };
  readonly env?: NodeJS.ProcessEnv;
  /** Abort to stop early (Ctrl-C): requests in flight finish, artifacts are written, the run is marked cancelled. */
  readonly stopSignal?: AbortSignal;
}

export interface PointResult {
  readonly folder: string;
  readonly load: LoadPoint;
  readonly variant: InputVariant | null;
  readonly summary: ProfileSummary;
}

export interface ProfileRunResult {
  readonly artifactDir: string;
  readonly points: readonly PointResult[];
}

function loadDataset(options: ProfileOptions, io: ProfileIO): DatasetEntry[] {
  const source = options.inputs;
  if (source.kind === 'synthetic') {
    // Synthetic inputs are sized by the tokenizer, so without one there is nothing meaningful to send.
    const counter = loadTokenCounter(options.tokenizer, io.env);
    const requestsNeeded = options.loadPoints.map((p) => requestCountFor(options, p));
    const bounded = requestsNeeded.every((n) => n !== null) ? Math.max(...(requestsNeeded as number[])) + options.warmupRequestCount : Infinity;
    return buildSyntheticDataset(source, counter, options.randomSeed, Math.min(source.numDatasetEntries, bounded));
  }
  let counter: TokenCounter | null = null;
  try {
    counter = loadTokenCounter(options.tokenizer, io.env);
  } catch (error) {
    // A file's texts are sent as they are; the client-side count is only a cross-check of the server's usage.
    if (options.tokenizerExplicit) throw error;
    io.err.write(`note: no tokenizer for ${options.tokenizer} (${(error as Error).message.split('.')[0]}); input_sequence_length will be missing\n`);
  }
  return loadInputFile(source.path, counter, { rankings: isRankingsEndpoint(options.endpointType) });
}

function makeIssuer(
  options: ProfileOptions,
  prepared: readonly PreparedRequest[],
  phase: RequestRecord['phase'],
  cursor: { next: number },
  agent: ReturnType<typeof createAgent>,
): IssueRequest {
  const url = new URL(`${options.baseUrl}${options.endpointPath}`);
  return async (sessionNum, workerId) => {
    const request = prepared[cursor.next++ % prepared.length]!;
    const xRequestId = randomUUID();
    const exchange = await sendHttpRequest({
      url,
      headers: { ...options.headers, 'x-request-id': xRequestId },
      body: request.json,
      timeoutMs: options.requestTimeoutS * 1000,
      streaming: options.streaming,
      agent,
    });
    const metrics = responseMetrics(exchange, options.endpointType, options.streaming, request.expectedOutputs);
    return {
      sessionNum,
      xRequestId,
      conversationId: request.entryId,
      workerId,
      phase,
      requestStartNs: exchange.startNs,
      requestAckNs: exchange.ackNs,
      requestEndNs: exchange.endNs,
      batchSize: request.batchSize,
      inputSequenceLength: request.inputSequenceLength,
      usageInputTokens: metrics.usageInputTokens,
      timeToFirstTokenMs: metrics.timeToFirstTokenMs,
      interTokenLatencyMs: metrics.interTokenLatencyMs,
      outputTokens: metrics.outputTokens,
      serverTiming: metrics.error === null ? parseServerTiming(exchange.headers) : null,
      error: metrics.error,
    };
  };
}

function progressMode(options: ProfileOptions, io: ProfileIO): 'live' | 'plain' | 'none' {
  if (options.uiType === 'none') return 'none';
  if (options.uiType === 'simple') return 'plain';
  return io.err.isTTY ? 'live' : 'plain';
}

async function runPoint(
  options: ProfileOptions,
  point: LoadPoint,
  prepared: readonly PreparedRequest[],
  folder: string,
  io: ProfileIO,
): Promise<ProfileSummary> {
  const label = describeLoadPoint(point);
  const agent = createAgent(new URL(options.baseUrl));
  const cursor = { next: 0 };
  const rng = new SeededRandom(options.randomSeed + 1);
  try {
    const metricsBefore: MetricsScrape | null = options.serverMetricsUrl ? await scrapeMetrics(options.serverMetricsUrl, options.headers) : null;
    let warmup = { request_count: 0, error_count: 0 };
    if (options.warmupRequestCount > 0) {
      io.err.write(`[${label}] warming up with ${options.warmupRequestCount} requests\n`);
      const result = await runLoad(
        { point, arrivalPattern: options.arrivalPattern, requestCount: options.warmupRequestCount, durationS: null, rng, stopSignal: io.stopSignal },
        makeIssuer(options, prepared, 'warmup', cursor, agent),
      );
      warmup = { request_count: result.records.length, error_count: result.records.filter((r) => r.error).length };
    }
    const requestCount = requestCountFor(options, point);
    const progress = new ProgressReporter(io.err, {
      mode: progressMode(options, io),
      intervalS: options.progressIntervalS,
      label,
      requestCount,
      durationS: options.benchmarkDurationS,
    });
    const result = await runLoad(
      {
        point,
        arrivalPattern: options.arrivalPattern,
        requestCount,
        durationS: options.benchmarkDurationS,
        rng,
        stopSignal: io.stopSignal,
        onRecord: (record) => progress.record(record),
      },
      makeIssuer(options, prepared, 'profiling', cursor, agent),
    );
    progress.finish();
    const metricsAfter = options.serverMetricsUrl ? await scrapeMetrics(options.serverMetricsUrl, options.headers) : null;
    const summary = summarize(result.records, options.goodput, result.wasCancelled);
    writePointArtifacts(folder, {
      summary,
      load: point,
      records: result.records,
      warmup,
      options,
      metricsBefore,
      metricsAfter,
    });
    const warmupNote = warmup.error_count > 0 ? ` (warm-up: ${warmup.error_count}/${warmup.request_count} failed)` : '';
    io.out.write(formatSummary(summary, `${options.model} | ${options.endpointType} | ${label}${warmupNote}`));
    return summary;
  } finally {
    agent.destroy();
  }
}

export async function runProfile(options: ProfileOptions, io: ProfileIO): Promise<ProfileRunResult> {
  const variants: readonly (InputVariant | null)[] = options.inputVariants.length > 0 ? options.inputVariants : [null];
  const isSweep = options.loadPoints.length > 1 || variants[0] !== null;
  const points: PointResult[] = [];
  for (const variant of variants) {
    if (io.stopSignal?.aborted) break;
    const variantOptions = variant ? withInputVariant(options, variant) : options;
    const prepared = loadDataset(variantOptions, io).map((entry) => prepareRequest(entry, variantOptions));
    // One inputs.json for the run, or one per point folder when the inputs change between points.
    if (!variant) writeInputs(options.artifactDir, prepared);
    for (const point of options.loadPoints) {
      if (io.stopSignal?.aborted) break;
      const name = [variant ? describeInputVariant(variant) : null, describeLoadPoint(point)].filter((part) => part !== null).join('-');
      const folder = isSweep ? join(options.artifactDir, name) : options.artifactDir;
      if (variant) writeInputs(folder, prepared);
      const summary = await runPoint(variantOptions, point, prepared, folder, io);
      points.push({ folder: isSweep ? name : '.', load: point, variant, summary });
    }
  }
  if (isSweep) {
    const rows: SweepRow[] = points.map((p) => ({ folder: p.folder, load: p.load, variant: p.variant, summary: p.summary }));
    writeSweepSummary(options.artifactDir, rows, { numModels: options.numModels, costPerHour: options.costPerHour });
    io.out.write(formatSweep(rows));
    if (variants[0] !== null) io.out.write(formatNeuronperf(rows, options.numModels, options.costPerHour));
  }
  io.out.write(`Artifacts: ${options.artifactDir}\n`);
  return { artifactDir: options.artifactDir, points: points.map((p) => ({ ...p, folder: join(options.artifactDir, p.folder) })) };
}
