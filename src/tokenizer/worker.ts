// Worker thread body of the tokenizer pool: loads the tokenizer once, then encodes batches of texts sent by
// TokenizerPool. Errors per text travel back as plain data so the caller rethrows the same typed error.
import { parentPort, workerData } from 'node:worker_threads';

import type { PooledError } from '../errors.js';
import { TextTokenizer } from './tokenizer.js';
import type { EncodeBatchRequest, EncodeBatchResponse } from './worker_protocol.js';

const tokenizer = TextTokenizer.load((workerData as { folder: string }).folder);

parentPort!.on('message', (request: EncodeBatchRequest) => {
  const response: EncodeBatchResponse = { id: request.id, results: [] };
  const transfer: ArrayBuffer[] = [];
  for (let i = 0; i < request.texts.length; i++) {
    try {
      const ids = tokenizer.encode(request.texts[i], { ...request.options, param: request.params[i] });
      response.results.push({ ok: true, ids });
      transfer.push(ids.buffer as ArrayBuffer);
    } catch (err) {
      const e = err as PooledError;
      response.results.push({ ok: false, message: e.message, status: e.status ?? 500, param: e.param ?? null, code: e.code ?? null });
    }
  }
  parentPort!.postMessage(response, transfer);
});
