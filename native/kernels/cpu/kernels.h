#pragma once
// Op-level entry points of the CPU kernels, used by the engine and the addon. Each op checks its sizes (throwing
// std::invalid_argument with a message naming the argument, before any memory is touched), splits the work over
// the thread pool and runs the ISA variant that SelectedIsa() picked. Activations are always float32; GEMM
// weights are packed once (float32 or bfloat16, accumulating in float32; or int8, see gemm_int8.cpp).
#include <cstddef>
#include <cstdint>

namespace pooled::kernels::cpu {

class ThreadPool;

enum class Activation : int32_t { kNone = 0, kGeluErf = 1, kGeluTanh = 2, kRelu = 3, kSilu = 4 };
// kInt8 is a packed-weight type only (per-output-channel symmetric int8, gemm_int8.cpp), never a checkpoint type.
enum class ElementType : int32_t { kF32 = 0, kF16 = 1, kBF16 = 2, kInt8 = 3 };
enum class PoolingMode : int32_t { kCls = 0, kMean = 1, kLast = 2 };

size_t ElementSize(ElementType type);
const char* ElementTypeName(ElementType type);

// Memory aligned for full-width vector loads; move-only.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes);  // zero-filled
  ~AlignedBuffer();
  AlignedBuffer(AlignedBuffer&& other) noexcept;
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// ---------------------------------------------------------------------------------------------------------------
// GEMM: C[m, n] = A[m, k] * W[n, k]^T (+ epilogue), W a torch Linear weight packed once (pack_weights.cpp).
//
// Packed layout: panels of `panel_width` (NR) output columns, zero-padded past n. Panel p is contiguous:
//   float32:  [k_padded][NR]            element (k, j) = W[p*NR + j][k]
//   bfloat16: [k_padded / 2][NR][2]     the two k of a pair side by side, as vdpbf16ps reads them
//   int8:     [k_padded / 4][NR][4]     four k of a quad side by side, as vpdpbusd reads them; after the panels,
//             `scales` (float32) and `column_sums` (int32, sum over k of the quantized row), num_panels * NR each
// NR depends on the ISA (32 for AVX-512, 16 otherwise), so weights are packed for the ISA of this process.
struct PackedWeightsView {
  const void* data = nullptr;
  int64_t n = 0;
  int64_t k = 0;
  int64_t k_padded = 0;  // k rounded up to the pair size for bfloat16, to the quad size for int8
  int64_t num_panels = 0;
  int64_t panel_width = 0;
  ElementType type = ElementType::kF32;  // kF32, kBF16 or kInt8
  // int8 only: W[j][k] ~= scales[j] * q[j][k] (symmetric, per output channel) and column_sums[j] = sum_k q[j][k]
  // (what the activations' zero point multiplies); null otherwise.
  const float* scales = nullptr;
  const int32_t* column_sums = nullptr;
};

class PackedWeights {
 public:
  PackedWeights() = default;
  PackedWeights(AlignedBuffer buffer, const PackedWeightsView& view);
  const PackedWeightsView& view() const { return view_; }
  size_t SizeBytes() const { return buffer_.size(); }

