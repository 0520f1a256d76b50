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
      { ...TINY_BERT_CONFIG, model_type: 'xlm-roberta', architectures: ['XLMRobertaModel'] },
      /unsupported model_type "xlm-roberta" \(architectures XLMRobertaModel\); supported: model_type "bert" or architectures BertModel, BertForMaskedLM/,
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
