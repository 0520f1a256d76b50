// `pooled profile` options: AIPerf's flag names where AIPerf has the flag, so a command line written for
// `aiperf profile` against an embedding endpoint works here unchanged. Parsing turns argv into one frozen,
// fully defaulted object; every later stage reads only that object.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { type EndpointType, isRankingsEndpoint } from './records.js';

export { PROFILE_USAGE } from './usage.js';

export type ArrivalPattern = 'poisson' | 'constant';

/** One load point. A sweep (`--concurrency 1,4,16`) is a list of these, run in turn. */
export type LoadPoint =
  | { readonly mode: 'concurrency'; readonly concurrency: number }
  | { readonly mode: 'request_rate'; readonly requestRate: number; readonly maxConcurrency: number | null };

export interface SyntheticImageOptions {
  readonly widthMean: number;
  readonly widthStddev: number;
  readonly heightMean: number;
  readonly heightStddev: number;
  readonly batchSize: number;
}

/**
 * AIPerf's synthetic rankings dataset: per request one query and a normally distributed number of passages, each
 * text of a normally distributed token length. The defaults are the ones AIPerf 0.13 applies (its RankingsConfig:
 * 10 passages of 128 tokens, a 32-token query); its --help shows 1 / 550 / 550, which it uses only when a flag is
 * given, and then only for that flag.
 */
export interface RankingsOptions {
  readonly passagesMean: number;
  readonly passagesStddev: number;
  readonly passageTokensMean: number;
  readonly passageTokensStddev: number;
  readonly queryTokensMean: number;
  readonly queryTokensStddev: number;
}

export const DEFAULT_RANKINGS: RankingsOptions = Object.freeze({
  passagesMean: 10,
  passagesStddev: 0,
  passageTokensMean: 128,
  passageTokensStddev: 0,
  queryTokensMean: 32,
  queryTokensStddev: 0,
});

export type InputSource =
  | {
      readonly kind: 'synthetic';
      readonly tokensMean: number;
      readonly tokensStddev: number;
      readonly batchSizeText: number;
      readonly numDatasetEntries: number;
      readonly images: SyntheticImageOptions | null;
      /** Rankings endpoint types only: the query + passages of each request (the fields above are then unused). */
      readonly rankings: RankingsOptions | null;
    }
  | { readonly kind: 'file'; readonly path: string; readonly datasetType: 'single_turn' };

/** SLO thresholds for goodput, in ms; a successful request is "good" when it meets every one given. */
export interface GoodputThresholds {
  readonly request_latency?: number;
  readonly time_to_first_token?: number;
  readonly inter_token_latency?: number;
}

export type UiType = 'auto' | 'simple' | 'none';

/**
 * One point of a neuronperf-style input sweep: texts per request and tokens per text. `--batch-size-text 1,8,32
 * --synthetic-input-tokens-mean 32,128` runs every pair (x every load point); null when neither is a list.
 */
export interface InputVariant {
  readonly batchSize: number;
  readonly seqLen: number;
}

export interface ProfileOptions {
  readonly model: string;
  /** Scheme + host + port, no trailing slash. */
  readonly baseUrl: string;
  readonly endpointType: EndpointType;
  readonly endpointPath: string;
  /** Folder or HF id; the model id when not given. */
  readonly tokenizer: string;
  readonly tokenizerExplicit: boolean;
  readonly loadPoints: readonly LoadPoint[];
  readonly arrivalPattern: ArrivalPattern;
  /** Requests per load point; when neither count nor duration is given, max(10, concurrency) as in AIPerf. */
  readonly requestCount: number | null;
  readonly benchmarkDurationS: number | null;
  readonly warmupRequestCount: number;
  readonly randomSeed: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly requestTimeoutS: number;
  /** The inputs of the first (or only) input variant. */
  readonly inputs: InputSource;
  /** The input sweep, batch size major; empty unless --batch-size-text or --synthetic-input-tokens-mean lists values. */
  readonly inputVariants: readonly InputVariant[];
  /** Model replicas (servers or copies) behind the URL: neuronperf's n_models, for the sweep table. */
  readonly numModels: number;
  /** Hourly price of the serving machine; adds cost per 1M inferences to the sweep table. */
  readonly costPerHour: number | null;
  /** Extra JSON body fields (`--extra-inputs key:value`), merged over the defaults of the endpoint type. */
  readonly extraInputs: Readonly<Record<string, unknown>>;
  readonly streaming: boolean;
  readonly outputTokensMean: number | null;
  readonly goodput: GoodputThresholds | null;
  readonly artifactDir: string;
  /** Prometheus endpoint scraped before and after each point; null disables scraping. */
  readonly serverMetricsUrl: string | null;
  readonly uiType: UiType;
  readonly progressIntervalS: number;
  readonly cliCommand: string;
}

