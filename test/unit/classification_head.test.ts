// Classification heads, pair truncation and vLLM's launch flags: the pieces the served tests (server_rerank) and the
// upstream check (test/upstream/test_cross_encoder.py) rely on, case by case.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { parseVllmFlags } from '../../src/cli/vllm_flags.js';
import { UsageError } from '../../src/errors.js';
import { activate, headLogits, parseClassificationLabels } from '../../src/model/heads/classification.js';
import type { ClassificationHead } from '../../src/model/types.js';
import { parsePredictInputs } from '../../src/server/routes/classify.js';
import { longestFirstLengths } from '../../src/tokenizer/tokenizer.js';

describe('longest_first pair truncation (tokenizers/src/utils/truncation.rs)', () => {
  test('fits: unchanged; one side too long: only the longer is cut; both long: floor(budget / 2) to the shorter side', () => {
    assert.deepEqual(longestFirstLengths(3, 4, 10), [3, 4]);
    assert.deepEqual(longestFirstLengths(3, 20, 10), [3, 7]);
    assert.deepEqual(longestFirstLengths(20, 3, 10), [7, 3]);
    assert.deepEqual(longestFirstLengths(20, 30, 11), [5, 6]); // n1 <= n2: the shorter gets floor(11 / 2)
    assert.deepEqual(longestFirstLengths(30, 20, 11), [6, 5]);
    assert.deepEqual(longestFirstLengths(8, 8, 10), [5, 5]);
    assert.deepEqual(longestFirstLengths(8, 8, 9), [4, 5]);
    assert.deepEqual(longestFirstLengths(5, 4, 0), [0, 0]);
  });
});

describe('labels and activations from config.json', () => {
  test('num_labels = len(id2label), 2 without one; problem_type and the cross-encoder activation keys', () => {
    const two = parseClassificationLabels({}, 'c.json');
    assert.deepEqual(two.labels, ['LABEL_0', 'LABEL_1']);
    assert.equal(two.classifyActivation, 'softmax');
    assert.equal(two.scoreActivation, 'identity');
    const one = parseClassificationLabels({ id2label: { 0: 'relevant' } }, 'c.json');
    assert.equal(one.classifyActivation, 'sigmoid');
    assert.equal(one.scoreActivation, 'sigmoid');
    assert.equal(
      parseClassificationLabels({ id2label: { 0: 'x' }, sbert_ce_default_activation_function: 'torch.nn.modules.linear.Identity' }, 'c').scoreActivation,
      'identity',
    );
    assert.equal(
      parseClassificationLabels({ id2label: { 0: 'x' }, sentence_transformers: { activation_fn: 'torch.nn.modules.activation.Tanh' } }, 'c').scoreActivation,
      'tanh',
    );
    assert.equal(parseClassificationLabels({ num_labels: 3, problem_type: 'multi_label_classification' }, 'c').classifyActivation, 'sigmoid');
    assert.equal(parseClassificationLabels({ num_labels: 1, problem_type: 'regression' }, 'c').classifyActivation, 'identity');
    assert.deepEqual(parseClassificationLabels({ id2label: { 1: 'pos', 0: 'neg' } }, 'c').labels, ['neg', 'pos']);
  });

  test('malformed values are load errors naming the field', () => {
    assert.throws(() => parseClassificationLabels({ id2label: { 0: 'a', 2: 'b' } }, 'c.json'), /c\.json: "id2label" must map the ids 0\.\.1/);
    assert.throws(() => parseClassificationLabels({ num_labels: 0 }, 'c.json'), /"num_labels" must be a positive integer/);
    assert.throws(() => parseClassificationLabels({ problem_type: 'ranking' }, 'c.json'), /unknown problem_type "ranking"/);
    assert.throws(
      () => parseClassificationLabels({ sentence_transformers: { activation_fn: 'my.module.Custom' } }, 'c.json'),
      /cross-encoder activation "my\.module\.Custom" is not supported/,
    );
  });
});

