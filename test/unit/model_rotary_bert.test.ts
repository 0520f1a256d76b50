// NomicBERT and GTE NewModel: config parsing (both field vocabularies), refusals by field name, the checkpoint layout,
// and the float64 reference's batch invariance (a text alone and inside a ragged batch gives the same row).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { architectureOf, parseModelConfig } from '../../src/model/architectures/registry.js';
import { rotaryInverseFrequencies } from '../../src/model/architectures/rotary_bert/reference.js';
import { readCheckpoint } from '../../src/model/checkpoint.js';
import type { RotaryBertConfig } from '../../src/model/types.js';
import { tinyRotaryBertConfigJson, writeTinyRotaryBert } from '../helpers/rotary_bert_fixture.js';

const parse = (json: Record<string, unknown>) => parseModelConfig(json, 'config.json') as RotaryBertConfig;

describe('rotary BERT configs', () => {
  it('reads NomicBertConfig (GPT2-style) fields', () => {
    const c = parse(tinyRotaryBertConfigJson('nomic_bert'));
    assert.equal(c.architecture, 'nomic_bert');
    assert.deepEqual([c.hiddenSize, c.numHeads, c.numLayers, c.intermediateSize, c.maxPositionEmbeddings], [32, 4, 2, 64, 8192]);
    assert.deepEqual([c.ropeTheta, c.ropeNtkFactor, c.hiddenAct, c.attentionBias, c.mlpUpBias, c.mlpDownBias], [1000, null, 'silu', false, false, false]);
    assert.equal(parse({ ...tinyRotaryBertConfigJson('nomic_bert'), activation_function: 'geglu' }).hiddenAct, 'gelu');
    // NomicBertModel.__init__ pads the vocabulary to pad_vocab_size_multiple.
    assert.equal(parse({ ...tinyRotaryBertConfigJson('nomic_bert'), vocab_size: 30522, pad_vocab_size_multiple: 64 }).vocabSize, 30528);
  });

  it('refuses what NomicBERT can be configured to do that we do not run, naming the field', () => {
    const base = tinyRotaryBertConfigJson('nomic_bert');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ prenorm: true }, /prenorm true is not supported/],
      [{ rotary_emb_interleaved: true }, /rotary_emb_interleaved true is not supported/],
      [{ rotary_emb_fraction: 0.5 }, /rotary_emb_fraction 0.5 is not supported/],
      [{ rotary_scaling_factor: 2 }, /rotary_scaling_factor 2 is not supported \(dynamic NTK/],
      [{ rotary_emb_scale_base: 512 }, /rotary_emb_scale_base 512 is not supported/],
      [{ moe_every_n_layers: 2 }, /moe_every_n_layers 2 is not supported \(mixture-of-experts/],
      [{ activation_function: 'gelu_new' }, /activation_function "gelu_new" is not supported/],
      [{ n_embd: 30 }, /head dim 7\.5|not a multiple/],
      [{ rotary_emb_fraction: undefined }, /"rotary_emb_fraction" is missing/],
    ];
    for (const [patch, error] of cases) assert.throws(() => parse({ ...base, ...patch }), error);
  });

  it('reads NewConfig fields and rope_scaling ntk, refusing other variants', () => {
    const c = parse(tinyRotaryBertConfigJson('gte'));
    assert.deepEqual(
      [c.architecture, c.ropeTheta, c.ropeNtkFactor, c.hiddenAct, c.attentionBias, c.mlpUpBias, c.mlpDownBias],
      ['gte', 500000, 2, 'gelu', true, false, true],
    );
    assert.equal(parse({ ...tinyRotaryBertConfigJson('gte'), model_type: 'gte', architectures: ['GteModel'] }).architecture, 'gte');
    const base = tinyRotaryBertConfigJson('gte');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ rope_scaling: { type: 'linear', factor: 2 } }, /rope_scaling .* is not supported/],
      [{ rope_scaling: { type: 'ntk', factor: 2, mixed_b: 0.5 } }, /mixed_b/],
      [{ position_embedding_type: 'absolute' }, /position_embedding_type "absolute" is not supported/],
      [{ logn_attention_scale: true }, /logn_attention_scale true is not supported/],
      [{ layer_norm_type: 'rms_norm' }, /layer_norm_type "rms_norm" is not supported/],
      [{ pack_qkv: false }, /pack_qkv false is not supported/],
      [{ hidden_act: 'relu' }, /hidden_act "relu" is not supported/],
    ];
    for (const [patch, error] of cases) assert.throws(() => parse({ ...base, ...patch }), error);
  });

  it("NTK inverse frequencies are new-impl's: 1 / (theta * factor)^(2i/d) / factor^(2/d)", () => {
    const c = parse(tinyRotaryBertConfigJson('gte'));
    const inverse = rotaryInverseFrequencies(c);
    const d = 8;
    assert.equal(inverse.length, d / 2);
    for (let i = 0; i < d / 2; i++) assert.ok(Math.abs(inverse[i] - 1 / (500000 * 2) ** ((2 * i) / d) / 2 ** (2 / d)) < 1e-18);
  });
});

describe('rotary BERT layout and reference', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  for (const family of ['nomic_bert', 'gte'] as const) {
    it(`${family}: checks tensors by name and shape, and a text alone equals it inside a batch`, async () => {
      const dir = await mkdtemp(join(tmpdir(), `rotary-${family}-`));
      dirs.push(dir);
      const config = await writeTinyRotaryBert(dir, family, { typeVocabSize: family === 'gte' ? 0 : 2 });
      const spec = architectureOf(config);
      const { tensors } = await readCheckpoint(dir);
      const weights = spec.canonicalizeWeights(tensors, config, dir);
      const missing = new Map(tensors);
      const removed = [...missing.keys()].find((name) => name.includes('.1.'))!;
      missing.delete(removed);
      assert.throws(() => spec.canonicalizeWeights(missing, config, dir), new RegExp(`missing 1 tensor\\(s\\): ${removed.replace(/\./g, '\\.')}`));

      const forward = spec.reference.create(config, weights);
      const texts = [
        [1, 2, 3, 4, 5, 6, 7],
        [9, 10],
        [11, 12, 13],
      ];
      const batchOf = (seqs: number[][]) => {
        const cuSeqLens = new Int32Array(seqs.length + 1);
        seqs.forEach((s, i) => {
          cuSeqLens[i + 1] = cuSeqLens[i] + s.length;
        });
        return {
          tokenIds: Int32Array.from(seqs.flat()),
          positions: Int32Array.from(seqs.flatMap((s) => s.map((_, p) => p))),
          cuSeqLens,
          pooling: 'mean' as const,
          dimensions: new Int32Array(seqs.length),
          normalize: new Uint8Array(seqs.length).fill(1),
        };
      };
      const together = forward.forward(batchOf(texts), null);
      texts.forEach((text, i) => {
        const alone = forward.forward(batchOf([text]), null)[0];
        for (let c = 0; c < alone.length; c++) assert.ok(Math.abs(alone[c] - together[i][c]) < 1e-14);
      });
    });
  }
});
