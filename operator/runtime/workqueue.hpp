#pragma once
// The controller work queue (client-go's rate-limited delaying queue):
//   - a key waiting in the queue is there once, however often it is added;
//   - a key being processed is never handed to a second worker; if it is added
//     meanwhile, it is queued again when the first worker calls done();
//   - add_after() delays a key; add_rate_limited() delays it by the item rate
//     limiter and counts a failure; forget() clears that count;
//   - shut_down() wakes all workers: get() returns nullopt once the queue is
//     drained (shut_down_with_drain) or at once (shut_down).
// Delayed keys become ready when the clock passes their time; a background
// thread waits for that in production, and tests call promote_due() after
// moving a ManualClock.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "operator/runtime/rate_limiter.hpp"
#include "operator/util/clock.hpp"

namespace cd4ml::runtime {

// Hook for queue metrics (depth, adds, latency, work duration, retries).
class QueueObserver {
 public:
  virtual ~QueueObserver() = default;
  virtual void on_add(const std::string& queue) = 0;
  virtual void on_depth(const std::string& queue, std::size_t depth) = 0;
  virtual void on_queue_latency(const std::string& queue, std::chrono::nanoseconds waited) = 0;
  virtual void on_work_duration(const std::string& queue, std::chrono::nanoseconds took) = 0;
  virtual void on_retry(const std::string& queue) = 0;
};

class WorkQueue {
 public:
  struct Options {
    std::string name = "queue";
    ItemRateLimiter::Options rate_limits{};
    // false: no background thread; tests call promote_due() themselves.
    bool run_delay_thread = true;
    QueueObserver* observer = nullptr;
  };

  WorkQueue(Options options, const util::Clock& clock);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void add(const std::string& key);
  void add_after(const std::string& key, std::chrono::nanoseconds delay);
  void add_rate_limited(const std::string& key);
  void forget(const std::string& key);
  int retries(const std::string& key) const;

  // Blocks until a key is ready or the queue shuts down.
  std::optional<std::string> get();
  // Non-blocking form, for tests.
  std::optional<std::string> try_get();
  void done(const std::string& key);

  void shut_down();
  // Stops accepting new keys but lets workers take what is queued.
  void shut_down_with_drain();
  bool shutting_down() const;

  // Moves delayed keys whose time has come into the queue; returns how many.
  std::size_t promote_due();
  std::size_t len() const;  // keys ready to be processed
  std::size_t delayed() const;

 private:
  void add_locked(const std::string& key);
  std::optional<std::string> take_locked();
  std::size_t promote_due_locked();
  void delay_loop();

  Options options_;
  const util::Clock& clock_;
  ItemRateLimiter limiter_;

  mutable std::mutex mutex_;
  std::condition_variable ready_cv_;
  std::condition_variable delay_cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;
  std::unordered_set<std::string> processing_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> added_at_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> started_at_;
  // ready time -> keys; a key keeps only its earliest ready time
  std::multimap<std::chrono::steady_clock::time_point, std::string> waiting_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> waiting_at_;
  bool shutting_down_ = false;
  bool drain_ = false;
  std::thread delay_thread_;
};

}  // namespace cd4ml::runtime
