#pragma once
// A value shared between a test and the threads it drives, with a way to wait
// until it reaches a state (bounded by a deadline, never by sleeping).

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

namespace cd4ml::test_support {

template <typename T>
class Guarded {
 public:
  Guarded() = default;
  explicit Guarded(T initial) : value_(std::move(initial)) {}

  template <typename Change>
  void update(Change&& change) {
    {
      std::lock_guard lock(mutex_);
      change(value_);
    }
    changed_.notify_all();
  }

  T get() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

  // True once predicate(value) holds; false if it still does not after timeout.
  template <typename Predicate>
  bool wait_until(Predicate&& predicate, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return predicate(std::as_const(value_)); });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  T value_{};
};

}  // namespace cd4ml::test_support