const DEFAULT_ENDPOINT_PATHS: Readonly<Record<EndpointType, string>> = {
  embeddings: '/v1/embeddings',
  cohere_embed: '/v2/embed',
  chat: '/v1/chat/completions',
  hf_tei_rankings: '/rerank',
  cohere_rankings: '/v2/rerank',
};

/** Other names --endpoint-type accepts: the issue's `rankings`; AIPerf's spelling with dashes is folded before. */
const ENDPOINT_TYPE_ALIASES: Readonly<Record<string, EndpointType>> = { rankings: 'hf_tei_rankings' };

const RANKINGS_FLAGS = [
  'rankings-passages-mean',
  'rankings-passages-stddev',
  'rankings-passages-prompt-token-mean',
  'rankings-passages-prompt-token-stddev',
  'rankings-query-prompt-token-mean',
  'rankings-query-prompt-token-stddev',
] as const;

/** Flags that shape embedding/chat inputs and mean nothing to a rankings request (query + passages). */
const NOT_FOR_RANKINGS = [
  'synthetic-input-tokens-mean',
  'synthetic-input-tokens-stddev',
  'batch-size-text',
  'image-width-mean',
  'image-width-stddev',
  'image-height-mean',
  'image-height-stddev',
  'batch-size-image',
  'output-tokens-mean',
] as const;

const FLAG_SPEC = {
  model: { type: 'string', short: 'm' },
  url: { type: 'string', short: 'u' },
  'endpoint-type': { type: 'string' },
  endpoint: { type: 'string' },
  'custom-endpoint': { type: 'string' },
  tokenizer: { type: 'string' },
  'api-key': { type: 'string' },
  header: { type: 'string', short: 'H', multiple: true },
  'extra-inputs': { type: 'string', multiple: true },
  streaming: { type: 'boolean' },
  'output-tokens-mean': { type: 'string' },
  'request-timeout-seconds': { type: 'string' },
  concurrency: { type: 'string' },
  'request-rate': { type: 'string' },
  'arrival-pattern': { type: 'string' },
  'request-count': { type: 'string' },
  'num-requests': { type: 'string' },
  'benchmark-duration': { type: 'string' },
  'warmup-request-count': { type: 'string' },
  'random-seed': { type: 'string' },
  'synthetic-input-tokens-mean': { type: 'string' },
  'synthetic-input-tokens-stddev': { type: 'string' },
  'batch-size-text': { type: 'string' },
  'n-models': { type: 'string' },
  'cost-per-hour': { type: 'string' },
  'num-dataset-entries': { type: 'string' },
  'image-width-mean': { type: 'string' },
  'image-width-stddev': { type: 'string' },
  'image-height-mean': { type: 'string' },
  'image-height-stddev': { type: 'string' },
  'batch-size-image': { type: 'string' },
  'rankings-passages-mean': { type: 'string' },
  'rankings-passages-stddev': { type: 'string' },
  'rankings-passages-prompt-token-mean': { type: 'string' },
  'rankings-passages-prompt-token-stddev': { type: 'string' },
  'rankings-query-prompt-token-mean': { type: 'string' },
  'rankings-query-prompt-token-stddev': { type: 'string' },
  'input-file': { type: 'string' },
  'custom-dataset-type': { type: 'string' },
  'artifact-dir': { type: 'string' },
  goodput: { type: 'string' },
  'server-metrics-url': { type: 'string' },
  'ui-type': { type: 'string' },
  'progress-interval-seconds': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type FlagValues = {
  [K in keyof typeof FLAG_SPEC]?: (typeof FLAG_SPEC)[K] extends { multiple: true }
    ? string[]
    : (typeof FLAG_SPEC)[K]['type'] extends 'boolean'
      ? boolean
      : string;
};

function parseNumber(flag: string, raw: string, opts: { integer?: boolean; min?: number; exclusiveMin?: boolean } = {}): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${flag} expects a number, got "${raw}"`);
  if (opts.integer && !Number.isInteger(value)) throw new UsageError(`--${flag} expects an integer, got "${raw}"`);
  if (opts.min !== undefined) {
    const tooSmall = opts.exclusiveMin ? value <= opts.min : value < opts.min;
    if (tooSmall) throw new UsageError(`--${flag} must be ${opts.exclusiveMin ? 'greater than' : 'at least'} ${opts.min}, got ${raw}`);
  }
  return value;
}

function parseNumberList(flag: string, raw: string, integer: boolean): number[] {
  return raw.split(',').map((part) => parseNumber(flag, part.trim(), { integer, min: 0, exclusiveMin: true }));
}

/** Accepts "host:port", "http://host:port" or "https://host:port/"; returns the origin-like base with no slash. */
export function normalizeBaseUrl(raw: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new UsageError(`--url "${raw}" is not a valid address`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url must be http or https, got ${parsed.protocol}`);
  const path = parsed.pathname.replace(/\/+$/, '');
  return `${parsed.protocol}//${parsed.host}${path}`;
}

