import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseServeArgs, serveHelp, SERVE_FLAGS } from '../../src/cli/serve_options.js';
import { UsageError } from '../../src/errors.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const opts = parseServeArgs(argv, env);
  assert.notEqual(opts, 'help');
  return opts as Exclude<typeof opts, 'help'>;
};

test('defaults', () => {
  const o = parse(['--model', 'm']);
  assert.equal(o.host, '127.0.0.1');
  assert.equal(o.port, 8000);
  assert.equal(o.embedder.backend, undefined); // chosen per architecture at load: cpu for BERT
  assert.equal(o.embedder.dtype, 'float32');
  assert.equal(o.embedder.quantization, null);
  assert.equal(o.embedder.truncation, 'none');
  assert.equal(o.server.apiKey, null);
  assert.deepEqual(o.server.unauthenticatedRoutes, ['/health', '/ready', '/metrics']);
  assert.ok(Object.isFrozen(o) && Object.isFrozen(o.embedder) && Object.isFrozen(o.server));
});

test('flags win over environment variables, which win over defaults', () => {
  const env = { POOLED_PORT: '9000', POOLED_MAX_NUM_SEQS: '8', POOLED_API_KEY: 'k', POOLED_CORS_ORIGINS: 'https://a.example, https://b.example' };
  const fromEnv = parse(['--model', 'm'], env);
  assert.equal(fromEnv.port, 9000);
  assert.equal(fromEnv.embedder.limits?.maxNumSeqs, 8);
  assert.equal(fromEnv.server.apiKey, 'k');
  assert.deepEqual(fromEnv.server.corsOrigins, ['https://a.example', 'https://b.example']);
  assert.equal(parse(['--model', 'm', '--port', '7000'], env).port, 7000);
  assert.equal(parse([], { POOLED_MODEL: 'from-env' }).model, 'from-env');
});

test('every option is parsed and range-checked', () => {
  const o = parse([
    '--model',
    'm',
    '--pooling',
    'last',
    '--normalize',
    'false',
    '--max-model-len',
    '128',
    '--truncate',
    'start',
    '--request-timeout',
    '2.5',
    '--tokenizer-workers',
    '0',
    '--max-num-batched-tokens',
    '4096',
    '--max-queued-tokens',
    '100000',
    '--max-inputs-per-request',
    '16',
    '--max-body-bytes',
    '1024',
  ]);
  assert.equal(o.embedder.pooling, 'last');
  assert.equal(o.embedder.normalize, false);
  assert.equal(o.embedder.maxModelLen, 128);
  assert.equal(o.embedder.truncation, 'start');
  assert.equal(o.embedder.tokenizerWorkers, 0);
  assert.equal(o.embedder.limits?.maxNumBatchedTokens, 4096);
  assert.equal(o.server.requestTimeoutSeconds, 2.5);
  assert.equal(o.server.maxInputsPerRequest, 16);
  assert.equal(o.server.bodyLimitBytes, 1024);
  for (const [argv, pattern] of [
    [['--model', 'm', '--port', '70000'], /--port/],
    [['--model', 'm', '--threads', '0'], /--threads must be a positive integer/],
    [['--model', 'm', '--pooling', 'max'], /--pooling must be one of cls, mean, last/],
    [['--model', 'm', '--normalize', 'yes'], /--normalize must be true or false/],
    [['--model', 'm', '--request-timeout=-1'], /--request-timeout must be a number >= 0/],
    [['--model', 'm', '--frobnicate'], /Unknown option/],
    [[], /--model is required/],
  ] as const) {
    assert.throws(
      () => parseServeArgs([...argv], {}),
      (err: unknown) => err instanceof UsageError && pattern.test(err.message),
    );
  }
});

test('--help lists every flag with its environment variable', () => {
  assert.equal(parseServeArgs(['--help'], {}), 'help');
  const help = serveHelp();
  for (const [name, flag] of Object.entries(SERVE_FLAGS)) {
    assert.match(help, new RegExp(`--${name}\\b`));
    if (flag.env) assert.match(help, new RegExp(flag.env));
  }
});

test("--quantization takes vLLM's flag: int8, or none (its default); anything else names the flag", () => {
  assert.equal(parse(['--model', 'm', '--quantization', 'int8']).embedder.quantization, 'int8');
  assert.equal(parse(['--model', 'm'], { POOLED_QUANTIZATION: 'int8' }).embedder.quantization, 'int8');
  assert.equal(parse(['--model', 'm', '--quantization', 'none']).embedder.quantization, null);
  assert.throws(
    () => parse(['--model', 'm', '--quantization', 'awq']),
    (e: unknown) => e instanceof UsageError && /--quantization/.test(e.message) && /int8/.test(e.message),
  );
});
