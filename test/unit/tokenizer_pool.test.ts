// Large requests tokenize in worker threads; results and errors must be exactly those of inline tokenization.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { InvalidRequestError } from '../../src/errors.js';
import { TextTokenizer } from '../../src/tokenizer/tokenizer.js';
import { TokenizerPool } from '../../src/tokenizer/worker_pool.js';

const folder = fileURLToPath(new URL('../fixtures/models/BAAI--bge-small-en-v1.5', import.meta.url));
const inline = TextTokenizer.load(folder);
const pool = new TokenizerPool(folder, inline, { numWorkers: 2, minCharsForWorkers: 1000 });
after(() => pool.close());

const texts = Array.from({ length: 40 }, (_, i) => `document ${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(1 + (i % 5))}`);
const params = texts.map((_, i) => `input[${i}]`);

test('worker threads give the same ids as inline tokenization, in order', async () => {
  const viaWorkers = await pool.encodeMany(texts, params, { maxLength: 512, truncation: 'none' });
  assert.equal(viaWorkers.length, texts.length);
  viaWorkers.forEach((ids, i) => assert.deepEqual(Array.from(ids), Array.from(inline.encode(texts[i], { maxLength: 512, truncation: 'none' }))));
});

test('an over-long text in a worker comes back as the same typed 400, naming its input', async () => {
  const firstTooLong = texts.findIndex((t) => inline.encode(t, { maxLength: 512, truncation: 'none' }).length > 20);
  assert.ok(firstTooLong >= 0);
  await assert.rejects(pool.encodeMany(texts, params, { maxLength: 20, truncation: 'none' }), (err: unknown) => {
    assert.ok(err instanceof InvalidRequestError);
    assert.equal(err.status, 400);
    assert.equal(err.param, `input[${firstTooLong}]`);
    assert.match(err.message, /maximum input length of 20/);
    return true;
  });
});

test('small requests stay inline (no worker round trip)', async () => {
  const small = new TokenizerPool(folder, inline, { numWorkers: 2, minCharsForWorkers: 1_000_000 });
  const ids = await small.encodeMany(['hello world'], ['input'], { maxLength: 512, truncation: 'none' });
  assert.deepEqual(Array.from(ids[0]), [101, 7592, 2088, 102]);
  await small.close();
});
