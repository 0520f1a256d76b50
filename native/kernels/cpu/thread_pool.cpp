// Not a kernel: compiled in the baseline pass only (see isa_dispatch.h).
#if POOLED_ISA_BASELINE
#include "kernels/cpu/thread_pool.h"

#include <chrono>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define POOLED_CPU_RELAX() _mm_pause()
#define POOLED_HAS_MXCSR 1
#elif defined(__aarch64__)
#define POOLED_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define POOLED_CPU_RELAX() ((void)0)
#endif

namespace pooled::kernels::cpu {

namespace {
// A forward issues a few parallel regions per layer back to back: workers spin this long for the next one
// before sleeping, which saves a futex wake-up per region. Short, because a spinning worker takes a core from
// the JS thread when no forward is running.
constexpr auto kSpinBeforeSleep = std::chrono::microseconds(200);

// Subnormal floats send every instruction that touches them through a microcode assist (~100x slower). Kernels
// run with flush-to-zero and denormals-are-zero, as vdpbf16ps always does; values below 1.2e-38 become 0.
#if POOLED_HAS_MXCSR
constexpr unsigned kFlushDenormals = 0x8040;  // FTZ | DAZ
class FlushDenormalsScope {
 public:
  FlushDenormalsScope() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushDenormals); }
  ~FlushDenormalsScope() { _mm_setcsr(saved_); }

 private:
  unsigned saved_;
};
#else
class FlushDenormalsScope {};
#endif
}  // namespace

int ThreadPool::HardwareThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int num_threads) : num_threads_(num_threads > 0 ? num_threads : HardwareThreads()) {
  workers_.reserve(static_cast<size_t>(num_threads_ - 1));
  for (int t = 1; t < num_threads_; ++t) workers_.emplace_back([this, t] { WorkerLoop(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  work_ready_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::RunTasks(int thread) {
  for (;;) {
    const int64_t index = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (index >= num_tasks_ || failed_.load(std::memory_order_relaxed)) return;
    try {
      (*task_)(index, thread);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failed_.exchange(true)) error_ = std::current_exception();
    }
  }
}

void ThreadPool::WorkerLoop(int thread) {
  FlushDenormalsScope flush_denormals;  // this thread is ours for its whole life
  uint64_t seen = 0;
  for (;;) {
    const auto spin_until = std::chrono::steady_clock::now() + kSpinBeforeSleep;
    uint64_t current = generation_.load(std::memory_order_acquire);
    for (int i = 0; current == seen; ++i) {
      POOLED_CPU_RELAX();
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > spin_until) break;
      current = generation_.load(std::memory_order_acquire);
    }
    if (current == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      current = generation_.load(std::memory_order_acquire);
    }
    seen = current;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    RunTasks(thread);
    if (workers_busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      work_done_.notify_one();
    }
  }
}

void ThreadPool::Run(int64_t num_tasks, const std::function<void(int64_t, int)>& task) {
  if (num_tasks <= 0) return;
  std::lock_guard<std::mutex> run_lock(run_mutex_);
  FlushDenormalsScope flush_denormals;  // the caller's thread is lent: restore its mode afterwards
  if (num_threads_ == 1 || num_tasks == 1) {
    for (int64_t i = 0; i < num_tasks; ++i) task(i, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    num_tasks_ = num_tasks;
    next_task_.store(0, std::memory_order_relaxed);
    failed_.store(false, std::memory_order_relaxed);
    error_ = nullptr;
    workers_busy_.store(num_threads_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  work_ready_.notify_all();
  RunTasks(0);
  // Workers finish their last task right after ours: spin briefly, then sleep.
  const auto spin_until = std::chrono::steady_clock::now() + kSpinBeforeSleep;
  for (int i = 0; workers_busy_.load(std::memory_order_acquire) != 0; ++i) {
    POOLED_CPU_RELAX();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > spin_until) {
      std::unique_lock<std::mutex> lock(mutex_);
      work_done_.wait(lock, [&] { return workers_busy_.load(std::memory_order_acquire) == 0; });
      break;
    }
  }
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = nullptr;
    error = error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace pooled::kernels::cpu
#endif  // POOLED_ISA_BASELINE
