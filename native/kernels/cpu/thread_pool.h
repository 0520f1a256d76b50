#pragma once
// The engine's own worker threads. A pool of N threads spawns N - 1 workers: the thread that calls Run (a libuv
// worker running an async forward, or the JS thread for op-level calls) does its share too, so a forward keeps
// exactly N cores busy and never oversubscribes the machine with libuv. Tasks are handed out dynamically (an
// atomic counter), so uneven tasks (a 512-token sequence next to 1-token ones) still balance.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pooled::kernels::cpu {

class ThreadPool {
 public:
  // num_threads <= 0 means one per hardware thread.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int NumThreads() const { return num_threads_; }

  // Runs task(index, thread) for every index in [0, num_tasks) and returns when all are done. `thread` is in
  // [0, NumThreads()) and unique among concurrently running tasks (for per-thread scratch). The first exception a
  // task throws is rethrown here once every task has stopped. Calls from different threads are serialized.
  void Run(int64_t num_tasks, const std::function<void(int64_t task, int thread)>& task);

  static int HardwareThreads();

 private:
  void WorkerLoop(int thread);
  void RunTasks(int thread);

  const int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // one Run at a time

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> workers_busy_{0};
  bool stopping_ = false;

  const std::function<void(int64_t, int)>* task_ = nullptr;
  int64_t num_tasks_ = 0;
  std::atomic<int64_t> next_task_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

}  // namespace pooled::kernels::cpu
