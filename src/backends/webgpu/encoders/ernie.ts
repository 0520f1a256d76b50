// ERNIE on WebGPU: BERT's encoder (./bert.ts); task_type_embeddings[0] is folded into the token-type table at upload
// (../bert_weights.ts).
import { ERNIE } from '../../../model/architectures/ernie/spec.js';
import { bertShapedEncoder } from './bert.js';

export const ERNIE_WEBGPU_ENCODER = bertShapedEncoder(ERNIE);
