import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelLoadError } from '../../src/errors.js';
import { parseModelConfig, readModelConfig } from '../../src/model/config.js';
import { TINY_BERT_CONFIG } from '../helpers/model_tiny_bert.js';

const FIXTURES = 'test/fixtures/models';

function throwsWith(json: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseModelConfig(json, 'x/config.json'),
    (error: unknown) => {
      assert.ok(error instanceof ModelLoadError, String(error));
      assert.match(error.message, /^x\/config\.json: /);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('config.json parsing', () => {
  it('parses the three real BERT configs', async () => {
    const expectedLayers: Record<string, number> = {
      'BAAI--bge-small-en-v1.5': 12,
      'intfloat--e5-small-v2': 12,
      'sentence-transformers--all-MiniLM-L6-v2': 6,
    };
    for (const [model, numLayers] of Object.entries(expectedLayers)) {
      const config = await readModelConfig(`${FIXTURES}/${model}/config.json`);
      assert.deepEqual(config, {
        architecture: 'bert',
        vocabSize: 30522,
        hiddenSize: 384,
        numLayers,
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
      });
    }
  });

  it('accepts task architectures and a config without model_type', () => {
    const { model_type: _modelType, ...withoutType } = TINY_BERT_CONFIG;
    assert.equal(parseModelConfig({ ...withoutType, architectures: ['BertForMaskedLM'] }, 'c').architecture, 'bert');
    assert.equal(parseModelConfig({ ...TINY_BERT_CONFIG, architectures: ['BertForSequenceClassification'] }, 'c').numLayers, 1);
  });

  it('names unknown architectures and lists what is supported', () => {
    throwsWith(
      { ...TINY_BERT_CONFIG, model_type: 'deberta-v2', architectures: ['DebertaV2Model'] },
      /unsupported model_type "deberta-v2" \(architectures DebertaV2Model\); supported: model_type "bert" or architectures BertModel, BertForMaskedLM/,
    );
    const { model_type: _modelType, ...withoutType } = TINY_BERT_CONFIG;
    throwsWith({ ...withoutType, architectures: ['Qwen3ForCausalLM'] }, /unsupported architecture Qwen3ForCausalLM; supported: .*BertModel/);
    throwsWith({ ...withoutType, architectures: undefined }, /unsupported architecture \(none given\)/);
    throwsWith({ ...TINY_BERT_CONFIG, architectures: ['JinaBertForMaskedLM'], auto_map: { AutoModel: 'x.y' } }, /need custom code \(auto_map\)/);
  });

  it('maps hidden_act like transformers ACT2FN and rejects others', () => {
    const act = (hidden_act: string) => parseModelConfig({ ...TINY_BERT_CONFIG, hidden_act }, 'c').hiddenAct;
    assert.equal(act('gelu'), 'gelu');
    assert.equal(act('gelu_python'), 'gelu');
    assert.equal(act('gelu_new'), 'gelu_new');
    assert.equal(act('gelu_fast'), 'gelu_new');
    assert.equal(act('gelu_pytorch_tanh'), 'gelu_pytorch_tanh');
    assert.equal(act('relu'), 'relu');
    throwsWith({ ...TINY_BERT_CONFIG, hidden_act: 'silu' }, /unsupported hidden_act "silu"; supported: gelu, gelu_python/);
    const { hidden_act: _act, ...withoutAct } = TINY_BERT_CONFIG;
    assert.equal(parseModelConfig(withoutAct, 'c').hiddenAct, 'gelu', 'BertConfig default');
  });

  it('requires absolute position embeddings and an encoder', () => {
    throwsWith({ ...TINY_BERT_CONFIG, position_embedding_type: 'relative_key' }, /position_embedding_type "relative_key" is not supported/);
    throwsWith({ ...TINY_BERT_CONFIG, is_decoder: true }, /is_decoder is true/);
    const { position_embedding_type: _type, ...withoutType } = TINY_BERT_CONFIG;
    assert.equal(parseModelConfig(withoutType, 'c').hiddenSize, 8);
  });

  it('rejects missing or invalid numeric fields', () => {
    const { hidden_size: _hidden, ...withoutHidden } = TINY_BERT_CONFIG;
    throwsWith(withoutHidden, /"hidden_size" must be a positive integer \(found missing\)/);
    throwsWith({ ...TINY_BERT_CONFIG, num_hidden_layers: 1.5 }, /"num_hidden_layers" must be a positive integer \(found 1\.5\)/);
    throwsWith({ ...TINY_BERT_CONFIG, vocab_size: '16' }, /"vocab_size" must be a positive integer \(found "16"\)/);
    throwsWith({ ...TINY_BERT_CONFIG, num_attention_heads: 3 }, /hidden_size 8 is not a multiple of num_attention_heads 3/);
    throwsWith({ ...TINY_BERT_CONFIG, layer_norm_eps: -1 }, /"layer_norm_eps" must be a positive number/);
    throwsWith({ ...TINY_BERT_CONFIG, pad_token_id: -1 }, /"pad_token_id" must be a non-negative integer/);
    throwsWith([1, 2], /config is not a JSON object/);
  });

  it('reads matryoshka settings like vLLM', () => {
    const dims = parseModelConfig({ ...TINY_BERT_CONFIG, matryoshka_dimensions: [8, 4, 2] }, 'c');
    assert.equal(dims.isMatryoshka, true);
    assert.deepEqual(dims.matryoshkaDimensions, [8, 4, 2]);
    const flag = parseModelConfig({ ...TINY_BERT_CONFIG, is_matryoshka: true }, 'c');
    assert.equal(flag.isMatryoshka, true);
    assert.equal(flag.matryoshkaDimensions, null);
    assert.equal(parseModelConfig({ ...TINY_BERT_CONFIG, matryoshka_dimensions: [] }, 'c').isMatryoshka, false);
    throwsWith({ ...TINY_BERT_CONFIG, matryoshka_dimensions: [16] }, /"matryoshka_dimensions" must be a list of integers in 1\.\.8/);
    throwsWith({ ...TINY_BERT_CONFIG, is_matryoshka: 'yes' }, /"is_matryoshka" must be true or false/);
  });

  it('reports unreadable config files', async () => {
    await assert.rejects(readModelConfig(`${FIXTURES}/missing/config.json`), /config\.json: file not found/);
    // A gzip file is a handy non-JSON file.
    await assert.rejects(readModelConfig(`${FIXTURES}/BAAI--bge-small-en-v1.5/tokenizer.json.gz`), /tokenizer\.json\.gz: not valid JSON/);
  });
});

describe('config.json parsing: BERT-variant families', () => {
  const { model_type: _bertType, architectures: _bertArchitectures, pad_token_id: _pad, ...encoder } = TINY_BERT_CONFIG;

  it('parses the bge-m3 (XLM-RoBERTa) and text2vec-base-chinese-sentence (ERNIE) fixture configs', async () => {
    const bgeM3 = await readModelConfig(`${FIXTURES}/BAAI--bge-m3/config.json`);
    assert.deepEqual(bgeM3, {
      architecture: 'roberta',
      modelType: 'xlm-roberta',
      vocabSize: 250002,
      hiddenSize: 1024,
      numLayers: 24,
      numHeads: 16,
      intermediateSize: 4096,
      maxPositionEmbeddings: 8194,
      typeVocabSize: 1,
      layerNormEps: 1e-5,
      hiddenAct: 'gelu',
      padTokenId: 1,
      taskTypeVocabSize: 0,
      isMatryoshka: false,
      matryoshkaDimensions: null,
    });
    const text2vec = await readModelConfig(`${FIXTURES}/shibing624--text2vec-base-chinese-sentence/config.json`);
    assert.equal(text2vec.architecture, 'ernie');
    assert.equal(text2vec.typeVocabSize, 4);
    assert.equal(text2vec.maxPositionEmbeddings, 2048);
    assert.equal((text2vec as { taskTypeVocabSize: number }).taskTypeVocabSize, 3);
  });

  it('RoBERTa: both model types and their task classes; pad_token_id defaults to 1 as RobertaConfig', () => {
    for (const [modelType, architecture] of [
      ['roberta', 'RobertaForMaskedLM'],
      ['xlm-roberta', 'XLMRobertaForSequenceClassification'],
    ]) {
      const config = parseModelConfig({ ...encoder, model_type: modelType, architectures: [architecture] }, 'c');
      assert.equal(config.architecture, 'roberta');
      assert.equal(config.padTokenId, 1);
    }
  });

  it('RoBERTa: refuses causal classes, remote code, and a position table with no row past the pad', () => {
    throwsWith(
      { ...encoder, model_type: 'xlm-roberta', architectures: ['XLMRobertaForCausalLM'] },
      /unsupported architecture XLMRobertaForCausalLM for model_type "xlm-roberta"/,
    );
    throwsWith({ ...encoder, model_type: 'xlm-roberta', is_decoder: true }, /is_decoder is true/);
    throwsWith(
      {
        ...encoder,
        model_type: 'xlm-roberta',
        architectures: ['XLMRobertaModel'],
        auto_map: { AutoModel: 'jinaai/xlm-roberta-flash-implementation--modeling_lora.XLMRobertaLoRA' },
      },
      /model_type "xlm-roberta" with auto_map needs the model's own code/,
    );
    throwsWith(
      { ...encoder, model_type: 'roberta', pad_token_id: 1, max_position_embeddings: 2 },
      /"max_position_embeddings" 2 leaves no position for a token: positions start at pad_token_id \+ 1 = 2/,
    );
    throwsWith(
      { ...encoder, model_type: 'roberta', position_embedding_type: 'relative_key_query' },
      /position_embedding_type "relative_key_query" is not supported/,
    );
  });

  it('ERNIE: task-type embeddings exactly when use_task_id is true (task_type_vocab_size defaults to 3)', () => {
    const parse = (extra: Record<string, unknown>) => parseModelConfig({ ...encoder, model_type: 'ernie', ...extra }, 'c') as { taskTypeVocabSize: number };
    assert.equal(parse({}).taskTypeVocabSize, 0);
    assert.equal(parse({ use_task_id: false, task_type_vocab_size: 16 }).taskTypeVocabSize, 0);
    assert.equal(parse({ use_task_id: true }).taskTypeVocabSize, 3);
    assert.equal(parse({ use_task_id: true, task_type_vocab_size: 16 }).taskTypeVocabSize, 16);
    throwsWith({ ...encoder, model_type: 'ernie', use_task_id: 'yes' }, /"use_task_id" must be true or false \(found "yes"\)/);
    throwsWith(
      { ...encoder, model_type: 'ernie', use_task_id: true, task_type_vocab_size: 0 },
      /"task_type_vocab_size" must be a positive integer \(found 0\)/,
    );
    throwsWith({ ...encoder, model_type: 'ernie', architectures: ['ErnieForCausalLM'] }, /unsupported architecture ErnieForCausalLM for model_type "ernie"/);
  });
});
