#pragma once
// Time as a dependency: everything that waits, backs off or judges a lease
// reads this interface, so tests drive time by hand instead of sleeping.

#include <atomic>
#include <chrono>

namespace cd4ml::util {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for delays, deadlines and lease observation.
  virtual std::chrono::steady_clock::time_point now() const = 0;
  // Wall time, only for timestamps written to the API (renewTime, Events, conditions).
  virtual std::chrono::system_clock::time_point wall_now() const = 0;
};

class RealClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::now();
  }
  std::chrono::system_clock::time_point wall_now() const override {
    return std::chrono::system_clock::now();
  }
};

// The process-wide real clock, for production wiring.
const Clock& real_clock();

// A clock that moves only when told; thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::chrono::system_clock::time_point wall_start =
                           std::chrono::system_clock::time_point{
                               std::chrono::seconds(1'700'000'000)})
      : wall_start_(wall_start) {}

  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::time_point{std::chrono::nanoseconds(offset_.load())};
  }
  std::chrono::system_clock::time_point wall_now() const override {
    return wall_start_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             std::chrono::nanoseconds(offset_.load()));
  }
  void advance(std::chrono::nanoseconds d) { offset_ += d.count(); }

 private:
  std::chrono::system_clock::time_point wall_start_;
  std::atomic<std::int64_t> offset_{0};
};

}  // namespace cd4ml::util