function parseHeaders(lines: readonly string[], apiKey: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UsageError(`-H expects "Name: value", got "${line}"`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function parseExtraInputs(items: readonly string[]): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const item of items) {
    const colon = item.indexOf(':');
    if (colon <= 0) throw new UsageError(`--extra-inputs expects key:value, got "${item}"`);
    const raw = item.slice(colon + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: a bare string such as input_type:search_query.
    }
    extra[item.slice(0, colon)] = value;
  }
  return extra;
}

export function parseGoodput(raw: string): GoodputThresholds {
  const thresholds: Record<string, number> = {};
  for (const part of raw.split(/\s+/).filter(Boolean)) {
    const [name, value] = part.split(':');
    if (name !== 'request_latency' && name !== 'time_to_first_token' && name !== 'inter_token_latency') {
      throw new UsageError(`--goodput: unknown metric "${name}" (request_latency, time_to_first_token, inter_token_latency)`);
    }
    thresholds[name] = parseNumber('goodput', value ?? '', { min: 0, exclusiveMin: true });
  }
  if (Object.keys(thresholds).length === 0) throw new UsageError('--goodput expects metric:ms pairs, e.g. request_latency:300');
  return thresholds;
}

function loadPointsFrom(values: FlagValues): LoadPoint[] {
  const concurrencies = values.concurrency === undefined ? null : parseNumberList('concurrency', values.concurrency, true);
  const rates = values['request-rate'] === undefined ? null : parseNumberList('request-rate', values['request-rate'], false);
  if (rates) {
    if (concurrencies && concurrencies.length > 1 && rates.length > 1) throw new UsageError('sweep either --concurrency or --request-rate, not both');
    if (concurrencies && concurrencies.length > 1) {
      return concurrencies.map((c) => ({ mode: 'request_rate', requestRate: rates[0]!, maxConcurrency: c }));
    }
    return rates.map((r) => ({ mode: 'request_rate', requestRate: r, maxConcurrency: concurrencies?.[0] ?? null }));
  }
  return (concurrencies ?? [1]).map((c) => ({ mode: 'concurrency', concurrency: c }));
}

export function describeLoadPoint(point: LoadPoint): string {
  if (point.mode === 'concurrency') return `concurrency${point.concurrency}`;
  const cap = point.maxConcurrency === null ? '' : `-concurrency${point.maxConcurrency}`;
  return `request_rate${point.requestRate}${cap}`;
}

