#include "operator/runtime/workqueue.hpp"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <set>
#include <thread>

namespace cd4ml::runtime {
namespace {

using namespace std::chrono_literals;

constexpr auto kDeadline = 10s;  // generous: only reached when the test fails

WorkQueue::Options manual_options(QueueObserver* observer = nullptr) {
  WorkQueue::Options options;
  options.name = "test";
  options.run_delay_thread = false;
  options.observer = observer;
  return options;
}

TEST(WorkQueue, AKeyAddedManyTimesIsQueuedOnceInFifoOrder) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  queue.add("a");
  queue.add("b");
  queue.add("a");
  queue.add("a");
  EXPECT_EQ(queue.len(), 2u);
  EXPECT_EQ(queue.try_get(), "a");
  EXPECT_EQ(queue.try_get(), "b");
  EXPECT_EQ(queue.try_get(), std::nullopt);
}

TEST(WorkQueue, AKeyBeingProcessedIsNotHandedOutAgainUntilDone) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  queue.add("a");
  ASSERT_EQ(queue.try_get(), "a");
  queue.add("a");
  queue.add("a");
  EXPECT_EQ(queue.len(), 0u);
  EXPECT_EQ(queue.try_get(), std::nullopt);
  queue.done("a");
  // Re-added while processing: queued again exactly once.
  EXPECT_EQ(queue.len(), 1u);
  EXPECT_EQ(queue.try_get(), "a");
  queue.done("a");
  EXPECT_EQ(queue.try_get(), std::nullopt);
}

TEST(WorkQueue, DoneWithoutReAddDoesNotRequeue) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  queue.add("a");
  ASSERT_EQ(queue.try_get(), "a");
  queue.done("a");
  EXPECT_EQ(queue.len(), 0u);
  queue.done("never-handed-out");  // harmless
  EXPECT_EQ(queue.len(), 0u);
}

TEST(WorkQueue, ASecondWorkerGetsOtherKeysWhileTheFirstHoldsOne) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  queue.add("a");
  ASSERT_EQ(queue.get(), "a");

  std::promise<std::optional<std::string>> first;
  std::promise<std::optional<std::string>> second;
  std::thread worker([&] {
    first.set_value(queue.get());
    second.set_value(queue.get());
  });
  queue.add("a");  // a is being processed: must wait for done()
  queue.add("b");
  auto first_key = first.get_future();
  ASSERT_EQ(first_key.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(first_key.get(), "b");

  queue.done("a");
  auto second_key = second.get_future();
  ASSERT_EQ(second_key.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(second_key.get(), "a");
  worker.join();
}

TEST(WorkQueue, ManyWorkersNeverProcessTheSameKeyAtOnce) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  std::mutex mutex;
  std::set<std::string> in_progress;
  int overlaps = 0;
  std::map<std::string, int> processed;

  auto worker = [&] {
    while (auto key = queue.get()) {
      {
        std::lock_guard lock(mutex);
        if (!in_progress.insert(*key).second) ++overlaps;
      }
      std::this_thread::yield();  // widen the window in which a second worker could collide
      {
        std::lock_guard lock(mutex);
        in_progress.erase(*key);
        ++processed[*key];
      }
      queue.done(*key);
    }
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) workers.emplace_back(worker);
  for (int round = 0; round < 2000; ++round) queue.add("key-" + std::to_string(round % 5));
  queue.shut_down_with_drain();
  for (auto& thread : workers) thread.join();

  EXPECT_EQ(overlaps, 0);
  // Every key was processed, and nothing is left behind.
  EXPECT_EQ(processed.size(), 5u);
  EXPECT_EQ(queue.len(), 0u);
}

TEST(WorkQueue, AddAfterReleasesKeysInTimeOrder) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  queue.add_after("a", 3s);
  queue.add_after("b", 1s);
  queue.add_after("c", 2s);
  EXPECT_EQ(queue.delayed(), 3u);
  EXPECT_EQ(queue.promote_due(), 0u);
  EXPECT_EQ(queue.try_get(), std::nullopt);

  clock.advance(1s);
  EXPECT_EQ(queue.promote_due(), 1u);
  EXPECT_EQ(queue.try_get(), "b");
  clock.advance(999ms);
  EXPECT_EQ(queue.promote_due(), 0u);
  clock.advance(1ms);
  EXPECT_EQ(queue.promote_due(), 1u);
  EXPECT_EQ(queue.try_get(), "c");
  clock.advance(1s);
  EXPECT_EQ(queue.promote_due(), 1u);
  EXPECT_EQ(queue.try_get(), "a");
  EXPECT_EQ(queue.delayed(), 0u);
}

TEST(WorkQueue, AddAfterKeepsTheEarliestTimeForAKey) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  queue.add_after("late-then-early", 5s);
  queue.add_after("late-then-early", 1s);
  queue.add_after("early-then-late", 1s);
  queue.add_after("early-then-late", 5s);
  EXPECT_EQ(queue.delayed(), 2u);
  clock.advance(1s);
  EXPECT_EQ(queue.promote_due(), 2u);
  EXPECT_EQ(queue.len(), 2u);
  clock.advance(10s);
  EXPECT_EQ(queue.promote_due(), 0u);  // no leftover second entry
  EXPECT_EQ(queue.len(), 2u);
}

TEST(WorkQueue, AddAfterWithoutDelayAddsAtOnce) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  queue.add_after("a", 0s);
  EXPECT_EQ(queue.try_get(), "a");
}

