// BERT checkpoint -> ONNX model, for running the same weights on ONNX Runtime in bench:peers.
//
// The graph is the one ONNX Runtime's own transformer optimizer produces for BERT on CPU, so ORT is measured at its
// best rather than on an unfused export: per layer one MatMul for Q|K|V, com.microsoft.MultiHeadAttention,
// com.microsoft.SkipLayerNormalization (bias + residual + LayerNorm in one kernel) after each dense layer, and
// com.microsoft.BiasGelu (exact erf GELU) after the intermediate MatMul. Embeddings use standard Gather / Add /
// LayerNormalization (opset 17).
//   inputs:  input_ids, token_type_ids, position_ids: int64 [batch, sequence]
//   output:  last_hidden_state: float32 [batch, sequence, hidden]
// Weights are float32 initializers (whatever the checkpoint stores is widened exactly); Linear weights [out, in] are
// transposed to MatMul's [in, out].
import { createRequire } from 'node:module';
import { tensorToFloat32 } from '../../model/tensor_data.js';
import type { BertConfig, LoadedModel } from '../../model/types.js';

// onnx-proto is an optional dependency (protobufjs code generated from onnx.proto): loaded when an export is asked for.
type OnnxNamespace = typeof import('onnx-proto').onnx;
function onnxProto(): OnnxNamespace {
  const require = createRequire(import.meta.url);
  try {
    return (require('onnx-proto') as typeof import('onnx-proto')).onnx;
  } catch (error) {
    throw new Error(`onnx-proto is not installed (an optional dependency): ${(error as Error).message}`);
  }
}

const FLOAT = 1;
const INT64 = 7;

