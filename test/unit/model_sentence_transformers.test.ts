import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelLoadError } from '../../src/errors.js';
import { readModelConfig } from '../../src/model/config.js';
import { moduleConfigFiles, readEmbeddingSettings } from '../../src/model/sentence_transformers.js';
import type { BertConfig } from '../../src/model/types.js';

const FIXTURES = 'test/fixtures/models';
const BERT_512: BertConfig = {
  architecture: 'bert',
  vocabSize: 30522,
  hiddenSize: 384,
  numLayers: 1,
  numHeads: 12,
  intermediateSize: 1536,
  maxPositionEmbeddings: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenAct: 'gelu',
  padTokenId: 0,
  taskTypeVocabSize: 0,
  isMatryoshka: false,
  matryoshkaDimensions: null,
};

let root: string;
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pooled-st-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A copy of a fixture model's metadata, with files replaced or removed (null). */
async function variant(model: string, changes: Record<string, unknown | null> = {}): Promise<string> {
  const folder = join(root, `v${counter++}`);
  await cp(join(FIXTURES, model), folder, { recursive: true });
  for (const [file, content] of Object.entries(changes)) {
    const path = join(folder, file);
    if (content === null) {
      await rm(path, { force: true });
    } else {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    }
  }
  return folder;
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ModelLoadError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

const MEAN_POOLING = {
  word_embedding_dimension: 384,
  pooling_mode_cls_token: false,
  pooling_mode_mean_tokens: true,
  pooling_mode_max_tokens: false,
  pooling_mode_mean_sqrt_len_tokens: false,
};

describe('sentence-transformers settings of the real fixture models', () => {
  it('bge-small-en-v1.5: CLS pooling, normalized, 512 tokens', async () => {
    const folder = join(FIXTURES, 'BAAI--bge-small-en-v1.5');
    const settings = await readEmbeddingSettings(folder, await readModelConfig(join(folder, 'config.json')));
    assert.deepEqual(settings, {
      pooling: 'cls',
      normalize: true,
      maxSeqLength: 512,
      prompts: {},
      defaultPromptName: null,
      doLowerCase: true,
      sources: {
        pooling: '1_Pooling/config.json',
        normalize: 'modules.json',
        maxSeqLength: 'sentence_bert_config.json',
        defaultPromptName: 'default (none)',
      },
    });
  });

  it('all-MiniLM-L6-v2: mean pooling, normalized, 256 tokens from sentence_bert_config.json', async () => {
    const folder = join(FIXTURES, 'sentence-transformers--all-MiniLM-L6-v2');
    const settings = await readEmbeddingSettings(folder, await readModelConfig(join(folder, 'config.json')));
    assert.equal(settings.pooling, 'mean');
    assert.equal(settings.normalize, true);
    assert.equal(settings.maxSeqLength, 256);
    assert.equal(settings.doLowerCase, false);
    assert.equal(settings.sources.maxSeqLength, 'sentence_bert_config.json');
  });

  it('e5-small-v2: mean pooling, normalized, its (empty) prompts', async () => {
    const folder = join(FIXTURES, 'intfloat--e5-small-v2');
    const settings = await readEmbeddingSettings(folder, await readModelConfig(join(folder, 'config.json')));
    assert.equal(settings.pooling, 'mean');
    assert.equal(settings.normalize, true);
    assert.equal(settings.maxSeqLength, 512);
    assert.deepEqual(settings.prompts, { query: '', document: '' });
    assert.equal(settings.defaultPromptName, null);
    assert.equal(settings.sources.prompts, 'config_sentence_transformers.json');
  });

  it('lists the module config files modules.json points at', async () => {
    const modules = JSON.parse(await readFile(join(FIXTURES, 'BAAI--bge-small-en-v1.5', 'modules.json'), 'utf8'));
    assert.deepEqual(moduleConfigFiles(modules, 'modules.json'), ['1_Pooling/config.json']);
    assert.deepEqual(
      moduleConfigFiles(
        [
          { type: 'sentence_transformers.models.Transformer', path: '0_Transformer' },
          { type: 'sentence_transformers.models.Pooling', path: '1_Pooling' },
        ],
        'm',
      ),
      ['0_Transformer/sentence_bert_config.json', '1_Pooling/config.json'],
    );
    for (const path of ['../../etc', '/etc', 'a/../../b']) {
      assert.throws(() => moduleConfigFiles([{ type: 'sentence_transformers.models.Pooling', path }], 'm'), /leaves the model folder/, path);
    }
  });
});

describe('sentence-transformers settings: overrides and fallbacks', () => {
  it('CLI overrides win and are recorded as the source', async () => {
    const folder = await variant('intfloat--e5-small-v2', {
      'config_sentence_transformers.json': { prompts: { query: 'query: ', passage: 'passage: ' }, default_prompt_name: null },
    });
    const settings = await readEmbeddingSettings(folder, BERT_512, {
      pooling: 'last',
      normalize: false,
      maxModelLen: 128,
      defaultPromptName: 'query',
    });
    assert.equal(settings.pooling, 'last');
    assert.equal(settings.normalize, false);
    assert.equal(settings.maxSeqLength, 128);
    assert.equal(settings.defaultPromptName, 'query');
    assert.deepEqual(settings.prompts, { query: 'query: ', passage: 'passage: ' });
    assert.deepEqual(settings.sources, {
      pooling: 'flag --pooling',
      normalize: 'flag --normalize',
      maxSeqLength: 'flag --max-model-len',
      prompts: 'config_sentence_transformers.json',
      defaultPromptName: 'flag --default-prompt-name',
    });
  });

  it('rejects overrides the model cannot honour', async () => {
    const folder = join(FIXTURES, 'intfloat--e5-small-v2');
    await rejectsWith(
      readEmbeddingSettings(folder, BERT_512, { maxModelLen: 513 }),
      /--max-model-len 513 exceeds the 512 tokens the model's positions allow \(max_position_embeddings 512\)/,
    );
    await rejectsWith(readEmbeddingSettings(folder, BERT_512, { maxModelLen: 0 }), /--max-model-len must be a positive integer/);
    await rejectsWith(readEmbeddingSettings(folder, BERT_512, { pooling: 'max' as never }), /--pooling "max" is not one of cls, mean, last/);
    await rejectsWith(
      readEmbeddingSettings(folder, BERT_512, { defaultPromptName: 'search' }),
      /--default-prompt-name "search" is not one of the model's prompts \(query, document/,
    );
  });

  it('max length: sentence_bert_config, else tokenizer model_max_length, capped by max_position_embeddings', async () => {
    const small: BertConfig = { ...BERT_512, maxPositionEmbeddings: 128 };
    // sentence_bert_config asks for 512 but the model has 128 positions.
    const capped = await readEmbeddingSettings(join(FIXTURES, 'intfloat--e5-small-v2'), small);
    assert.equal(capped.maxSeqLength, 128);
    assert.match(capped.sources.maxSeqLength, /max_position_embeddings \(sentence_bert_config\.json asks for more\)/);

    const noSbert = await variant('intfloat--e5-small-v2', {
      'sentence_bert_config.json': null,
      'tokenizer_config.json': { model_max_length: 300 },
    });
    const fromTokenizer = await readEmbeddingSettings(noSbert, BERT_512);
    assert.equal(fromTokenizer.maxSeqLength, 300);
    assert.equal(fromTokenizer.sources.maxSeqLength, 'tokenizer_config.json model_max_length');

    // transformers' "no limit" sentinel int(1e30) is ignored.
    const sentinel = await variant('intfloat--e5-small-v2', {
      'sentence_bert_config.json': null,
      'tokenizer_config.json': '{"model_max_length": 1000000000000000019884624838656}',
    });
    const fromPositions = await readEmbeddingSettings(sentinel, BERT_512);
    assert.equal(fromPositions.maxSeqLength, 512);
    assert.equal(fromPositions.sources.maxSeqLength, 'config.json max_position_embeddings');
  });

  it('without modules.json: CLS pooling + normalize (vLLM BERT default)', async () => {
    const folder = await variant('BAAI--bge-small-en-v1.5', { 'modules.json': null, '1_Pooling/config.json': null });
    const settings = await readEmbeddingSettings(folder, BERT_512);
    assert.equal(settings.pooling, 'cls');
    assert.equal(settings.normalize, true);
    assert.match(settings.sources.pooling, /^default \(no modules\.json/);
  });

  it('without a Normalize module: not normalized', async () => {
    const folder = await variant('sentence-transformers--all-MiniLM-L6-v2', {
      'modules.json': [
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      ],
    });
    const settings = await readEmbeddingSettings(folder, BERT_512);
    assert.equal(settings.normalize, false);
    assert.equal(settings.pooling, 'mean');
  });

  it('reads last-token pooling and a default prompt', async () => {
    const folder = await variant('intfloat--e5-small-v2', {
      '1_Pooling/config.json': { ...MEAN_POOLING, pooling_mode_mean_tokens: false, pooling_mode_lasttoken: true },
      'config_sentence_transformers.json': { prompts: { query: 'Query: ' }, default_prompt_name: 'query' },
    });
    const settings = await readEmbeddingSettings(folder, BERT_512);
    assert.equal(settings.pooling, 'last');
    assert.equal(settings.defaultPromptName, 'query');
    assert.equal(settings.sources.defaultPromptName, 'config_sentence_transformers.json');
  });

  it('rejects unsupported pooling, modules and prompt settings', async () => {
    const maxPooling = await variant('intfloat--e5-small-v2', {
      '1_Pooling/config.json': { ...MEAN_POOLING, pooling_mode_mean_tokens: false, pooling_mode_max_tokens: true },
    });
    await rejectsWith(readEmbeddingSettings(maxPooling, BERT_512), /1_Pooling\/config\.json: unsupported pooling pooling_mode_max_tokens/);
    const twoModes = await variant('intfloat--e5-small-v2', { '1_Pooling/config.json': { ...MEAN_POOLING, pooling_mode_cls_token: true } });
    await rejectsWith(readEmbeddingSettings(twoModes, BERT_512), /unsupported pooling pooling_mode_cls_token \+ pooling_mode_mean_tokens/);
    const noMode = await variant('intfloat--e5-small-v2', { '1_Pooling/config.json': { word_embedding_dimension: 384 } });
    await rejectsWith(readEmbeddingSettings(noMode, BERT_512), /unsupported pooling \(no pooling mode enabled\)/);
    const excludePrompt = await variant('intfloat--e5-small-v2', { '1_Pooling/config.json': { ...MEAN_POOLING, include_prompt: false } });
    await rejectsWith(readEmbeddingSettings(excludePrompt, BERT_512), /include_prompt false/);
    const wrongDim = await variant('intfloat--e5-small-v2', { '1_Pooling/config.json': { ...MEAN_POOLING, word_embedding_dimension: 768 } });
    await rejectsWith(readEmbeddingSettings(wrongDim, BERT_512), /word_embedding_dimension 768 differs from hidden_size 384/);
    const dense = await variant('intfloat--e5-small-v2', {
      'modules.json': [
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
        { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' },
      ],
    });
    await rejectsWith(
      readEmbeddingSettings(dense, BERT_512),
      /unsupported module\(s\) sentence_transformers\.models\.Dense; supported: Transformer, Pooling, Normalize/,
    );
    const missingPooling = await variant('intfloat--e5-small-v2', { '1_Pooling/config.json': null });
    await rejectsWith(readEmbeddingSettings(missingPooling, BERT_512), /pooling config listed in modules\.json is missing/);
    const badDefault = await variant('intfloat--e5-small-v2', {
      'config_sentence_transformers.json': { prompts: { query: 'q: ' }, default_prompt_name: 'passage' },
    });
    await rejectsWith(readEmbeddingSettings(badDefault, BERT_512), /default_prompt_name "passage" is not one of the prompts \(query\)/);
    const badSbert = await variant('intfloat--e5-small-v2', { 'sentence_bert_config.json': { max_seq_length: -5 } });
    await rejectsWith(readEmbeddingSettings(badSbert, BERT_512), /"max_seq_length" must be a positive integer/);
    const badModules = await variant('intfloat--e5-small-v2', { 'modules.json': '{"not": "a list"' });
    await rejectsWith(readEmbeddingSettings(badModules, BERT_512), /modules\.json: not valid JSON/);
  });
});
