// `pooled embed` flags: its own, and serve's engine flags under the same names and checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SERVE_FLAGS } from '../../src/cli/serve_options.js';
import { UsageError } from '../../src/errors.js';
import { BACKEND_NAMES } from '../../src/backends/select.js';
import { embedHelp, parseEmbedArgs, type EmbedCommandOptions } from '../../src/cli/embed_options.js';

const BASE = ['--model', '/models/m', '--input', 'in.jsonl', '--output', 'out.jsonl'];

function parse(args: string[], env: NodeJS.ProcessEnv = {}): EmbedCommandOptions {
  const parsed = parseEmbedArgs(args, env);
  assert.notEqual(parsed, 'help');
  return parsed as EmbedCommandOptions;
}

test('defaults: fail on bad lines, whole input, float32, text/id fields, auto progress, 5 s checkpoints', () => {
  const { model, job, embedder } = parse(BASE);
  assert.equal(model, '/models/m');
  assert.equal(job.input, 'in.jsonl');
  assert.equal(job.output, 'out.jsonl');
  assert.equal(job.onError, 'fail');
  assert.deepEqual(job.shard, { index: 0, count: 1 });
  assert.equal(job.outputDType, 'float32');
  assert.equal(job.textField, 'text');
  assert.equal(job.idField, 'id');
  assert.equal(job.idRequired, false);
  assert.equal(job.inputFormat, undefined);
  assert.equal(job.progress, 'auto');
  assert.equal(job.checkpointIntervalSeconds, 5);
  assert.equal(job.overwrite, false);
  assert.equal(embedder.backend, undefined); // chosen per architecture at load (cpu for BERT), as for serve
  assert.equal(embedder.truncation, 'none');
});

test('embed flags are read', () => {
  const { job } = parse([
    ...BASE.slice(0, 4),
    '--output',
    'vectors.npy',
    '--output-dtype',
    'float16',
    '--text-field',
    'body',
    '--id-field',
    'doc_id',
    '--input-format',
    'text',
    '--on-error',
    'skip',
    '--shard',
    '3/8',
    '--prompt-name',
    'query',
    '--dimensions',
    '128',
    '--overwrite',
    '--checkpoint-interval',
    '0',
    '--progress',
    'lines',
    '--progress-interval',
    '2.5',
  ]);
  assert.equal(job.output, 'vectors.npy');
  assert.equal(job.outputDType, 'float16');
  assert.equal(job.textField, 'body');
  assert.equal(job.idField, 'doc_id');
  assert.equal(job.idRequired, true, 'an explicit --id-field must be present in every record');
  assert.equal(job.inputFormat, 'text');
  assert.equal(job.onError, 'skip');
  assert.deepEqual(job.shard, { index: 3, count: 8 });
  assert.deepEqual(job.embed, { promptName: 'query', dimensions: 128 });
  assert.equal(job.overwrite, true);
  assert.equal(job.checkpointIntervalSeconds, 0);
  assert.equal(job.progress, 'lines');
  assert.equal(job.progressIntervalSeconds, 2.5);
});

test("engine flags are serve's: same names, same values, same env fallbacks", () => {
  const { embedder, job } = parse([
    ...BASE,
    '--backend',
    'reference',
    '--threads',
    '3',
    '--truncate',
    'end',
    '--max-num-batched-tokens',
    '2048',
    '--max-num-seqs',
    '32',
    '--normalize',
    'false',
    '--pooling',
    'mean',
    '--max-model-len',
    '128',
  ]);
  assert.equal(embedder.backend, 'reference');
  assert.equal(embedder.threads, 3);
  assert.equal(embedder.truncation, 'end');
  assert.equal(embedder.limits?.maxNumBatchedTokens, 2048);
  assert.equal(embedder.limits?.maxNumSeqs, 32);
  assert.equal(embedder.normalize, false);
  assert.equal(embedder.pooling, 'mean');
  assert.equal(embedder.maxModelLen, 128);
  assert.deepEqual(job.identity, { dtype: 'float32' });
  // Quantization changes the numbers, so a journal written with it resumes only with it (and one without, without).
  const quantized = parse([...BASE, '--quantization', 'int8']);
  assert.equal(quantized.embedder.quantization, 'int8');
  assert.deepEqual(quantized.job.identity, { dtype: 'float32', quantization: 'int8' });
  assert.equal(parse(BASE, { POOLED_TRUNCATE: 'start' }).embedder.truncation, 'start');
  assert.throws(() => parse([...BASE, '--backend', 'tpu']), new RegExp(`--backend must be one of ${BACKEND_NAMES.join(', ')}`));
  for (const name of ['backend', 'dtype', 'quantization', 'threads', 'truncate', 'max-num-batched-tokens', 'pooling']) {
    assert.ok(Object.hasOwn(SERVE_FLAGS, name) && embedHelp().includes(`--${name}`), name);
  }
  // Flags that only mean something to an HTTP server are not embed flags.
  for (const serverOnly of ['--port', '--host', '--api-key', '--cors-origins', '--request-timeout', '--log-level']) {
    assert.throws(() => parse([...BASE, serverOnly, 'x']), UsageError, serverOnly);
    assert.ok(!embedHelp().includes(`${serverOnly} `), serverOnly);
  }
});

test('missing or wrong flags are usage errors that say what to do', () => {
  const cases: [string[], RegExp][] = [
    [['--input', 'a', '--output', 'b.jsonl'], /--model is required/],
    [['--model', 'm', '--output', 'b.jsonl'], /--input is required/],
    [['--model', 'm', '--input', 'a'], /--output is required/],
    [[...BASE.slice(0, 4), '--output', 'out.csv'], /use \.jsonl, \.ndjson or \.npy/],
    [[...BASE, '--output-dtype', 'float16'], /float16 needs a \.npy output/],
    [[...BASE, '--output-dtype', 'int8'], /--output-dtype must be one of float32, float16/],
    [[...BASE, '--on-error', 'ignore'], /--on-error must be one of fail, skip/],
    [[...BASE, '--shard', '4/4'], /i must be in 0\.\.3/],
    [[...BASE, '--dimensions', '0'], /--dimensions must be a positive integer/],
    [[...BASE, '--checkpoint-interval=-1'], /--checkpoint-interval must be a number of seconds >= 0/],
    [[...BASE, '--progress', 'fancy'], /--progress must be one of auto, bar, lines, none/],
    [[...BASE, '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, pattern] of cases) assert.throws(() => parseEmbedArgs(args, {}), pattern, args.join(' '));
});

test('--help wins over everything else', () => {
  assert.equal(parseEmbedArgs(['--help']), 'help');
  assert.match(embedHelp(), /^usage: pooled embed --model/);
  assert.match(embedHelp(), /--shard/);
});
