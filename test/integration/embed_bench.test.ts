// The `bench:embed` measurement on a tiny model: every row is timed on the same documents and tokens (the job checks
// its counts against the engine's and throws otherwise), and the numbers are consistent with one another.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { runEmbedBenchmark } from '../../src/bench/embed_bench.js';
import { syntheticTexts } from '../../src/bench/synthetic_texts.js';
import { Embedder } from '../../src/engine/embedder.js';
import { fixtureModel } from '../fixtures/generate.js';

let embedder: Embedder;

before(async () => {
  const path = await fixtureModel('bge-small', { shrink: { numLayers: 1, hiddenSize: 32, numHeads: 2, intermediateSize: 64 } });
  embedder = await Embedder.load(path, { tokenizerWorkers: 0 });
});

after(async () => {
  await embedder?.close();
});

test('engine and pooled embed rows cover the same documents and tokens, with consistent rates', async () => {
  const texts = syntheticTexts(300, 12);
  const result = await runEmbedBenchmark(embedder, { texts, rounds: 1 });
  let numTokens = 0;
  for (const t of texts) numTokens += embedder.tokenize(t).length;
  assert.equal(result.numDocs, 300);
  assert.equal(result.numTokens, numTokens);
  for (const row of [result.engineForward, result.engineEmbed, result.pooledJsonl, result.pooledNpy]) {
    assert.ok(row.seconds > 0 && Number.isFinite(row.seconds), row.name);
    assert.ok(Math.abs(row.docsPerSecond * row.seconds - 300) < 1e-6, row.name);
    assert.ok(Math.abs(row.tokensPerSecond / row.docsPerSecond - numTokens / 300) < 1e-6, row.name);
  }
});
