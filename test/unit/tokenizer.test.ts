import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { TextTokenizer } from '../../src/tokenizer/tokenizer.js';
import { InvalidRequestError } from '../../src/errors.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/models/${name}`, import.meta.url));
const miniLm = TextTokenizer.load(fixture('sentence-transformers--all-MiniLM-L6-v2'));
const bge = TextTokenizer.load(fixture('BAAI--bge-small-en-v1.5'));

test('BERT WordPiece ids match the known vocabulary ([CLS]=101, hello=7592, [SEP]=102)', () => {
  const ids = bge.encode('Hello world!', { maxLength: 512, truncation: 'none' });
  assert.deepEqual(Array.from(ids), [101, 7592, 2088, 999, 102]);
  assert.equal(bge.vocabSize, 30522);
  assert.equal(bge.numSpecialTokens, 2);
});

test("all-MiniLM's baked-in `padding: Fixed 128` and `truncation: 128` are ignored", () => {
  const ids = miniLm.encode('Hello world!', { maxLength: 512, truncation: 'none' });
  assert.equal(ids.length, 5); // not padded to 128
  const long = 'word '.repeat(300);
  assert.equal(miniLm.encode(long, { maxLength: 512, truncation: 'none' }).length, 302); // not cut at 128
});

test('over-long input is rejected with a 400 naming both lengths', () => {
  const text = 'a b c d e f g h';
  assert.throws(
    () => bge.encode(text, { maxLength: 6, truncation: 'none' }),
    (err: unknown) => {
      assert.ok(err instanceof InvalidRequestError);
      assert.equal(err.status, 400);
      assert.match(err.message, /10 tokens/);
      assert.match(err.message, /maximum input length of 6/);
      return true;
    },
  );
});

test('truncation keeps the special tokens and cuts the requested side', () => {
  const full = Array.from(bge.encode('a b c d e f', { maxLength: 512, truncation: 'none' }));
  assert.equal(full.length, 8);
  const end = Array.from(bge.encode('a b c d e f', { maxLength: 5, truncation: 'end' }));
  const start = Array.from(bge.encode('a b c d e f', { maxLength: 5, truncation: 'start' }));
  assert.deepEqual(end, [101, ...full.slice(1, 4), 102]);
  assert.deepEqual(start, [101, ...full.slice(4, 7), 102]);
});

test('decode and token strings round-trip', () => {
  const ids = bge.encode('hello world', { maxLength: 512, truncation: 'none' });
  assert.equal(bge.decode(ids, true), 'hello world');
  assert.deepEqual(bge.tokens(ids), ['[CLS]', 'hello', 'world', '[SEP]']);
});