function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Serialized ONNX ModelProto of the model's encoder (see the header comment for the graph). */
export function exportBertOnnx(model: LoadedModel): Uint8Array {
  if (model.config.architecture !== 'bert') throw new Error(`ONNX export supports BERT encoders only, not ${model.config.architecture}`);
  const onnx = onnxProto();
  const config: BertConfig = model.config;
  const H = config.hiddenSize;
  const I = config.intermediateSize;
  const weight = (name: string): Float32Array => {
    const view = model.weights.get(name);
    if (view === undefined) throw new Error(`ONNX export: missing tensor ${name}`);
    return tensorToFloat32(view);
  };

  const initializers: import('onnx-proto').onnx.ITensorProto[] = [];
  const addInitializer = (name: string, dims: number[], values: Float32Array): string => {
    initializers.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) });
    return name;
  };
  const nodes: import('onnx-proto').onnx.INodeProto[] = [];
  let counter = 0;
  const node = (opType: string, inputs: string[], attributes: import('onnx-proto').onnx.IAttributeProto[] = [], domain = '', numOutputs = 1): string[] => {
    const outputs = Array.from({ length: numOutputs }, (_, i) => `${opType.toLowerCase()}_${counter}_${i}`);
    nodes.push({ name: `${opType}_${counter++}`, opType, domain, input: inputs, output: outputs, attribute: attributes });
    return outputs;
  };
  const floatAttr = (name: string, f: number) => ({ name, f, type: onnx.AttributeProto.AttributeType.FLOAT });
  const intAttr = (name: string, i: number) => ({ name, i, type: onnx.AttributeProto.AttributeType.INT });

  // Embeddings: word + position + token type, LayerNorm (BertEmbeddings).
  const word = addInitializer('word_embeddings', [config.vocabSize, H], weight('embeddings.word_embeddings.weight'));
  const position = addInitializer('position_embeddings', [config.maxPositionEmbeddings, H], weight('embeddings.position_embeddings.weight'));
  const tokenType = addInitializer('token_type_embeddings', [config.typeVocabSize, H], weight('embeddings.token_type_embeddings.weight'));
  const [wordRows] = node('Gather', [word, 'input_ids']);
  const [positionRows] = node('Gather', [position, 'position_ids']);
  const [typeRows] = node('Gather', [tokenType, 'token_type_ids']);
  const [sum] = node('Add', [node('Add', [wordRows, positionRows])[0], typeRows]);
  let hidden = node(
    'LayerNormalization',
    [
      sum,
      addInitializer('embeddings_ln_gamma', [H], weight('embeddings.LayerNorm.weight')),
      addInitializer('embeddings_ln_beta', [H], weight('embeddings.LayerNorm.bias')),
    ],
    [floatAttr('epsilon', config.layerNormEps), intAttr('axis', -1)],
  )[0];

  const gelu = config.hiddenAct === 'gelu' ? 'BiasGelu' : config.hiddenAct === 'relu' ? null : 'FastGelu';
  for (let l = 0; l < config.numLayers; l++) {
    const p = `encoder.layer.${l}.`;
    const wqkv = transpose(
      concat([weight(`${p}attention.self.query.weight`), weight(`${p}attention.self.key.weight`), weight(`${p}attention.self.value.weight`)]),
      3 * H,
      H,
    );
    const bqkv = concat([weight(`${p}attention.self.query.bias`), weight(`${p}attention.self.key.bias`), weight(`${p}attention.self.value.bias`)]);
    const [qkvProduct] = node('MatMul', [hidden, addInitializer(`l${l}_qkv_w`, [H, 3 * H], wqkv)]);
    const [qkv] = node('Add', [qkvProduct, addInitializer(`l${l}_qkv_b`, [3 * H], bqkv)]);
    const [q, k, v] = node('Split', [qkv], [intAttr('axis', -1)], '', 3);
    const [context] = node('MultiHeadAttention', [q, k, v], [intAttr('num_heads', config.numHeads)], 'com.microsoft');
    const [attentionDense] = node('MatMul', [context, addInitializer(`l${l}_out_w`, [H, H], transpose(weight(`${p}attention.output.dense.weight`), H, H))]);
    const [attentionOut] = node(
      'SkipLayerNormalization',
      [
        attentionDense,
        hidden,
        addInitializer(`l${l}_attn_ln_gamma`, [H], weight(`${p}attention.output.LayerNorm.weight`)),
        addInitializer(`l${l}_attn_ln_beta`, [H], weight(`${p}attention.output.LayerNorm.bias`)),
        addInitializer(`l${l}_out_b`, [H], weight(`${p}attention.output.dense.bias`)),
      ],
      [floatAttr('epsilon', config.layerNormEps)],
      'com.microsoft',
    );
    const [up] = node('MatMul', [attentionOut, addInitializer(`l${l}_up_w`, [H, I], transpose(weight(`${p}intermediate.dense.weight`), I, H))]);
    const upBias = addInitializer(`l${l}_up_b`, [I], weight(`${p}intermediate.dense.bias`));
    const [activated] = gelu === null ? node('Relu', [node('Add', [up, upBias])[0]]) : node(gelu, [up, upBias], [], 'com.microsoft');
    const [down] = node('MatMul', [activated, addInitializer(`l${l}_down_w`, [I, H], transpose(weight(`${p}output.dense.weight`), H, I))]);
    hidden = node(
      'SkipLayerNormalization',
      [
        down,
        attentionOut,
        addInitializer(`l${l}_ffn_ln_gamma`, [H], weight(`${p}output.LayerNorm.weight`)),
        addInitializer(`l${l}_ffn_ln_beta`, [H], weight(`${p}output.LayerNorm.bias`)),
        addInitializer(`l${l}_down_b`, [H], weight(`${p}output.dense.bias`)),
      ],
      [floatAttr('epsilon', config.layerNormEps)],
      'com.microsoft',
    )[0];
  }
  const last = nodes[nodes.length - 1];
  last.output = ['last_hidden_state'];

  const tokensInput = (name: string) => ({
    name,
    type: { tensorType: { elemType: INT64, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }] } } },
  });
  const modelProto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'pooled bench:peers',
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: {
      name: 'bert',
      node: nodes,
      initializer: initializers,
      input: [tokensInput('input_ids'), tokensInput('token_type_ids'), tokensInput('position_ids')],
      output: [
        {
          name: 'last_hidden_state',
          type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }, { dimValue: H }] } } },
        },
      ],
    },
  });
  return onnx.ModelProto.encode(modelProto).finish();
}
