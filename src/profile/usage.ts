// `pooled profile --help`: every flag, grouped as AIPerf groups them. Kept apart from the parser so the parser
// file stays about parsing.

export const PROFILE_USAGE = `Usage: pooled profile --model M --url HOST:PORT [options]

Endpoint
  -m, --model NAME                 model name sent in each request (also the default tokenizer)
  -u, --url HOST:PORT              server address (http:// assumed when no scheme)
  --endpoint-type TYPE             embeddings (default) | cohere_embed | chat | hf_tei_rankings (alias: rankings) |
                                   cohere_rankings
  --endpoint PATH                  path override (defaults: /v1/embeddings, /v2/embed, /v1/chat/completions, /rerank,
                                   /v2/rerank)
  --tokenizer FOLDER|HF-ID         tokenizer used to size synthetic inputs (default: the model)
  --api-key KEY                    sent as "Authorization: Bearer KEY"
  -H, --header "Name: value"       extra request header (repeatable)
  --extra-inputs key:value         extra JSON body field (repeatable; value parsed as JSON when it can be)
  --streaming                      chat only: stream tokens, measure time to first token and inter-token latency
  --output-tokens-mean N           chat only: max_tokens per request
  --request-timeout-seconds S      per-request timeout (default 600)

Load (one of; a comma list runs a sweep, one point after another)
  --concurrency N[,N...]           closed loop: N requests in flight at all times (default 1)
  --request-rate R[,R...]          open loop: R requests/s (with --concurrency N: at most N in flight)
  --arrival-pattern P              poisson (default) | constant, for --request-rate
  --request-count N                requests per load point
  --benchmark-duration S           seconds per load point (in-flight requests are allowed to finish)
  --warmup-request-count N         requests sent and discarded before each point (default 0)
  --random-seed N                  seed for inputs and arrivals (default 0)

Inputs
  --synthetic-input-tokens-mean N[,N...]  tokens per text, counted by the tokenizer without special tokens (default 128)
  --synthetic-input-tokens-stddev N
  --batch-size-text N[,N...]       texts per request (default 1); a comma list here or in the tokens mean runs a
                                   neuronperf-style sweep over every (batch size, tokens) pair
  --n-models N                     model replicas behind the URL, for the sweep table's n_models (default 1)
  --cost-per-hour USD              hourly price of the server: cost per 1M inferences in the sweep table
  --num-dataset-entries N          distinct synthetic requests, reused round-robin (default 100)
  --image-width-mean W, --image-width-stddev W, --image-height-mean H, --image-height-stddev H
  --batch-size-image N             synthetic PNG images per request (default 1 when an image size is given)
  --input-file FILE.jsonl          one request per line: {"text": ...} or {"texts": [...]}, optional "image"/"images";
                                   rankings: {"texts": [{"name": "query", "contents": [Q]},
                                                        {"name": "passages", "contents": [P1, P2, ...]}]}
  --custom-dataset-type single_turn

Rankings (hf_tei_rankings, cohere_rankings: one query and its passages per request; AIPerf's defaults)
  --rankings-passages-mean N       passages per request (default 10); every passage must come back ranked
  --rankings-passages-stddev N     (default 0)
  --rankings-passages-prompt-token-mean N    tokens per passage (default 128)
  --rankings-passages-prompt-token-stddev N  (default 0)
  --rankings-query-prompt-token-mean N       tokens per query (default 32)
  --rankings-query-prompt-token-stddev N     (default 0)

Output
  --artifact-dir DIR               where results go (default artifacts/<model>-<endpoint-type>-<load>)
  --goodput "request_latency:MS [time_to_first_token:MS] [inter_token_latency:MS]"
  --server-metrics-url URL         Prometheus endpoint to scrape before/after (default <url>/metrics; "none" to skip)
  --ui-type auto|simple|none       live progress on a TTY (auto), plain lines (simple), or nothing
  --progress-interval-seconds S    how often progress is printed (default 0.25 on a TTY, 5 otherwise)
  -h, --help
`;
