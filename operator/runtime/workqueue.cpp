#include "operator/runtime/workqueue.hpp"

#include <algorithm>

namespace cd4ml::runtime {

namespace {
// The delay thread wakes at least this often, so a clock that does not match
// the condition variable's own (a ManualClock) still makes progress.
constexpr std::chrono::seconds kMaxDelayWait{10};
}  // namespace

// Observer calls are made under mutex_, so the queue's metrics are updated in
// the same order as its state; observers must not call back into the queue.

WorkQueue::WorkQueue(Options options, const util::Clock& clock)
    : options_(std::move(options)), clock_(clock), limiter_(options_.rate_limits, clock) {
  if (options_.run_delay_thread) {
    delay_thread_ = std::thread([this] { delay_loop(); });
  }
}

WorkQueue::~WorkQueue() {
  shut_down();
  if (delay_thread_.joinable()) delay_thread_.join();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  add_locked(key);
}

void WorkQueue::add_locked(const std::string& key) {
  if (dirty_.contains(key)) return;  // already waiting to be processed
  dirty_.insert(key);
  if (options_.observer) options_.observer->on_add(options_.name);
  added_at_.emplace(key, clock_.now());
  // A key being processed is queued again by done(), never handed to a second worker.
  if (processing_.contains(key)) return;
  queue_.push_back(key);
  if (options_.observer) options_.observer->on_depth(options_.name, queue_.size());
  ready_cv_.notify_one();
}

void WorkQueue::add_after(const std::string& key, std::chrono::nanoseconds delay) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  if (options_.observer) options_.observer->on_retry(options_.name);
  if (delay <= std::chrono::nanoseconds::zero()) {
    add_locked(key);
    return;
  }
  const auto ready_at = clock_.now() + delay;
  const auto existing = waiting_at_.find(key);
  if (existing != waiting_at_.end()) {
    if (existing->second <= ready_at) return;  // an earlier wake-up is already planned
    auto [first, last] = waiting_.equal_range(existing->second);
    for (auto it = first; it != last; ++it) {
      if (it->second == key) {
        waiting_.erase(it);
        break;
      }
    }
    existing->second = ready_at;
  } else {
    waiting_at_.emplace(key, ready_at);
  }
  const bool earliest = waiting_.empty() || ready_at < waiting_.begin()->first;
  waiting_.emplace(ready_at, key);
  if (earliest) delay_cv_.notify_one();
}

void WorkQueue::add_rate_limited(const std::string& key) {
  // The limiter has its own lock; asking it first keeps lock order simple.
  add_after(key, limiter_.when(key));
}

void WorkQueue::forget(const std::string& key) {
  limiter_.forget(key);
}

int WorkQueue::retries(const std::string& key) const {
  return limiter_.failures(key);
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mutex_);
  ready_cv_.wait(lock, [this] { return !queue_.empty() || shutting_down_; });
  return take_locked();
}

std::optional<std::string> WorkQueue::try_get() {
  std::lock_guard lock(mutex_);
  return take_locked();
}

std::optional<std::string> WorkQueue::take_locked() {
  if (queue_.empty()) return std::nullopt;
  if (shutting_down_ && !drain_) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  const auto now = clock_.now();
  if (const auto added = added_at_.find(key); added != added_at_.end()) {
    if (options_.observer) options_.observer->on_queue_latency(options_.name, now - added->second);
    added_at_.erase(added);
  }
  started_at_[key] = now;
  if (options_.observer) options_.observer->on_depth(options_.name, queue_.size());
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mutex_);
  if (processing_.erase(key) == 0) return;  // not handed out: nothing to finish
  if (const auto started = started_at_.find(key); started != started_at_.end()) {
    if (options_.observer) {
      options_.observer->on_work_duration(options_.name, clock_.now() - started->second);
    }
    started_at_.erase(started);
  }
  if (dirty_.contains(key)) {
    // Added again while it was processed: its turn comes now.
    queue_.push_back(key);
    if (options_.observer) options_.observer->on_depth(options_.name, queue_.size());
    ready_cv_.notify_one();
  }
}

void WorkQueue::shut_down() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
  drain_ = false;
  waiting_.clear();
  waiting_at_.clear();
  ready_cv_.notify_all();
  delay_cv_.notify_all();
}

void WorkQueue::shut_down_with_drain() {
  std::lock_guard lock(mutex_);
  if (!shutting_down_) {
    shutting_down_ = true;
    drain_ = true;
  }
  // Delayed keys are not waited for: their time may be far away.
  waiting_.clear();
  waiting_at_.clear();
  ready_cv_.notify_all();
  delay_cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mutex_);
  return shutting_down_;
}

std::size_t WorkQueue::promote_due() {
  std::lock_guard lock(mutex_);
  return promote_due_locked();
}

std::size_t WorkQueue::promote_due_locked() {
  if (shutting_down_) return 0;
  const auto now = clock_.now();
  std::size_t promoted = 0;
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    const std::string key = waiting_.begin()->second;
    waiting_.erase(waiting_.begin());
    waiting_at_.erase(key);
    add_locked(key);
    ++promoted;
  }
  return promoted;
}

std::size_t WorkQueue::len() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t WorkQueue::delayed() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

void WorkQueue::delay_loop() {
  std::unique_lock lock(mutex_);
  while (!shutting_down_) {
    promote_due_locked();
    if (waiting_.empty()) {
      delay_cv_.wait(lock);
      continue;
    }
    const auto until_next = waiting_.begin()->first - clock_.now();
    delay_cv_.wait_for(lock, std::min<std::chrono::nanoseconds>(until_next, kMaxDelayWait));
  }
}

}  // namespace cd4ml::runtime