/** The first value of a flag that may hold a comma list; the full list goes to inputVariantsFrom. */
function firstOfList(raw: string | undefined): string | undefined {
  return raw?.split(',')[0];
}

function inputVariantsFrom(values: FlagValues, inputs: InputSource): InputVariant[] {
  const batchRaw = values['batch-size-text'];
  const seqRaw = values['synthetic-input-tokens-mean'];
  if (!batchRaw?.includes(',') && !seqRaw?.includes(',')) return [];
  if (inputs.kind !== 'synthetic')
    throw new UsageError('an input sweep (comma lists in --batch-size-text / --synthetic-input-tokens-mean) needs synthetic inputs, not --input-file');
  if (inputs.images !== null) throw new UsageError('an input sweep sends texts only; drop the image options');
  const batchSizes = batchRaw === undefined ? [inputs.batchSizeText] : parseNumberList('batch-size-text', batchRaw, true);
  const seqLens = seqRaw === undefined ? [inputs.tokensMean] : parseNumberList('synthetic-input-tokens-mean', seqRaw, true);
  return batchSizes.flatMap((batchSize) => seqLens.map((seqLen) => ({ batchSize, seqLen })));
}

/** The rankings flags, over AIPerf's effective defaults; refuses them on other endpoint types and vice versa. */
function rankingsFrom(values: FlagValues, endpointType: EndpointType): RankingsOptions | null {
  const given = RANKINGS_FLAGS.filter((flag) => values[flag] !== undefined);
  if (!isRankingsEndpoint(endpointType)) {
    if (given.length > 0) throw new UsageError(`--${given[0]} applies to --endpoint-type hf_tei_rankings / cohere_rankings only`);
    return null;
  }
  const misplaced = NOT_FOR_RANKINGS.find((flag) => values[flag] !== undefined);
  if (misplaced) {
    throw new UsageError(
      `--${misplaced} does not apply to ${endpointType}: a rankings request is one query and its passages ` +
        '(--rankings-passages-mean/-stddev, --rankings-passages-prompt-token-mean/-stddev, --rankings-query-prompt-token-mean/-stddev)',
    );
  }
  if (values['input-file'] !== undefined && given.length > 0) {
    throw new UsageError(`--${given[0]} shapes synthetic rankings inputs; with --input-file the file's query and passages are sent`);
  }
  const num = (flag: (typeof RANKINGS_FLAGS)[number], fallback: number, min: number): number => {
    const raw = values[flag];
    return raw === undefined ? fallback : parseNumber(flag, raw, { integer: true, min });
  };
  return {
    passagesMean: num('rankings-passages-mean', DEFAULT_RANKINGS.passagesMean, 1),
    passagesStddev: num('rankings-passages-stddev', DEFAULT_RANKINGS.passagesStddev, 0),
    passageTokensMean: num('rankings-passages-prompt-token-mean', DEFAULT_RANKINGS.passageTokensMean, 1),
    passageTokensStddev: num('rankings-passages-prompt-token-stddev', DEFAULT_RANKINGS.passageTokensStddev, 0),
    queryTokensMean: num('rankings-query-prompt-token-mean', DEFAULT_RANKINGS.queryTokensMean, 1),
    queryTokensStddev: num('rankings-query-prompt-token-stddev', DEFAULT_RANKINGS.queryTokensStddev, 0),
  };
}

