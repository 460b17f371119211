#include "operator/runtime/controller.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <sstream>

namespace cd4ml::runtime {
namespace {

using namespace std::chrono_literals;

constexpr auto kDeadline = 10s;  // only reached when a test fails

// Drives handlers by hand, as an informer would.
class FakeSource : public EventSource {
 public:
  void add_handlers(EventHandlers handlers) override { handlers_.push_back(std::move(handlers)); }
  void add(const Json& object) {
    for (auto& h : handlers_) h.on_add(std::make_shared<const Json>(object));
  }
  void update(const Json& old_object, const Json& object) {
    for (auto& h : handlers_) {
      h.on_update(std::make_shared<const Json>(old_object), std::make_shared<const Json>(object));
    }
  }
  void remove(const Json& object) {
    for (auto& h : handlers_) h.on_delete(std::make_shared<const Json>(object));
  }

 private:
  std::vector<EventHandlers> handlers_;
};

Json object(const std::string& ns, const std::string& name, Json owners = Json::array()) {
  Json result = {{"metadata", {{"namespace", ns}, {"name", name}}}};
  if (!owners.empty()) result["metadata"]["ownerReferences"] = owners;
  return result;
}

Json owner(const std::string& kind, const std::string& name, bool controller) {
  return {{"apiVersion", "cd4ml.io/v1alpha1"},
          {"kind", kind},
          {"name", name},
          {"uid", "uid-" + name},
          {"controller", controller}};
}

// Reconciles with a scripted function; counts calls and concurrency per key.
class ScriptedReconciler : public Reconciler {
 public:
  explicit ScriptedReconciler(std::function<Result(const Request&)> script)
      : script_(std::move(script)) {}

  Result reconcile(const Request& request) override {
    {
      std::lock_guard lock(mutex_);
      calls_.push_back(request.key());
      if (++running_[request.key()] > 1) ++overlaps_;
    }
    Result result;
    try {
      result = script_(request);
    } catch (...) {
      std::lock_guard lock(mutex_);
      --running_[request.key()];
      throw;
    }
    std::lock_guard lock(mutex_);
    --running_[request.key()];
    return result;
  }

  std::vector<std::string> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  int overlaps() const {
    std::lock_guard lock(mutex_);
    return overlaps_;
  }

 private:
  std::function<Result(const Request&)> script_;
  mutable std::mutex mutex_;
  std::vector<std::string> calls_;
  std::map<std::string, int> running_;
  int overlaps_ = 0;
};

// Counts queue done() calls, which the controller makes after it has acted on
// a result, so tests can wait for "reconcile N fully handled".
class DoneCounter : public QueueObserver {
 public:
  void on_add(const std::string&) override {}
  void on_depth(const std::string&, std::size_t) override {}
  void on_queue_latency(const std::string&, std::chrono::nanoseconds) override {}
  void on_work_duration(const std::string&, std::chrono::nanoseconds) override {
    {
      std::lock_guard lock(mutex_);
      ++done_;
    }
    cv_.notify_all();
  }
  void on_retry(const std::string&) override {}

