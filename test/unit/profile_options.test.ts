import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { normalizeBaseUrl, parseGoodput, parseProfileArgs, redactArgv, requestCountFor } from '../../src/profile/options.js';

const base = ['--model', 'BAAI/bge-small-en-v1.5', '--url', 'localhost:8000'];

test('AIPerf flag names parse into one options object with AIPerf-like defaults', () => {
  const options = parseProfileArgs([
    ...base,
    '--endpoint-type',
    'embeddings',
    '--synthetic-input-tokens-mean',
    '100',
    '--synthetic-input-tokens-stddev',
    '5',
    '--request-count',
    '20',
    '--concurrency',
    '4',
    '--batch-size-text',
    '3',
    '--random-seed',
    '7',
    '--warmup-request-count',
    '2',
  ])!;
  assert.equal(options.baseUrl, 'http://localhost:8000');
  assert.equal(options.endpointPath, '/v1/embeddings');
  assert.equal(options.tokenizer, 'BAAI/bge-small-en-v1.5');
  assert.equal(options.tokenizerExplicit, false);
  assert.deepEqual(options.loadPoints, [{ mode: 'concurrency', concurrency: 4 }]);
  assert.equal(options.requestCount, 20);
  assert.equal(options.randomSeed, 7);
  assert.equal(options.warmupRequestCount, 2);
  assert.deepEqual(options.inputs, {
    kind: 'synthetic',
    tokensMean: 100,
    tokensStddev: 5,
    batchSizeText: 3,
    numDatasetEntries: 100,
    images: null,
    rankings: null,
  });
  assert.equal(options.serverMetricsUrl, 'http://localhost:8000/metrics');
  assert.equal(options.artifactDir, 'artifacts/BAAI_bge-small-en-v1.5-embeddings-concurrency4');
  assert.ok(Object.isFrozen(options));
});

test('endpoint types pick their default paths; --endpoint overrides', () => {
  assert.equal(parseProfileArgs([...base, '--endpoint-type', 'cohere_embed'])!.endpointPath, '/v2/embed');
  assert.equal(parseProfileArgs([...base, '--endpoint-type', 'chat'])!.endpointPath, '/v1/chat/completions');
  assert.equal(parseProfileArgs([...base, '--endpoint', 'embed'])!.endpointPath, '/embed');
  assert.throws(() => parseProfileArgs([...base, '--endpoint-type', 'completions']), UsageError);
});

test('a comma list is a sweep; --request-rate with --concurrency caps in-flight requests', () => {
  assert.deepEqual(
    parseProfileArgs([...base, '--concurrency', '1,4,16,64'])!.loadPoints.map((p) => p.mode === 'concurrency' && p.concurrency),
    [1, 4, 16, 64],
  );
  const rate = parseProfileArgs([...base, '--request-rate', '10,20', '--concurrency', '8', '--arrival-pattern', 'constant'])!;
  assert.deepEqual(rate.loadPoints, [
    { mode: 'request_rate', requestRate: 10, maxConcurrency: 8 },
    { mode: 'request_rate', requestRate: 20, maxConcurrency: 8 },
  ]);
  assert.equal(rate.arrivalPattern, 'constant');
  assert.match(rate.artifactDir, /-sweep$/);
  assert.throws(() => parseProfileArgs([...base, '--request-rate', '1,2', '--concurrency', '1,2']), /not both/);
  assert.throws(() => parseProfileArgs([...base, '--concurrency', '0']), UsageError);
  assert.throws(() => parseProfileArgs([...base, '--concurrency', '2.5']), UsageError);
});

test('headers, api key and extra inputs', () => {
  const options = parseProfileArgs([
    ...base,
    '--api-key',
    'sk-1',
    '-H',
    'X-Team: search',
    '--header',
    'x-b:2',
    '--extra-inputs',
    'input_type:search_query',
    '--extra-inputs',
    'dimensions:256',
  ])!;
  assert.deepEqual(options.headers, { authorization: 'Bearer sk-1', 'x-team': 'search', 'x-b': '2' });
  assert.deepEqual(options.extraInputs, { input_type: 'search_query', dimensions: 256 });
  assert.throws(() => parseProfileArgs([...base, '-H', 'no-colon']), UsageError);
  assert.equal(options.cliCommand.includes('sk-1'), false, 'the recorded command line hides the key');
  assert.deepEqual(redactArgv(['--api-key', 'k', '--api-key=k2', '-H', 'Authorization: Bearer x', '-H', 'X-Api-Key: y', '-H', 'X-Team: a']), [
    '--api-key',
    '<redacted>',
    '--api-key=<redacted>',
    '-H',
    'Authorization: <redacted>',
    '-H',
    'X-Api-Key: <redacted>',
    '-H',
    'X-Team: a',
  ]);
});

