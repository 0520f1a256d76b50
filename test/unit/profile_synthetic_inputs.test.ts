import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildSyntheticDataset, loadInputFile } from '../../src/profile/dataset.js';
import { decodePng } from '../../src/profile/png.js';
import { SeededRandom } from '../../src/profile/rng.js';
import { SyntheticTextGenerator } from '../../src/profile/synthetic_text.js';
import { loadTokenCounter, resolveTokenizerFolder } from '../../src/profile/tokenizer_loader.js';

const BGE = 'test/fixtures/models/BAAI--bge-small-en-v1.5';
const MINILM = 'test/fixtures/models/sentence-transformers--all-MiniLM-L6-v2';
const scratch = mkdtempSync(join(tmpdir(), 'profile-inputs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('the tokenizer loads from a folder holding tokenizer.json.gz and counts without special tokens', () => {
  const counter = loadTokenCounter(BGE);
  assert.equal(counter.countTokens('Hello world!'), 3); // hello, world, ! ([CLS]/[SEP] not counted)
  assert.equal(counter.source, BGE);
});

test('an HF id resolves through the hub cache (refs/main names the snapshot)', () => {
  const cache = join(scratch, 'hub');
  const snapshot = join(cache, 'models--BAAI--bge-small-en-v1.5', 'snapshots', 'abc123');
  mkdirSync(snapshot, { recursive: true });
  mkdirSync(join(cache, 'models--BAAI--bge-small-en-v1.5', 'refs'), { recursive: true });
  writeFileSync(join(cache, 'models--BAAI--bge-small-en-v1.5', 'refs', 'main'), 'abc123\n');
  copyFileSync(join(BGE, 'tokenizer.json.gz'), join(snapshot, 'tokenizer.json.gz'));
  const env = { HF_HUB_CACHE: cache, HOME: scratch };
  assert.equal(resolveTokenizerFolder('BAAI/bge-small-en-v1.5', env), snapshot);
  assert.equal(loadTokenCounter('BAAI/bge-small-en-v1.5', env).countTokens('Hello world!'), 3);
  assert.throws(() => resolveTokenizerFolder('nobody/nothing', env), /cannot find a tokenizer for "nobody\/nothing".*--tokenizer/);
});

test('synthetic texts have exactly the requested token count for the model tokenizer', () => {
  for (const folder of [BGE, MINILM]) {
    const counter = loadTokenCounter(folder);
    const generator = new SyntheticTextGenerator(counter, new SeededRandom(3));
    for (const numTokens of [1, 2, 7, 100, 512]) {
      const { text, numTokens: reported } = generator.generate(numTokens);
      assert.equal(counter.countTokens(text), numTokens, `${folder} ${numTokens}`);
      assert.equal(reported, numTokens);
    }
  }
});

test('the same seed gives the same dataset; stddev spreads lengths around the mean', () => {
  const counter = loadTokenCounter(BGE);
  const source = { kind: 'synthetic', tokensMean: 50, tokensStddev: 10, batchSizeText: 2, numDatasetEntries: 40, images: null, rankings: null } as const;
  const first = buildSyntheticDataset(source, counter, 11, 40);
  const again = buildSyntheticDataset(source, counter, 11, 40);
  const other = buildSyntheticDataset(source, counter, 12, 40);
  assert.deepEqual(first, again);
  assert.notDeepEqual(first, other);
  const lengths = first.flatMap((entry) => entry.texts.map((t) => counter.countTokens(t)));
  assert.equal(lengths.length, 80);
  first.forEach((entry) =>
    assert.equal(
      entry.inputSequenceLength,
      entry.texts.reduce((s, t) => s + counter.countTokens(t), 0),
    ),
  );
  const average = lengths.reduce((a, b) => a + b, 0) / lengths.length;
  assert.ok(Math.abs(average - 50) < 5, `mean ${average}`);
  assert.ok(new Set(lengths).size > 10, 'lengths vary with a stddev');
  assert.ok(Math.min(...lengths) >= 1);
});

test('synthetic images are valid PNG data URIs of the requested size', () => {
  const counter = loadTokenCounter(BGE);
  const source = {
    kind: 'synthetic',
    tokensMean: 5,
    tokensStddev: 0,
    batchSizeText: 1,
    numDatasetEntries: 3,
    images: { widthMean: 48, heightMean: 20, widthStddev: 0, heightStddev: 0, batchSize: 2 },
    rankings: null,
  } as const;
  const entries = buildSyntheticDataset(source, counter, 1, 3);
  for (const entry of entries) {
    assert.equal(entry.images.length, 2);
    for (const uri of entry.images) {
      const match = /^data:image\/png;base64,(.+)$/.exec(uri);
      assert.ok(match);
      const image = decodePng(Buffer.from(match[1]!, 'base64'));
      assert.equal(image.width, 48);
      assert.equal(image.height, 20);
    }
  }
  assert.notEqual(entries[0]!.images[0], entries[0]!.images[1], 'each image differs');
});

test('single_turn JSONL: text, texts, images by URL or by path beside the file', () => {
  const png = Buffer.from('89504e470d0a1a0a', 'hex');
  writeFileSync(join(scratch, 'pic.png'), png);
  const file = join(scratch, 'inputs.jsonl');
  writeFileSync(
    file,
    [
      JSON.stringify({ text: 'Hello world!' }),
      '',
      JSON.stringify({ texts: ['a b', 'c'] }),
      JSON.stringify({ text: 'look', images: ['pic.png', 'https://example.com/x.jpg'] }),
    ].join('\n'),
  );
  const entries = loadInputFile(file, loadTokenCounter(BGE));
  assert.deepEqual(
    entries.map((e) => e.texts),
    [['Hello world!'], ['a b', 'c'], ['look']],
  );
  assert.deepEqual(
    entries.map((e) => e.inputSequenceLength),
    [3, 3, 1],
  );
  assert.equal(entries[2]!.images[0], `data:image/png;base64,${png.toString('base64')}`);
  assert.equal(entries[2]!.images[1], 'https://example.com/x.jpg');
  assert.equal(entries[2]!.id, 'line_4');
  assert.equal(loadInputFile(file, null)[0]!.inputSequenceLength, null);
  writeFileSync(join(scratch, 'bad.jsonl'), '{"prompt": "x"}\n');
  assert.throws(() => loadInputFile(join(scratch, 'bad.jsonl'), null), /line 1: no "text"/);
});