  bool wait_for(int count) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kDeadline, [&] { return done_ >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int done_ = 0;
};

// A gate a reconcile can wait at until the test opens it.
class Gate {
 public:
  void wait_open() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  bool wait_until_waiting(int count) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kDeadline, [&] { return waiting_ >= count; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

// A reconcile script that holds the reconcile of `name` at `gate` until the
// test opens it and finishes every other at once.
std::function<Result(const Request&)> hold_at(Gate& gate, std::string name) {
  return [&gate, name = std::move(name)](const Request& request) {
    if (request.name == name) gate.wait_open();
    return Result::done();
  };
}

ControllerOptions options(QueueObserver* observer = nullptr, int workers = 1) {
  ControllerOptions result;
  result.name = "test-controller";
  result.max_concurrent_reconciles = workers;
  result.queue.run_delay_thread = false;
  result.queue.observer = observer;
  return result;
}

// Starts the controller with `request` queued and waits until its reconcile
// has been fully handled; false if that takes too long.
bool start_and_reconcile_once(Controller& controller, DoneCounter& done, const Request& request) {
  controller.start();
  controller.enqueue(request);
  return done.wait_for(1);
}

// Starts the controller with `request` queued and waits until its reconcile
// is held at `gate`; false if it does not get there in time.
bool start_and_hold(Controller& controller, Gate& gate, const Request& request) {
  controller.start();
  controller.enqueue(request);
  return gate.wait_until_waiting(1);
}

TEST(ControllerOwnerRequest, OnlyTheControllerReferenceOfTheRightKind) {
  EXPECT_EQ(controller_owner_request(object("ml", "job", {owner("TrainingRun", "r1", true)}),
                                     "TrainingRun")
                ->key(),
            "ml/r1");
  EXPECT_FALSE(controller_owner_request(object("ml", "job", {owner("TrainingRun", "r1", false)}),
                                        "TrainingRun"));
  EXPECT_FALSE(controller_owner_request(object("ml", "job", {owner("ModelRelease", "m", true)}),
                                        "TrainingRun"));
  EXPECT_FALSE(controller_owner_request(object("ml", "job"), "TrainingRun"));
  EXPECT_FALSE(controller_owner_request(Json("not an object"), "TrainingRun"));
  // A non-controller reference of the kind next to the controller one of another kind.
  EXPECT_FALSE(controller_owner_request(
      object("ml", "job", {owner("TrainingRun", "r1", false), owner("Other", "o", true)}),
      "TrainingRun"));
}

TEST(Controller, PrimaryEventsEnqueueTheObjectsOwnKeyOnce) {
  util::ManualClock clock;
  ScriptedReconciler reconciler([](const Request&) { return Result::done(); });
  Controller controller(options(), reconciler, clock);
  FakeSource source;
  controller.for_primary(source);

  source.add(object("ml", "a"));
  source.update(object("ml", "a"), object("ml", "a"));
  source.add(object("ml", "b"));
  source.remove(object("ml", "c"));
  EXPECT_EQ(controller.queue().try_get(), "ml/a");
  EXPECT_EQ(controller.queue().try_get(), "ml/b");
  EXPECT_EQ(controller.queue().try_get(), "ml/c");
  EXPECT_EQ(controller.queue().try_get(), std::nullopt);
}

TEST(Controller, OwnedEventsEnqueueTheControllerOwner) {
  util::ManualClock clock;
  ScriptedReconciler reconciler([](const Request&) { return Result::done(); });
  Controller controller(options(), reconciler, clock);
  FakeSource jobs;
  controller.owns(jobs, "TrainingRun");

  jobs.add(object("ml", "job-1", {owner("TrainingRun", "r1", true)}));
  jobs.add(object("ml", "job-2", {owner("TrainingRun", "r2", false)}));  // not the controller
  jobs.add(object("ml", "job-3", {owner("ModelRelease", "m1", true)}));  // other kind
  jobs.add(object("ml", "job-4"));                                       // no owner
  EXPECT_EQ(controller.queue().try_get(), "ml/r1");
  EXPECT_EQ(controller.queue().try_get(), std::nullopt);

  // An object handed from one owner to another wakes both.
  jobs.update(object("ml", "job-1", {owner("TrainingRun", "old", true)}),
              object("ml", "job-1", {owner("TrainingRun", "new", true)}));
  EXPECT_EQ(controller.queue().try_get(), "ml/old");
  EXPECT_EQ(controller.queue().try_get(), "ml/new");

  jobs.remove(object("ml", "job-9", {owner("TrainingRun", "r9", true)}));
  EXPECT_EQ(controller.queue().try_get(), "ml/r9");
}

TEST(Controller, WatchesEnqueueWhatTheMapReturns) {
  util::ManualClock clock;
  ScriptedReconciler reconciler([](const Request&) { return Result::done(); });
  Controller controller(options(), reconciler, clock);
  FakeSource runs;
  controller.watches(runs, [](const ObjectPtr& run) {
    const std::string ns = (*run)["metadata"]["namespace"];
    return std::vector<Request>{{ns, "release-x"}, {ns, "release-y"}};
  });
  runs.add(object("ml", "run"));
  EXPECT_EQ(controller.queue().try_get(), "ml/release-x");
  EXPECT_EQ(controller.queue().try_get(), "ml/release-y");
  EXPECT_EQ(controller.queue().try_get(), std::nullopt);
}

TEST(Controller, ErrorIsRetriedWithBackoffAndSuccessForgetsTheFailures) {
  util::ManualClock clock;
  DoneCounter done;
  int attempt = 0;
  ScriptedReconciler reconciler(
      [&](const Request&) { return ++attempt < 3 ? Result::failed("boom") : Result::done(); });
  Controller controller(options(&done), reconciler, clock);

  ASSERT_TRUE(start_and_reconcile_once(controller, done, {"ml", "a"}));
  EXPECT_EQ(controller.queue().retries("ml/a"), 1);
  EXPECT_EQ(controller.queue().delayed(), 1u);
  clock.advance(4ms);
  EXPECT_EQ(controller.queue().promote_due(), 0u);  // 5 ms backoff not over
  clock.advance(1ms);
  EXPECT_EQ(controller.queue().promote_due(), 1u);

  ASSERT_TRUE(done.wait_for(2));
  EXPECT_EQ(controller.queue().retries("ml/a"), 2);
  clock.advance(9ms);
  EXPECT_EQ(controller.queue().promote_due(), 0u);  // second backoff is 10 ms
  clock.advance(1ms);
  EXPECT_EQ(controller.queue().promote_due(), 1u);

  ASSERT_TRUE(done.wait_for(3));
  EXPECT_EQ(controller.queue().retries("ml/a"), 0);
  EXPECT_EQ(controller.queue().delayed(), 0u);
  EXPECT_EQ(reconciler.calls(), (std::vector<std::string>{"ml/a", "ml/a", "ml/a"}));
  EXPECT_TRUE(controller.stop(kDeadline));
}

TEST(Controller, ADeferredReconcileKeepsTheBackoffAndThePlannedRetry) {
  util::ManualClock clock;
  DoneCounter done;
  int attempt = 0;
  ScriptedReconciler reconciler([&](const Request&) {
    ++attempt;
    if (attempt == 2) return Result::deferred("cache behind", 2s);
    return Result::failed("boom");
  });
  Controller controller(options(&done), reconciler, clock);
  ASSERT_TRUE(start_and_reconcile_once(controller, done, {"ml", "a"}));
  ASSERT_EQ(controller.queue().retries("ml/a"), 1);
  ASSERT_EQ(controller.queue().delayed(), 1u);  // the retry in 5 ms

  // An event brings the key back before its retry is due, and it is deferred.
  controller.enqueue({"ml", "a"});
  ASSERT_TRUE(done.wait_for(2));
  EXPECT_EQ(controller.queue().retries("ml/a"), 1) << "a deferral is not a success";
  EXPECT_EQ(controller.queue().delayed(), 1u) << "the earlier planned retry still stands";

  clock.advance(5ms);
  EXPECT_EQ(controller.queue().promote_due(), 1u);
  ASSERT_TRUE(done.wait_for(3));
  EXPECT_EQ(controller.queue().retries("ml/a"), 2);  // backoff went on growing: next 10 ms
  EXPECT_TRUE(controller.stop(kDeadline));
}

TEST(Controller, AFailureWithARetryByComesBackThenEvenWhenTheBackoffIsLonger) {
  util::ManualClock clock;
  DoneCounter done;
  int attempt = 0;
  constexpr int kFailures = 15;  // the per-key backoff is 5 ms * 2^15 = 164 s by then
  ScriptedReconciler reconciler([&](const Request&) {
    return ++attempt <= kFailures ? Result::failed("boom")
                                  : Result::failed("quota exceeded", std::chrono::seconds(2));
  });
  Controller controller(options(&done), reconciler, clock);
  ASSERT_TRUE(start_and_reconcile_once(controller, done, {"ml", "a"}));
  for (int i = 2; i <= kFailures + 1; ++i) {
    clock.advance(std::chrono::hours(1));
    ASSERT_EQ(controller.queue().promote_due(), 1u);
    ASSERT_TRUE(done.wait_for(i));
  }
  EXPECT_EQ(controller.queue().retries("ml/a"), kFailures + 1) << "still a failure, counted";
  clock.advance(std::chrono::seconds(2) - 1ms);
  EXPECT_EQ(controller.queue().promote_due(), 0u);
  clock.advance(1ms);
  EXPECT_EQ(controller.queue().promote_due(), 1u) << "back by the time it asked for";
  ASSERT_TRUE(done.wait_for(kFailures + 2));
  EXPECT_TRUE(controller.stop(kDeadline));
}

TEST(Controller, AnExceptionCountsAsAnError) {
  util::ManualClock clock;
  DoneCounter done;
  ScriptedReconciler reconciler(
      [](const Request&) -> Result { throw std::runtime_error("cache exploded"); });
  Controller controller(options(&done), reconciler, clock);
  ASSERT_TRUE(start_and_reconcile_once(controller, done, {"ml", "a"}));
  EXPECT_EQ(controller.queue().retries("ml/a"), 1);
  EXPECT_EQ(controller.queue().delayed(), 1u);
  EXPECT_TRUE(controller.stop(kDeadline));
}

// The first reconcile of a key answers `first`: the key must come back
// exactly `after` later (not a millisecond before), with no failure counted.
void expect_back_after_without_a_failure(const Result& first, std::chrono::milliseconds after) {
  util::ManualClock clock;
  DoneCounter done;
  int attempt = 0;
  ScriptedReconciler reconciler(
      [&](const Request&) { return ++attempt == 1 ? first : Result::done(); });
  Controller controller(options(&done), reconciler, clock);
  ASSERT_TRUE(start_and_reconcile_once(controller, done, {"ml", "a"}));
  EXPECT_EQ(controller.queue().retries("ml/a"), 0);
  clock.advance(after - 1ms);
  EXPECT_EQ(controller.queue().promote_due(), 0u);
  clock.advance(1ms);
  EXPECT_EQ(controller.queue().promote_due(), 1u);
  ASSERT_TRUE(done.wait_for(2));
  EXPECT_EQ(reconciler.calls().size(), 2u);
  EXPECT_TRUE(controller.stop(kDeadline));
}

TEST(Controller, RequeueAfterWaitsTheGivenTimeWithoutCountingAFailure) {
  expect_back_after_without_a_failure(Result::requeue_after(30s), 30s);
}

// In case the event the reconciler waited for does not come.
TEST(Controller, ADeferredReconcileComesBackAfterTheGivenTimeIfNothingElseWakesIt) {
  expect_back_after_without_a_failure(Result::deferred("cache behind", 2s), 2s);
}

TEST(Controller, AKeyIsNeverReconciledByTwoWorkersAtOnce) {
  util::ManualClock clock;
  DoneCounter done;
  Gate gate;
  std::atomic<int> calls{0};
  ScriptedReconciler reconciler([&](const Request& request) {
    if (request.name == "a" && calls++ == 0) gate.wait_open();
    return Result::done();
  });
  Controller controller(options(&done, 4), reconciler, clock);
  ASSERT_TRUE(start_and_hold(controller, gate, {"ml", "a"}));
  // While the first reconcile of a runs, a is added again and other keys flow.
  controller.enqueue({"ml", "a"});
  controller.enqueue({"ml", "b"});
  controller.enqueue({"ml", "c"});
  ASSERT_TRUE(done.wait_for(2));  // b and c, on other workers
  EXPECT_EQ(calls.load(), 1);     // a was not handed to a second worker
  gate.open();
  ASSERT_TRUE(done.wait_for(4));  // a, then a again
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(reconciler.overlaps(), 0);
  EXPECT_TRUE(controller.stop(kDeadline));
}

// Shutdown takes no more work: the reconcile in flight finishes, queued keys
// are left for the next leader (which lists everything anyway).
TEST(Controller, StopLetsTheInFlightReconcileFinishAndTakesNoQueuedKey) {
  util::ManualClock clock;
  Gate gate;
  ScriptedReconciler reconciler(hold_at(gate, "a"));
  Controller controller(options(), reconciler, clock);
  ASSERT_TRUE(start_and_hold(controller, gate, {"ml", "a"}));
  controller.enqueue({"ml", "b"});  // queued behind a on the only worker
  // a finishes only once stop() has closed the queue.
  std::thread opener([&] {
    while (!controller.queue().shutting_down()) std::this_thread::yield();
    gate.open();
  });
  EXPECT_TRUE(controller.stop(kDeadline));
  opener.join();
  EXPECT_EQ(reconciler.calls(), (std::vector<std::string>{"ml/a"}));
  controller.enqueue({"ml", "c"});  // after stop: ignored
  EXPECT_EQ(controller.queue().len(), 1u) << "only b, never started";
}

TEST(Controller, StopReturnsFalseWhenAReconcileOutlivesTheGrace) {
  util::ManualClock clock;
  Gate gate;
  ScriptedReconciler reconciler(hold_at(gate, "stuck"));
  auto controller = std::make_unique<Controller>(options(), reconciler, clock);
  ASSERT_TRUE(start_and_hold(*controller, gate, {"ml", "stuck"}));
  controller->enqueue({"ml", "next"});
  EXPECT_FALSE(controller->stop(50ms));
  EXPECT_EQ(controller->in_flight(), 1);
  gate.open();
  controller.reset();  // joins the worker once its reconcile returns
  // After the grace ran out no further key was started.
  EXPECT_EQ(reconciler.calls(), (std::vector<std::string>{"ml/stuck"}));
}

TEST(Controller, HaltDropsTheResultsOfInFlightReconciles) {
  util::ManualClock clock;
  DoneCounter done;
  Gate gate;
  ScriptedReconciler reconciler([&](const Request&) {
    gate.wait_open();
    return Result::failed("would be retried");
  });
  Controller controller(options(&done), reconciler, clock);
  ASSERT_TRUE(start_and_hold(controller, gate, {"ml", "a"}));
  controller.enqueue({"ml", "b"});
  controller.halt();
  gate.open();
  ASSERT_TRUE(done.wait_for(1));
  EXPECT_EQ(controller.queue().retries("ml/a"), 0);
  EXPECT_EQ(controller.queue().delayed(), 0u);
  EXPECT_EQ(reconciler.calls(), (std::vector<std::string>{"ml/a"}));  // b never started
}

TEST(Controller, StartTwiceThrowsAndZeroWorkersIsRejected) {
  util::ManualClock clock;
  ScriptedReconciler reconciler([](const Request&) { return Result::done(); });
  Controller controller(options(), reconciler, clock);
  controller.start();
  EXPECT_THROW(controller.start(), std::logic_error);
  EXPECT_THROW(Controller(options(nullptr, 0), reconciler, clock), std::invalid_argument);
}

class RecordingReconcileObserver : public ReconcileObserver {
 public:
  void on_reconcile(const std::string& controller, std::string_view result,
                    std::chrono::nanoseconds took) override {
    std::lock_guard lock(mutex);
    results.push_back(controller + ":" + std::string(result));
    durations.push_back(took);
  }
  std::mutex mutex;
  std::vector<std::string> results;
  std::vector<std::chrono::nanoseconds> durations;
};

TEST(Controller, ReportsResultsAndDurationsAndLogsEachReconcileWithItsKey) {
  util::ManualClock clock;
  DoneCounter done;
  RecordingReconcileObserver observer;
  std::ostringstream log_output;
  configure_logging(LogFormat::JSON, LogLevel::Debug,
                    std::make_shared<spdlog::sinks::ostream_sink_mt>(log_output));

  ScriptedReconciler reconciler([&](const Request& request) {
    clock.advance(250ms);  // the reconcile "takes" 250 ms
    if (request.name == "bad") return Result::failed("quota exceeded");
    if (request.name == "later") return Result::requeue_after(1min);
    return Result::done();
  });
  auto controller_options = options(&done);
  controller_options.observer = &observer;
  Controller controller(controller_options, reconciler, clock);
  ASSERT_TRUE(start_and_reconcile_once(controller, done, {"ml", "good"}));
  controller.enqueue({"ml", "bad"});
  ASSERT_TRUE(done.wait_for(2));
  controller.enqueue({"ml", "later"});
  ASSERT_TRUE(done.wait_for(3));
  EXPECT_TRUE(controller.stop(kDeadline));
  configure_logging(LogFormat::Text, LogLevel::Info);  // back to stderr for other tests

  EXPECT_EQ(observer.results,
            (std::vector<std::string>{"test-controller:success", "test-controller:error",
                                      "test-controller:requeue_after"}));
  for (const auto took : observer.durations) EXPECT_EQ(took, 250ms);

  std::map<std::string, Json> by_name;
  std::istringstream lines(log_output.str());
  for (std::string line; std::getline(lines, line);) {
    const Json entry = Json::parse(line);
    if (entry.contains("name")) by_name[entry["name"]] = entry;
  }
  ASSERT_EQ(by_name.size(), 3u) << log_output.str();
  for (const auto& [name, entry] : by_name) {
    EXPECT_EQ(entry["controller"], "test-controller");
    EXPECT_EQ(entry["namespace"], "ml");
    EXPECT_EQ(entry["took"], "250.000ms");
  }
  EXPECT_EQ(by_name["good"]["result"], "success");
  EXPECT_EQ(by_name["bad"]["level"], "error");
  EXPECT_EQ(by_name["bad"]["result"], "error");
  EXPECT_EQ(by_name["bad"]["error"], "quota exceeded");
  EXPECT_EQ(by_name["later"]["result"], "requeue_after");
  EXPECT_EQ(by_name["later"]["requeue_after"], "60000.000ms");
}

TEST(Request, KeyRoundTrip) {
  EXPECT_EQ(Request::from_key("ml/a").ns, "ml");
  EXPECT_EQ(Request::from_key("ml/a").name, "a");
  EXPECT_EQ(Request::from_key("cluster-thing").ns, "");
  EXPECT_EQ(Request::from_key("cluster-thing").name, "cluster-thing");
  EXPECT_EQ((Request{"ml", "a"}).key(), "ml/a");
  EXPECT_EQ((Request{"", "a"}).key(), "a");
}

}  // namespace
}  // namespace cd4ml::runtime