test('input file, images, streaming and goodput', () => {
  const file = parseProfileArgs([...base, '--input-file', 'in.jsonl', '--custom-dataset-type', 'single_turn', '--tokenizer', 'some/folder'])!;
  assert.deepEqual(file.inputs, { kind: 'file', path: 'in.jsonl', datasetType: 'single_turn' });
  assert.equal(file.tokenizerExplicit, true);
  assert.throws(() => parseProfileArgs([...base, '--input-file', 'x', '--custom-dataset-type', 'multi_turn']), UsageError);
  const chat = parseProfileArgs([
    ...base,
    '--endpoint-type',
    'chat',
    '--streaming',
    '--image-width-mean',
    '64',
    '--image-height-mean',
    '32',
    '--goodput',
    'request_latency:300 time_to_first_token:50',
  ])!;
  assert.equal(chat.streaming, true);
  assert.deepEqual(chat.inputs.kind === 'synthetic' && chat.inputs.images, { widthMean: 64, heightMean: 32, widthStddev: 0, heightStddev: 0, batchSize: 1 });
  assert.deepEqual(chat.goodput, { request_latency: 300, time_to_first_token: 50 });
  assert.throws(() => parseProfileArgs([...base, '--streaming']), /chat only/);
  assert.throws(() => parseGoodput('output_latency:5'), UsageError);
});

test('help, missing and unknown flags', () => {
  assert.equal(parseProfileArgs(['--help']), null);
  assert.throws(() => parseProfileArgs(['--url', 'x:1']), /--model is required/);
  assert.throws(() => parseProfileArgs([...base, '--no-such-flag']), UsageError);
  assert.throws(() => parseProfileArgs([...base, '--request-count', 'many']), /expects a number/);
});

test('URLs accept host:port or a full address', () => {
  assert.equal(normalizeBaseUrl('127.0.0.1:9000'), 'http://127.0.0.1:9000');
  assert.equal(normalizeBaseUrl('https://api.example.com/'), 'https://api.example.com');
  assert.equal(normalizeBaseUrl('http://h:1/prefix/'), 'http://h:1/prefix');
  assert.throws(() => normalizeBaseUrl('ftp://h'), UsageError);
});

test('request count defaults to max(10, concurrency) unless a duration is given', () => {
  const options = parseProfileArgs([...base, '--concurrency', '4,32'])!;
  assert.equal(requestCountFor(options, options.loadPoints[0]!), 10);
  assert.equal(requestCountFor(options, options.loadPoints[1]!), 32);
  const timed = parseProfileArgs([...base, '--benchmark-duration', '5'])!;
  assert.equal(requestCountFor(timed, timed.loadPoints[0]!), null);
});

test('comma lists in --batch-size-text / --synthetic-input-tokens-mean are an input sweep over every pair', () => {
  const options = parseProfileArgs([
    ...base,
    '--batch-size-text',
    '1,8',
    '--synthetic-input-tokens-mean',
    '32,128,512',
    '--n-models',
    '2',
    '--cost-per-hour',
    '0.76',
  ])!;
  assert.deepEqual(
    options.inputVariants.map((v) => `${v.batchSize}x${v.seqLen}`),
    ['1x32', '1x128', '1x512', '8x32', '8x128', '8x512'],
  );
  assert.equal(options.inputs.kind === 'synthetic' && options.inputs.batchSizeText, 1, 'the first pair is the base inputs');
  assert.equal(options.numModels, 2);
  assert.equal(options.costPerHour, 0.76);
  assert.equal(options.artifactDir, 'artifacts/BAAI_bge-small-en-v1.5-embeddings-sweep');
  const single = parseProfileArgs([...base, '--batch-size-text', '4'])!;
  assert.deepEqual(single.inputVariants, [], 'one value is no sweep');
  assert.equal(single.numModels, 1);
  assert.equal(single.costPerHour, null);
  assert.deepEqual(parseProfileArgs([...base, '--synthetic-input-tokens-mean', '16,64'])!.inputVariants, [
    { batchSize: 1, seqLen: 16 },
    { batchSize: 1, seqLen: 64 },
  ]);
  assert.throws(() => parseProfileArgs([...base, '--batch-size-text', '1,0']), /--batch-size-text must be greater than 0/);
  assert.throws(() => parseProfileArgs([...base, '--n-models', '0']), /--n-models must be at least 1/);
  assert.throws(() => parseProfileArgs([...base, '--cost-per-hour=0']), /--cost-per-hour must be greater than 0/);
  assert.throws(() => parseProfileArgs([...base, '--batch-size-text', '1,2', '--image-width-mean', '32']), /input sweep sends texts only/);
});
