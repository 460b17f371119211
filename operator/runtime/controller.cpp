#include "operator/runtime/controller.hpp"

#include <cstdio>
#include <stdexcept>

namespace cd4ml::runtime {

namespace {

WorkQueue::Options queue_options(const ControllerOptions& options) {
  WorkQueue::Options queue = options.queue;
  if (queue.name.empty() || queue.name == WorkQueue::Options{}.name) queue.name = options.name;
  return queue;
}

// "3.142ms": short, unit-bearing and easy to grep.
std::string format_millis(std::chrono::nanoseconds d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3fms", static_cast<double>(d.count()) / 1e6);
  return text;
}

}  // namespace

std::optional<Request> controller_owner_request(const Json& object, std::string_view owner_kind) {
  if (!object.is_object()) return std::nullopt;
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return std::nullopt;
  const auto refs = metadata->find("ownerReferences");
  if (refs == metadata->end() || !refs->is_array()) return std::nullopt;
  for (const auto& ref : *refs) {
    if (!ref.is_object() || !ref.value("controller", false)) continue;
    // Only one reference may be the controller; if it is of another kind, this
    // object belongs to some other controller.
    if (ref.value("kind", "") != owner_kind) return std::nullopt;
    const std::string name = ref.value("name", "");
    if (name.empty()) return std::nullopt;
    return Request{metadata->value("namespace", ""), name};
  }
  return std::nullopt;
}

Controller::Controller(ControllerOptions options, Reconciler& reconciler, const util::Clock& clock)
    : options_(std::move(options)),
      reconciler_(reconciler),
      clock_(clock),
      queue_(queue_options(options_), clock),
      log_(Logger({{"controller", options_.name}})) {
  if (options_.max_concurrent_reconciles < 1) {
    throw std::invalid_argument("controller " + options_.name +
                                ": max_concurrent_reconciles must be at least 1");
  }
}

Controller::~Controller() {
  queue_.shut_down();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

void Controller::for_primary(EventSource& source) {
  EventHandlers handlers;
  handlers.on_add = [this](const ObjectPtr& object) { enqueue_key(object_key(*object)); };
  handlers.on_update = [this](const ObjectPtr&, const ObjectPtr& object) {
    enqueue_key(object_key(*object));
  };
  handlers.on_delete = [this](const ObjectPtr& object) { enqueue_key(object_key(*object)); };
  source.add_handlers(std::move(handlers));
}

void Controller::owns(EventSource& source, const std::string& owner_kind) {
  auto enqueue_owner = [this, owner_kind](const ObjectPtr& object) {
    if (auto request = controller_owner_request(*object, owner_kind)) enqueue(*request);
  };
  EventHandlers handlers;
  handlers.on_add = enqueue_owner;
  // Both owners: an object that changed hands must wake the old owner too.
  handlers.on_update = [enqueue_owner](const ObjectPtr& old_object, const ObjectPtr& object) {
    enqueue_owner(old_object);
    enqueue_owner(object);
  };
  handlers.on_delete = enqueue_owner;
  source.add_handlers(std::move(handlers));
}

void Controller::watches(EventSource& source, MapFunc map) {
  auto enqueue_mapped = [this, map = std::move(map)](const ObjectPtr& object) {
    for (const auto& request : map(object)) enqueue(request);
  };
  EventHandlers handlers;
  handlers.on_add = enqueue_mapped;
  handlers.on_update = [enqueue_mapped](const ObjectPtr& old_object, const ObjectPtr& object) {
    enqueue_mapped(old_object);
    enqueue_mapped(object);
  };
  handlers.on_delete = enqueue_mapped;
  source.add_handlers(std::move(handlers));
}

void Controller::enqueue(const Request& request) {
  enqueue_key(request.key());
}

void Controller::enqueue_key(const std::string& key) {
  if (!key.empty()) queue_.add(key);
}

void Controller::start() {
  {
    std::lock_guard lock(workers_mutex_);
    if (started_) throw std::logic_error("controller " + options_.name + " started twice");
    started_ = true;
    running_workers_ = options_.max_concurrent_reconciles;
  }
  workers_.reserve(static_cast<std::size_t>(options_.max_concurrent_reconciles));
  for (int i = 0; i < options_.max_concurrent_reconciles; ++i) {
    workers_.emplace_back([this] { worker_loop(); });
  }
  log_.info("starting workers", {{"workers", std::to_string(options_.max_concurrent_reconciles)}});
}

bool Controller::stop(std::chrono::milliseconds grace) {
  // No queued key is started any more (a backlog would outlast any grace
  // period); only the reconciles in flight get to finish.
  queue_.shut_down();
  bool finished = false;
  {
    std::unique_lock lock(workers_mutex_);
    finished = workers_cv_.wait_for(lock, grace, [this] { return running_workers_ == 0; });
  }
  if (!finished) {
    // Out of time. Running reconciles cannot be interrupted safely; the
    // destructor joins them.
    log_.warn("workers still running after the grace period",
              {{"in_flight", std::to_string(in_flight_.load())}});
    return false;
  }
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  log_.info("stopped");
  return true;
}

void Controller::halt() {
  halted_ = true;
  queue_.shut_down();
  log_.warn("halted: in-flight results will be dropped",
            {{"in_flight", std::to_string(in_flight_.load())}});
}

void Controller::worker_loop() {
  while (auto key = queue_.get()) {
    process(*key);
  }
  {
    std::lock_guard lock(workers_mutex_);
    --running_workers_;
  }
  workers_cv_.notify_all();
}

void Controller::process(const std::string& key) {
  ++in_flight_;
  const Request request = Request::from_key(key);
  const Logger log = log_.with({{"namespace", request.ns}, {"name", request.name}});
  const auto start = clock_.now();
  Result result;
  try {
    result = reconciler_.reconcile(request);
  } catch (const std::exception& e) {
    result = Result::failed(e.what());
  } catch (...) {
    result = Result::failed("unknown exception");
  }
  const auto took = clock_.now() - start;

  std::string_view outcome = "success";
  if (result.kind == Result::Kind::RequeueAfter) outcome = "requeue_after";
  if (result.kind == Result::Kind::Error) outcome = "error";
  if (result.kind == Result::Kind::Deferred) outcome = "deferred";
  if (options_.observer) options_.observer->on_reconcile(options_.name, outcome, took);

  if (halted_) {
    // Another replica may lead by now: acting on this result could fight it.
    log.info("reconcile result dropped after halt",
             {{"result", std::string(outcome)}, {"took", format_millis(took)}});
  } else {
    switch (result.kind) {
      case Result::Kind::Done:
        queue_.forget(key);
        log.info("reconciled", {{"result", "success"}, {"took", format_millis(took)}});
        break;
      case Result::Kind::RequeueAfter:
        // A planned wake-up is not a failure: the backoff starts over.
        queue_.forget(key);
        queue_.add_after(key, result.after);
        log.info("reconciled", {{"result", "requeue_after"},
                                {"requeue_after", format_millis(result.after)},
                                {"took", format_millis(took)}});
        break;
      case Result::Kind::Deferred:
        // Not a success: forgetting the failures here would let a key that
        // keeps failing (and writing why into status) retry without backoff.
        // The queue keeps the earliest wake-up, so a planned retry stands.
        queue_.add_after(key, result.after);
        log.debug("reconcile deferred", {{"result", "deferred"},
                                         {"reason", result.error},
                                         {"come_back_after", format_millis(result.after)},
                                         {"took", format_millis(took)}});
        break;
      case Result::Kind::Error:
        queue_.add_rate_limited(key);
        // The queue keeps the earlier of the two wake-ups.
        if (result.after > std::chrono::milliseconds::zero()) queue_.add_after(key, result.after);
        log.error("reconcile failed",
                  {{"result", "error"},
                   {"error", result.error.empty() ? "unspecified error" : result.error},
                   {"retries", std::to_string(queue_.retries(key))},
                   {"took", format_millis(took)}});
        break;
    }
  }
  queue_.done(key);
  --in_flight_;
}

}  // namespace cd4ml::runtime
