#pragma once
// Connects informers to a work queue and N workers calling a Reconciler.
//   - the primary type's events enqueue the object's own key;
//   - an owned type's events enqueue its controller owner (ownerReference with
//     controller=true and the primary's kind);
//   - watches(informer, map) enqueues whatever keys map returns (e.g. a
//     TrainingRun finishing wakes the ModelReleases that reference it).
// Result::Done forgets the key's failures, RequeueAfter re-adds it after the
// delay, Error (or an exception) re-adds it rate-limited.
// Each reconcile is logged with controller, namespace, name, result and took.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "operator/runtime/event_source.hpp"
#include "operator/runtime/logging.hpp"
#include "operator/runtime/reconciler.hpp"
#include "operator/runtime/workqueue.hpp"

namespace cd4ml::runtime {

// Hook for reconcile metrics.
class ReconcileObserver {
 public:
  virtual ~ReconcileObserver() = default;
  // result: "success", "requeue_after", "error", "deferred"
  virtual void on_reconcile(const std::string& controller, std::string_view result,
                            std::chrono::nanoseconds took) = 0;
};

struct ControllerOptions {
  std::string name;
  int max_concurrent_reconciles = 1;
  // An unset name ("queue") takes the controller's name.
  WorkQueue::Options queue{};
  ReconcileObserver* observer = nullptr;
};

using MapFunc = std::function<std::vector<Request>(const ObjectPtr& object)>;

// The request for `object`'s controller owner when that owner is of
// `owner_kind` (owners live in the object's namespace).
std::optional<Request> controller_owner_request(const Json& object, std::string_view owner_kind);

class Controller {
 public:
  Controller(ControllerOptions options, Reconciler& reconciler, const util::Clock& clock);
  // Shuts the queue down and waits for running reconciles to return.
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void for_primary(EventSource& source);
  void owns(EventSource& source, const std::string& owner_kind);
  void watches(EventSource& source, MapFunc map);

  // Starts the workers; caches must have synced before. Throws if called twice.
  void start();
  // Stops handing out keys (queued ones stay unprocessed) and waits up to
  // `grace` (real time) for the reconciles in flight to finish. Returns false
  // if some were still running at the deadline; the destructor joins them.
  bool stop(std::chrono::milliseconds grace);
  // Leadership lost: stop taking keys now; in-flight reconciles finish but
  // their results are dropped. Never blocks (safe from the io thread).
  void halt();

  void enqueue(const Request& request);
  const std::string& name() const { return options_.name; }
  WorkQueue& queue() { return queue_; }
  // Reconciles running right now.
  int in_flight() const { return in_flight_.load(); }

 private:
  void worker_loop();
  void process(const std::string& key);
  void enqueue_key(const std::string& key);

  ControllerOptions options_;
  Reconciler& reconciler_;
  const util::Clock& clock_;
  WorkQueue queue_;
  Logger log_;
  std::vector<std::thread> workers_;
  std::atomic<int> in_flight_{0};
  std::atomic<bool> halted_{false};

  std::mutex workers_mutex_;
  std::condition_variable workers_cv_;
  int running_workers_ = 0;
  bool started_ = false;
};

}  // namespace cd4ml::runtime
