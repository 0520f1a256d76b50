// RoBERTa / XLM-RoBERTa on WebGPU: BERT's encoder (./bert.ts); positions from pad_token_id + 1 come with the batch.
import { ROBERTA } from '../../../model/architectures/roberta/spec.js';
import { bertShapedEncoder } from './bert.js';

export const ROBERTA_WEBGPU_ENCODER = bertShapedEncoder(ROBERTA);
