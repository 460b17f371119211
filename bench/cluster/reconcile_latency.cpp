#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "bench/cluster/bench_session.hpp"
#include "bench/cluster/duration_summary.hpp"
#include "bench/cluster/scenarios.hpp"
#include "operator/kube/resource.hpp"
#include "operator/runtime/controller.hpp"
#include "operator/runtime/informer.hpp"
#include "operator/util/clock.hpp"

namespace cd4ml::bench {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// When each key was first seen, filled from the io thread (handler) and the
// workers (reconciler); the main thread waits for all keys.
class FirstSeen {
 public:
  void record(const std::string& key) {
    const SteadyTime now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (seen_.emplace(key, now).second) changed_.notify_all();
  }
  // Waits until every key of `keys` is seen or the deadline passes.
  bool wait_for_all(const std::vector<std::string>& keys, SteadyTime deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, deadline, [&] {
      for (const auto& key : keys) {
        if (!seen_.contains(key)) return false;
      }
      return true;
    });
  }
  std::optional<SteadyTime> at(const std::string& key) const {
    std::lock_guard lock(mutex_);
    const auto it = seen_.find(key);
    if (it == seen_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::unordered_map<std::string, SteadyTime> seen_;
};

class RecordingReconciler final : public runtime::Reconciler {
 public:
  explicit RecordingReconciler(FirstSeen& seen) : seen_(seen) {}
  runtime::Result reconcile(const runtime::Request& request) override {
    seen_.record(request.key());
    return runtime::Result::done();
  }

 private:
  FirstSeen& seen_;
};

Json latencies(const std::vector<std::string>& keys, const std::vector<SteadyTime>& sent,
               const FirstSeen& seen, long& missing) {
  std::vector<std::chrono::nanoseconds> samples;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto at = seen.at(keys[i]);
    if (at) {
      samples.push_back(*at - sent[i]);
    } else {
      ++missing;
    }
  }
  return summarize_ms(std::move(samples));
}

// Per key, from its add handler to its reconcile: the work queue's hand-off.
Json hand_off(const std::vector<std::string>& keys, const FirstSeen& handler_seen,
              const FirstSeen& reconcile_seen) {
  std::vector<std::chrono::nanoseconds> samples;
  for (const auto& key : keys) {
    const auto handled = handler_seen.at(key);
    const auto reconciled = reconcile_seen.at(key);
    if (handled && reconciled) samples.push_back(*reconciled - *handled);
  }
  return summarize_ms(std::move(samples));
}

}  // namespace

Json reconcile_latency(const ReconcileLatencyOptions& options) {
  if (options.rate <= 0) throw std::invalid_argument("rate must be positive");
  std::vector<Json> items = read_list_items(options.objects_file);
  std::vector<std::string> keys;
  for (auto& item : items) {
    item["metadata"]["namespace"] = options.ns;
    keys.push_back(options.ns + "/" + item["metadata"]["name"].get<std::string>());
  }

  BenchSession session(options.kubeconfig, unthrottled());
  FirstSeen handler_seen;
  FirstSeen reconcile_seen;
  RecordingReconciler reconciler(reconcile_seen);

  runtime::InformerOptions informer_options;
  informer_options.ns = options.ns;
  runtime::Informer informer(session.transport(), kube::resources::kConfigMaps,
                             std::move(informer_options));
  runtime::EventHandlers handlers;
  handlers.on_add = [&](const runtime::ObjectPtr& object) {
    handler_seen.record(runtime::object_key(*object));
  };
  informer.add_handlers(std::move(handlers));

  runtime::ControllerOptions controller_options;
  controller_options.name = "bench";
  controller_options.max_concurrent_reconciles = options.workers;
  runtime::Controller controller(controller_options, reconciler, util::real_clock());
  controller.for_primary(informer);

  informer.start();
  wait_for_sync({&informer}, in_seconds(60));
  controller.start();

  // Creates on a fixed schedule; a create that overruns its slot delays the
  // next one instead of causing a burst.
  const auto period = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(1.0 / options.rate));
  std::vector<SteadyTime> sent(items.size());
  std::vector<std::chrono::nanoseconds> round_trips;
  const SteadyTime start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::this_thread::sleep_until(start + period * static_cast<long>(i));
    sent[i] = std::chrono::steady_clock::now();
    session.client().create(kube::resources::kConfigMaps, options.ns, items[i]);
    round_trips.push_back(std::chrono::steady_clock::now() - sent[i]);
  }
  const std::chrono::duration<double> sending = std::chrono::steady_clock::now() - start;

  const auto settle = std::chrono::steady_clock::now() + options.settle_deadline;
  reconcile_seen.wait_for_all(keys, settle);
  handler_seen.wait_for_all(keys, settle);
  controller.stop(std::chrono::seconds(5));
  informer.stop();

  long missing_handler = 0;
  long missing_reconcile = 0;
  Json out = {{"client", "cd4ml"},
              {"namespace", options.ns},
              {"objects", items.size()},
              {"rate_per_second", options.rate},
              {"achieved_rate_per_second", static_cast<double>(items.size()) / sending.count()},
              {"workers", options.workers},
              {"create_round_trip_ms", summarize_ms(round_trips)},
              {"create_to_handler_ms", latencies(keys, sent, handler_seen, missing_handler)},
              {"create_to_reconcile_ms", latencies(keys, sent, reconcile_seen, missing_reconcile)},
              {"handler_to_reconcile_ms", hand_off(keys, handler_seen, reconcile_seen)}};
  out["missing_handler"] = missing_handler;
  out["missing_reconcile"] = missing_reconcile;
  if (missing_reconcile > 0) {
    throw std::runtime_error(std::to_string(missing_reconcile) + " of " +
                             std::to_string(keys.size()) +
                             " objects were never reconciled: " + out.dump());
  }
  return out;
}

}  // namespace cd4ml::bench
