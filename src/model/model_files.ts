// Which files of a model repository the server needs, for downloads and for deciding whether a cached
// snapshot is complete. Weight files come from checkpoint.ts, module configs from modules.json.

/** Without these the model cannot be served at all. */
export const REQUIRED_METADATA_FILES: readonly string[] = ['config.json', 'tokenizer.json'];

/** Read when present; their absence changes defaults (see sentence_transformers.ts), never correctness. */
export const OPTIONAL_METADATA_FILES: readonly string[] = [
  'tokenizer_config.json',
  'special_tokens_map.json',
  'modules.json',
  'sentence_bert_config.json',
  'config_sentence_transformers.json',
];
