// For test/upstream/test_rotary_bert.py: writes a tiny rotary-BERT checkpoint (test/helpers/rotary_bert_fixture.ts)
// into OUT and our float64 reference's last hidden states for a ragged batch of the given sequences into
// OUT/reference.json, with the native cpu backend's float32 MEAN-pooled rows (not normalized) of the same sequences.
// Usage: node --import tsx test/upstream/rotary_bert_oracle.ts FAMILY OUT '[[ids...], ...]' [NTK]
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { createNativeBackend } from '../../src/backends/native/backend.js';
import { rotaryBertForward } from '../../src/model/architectures/rotary_bert/reference.js';
import { loadModel } from '../../src/model/load.js';
import { readCheckpoint } from '../../src/model/checkpoint.js';
import { architectureOf } from '../../src/model/architectures/registry.js';
import { type RotaryBertFamily, writeTinyRotaryBert } from '../helpers/rotary_bert_fixture.js';

const [family, out, idsJson, ntk] = process.argv.slice(2);
const sequences = JSON.parse(idsJson) as number[][];
const config = await writeTinyRotaryBert(out, family as RotaryBertFamily, {
  ntkFactor: ntk === undefined ? undefined : ntk === 'none' ? null : Number(ntk),
  typeVocabSize: family === 'gte' ? 0 : 2,
});
const checkpoint = await readCheckpoint(out);
const weights = architectureOf(config).canonicalizeWeights(checkpoint.tensors, config, out);
const cuSeqLens = new Int32Array(sequences.length + 1);
sequences.forEach((s, i) => {
  cuSeqLens[i + 1] = cuSeqLens[i] + s.length;
});
const batch = {
  tokenIds: Int32Array.from(sequences.flat()),
  positions: Int32Array.from(sequences.flatMap((s) => s.map((_, p) => p))),
  cuSeqLens,
  pooling: 'mean' as const,
  dimensions: new Int32Array(sequences.length),
  normalize: new Uint8Array(sequences.length),
};
const hidden = rotaryBertForward(config, weights, batch);
const native = await createNativeBackend(await loadModel(out), { dtype: 'float32' });
const nativeRows = await native.forward(
  buildRaggedBatch(sequences, { pooling: 'mean', normalize: sequences.map(() => false), dimensions: sequences.map(() => 0) }),
);
await native.dispose();
await writeFile(
  join(out, 'reference.json'),
  JSON.stringify({ hiddenSize: config.hiddenSize, hidden: Array.from(hidden), nativeMean: nativeRows.map((row) => Array.from(row)) }),
);