function inputSourceFrom(values: FlagValues, endpointType: EndpointType): InputSource {
  const rankings = rankingsFrom(values, endpointType);
  if (values['input-file'] !== undefined) {
    const datasetType = values['custom-dataset-type'] ?? 'single_turn';
    if (datasetType !== 'single_turn') throw new UsageError(`--custom-dataset-type ${datasetType} is not supported (single_turn only)`);
    return { kind: 'file', path: values['input-file'], datasetType };
  }
  const num = (flag: keyof FlagValues, fallback: number, integer = true, min = 0): number => {
    const value = values[flag];
    const raw = flag === 'batch-size-text' || flag === 'synthetic-input-tokens-mean' ? firstOfList(value as string | undefined) : value;
    return typeof raw === 'string' ? parseNumber(flag, raw, { integer, min }) : fallback;
  };
  const widthMean = num('image-width-mean', 0);
  const heightMean = num('image-height-mean', 0);
  const wantsImages = widthMean > 0 || heightMean > 0 || values['batch-size-image'] !== undefined;
  const images: SyntheticImageOptions | null = wantsImages
    ? {
        widthMean: widthMean || heightMean || 64,
        heightMean: heightMean || widthMean || 64,
        widthStddev: num('image-width-stddev', 0),
        heightStddev: num('image-height-stddev', 0),
        batchSize: num('batch-size-image', 1),
      }
    : null;
  const batchSizeText = num('batch-size-text', 1);
  if (batchSizeText === 0 && (images === null || images.batchSize === 0)) throw new UsageError('a request needs at least one text or image');
  if (endpointType === 'chat' && batchSizeText > 1) throw new UsageError('--batch-size-text applies to embedding endpoints; a chat request carries one text');
  return {
    kind: 'synthetic',
    tokensMean: num('synthetic-input-tokens-mean', 128, true, 1),
    tokensStddev: num('synthetic-input-tokens-stddev', 0, false),
    batchSizeText,
    numDatasetEntries: num('num-dataset-entries', 100, true, 1),
    images,
    rankings,
  };
}

function defaultArtifactDir(model: string, endpointType: EndpointType, points: readonly LoadPoint[], inputSweep: boolean): string {
  const modelPart = model.replace(/[^A-Za-z0-9._-]+/g, '_');
  const loadPart = points.length === 1 && !inputSweep ? describeLoadPoint(points[0]!) : 'sweep';
  return `artifacts/${modelPart}-${endpointType}-${loadPart}`;
}

const SECRET_HEADER = /^\s*(authorization|[\w-]*api[-_]?key|[\w-]*token)\s*:/i;