TEST(WorkQueue, DelayedKeyAlreadyQueuedIsNotDuplicated) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  queue.add("a");
  queue.add_after("a", 1s);
  clock.advance(1s);
  queue.promote_due();
  EXPECT_EQ(queue.len(), 1u);
}

TEST(WorkQueue, RateLimitedAddsBackOffPerKeyUntilForgotten) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  auto fail_once = [&](std::chrono::nanoseconds expected_delay) {
    queue.add_rate_limited("a");
    clock.advance(expected_delay - 1ns);
    EXPECT_EQ(queue.promote_due(), 0u);
    clock.advance(1ns);
    EXPECT_EQ(queue.promote_due(), 1u);
    ASSERT_EQ(queue.try_get(), "a");
    queue.done("a");
  };
  fail_once(5ms);
  fail_once(10ms);
  fail_once(20ms);
  EXPECT_EQ(queue.retries("a"), 3);
  queue.forget("a");
  EXPECT_EQ(queue.retries("a"), 0);
  fail_once(5ms);
}

TEST(WorkQueue, ShutDownStopsHandingOutKeysAtOnce) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  queue.add("a");
  queue.add("b");
  queue.add_after("c", 1s);
  queue.shut_down();
  EXPECT_TRUE(queue.shutting_down());
  EXPECT_EQ(queue.get(), std::nullopt);
  queue.add("d");
  EXPECT_EQ(queue.try_get(), std::nullopt);
  clock.advance(1s);
  EXPECT_EQ(queue.promote_due(), 0u);
}

TEST(WorkQueue, ShutDownWithDrainHandsOutWhatIsQueuedButTakesNothingNew) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  queue.add("a");
  queue.add("b");
  ASSERT_EQ(queue.get(), "a");
  queue.add("a");  // re-added while processing, before the shutdown
  queue.shut_down_with_drain();
  queue.add("c");  // too late
  EXPECT_EQ(queue.get(), "b");
  queue.done("b");
  queue.done("a");  // its re-add still counts
  EXPECT_EQ(queue.get(), "a");
  queue.done("a");
  EXPECT_EQ(queue.get(), std::nullopt);
}

TEST(WorkQueue, ShutDownWakesBlockedWorkers) {
  util::ManualClock clock;
  WorkQueue queue(manual_options(), clock);
  auto blocked = std::async(std::launch::async, [&] { return queue.get(); });
  auto blocked_too = std::async(std::launch::async, [&] { return queue.get(); });
  queue.shut_down();
  ASSERT_EQ(blocked.wait_for(kDeadline), std::future_status::ready);
  ASSERT_EQ(blocked_too.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(blocked.get(), std::nullopt);
  EXPECT_EQ(blocked_too.get(), std::nullopt);
}

TEST(WorkQueue, DelayThreadReleasesKeysOnTheRealClock) {
  WorkQueue::Options options;
  options.name = "real";
  WorkQueue queue(options, util::real_clock());
  const auto start = std::chrono::steady_clock::now();
  queue.add_after("a", 20ms);
  auto key = std::async(std::launch::async, [&] { return queue.get(); });
  ASSERT_EQ(key.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(key.get(), "a");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
}

TEST(WorkQueue, DelayThreadIsWokenByAnEarlierKey) {
  WorkQueue::Options options;
  options.name = "real";
  WorkQueue queue(options, util::real_clock());
  queue.add_after("late", 1h);
  auto key = std::async(std::launch::async, [&] { return queue.get(); });
  queue.add_after("early", 10ms);
  // Would take an hour (or the 10 s safety wake-up) if the thread kept sleeping.
  ASSERT_EQ(key.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(key.get(), "early");
  EXPECT_EQ(queue.delayed(), 1u);
}

class RecordingObserver : public QueueObserver {
 public:
  void on_add(const std::string& queue) override { ++adds[queue]; }
  void on_depth(const std::string&, std::size_t value) override { depth = value; }
  void on_queue_latency(const std::string&, std::chrono::nanoseconds waited) override {
    latencies.push_back(waited);
  }
  void on_work_duration(const std::string&, std::chrono::nanoseconds took) override {
    durations.push_back(took);
  }
  void on_retry(const std::string& queue) override { ++retries[queue]; }

  std::map<std::string, int> adds;
  std::map<std::string, int> retries;
  std::size_t depth = 0;
  std::vector<std::chrono::nanoseconds> latencies;
  std::vector<std::chrono::nanoseconds> durations;
};

TEST(WorkQueue, ObserverSeesAddsDepthLatencyDurationAndRetries) {
  util::ManualClock clock;
  RecordingObserver observer;
  WorkQueue queue(manual_options(&observer), clock);
  queue.add("a");
  queue.add("a");  // deduplicated: not an add
  queue.add("b");
  EXPECT_EQ(observer.adds["test"], 2);
  EXPECT_EQ(observer.depth, 2u);

  clock.advance(3s);
  ASSERT_EQ(queue.try_get(), "a");
  EXPECT_EQ(observer.depth, 1u);
  clock.advance(2s);
  queue.done("a");
  ASSERT_EQ(observer.latencies.size(), 1u);
  EXPECT_EQ(observer.latencies[0], 3s);
  ASSERT_EQ(observer.durations.size(), 1u);
  EXPECT_EQ(observer.durations[0], 2s);

  queue.add_rate_limited("a");
  queue.add_after("c", 1s);
  EXPECT_EQ(observer.retries["test"], 2);
}

}  // namespace
}  // namespace cd4ml::runtime
