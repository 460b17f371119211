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

WorkQueue::Options manual_options(QueueObserver* observer) {
  WorkQueue::Options options;
  options.name = "test";
  options.run_delay_thread = false;
  options.observer = observer;
  return options;
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

// A queue on a manual clock, without the delay thread: tests move the clock
// and promote due keys themselves. (The delay thread tests make their own
// queue on the real clock.)
class WorkQueueTest : public ::testing::Test {
 protected:
  util::ManualClock clock_;
  RecordingObserver observer_;
  WorkQueue queue_{manual_options(&observer_), clock_};
};

TEST_F(WorkQueueTest, AKeyAddedManyTimesIsQueuedOnceInFifoOrder) {
  queue_.add("a");
  queue_.add("b");
  queue_.add("a");
  queue_.add("a");
  EXPECT_EQ(queue_.len(), 2u);
  EXPECT_EQ(queue_.try_get(), "a");
  EXPECT_EQ(queue_.try_get(), "b");
  EXPECT_EQ(queue_.try_get(), std::nullopt);
}

TEST_F(WorkQueueTest, AKeyBeingProcessedIsNotHandedOutAgainUntilDone) {
  queue_.add("a");
  ASSERT_EQ(queue_.try_get(), "a");
  queue_.add("a");
  queue_.add("a");
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(queue_.try_get(), std::nullopt);
  queue_.done("a");
  // Re-added while processing: queued again exactly once.
  EXPECT_EQ(queue_.len(), 1u);
  EXPECT_EQ(queue_.try_get(), "a");
  queue_.done("a");
  EXPECT_EQ(queue_.try_get(), std::nullopt);
}

TEST_F(WorkQueueTest, DoneWithoutReAddDoesNotRequeue) {
  queue_.add("a");
  ASSERT_EQ(queue_.try_get(), "a");
  queue_.done("a");
  EXPECT_EQ(queue_.len(), 0u);
  queue_.done("never-handed-out");  // harmless
  EXPECT_EQ(queue_.len(), 0u);
}

TEST_F(WorkQueueTest, ASecondWorkerGetsOtherKeysWhileTheFirstHoldsOne) {
  queue_.add("a");
  ASSERT_EQ(queue_.get(), "a");

  std::promise<std::optional<std::string>> first;
  std::promise<std::optional<std::string>> second;
  std::thread worker([&] {
    first.set_value(queue_.get());
    second.set_value(queue_.get());
  });
  queue_.add("a");  // a is being processed: must wait for done()
  queue_.add("b");
  auto first_key = first.get_future();
  ASSERT_EQ(first_key.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(first_key.get(), "b");

  queue_.done("a");
  auto second_key = second.get_future();
  ASSERT_EQ(second_key.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(second_key.get(), "a");
  worker.join();
}

TEST_F(WorkQueueTest, ManyWorkersNeverProcessTheSameKeyAtOnce) {
  std::mutex mutex;
  std::set<std::string> in_progress;
  int overlaps = 0;
  std::map<std::string, int> processed;

  auto worker = [&] {
    while (auto key = queue_.get()) {
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
      queue_.done(*key);
    }
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) workers.emplace_back(worker);
  for (int round = 0; round < 2000; ++round) queue_.add("key-" + std::to_string(round % 5));
  queue_.shut_down_with_drain();
  for (auto& thread : workers) thread.join();

  EXPECT_EQ(overlaps, 0);
  // Every key was processed, and nothing is left behind.
  EXPECT_EQ(processed.size(), 5u);
  EXPECT_EQ(queue_.len(), 0u);
}

TEST_F(WorkQueueTest, AddAfterReleasesKeysInTimeOrder) {
  queue_.add_after("a", 3s);
  queue_.add_after("b", 1s);
  queue_.add_after("c", 2s);
  EXPECT_EQ(queue_.delayed(), 3u);
  EXPECT_EQ(queue_.promote_due(), 0u);
  EXPECT_EQ(queue_.try_get(), std::nullopt);

  clock_.advance(1s);
  EXPECT_EQ(queue_.promote_due(), 1u);
  EXPECT_EQ(queue_.try_get(), "b");
  clock_.advance(999ms);
  EXPECT_EQ(queue_.promote_due(), 0u);
  clock_.advance(1ms);
  EXPECT_EQ(queue_.promote_due(), 1u);
  EXPECT_EQ(queue_.try_get(), "c");
  clock_.advance(1s);
  EXPECT_EQ(queue_.promote_due(), 1u);
  EXPECT_EQ(queue_.try_get(), "a");
  EXPECT_EQ(queue_.delayed(), 0u);
}

TEST_F(WorkQueueTest, AddAfterKeepsTheEarliestTimeForAKey) {
  queue_.add_after("late-then-early", 5s);
  queue_.add_after("late-then-early", 1s);
  queue_.add_after("early-then-late", 1s);
  queue_.add_after("early-then-late", 5s);
  EXPECT_EQ(queue_.delayed(), 2u);
  clock_.advance(1s);
  EXPECT_EQ(queue_.promote_due(), 2u);
  EXPECT_EQ(queue_.len(), 2u);
  clock_.advance(10s);
  EXPECT_EQ(queue_.promote_due(), 0u);  // no leftover second entry
  EXPECT_EQ(queue_.len(), 2u);
}

TEST_F(WorkQueueTest, AddAfterWithoutDelayAddsAtOnce) {
  queue_.add_after("a", 0s);
  EXPECT_EQ(queue_.try_get(), "a");
}

TEST_F(WorkQueueTest, DelayedKeyAlreadyQueuedIsNotDuplicated) {
  queue_.add("a");
  queue_.add_after("a", 1s);
  clock_.advance(1s);
  queue_.promote_due();
  EXPECT_EQ(queue_.len(), 1u);
}

TEST_F(WorkQueueTest, RateLimitedAddsBackOffPerKeyUntilForgotten) {
  auto fail_once = [&](std::chrono::nanoseconds expected_delay) {
    queue_.add_rate_limited("a");
    clock_.advance(expected_delay - 1ns);
    EXPECT_EQ(queue_.promote_due(), 0u);
    clock_.advance(1ns);
    EXPECT_EQ(queue_.promote_due(), 1u);
    ASSERT_EQ(queue_.try_get(), "a");
    queue_.done("a");
  };
  fail_once(5ms);
  fail_once(10ms);
  fail_once(20ms);
  EXPECT_EQ(queue_.retries("a"), 3);
  queue_.forget("a");
  EXPECT_EQ(queue_.retries("a"), 0);
  fail_once(5ms);
}

TEST_F(WorkQueueTest, ShutDownStopsHandingOutKeysAtOnce) {
  queue_.add("a");
  queue_.add("b");
  queue_.add_after("c", 1s);
  queue_.shut_down();
  EXPECT_TRUE(queue_.shutting_down());
  EXPECT_EQ(queue_.get(), std::nullopt);
  queue_.add("d");
  EXPECT_EQ(queue_.try_get(), std::nullopt);
  clock_.advance(1s);
  EXPECT_EQ(queue_.promote_due(), 0u);
}

TEST_F(WorkQueueTest, ShutDownWithDrainHandsOutWhatIsQueuedButTakesNothingNew) {
  queue_.add("a");
  queue_.add("b");
  ASSERT_EQ(queue_.get(), "a");
  queue_.add("a");  // re-added while processing, before the shutdown
  queue_.shut_down_with_drain();
  queue_.add("c");  // too late
  EXPECT_EQ(queue_.get(), "b");
  queue_.done("b");
  queue_.done("a");  // its re-add still counts
  EXPECT_EQ(queue_.get(), "a");
  queue_.done("a");
  EXPECT_EQ(queue_.get(), std::nullopt);
}

TEST_F(WorkQueueTest, ShutDownWakesBlockedWorkers) {
  auto blocked = std::async(std::launch::async, [&] { return queue_.get(); });
  auto blocked_too = std::async(std::launch::async, [&] { return queue_.get(); });
  queue_.shut_down();
  ASSERT_EQ(blocked.wait_for(kDeadline), std::future_status::ready);
  ASSERT_EQ(blocked_too.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(blocked.get(), std::nullopt);
  EXPECT_EQ(blocked_too.get(), std::nullopt);
}

TEST_F(WorkQueueTest, DelayThreadReleasesKeysOnTheRealClock) {
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

TEST_F(WorkQueueTest, DelayThreadIsWokenByAnEarlierKey) {
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

TEST_F(WorkQueueTest, ObserverSeesAddsDepthLatencyDurationAndRetries) {
  queue_.add("a");
  queue_.add("a");  // deduplicated: not an add
  queue_.add("b");
  EXPECT_EQ(observer_.adds["test"], 2);
  EXPECT_EQ(observer_.depth, 2u);

  clock_.advance(3s);
  ASSERT_EQ(queue_.try_get(), "a");
  EXPECT_EQ(observer_.depth, 1u);
  clock_.advance(2s);
  queue_.done("a");
  ASSERT_EQ(observer_.latencies.size(), 1u);
  EXPECT_EQ(observer_.latencies[0], 3s);
  ASSERT_EQ(observer_.durations.size(), 1u);
  EXPECT_EQ(observer_.durations[0], 2s);

  queue_.add_rate_limited("a");
  queue_.add_after("c", 1s);
  EXPECT_EQ(observer_.retries["test"], 2);
}

}  // namespace
}  // namespace cd4ml::runtime