 private:
  AlignedBuffer buffer_;
  PackedWeightsView view_;
};

// weight: [n, k] row-major in `source` (F32, F16 or BF16); stored as `target` (F32 or BF16, rounded to nearest
// even; or Int8: per output row j, scale_j = max_k |W[j][k]| / 127 and q = round-half-even(W / scale_j), k at most
// kInt8MaxK). Several weights that share k can be packed as one by stacking their rows (fused Q/K/V): int8 scales
// are per row, so stacking changes nothing.
PackedWeights PackWeights(const void* weight, ElementType source, int64_t n, int64_t k, ElementType target);
// The panel width the selected ISA's GEMM expects.
int64_t GemmPanelWidth();
// The longest k an int8 GEMM takes: its int32 sums of k products of at most 255 * 127 must not overflow.
constexpr int64_t kInt8MaxK = 65536;

// Applied in this order, each part optional: + bias[col], activation, + residual[row, col], row LayerNorm.
struct GemmEpilogue {
  const float* bias = nullptr;  // [n]
  Activation activation = Activation::kNone;
  const float* residual = nullptr;  // [m, ldr]; must not overlap C
  int64_t ldr = 0;
  const float* ln_gamma = nullptr;  // [n]; both gamma and beta, or neither
  const float* ln_beta = nullptr;
  float ln_eps = 0.0f;
};

// a: [m, lda] with lda >= k; c: [m, ldc] with ldc >= n.
// int8 weights: each row of A is quantized on the fly to uint8 with its own scale and zero point (asymmetric over
// [min(0, row min), max(0, row max)], 255 steps); integer dot products (exact int32 sums), then
// C = scale_a * scale_w * (sum - zero_point * column_sum) + bias in float32, then the rest of the epilogue.
void Gemm(ThreadPool& pool, const float* a, int64_t m, int64_t lda, const PackedWeights& w, float* c, int64_t ldc,
          const GemmEpilogue& epilogue);

// True when bfloat16 GEMMs use the CPU's bf16 dot-product instruction (AVX512_BF16, and measured faster than
// float32 FMAs on this CPU); otherwise they widen the weights to float32 in registers (exact). POOLED_BF16_DOT=0
// or 1 overrides the measurement.
bool HasBf16DotProduct();
// Measured throughput of bf16 dot products over float32 FMAs on this core (0 without AVX512_BF16 kernels).
double Bf16DotToFmaThroughput();
// True when int8 GEMMs use a VNNI dot-product instruction (vpdpbusd: AVX512-VNNI on the AVX-512 path; AVX-VNNI, or
// AVX512-VNNI with VL, on the AVX2 path); otherwise they widen to 16 bits and use vpmaddwd (same exact sums).
// POOLED_INT8_DOT=0 forces the widening path (to test it on a VNNI CPU).
bool HasInt8DotProduct();

// ---------------------------------------------------------------------------------------------------------------
// y[rows, cols] = activation(x + bias[col]) (bias may be null; y may equal x, in place).
void BiasActivation(ThreadPool& pool, const float* x, float* y, int64_t rows, int64_t cols, const float* bias,
                    Activation activation);

// y = LayerNorm(x + residual) over each row of `cols` values (residual may be null; y may equal x).
void LayerNorm(ThreadPool& pool, const float* x, const float* residual, float* y, int64_t rows, int64_t cols,
               const float* gamma, const float* beta, float eps);

// ---------------------------------------------------------------------------------------------------------------
// BertEmbeddings: word[token] + position[pos] + token_type[type], then LayerNorm. The word table may stay in
// the checkpoint's element type (F32, F16 or BF16), read in place.
struct EmbeddingTables {
  const void* word = nullptr;
  ElementType word_type = ElementType::kF32;
  int64_t vocab_size = 0;
  const float* position = nullptr;
  int64_t num_positions = 0;
  const float* token_type = nullptr;
  int64_t num_token_types = 0;
  int64_t hidden_size = 0;
  const float* gamma = nullptr;
  const float* beta = nullptr;
  float eps = 0.0f;
};

// token_types may be null (all 0). position may be null (no position table: rotary models; positions is then not
// read) and token_type may be null (no token type table; token_types must then be null). out: [num_tokens,
// hidden_size]. Every index is checked before any row is read.
void Embeddings(ThreadPool& pool, const EmbeddingTables& tables, const int32_t* token_ids, const int32_t* positions,
                const int32_t* token_types, int64_t num_tokens, float* out);

// ---------------------------------------------------------------------------------------------------------------
// Bidirectional multi-head attention over a ragged batch (no padding, no mask): within each sequence, for each
// head h (columns [h*head_dim, (h+1)*head_dim) of q, k, v and out), out = softmax(q k^T / sqrt(head_dim)) v. With a
// window w > 0 (sliding-window attention, ModernBERT's local layers), query i of a sequence sees only its keys j with
// |i - j| <= w; key tiles wholly outside a block of queries' windows are skipped, so the work is O(n w), not O(n^2).
struct AttentionArgs {
  const float* q = nullptr;
  int64_t ldq = 0;
  const float* k = nullptr;
  int64_t ldk = 0;
  const float* v = nullptr;
  int64_t ldv = 0;
  float* out = nullptr;
  int64_t ldo = 0;
  int64_t num_heads = 0;
  int64_t head_dim = 0;
  const int32_t* cu_seq_lens = nullptr;  // [num_seqs + 1]
  int64_t num_seqs = 0;
  int64_t num_tokens = 0;
  // Per sequence, the one query to compute (an index within the sequence), e.g. the token CLS or LAST pooling
  // reads in the last layer; the other output rows are not written. Null = every query.
  const int32_t* only_query = nullptr;
  // Room for K^T (AttentionWorkspaceFloats), e.g. a buffer the engine keeps between layers; null = the op keeps
  // its own per calling thread.
  float* workspace = nullptr;
  int64_t workspace_floats = 0;
  // Half-width of the sliding window (keys within `window` positions on each side); <= 0 = every key.
  int64_t window = 0;
};
void Attention(ThreadPool& pool, const AttentionArgs& args);
// Floats of workspace Attention needs for these sequences (K^T of every sequence and head, padded to the key tile).
int64_t AttentionWorkspaceFloats(const AttentionArgs& args);

// ---------------------------------------------------------------------------------------------------------------
// Fused pooling: per sequence, CLS / MEAN / LAST over hidden[tokens, ld] (first hidden_size columns), keep the
// first dimensions[i] values (0 = all), then L2-normalize if normalize[i]. Rows are written back to back into
// out, which must hold exactly the sum of the kept sizes (out_size).
void Pool(ThreadPool& pool, const float* hidden, int64_t ld, int64_t hidden_size, const int32_t* cu_seq_lens,
          int64_t num_seqs, PoolingMode mode, const int32_t* dimensions, const uint8_t* normalize, float* out,
          int64_t out_size);

// ---------------------------------------------------------------------------------------------------------------
// Decoder (Qwen3) ops.

// Qwen3RMSNorm over groups of `cols` values: row r of x holds `groups` consecutive groups from column 0 (groups = 1
// for the hidden state, = heads for the per-head q_norm / k_norm). y = weight * x / sqrt(mean(x^2) + eps), float32
// statistics. y may equal x (in place).
void RmsNorm(ThreadPool& pool, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t groups,
             int64_t cols, const float* weight, float eps);

// Rotate-half RoPE in place over x[num_tokens, ldx], heads [h*head_dim, (h+1)*head_dim) for h < num_heads, token t at
// positions[t]: for j < head_dim/2, (x_j, x_{j+d/2}) -> (x_j cos - x_{j+d/2} sin, x_{j+d/2} cos + x_j sin) with angle
// position * inverse_frequency_scale / theta^(2j/d) (scale 1: Qwen3, NomicBERT; GTE's NTK rope scales every
// frequency). Angles, cos and sin in float64 (exact enough at any position), products in float32. Positions must lie
// in [0, max_position) (checked before anything is written).
void Rope(ThreadPool& pool, float* x, int64_t ldx, int64_t num_tokens, int64_t num_heads, int64_t head_dim,
          const int32_t* positions, double theta, double inverse_frequency_scale, int64_t max_position);

// Gated activation (GLU family) over rows of two halves of `cols` values side by side (one fused GEMM's output):
// out[r, i] = act(a[r, i]) * b[r, i], a the half named by activated_half, b the other. act is kSilu (SwiGLU,
// Qwen3MLP: gate_proj first), kGeluErf or kGeluTanh (GeGLU, ModernBertMLP: the first half of Wi's output).
enum class GatedHalf : int32_t { kFirst = 0, kSecond = 1 };
void GatedActivation(ThreadPool& pool, const float* in, int64_t ld_in, float* out, int64_t ldo, int64_t rows,
                     int64_t cols, Activation activation, GatedHalf activated_half);

// Causal grouped-query attention of a ragged batch's new tokens over cached + new K/V read through block tables.
// Cache layout (per layer): [num_blocks][block_size][num_kv_heads][head_dim] float32 for K and for V. Sequence s's
// queries are rows cu_seq_lens[s].. of q, at positions num_cached_tokens[s] + 0, 1, ...; the query at position p reads
// positions 0..p, position p living in block block_tables[block_table_offsets[s] + p / block_size], slot
// p % block_size (the new tokens' K/V must be written there already). Query head h reads kv head
// h / (num_heads / num_kv_heads). Online softmax in float32, scale head_dim^-0.5. Every index (block ids in
// [1, num_blocks), table lengths) is checked before anything is read.
struct PagedAttentionArgs {
  const float* q = nullptr;  // [T, ldq], heads from column 0
  int64_t ldq = 0;
  float* out = nullptr;  // [T, ldo], num_heads * head_dim columns written
  int64_t ldo = 0;
  const float* k_cache = nullptr;
  const float* v_cache = nullptr;
  int64_t num_blocks = 0;
  int64_t block_size = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  const int32_t* cu_seq_lens = nullptr;  // [num_seqs + 1]
  int64_t num_seqs = 0;
  int64_t num_tokens = 0;
  const int32_t* num_cached_tokens = nullptr;    // [num_seqs]
  const int32_t* block_tables = nullptr;         // flat, sequence s's table at [offsets[s], offsets[s + 1])
  const int32_t* block_table_offsets = nullptr;  // [num_seqs + 1]
  // Per sequence, compute only its last query row (LAST pooling's token); null = every row.
  bool only_last_query = false;
};
void PagedAttention(ThreadPool& pool, const PagedAttentionArgs& args);
// The largest head_dim PagedAttention and Rope accept (their per-row scratch lives on the stack).
constexpr int64_t kMaxDecoderHeadDim = 512;

// ---------------------------------------------------------------------------------------------------------------
// Machine peak: a register-only multiply-add loop on every pool thread (float32 FMA, or bf16 dot products when
// bf16 is true and the CPU has them; else the float32 loop). Returns GFLOP/s for the whole pool.
double MeasurePeakGflops(ThreadPool& pool, bool bf16, double seconds);

// Machine memory bandwidth: a STREAM-triad loop a[i] = b[i] + s * c[i] on every pool thread over three arrays of
// `bytes_per_array` (each thread first touches its own slice), repeated for about `seconds`; the best repetition,
// counting 3 * bytes_per_array per pass as STREAM does (no write-allocate traffic). Returns GB/s (1e9 bytes).
double MeasureMemoryBandwidth(ThreadPool& pool, int64_t bytes_per_array, double seconds);

}  // namespace pooled::kernels::cpu
