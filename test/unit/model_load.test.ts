import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelLoadError } from '../../src/errors.js';
import { describeModel, loadModel } from '../../src/model/load.js';
import { tensorToFloat32 } from '../../src/model/tensor_data.js';
import { TINY_BERT_CONFIG, tinyBertShapes, tinyValue, writeTinyBertFolder } from '../helpers/model_tiny_bert.js';

let root: string;
// No test here may reach a hub: local folders only, and an endpoint nobody listens on just in case.
const env: NodeJS.ProcessEnv = { HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_CACHE: join(tmpdir(), 'pooled-no-cache') };

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pooled-load-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('loadModel', () => {
  it('loads a sentence-transformers folder: config, canonical weights with their values, settings', async () => {
    const folder = join(root, 'st-model');
    await writeTinyBertFolder(folder, { pooling: 'mean', maxSeqLength: 20, prompts: { query: 'query: ' }, defaultPromptName: 'query' });
    const model = await loadModel(folder, { env });
    assert.equal(model.id, 'st-model');
    assert.equal(model.path, folder);
    assert.equal(model.source, 'folder');
    assert.equal(model.config.hiddenSize, 8);
    assert.equal(model.weights.size, 21);
    assert.deepEqual(model.checkpointMetadata, { format: 'pt' });
    // Values survive writer -> reader -> canonicalization, tensor by tensor.
    tinyBertShapes().forEach(([name, shape], tensorIndex) => {
      const values = tensorToFloat32(model.weights.get(name)!);
      assert.equal(
        values.length,
        shape.reduce((a, b) => a * b, 1),
        name,
      );
      assert.equal(values[values.length - 1], tinyValue(tensorIndex, values.length - 1), name);
    });
    assert.deepEqual(
      {
        pooling: model.settings.pooling,
        normalize: model.settings.normalize,
        maxSeqLength: model.settings.maxSeqLength,
        defaultPromptName: model.settings.defaultPromptName,
      },
      { pooling: 'mean', normalize: true, maxSeqLength: 20, defaultPromptName: 'query' },
    );
  });

  it('loads a BertForMaskedLM checkpoint in BF16 with bert. prefix, position_ids, pooler and MLM head', async () => {
    const folder = join(root, 'mlm');
    await writeTinyBertFolder(folder, {
      config: { architectures: ['BertForMaskedLM'] },
      prefix: 'bert.',
      dtype: 'BF16',
      withPositionIds: true,
      withPooler: true,
      extra: [
        ['cls.predictions.bias', [16]],
        ['cls.predictions.transform.dense.weight', [8, 8]],
      ],
    });
    const model = await loadModel(folder, { env, servedModelName: 'my-mlm', overrides: { pooling: 'mean', normalize: false } });
    assert.equal(model.id, 'my-mlm');
    assert.equal(model.weights.get('embeddings.word_embeddings.weight')!.name, 'bert.embeddings.word_embeddings.weight');
    assert.equal(model.settings.pooling, 'mean');
    assert.equal(model.settings.sources.pooling, 'flag --pooling');

    const description = describeModel(model);
    assert.equal(description.weightsDType, 'BF16');
    assert.equal(description.id, 'my-mlm');
    assert.equal(description.architecture, 'bert');
    assert.equal(description.normalize, false);
    assert.equal(description.source, 'folder');
    // 16*8 + 32*8 + 2*8 + 2*8 (embeddings) + 4*(8*8+8) + 2*8 + (16*8+16) + (8*16+8) + 2*8 (layer 0)
    assert.equal(description.numParameters, 128 + 256 + 16 + 16 + 288 + 16 + 144 + 136 + 16);
    assert.deepEqual(JSON.parse(JSON.stringify(description)), description, 'plain JSON-ready object');
  });

  it('loads a plain transformers folder (no modules.json) with the CLS + normalize default', async () => {
    const folder = join(root, 'plain');
    await writeTinyBertFolder(folder, { numShards: 2 });
    const description = describeModel(await loadModel(folder, { env }));
    assert.equal(description.pooling, 'cls');
    assert.equal(description.normalize, true);
    assert.equal(description.maxSeqLength, 32);
    assert.equal(description.hiddenAct, 'gelu');
  });

  it('fails at load time when the checkpoint does not match config.json', async () => {
    const folder = join(root, 'mismatch');
    await writeTinyBertFolder(folder, { config: { ...TINY_BERT_CONFIG, num_hidden_layers: 2 } });
    await assert.rejects(loadModel(folder, { env }), (error: unknown) => {
      assert.ok(error instanceof ModelLoadError);
      assert.match(error.message, /model\.safetensors: checkpoint does not match config\.json \(BERT\): missing 16 tensor\(s\): encoder\.layer\.1\./);
      return true;
    });
    await assert.rejects(loadModel(folder, { env, servedModelName: ' ' }), /served model name must not be empty/);
  });
});