describe('head arithmetic', () => {
  const head: ClassificationHead = {
    numLabels: 2,
    labels: ['a', 'b'],
    classifyActivation: 'softmax',
    scoreActivation: 'identity',
    pooling: 'cls',
    layers: [
      { weight: Float64Array.of(1, 0, 0, 2), bias: Float64Array.of(0, 0.5), inFeatures: 2, outFeatures: 2, activation: 'tanh' },
      { weight: Float64Array.of(1, 1, -1, 3), bias: Float64Array.of(0.25, 0), inFeatures: 2, outFeatures: 2, activation: 'identity' },
    ],
  };
  test('dense + tanh, then dense: written out by hand', () => {
    const x = [0.3, -0.2];
    const h = [Math.tanh(0.3), Math.tanh(-0.4 + 0.5)];
    const expected = [h[0] + h[1] + 0.25, -h[0] + 3 * h[1]];
    const logits = headLogits(head, x);
    expected.forEach((value, i) => assert.ok(Math.abs(logits[i] - value) < 1e-15));
    assert.throws(() => headLogits(head, [1, 2, 3]), /reads 2 values, got 3/);
  });
  test('softmax sums to 1 and survives large logits; sigmoid and tanh per label', () => {
    const probs = activate(Float64Array.of(1000, 999), 'softmax');
    assert.ok(Math.abs(probs[0] + probs[1] - 1) < 1e-15 && probs[0] > probs[1]);
    assert.equal(activate(Float64Array.of(0), 'sigmoid')[0], 0.5);
    assert.equal(activate(Float64Array.of(0.5), 'tanh')[0], Math.tanh(0.5));
  });
});

describe('TEI /predict inputs (serde untagged: a single sequence first)', () => {
  test('a text; two texts = one pair; a list of texts or pairs = a batch', () => {
    assert.deepEqual(parsePredictInputs('hi'), { inputs: ['hi'], batch: false });
    assert.deepEqual(parsePredictInputs(['q', 'd']), { inputs: [['q', 'd']], batch: false });
    assert.deepEqual(parsePredictInputs(['a', 'b', 'c']), { inputs: ['a', 'b', 'c'], batch: true });
    assert.deepEqual(parsePredictInputs([['q', 'd'], 'x']), { inputs: [['q', 'd'], 'x'], batch: true });
    assert.throws(() => parsePredictInputs([]), /non-empty list/);
    assert.throws(() => parsePredictInputs([1, 2, 3]), /inputs\[0\] must be a text or a pair/);
  });
});

describe("vLLM's launch flags", () => {
  test('--task, --convert, --runner', () => {
    assert.equal(parseVllmFlags({}).task, 'auto');
    assert.equal(parseVllmFlags({ task: 'embedding' }).task, 'embed');
    assert.equal(parseVllmFlags({ task: 'score', runner: 'pooling' }).task, 'score');
    assert.equal(parseVllmFlags({ convert: 'classify' }).task, 'classify');
    assert.equal(parseVllmFlags({ convert: 'none' }).task, 'auto');
    assert.throws(
      () => parseVllmFlags({ task: 'generate' }),
      (e: Error) => e instanceof UsageError && /--task generate: pooled serves pooling models only/.test(e.message),
    );
    assert.throws(() => parseVllmFlags({ task: 'sparse' }), /sparse \(SPLADE\) outputs are not supported yet/);
    assert.throws(() => parseVllmFlags({ runner: 'generate' }), /--runner generate/);
    assert.throws(() => parseVllmFlags({ task: 'embed', convert: 'classify' }), /disagree/);
  });

  test('--pooler-config / --override-pooler-config: pooling_type and normalize; other fields refused by name', () => {
    const settings = parseVllmFlags({ poolerConfig: '{"pooling_type": "MEAN", "normalize": false}' });
    assert.equal(settings.pooling, 'mean');
    assert.equal(settings.normalize, false);
    assert.equal(parseVllmFlags({ overridePoolerConfig: '{"pooling_type": "cls"}' }).pooling, 'cls');
    assert.throws(() => parseVllmFlags({ poolerConfig: '{"pooling_type": "ALL"}' }), /pooling_type must be one of CLS, MEAN, LAST/);
    assert.throws(() => parseVllmFlags({ poolerConfig: '{"dimensions": 256}' }), /--pooler-config dimensions is not supported/);
    assert.throws(() => parseVllmFlags({ overridePoolerConfig: '{"activation": false}' }), /--override-pooler-config activation: only true/);
    assert.throws(() => parseVllmFlags({ poolerConfig: '{}', overridePoolerConfig: '{}' }), /not both/);
    assert.throws(() => parseVllmFlags({ poolerConfig: 'CLS' }), /--pooler-config must be a JSON object/);
  });

  test('--hf-overrides are checked; --trust-remote-code is accepted with a notice', () => {
    assert.deepEqual(parseVllmFlags({ hfOverrides: '{"is_matryoshka": true, "matryoshka_dimensions": [64, 128]}' }).hfOverrides, {
      is_matryoshka: true,
      matryoshka_dimensions: [64, 128],
    });
    assert.throws(() => parseVllmFlags({ hfOverrides: '{"matryoshka_dimensions": [0]}' }), /positive integers/);
    assert.match(parseVllmFlags({ trustRemoteCode: true }).notices.join(), /runs no code from model repositories/);
  });
});