/** The command line as recorded in artifacts and reports: API keys and credential headers masked. */
export function redactArgv(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    const previous = argv[i - 1];
    if (previous === '--api-key') return '<redacted>';
    if (arg.startsWith('--api-key=')) return '--api-key=<redacted>';
    if ((previous === '-H' || previous === '--header') && SECRET_HEADER.test(arg)) return `${arg.slice(0, arg.indexOf(':'))}: <redacted>`;
    return arg;
  });
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Returns null when --help was asked for (the caller prints PROFILE_USAGE). Throws UsageError on bad input. */
export function parseProfileArgs(argv: readonly string[]): ProfileOptions | null {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAG_SPEC, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as FlagValues;
  if (values.help) return null;
  if (!values.model) throw new UsageError('--model is required');
  if (!values.url) throw new UsageError('--url is required');

  const endpointTypeRaw = values['endpoint-type'] ?? 'embeddings';
  const folded = endpointTypeRaw.toLowerCase().replace(/-/g, '_');
  const endpointType = (ENDPOINT_TYPE_ALIASES[folded] ?? folded) as EndpointType;
  if (!Object.hasOwn(DEFAULT_ENDPOINT_PATHS, endpointType)) {
    throw new UsageError(`--endpoint-type must be embeddings, cohere_embed, chat, hf_tei_rankings (or rankings) or cohere_rankings, got "${endpointTypeRaw}"`);
  }
  const endpointPath = values.endpoint ?? values['custom-endpoint'] ?? DEFAULT_ENDPOINT_PATHS[endpointType];
  const arrivalPattern = (values['arrival-pattern'] ?? 'poisson') as ArrivalPattern;
  if (arrivalPattern !== 'poisson' && arrivalPattern !== 'constant') throw new UsageError(`--arrival-pattern must be poisson or constant`);
  const streaming = values.streaming ?? false;
  if (streaming && endpointType !== 'chat') throw new UsageError('--streaming applies to --endpoint-type chat only');
  const uiType = (values['ui-type'] ?? 'auto') as UiType;
  if (!['auto', 'simple', 'none'].includes(uiType)) throw new UsageError('--ui-type must be auto, simple or none');

  const loadPoints = loadPointsFrom(values);
  const inputs = inputSourceFrom(values, endpointType);
  const requestCountRaw = values['request-count'] ?? values['num-requests'];
  const baseUrl = normalizeBaseUrl(values.url);
  const metricsFlag = values['server-metrics-url'];
  const serverMetricsUrl = metricsFlag === 'none' ? null : (metricsFlag ?? `${baseUrl}/metrics`);
  const onTty = uiType === 'auto' && process.stderr.isTTY === true;

  return Object.freeze({
    model: values.model,
    baseUrl,
    endpointType,
    endpointPath: endpointPath.startsWith('/') ? endpointPath : `/${endpointPath}`,
    tokenizer: values.tokenizer ?? values.model,
    tokenizerExplicit: values.tokenizer !== undefined,
    loadPoints,
    arrivalPattern,
    requestCount: requestCountRaw === undefined ? null : parseNumber('request-count', requestCountRaw, { integer: true, min: 1 }),
    benchmarkDurationS:
      values['benchmark-duration'] === undefined ? null : parseNumber('benchmark-duration', values['benchmark-duration'], { min: 0, exclusiveMin: true }),
    warmupRequestCount:
      values['warmup-request-count'] === undefined ? 0 : parseNumber('warmup-request-count', values['warmup-request-count'], { integer: true, min: 0 }),
    randomSeed: values['random-seed'] === undefined ? 0 : parseNumber('random-seed', values['random-seed'], { integer: true, min: 0 }),
    headers: parseHeaders(values.header ?? [], values['api-key']),
    requestTimeoutS:
      values['request-timeout-seconds'] === undefined
        ? 600
        : parseNumber('request-timeout-seconds', values['request-timeout-seconds'], { min: 0, exclusiveMin: true }),
    inputs,
    inputVariants: inputVariantsFrom(values, inputs),
    numModels: values['n-models'] === undefined ? 1 : parseNumber('n-models', values['n-models'], { integer: true, min: 1 }),
    costPerHour: values['cost-per-hour'] === undefined ? null : parseNumber('cost-per-hour', values['cost-per-hour'], { min: 0, exclusiveMin: true }),
    extraInputs: parseExtraInputs(values['extra-inputs'] ?? []),
    streaming,
    outputTokensMean:
      values['output-tokens-mean'] === undefined ? null : parseNumber('output-tokens-mean', values['output-tokens-mean'], { integer: true, min: 1 }),
    goodput: values.goodput === undefined ? null : parseGoodput(values.goodput),
    artifactDir: values['artifact-dir'] ?? defaultArtifactDir(values.model, endpointType, loadPoints, inputVariantsFrom(values, inputs).length > 0),
    serverMetricsUrl,
    uiType,
    progressIntervalS:
      values['progress-interval-seconds'] === undefined
        ? onTty
          ? 0.25
          : 5
        : parseNumber('progress-interval-seconds', values['progress-interval-seconds'], { min: 0, exclusiveMin: true }),
    cliCommand: ['pooled', 'profile', ...redactArgv(argv)].map(shellQuote).join(' '),
  });
}

/** The folder name part of an input variant: batch8-seq128. */
export function describeInputVariant(variant: InputVariant): string {
  return `batch${variant.batchSize}-seq${variant.seqLen}`;
}

/** The options of one input variant: its batch size and sequence length as the synthetic inputs. */
export function withInputVariant(options: ProfileOptions, variant: InputVariant): ProfileOptions {
  if (options.inputs.kind !== 'synthetic') return options;
  return Object.freeze({ ...options, inputs: { ...options.inputs, batchSizeText: variant.batchSize, tokensMean: variant.seqLen } });
}

/** How many requests a point sends: the explicit count, or AIPerf's default when no stop condition is given. */
export function requestCountFor(options: ProfileOptions, point: LoadPoint): number | null {
  if (options.requestCount !== null) return options.requestCount;
  if (options.benchmarkDurationS !== null) return null;
  const inFlight = point.mode === 'concurrency' ? point.concurrency : (point.maxConcurrency ?? 1);
  return Math.max(10, inFlight);
}
