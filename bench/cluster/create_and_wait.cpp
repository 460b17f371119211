#include <condition_variable>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "bench/cluster/bench_session.hpp"
#include "bench/cluster/duration_summary.hpp"
#include "bench/cluster/parallel_send.hpp"
#include "bench/cluster/scenarios.hpp"
#include "operator/kube/errors.hpp"
#include "operator/kube/resource.hpp"
#include "operator/runtime/informer.hpp"

namespace cd4ml::bench {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

enum class Outcome { Waiting, Done, Failed };

bool condition_true(const Json& object, const std::string& type) {
  const Json conditions = object.value("/status/conditions"_json_pointer, Json::array());
  for (const auto& c : conditions) {
    if (c.value("type", "") == type && c.value("status", "") == "True") return true;
  }
  return false;
}

// Whether an object reached the scenario's goal. `wanted` is the object as the
// benchmark sent it (a ModelRelease is done only on the version it asked for).
Outcome outcome_of(const std::string& resource, const Json& object, const Json& wanted) {
  const std::string phase = object.value("/status/phase"_json_pointer, std::string());
  if (resource == "trainingruns") {
    if (phase == "Succeeded") return Outcome::Done;
    return phase == "Failed" ? Outcome::Failed : Outcome::Waiting;
  }
  if (resource == "jobs") {
    if (condition_true(object, "Complete")) return Outcome::Done;
    return condition_true(object, "Failed") ? Outcome::Failed : Outcome::Waiting;
  }
  // modelreleases: Healthy, on the current generation, serving the wanted version.
  const bool current = object.value("/status/observedGeneration"_json_pointer, -1L) ==
                       object.value("/metadata/generation"_json_pointer, -2L);
  const std::string version = wanted.value("/spec/model/version"_json_pointer, std::string());
  const bool right_version =
      version.empty() ||
      object.value("/status/activeModelVersion"_json_pointer, std::string()) == version;
  return phase == "Healthy" && current && right_version ? Outcome::Done : Outcome::Waiting;
}

const kube::ResourceType& resource_type(const std::string& resource) {
  if (resource == "trainingruns") return kube::resources::kTrainingRuns;
  if (resource == "jobs") return kube::resources::kJobs;
  if (resource == "modelreleases") return kube::resources::kModelReleases;
  throw std::invalid_argument("unsupported resource " + resource +
                              " (trainingruns, jobs, modelreleases)");
}

// When each object first reached its goal (or failed); filled on the io thread.
class Outcomes {
 public:
  void record(const std::string& key, Outcome outcome, const Json& object) {
    const SteadyTime now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (!at_.emplace(key, now).second) return;
    if (outcome == Outcome::Failed) failed_.emplace(key, object.value("status", Json::object()));
    changed_.notify_all();
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return at_.size();
  }
  // Waits until `total` objects are recorded or `until` passes.
  bool wait(std::size_t total, SteadyTime until) {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, until, [&] { return at_.size() >= total; });
  }
  std::optional<SteadyTime> at(const std::string& key) const {
    std::lock_guard lock(mutex_);
    const auto it = at_.find(key);
    if (it == at_.end()) return std::nullopt;
    return it->second;
  }
  std::unordered_map<std::string, Json> failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::unordered_map<std::string, SteadyTime> at_;
  std::unordered_map<std::string, Json> failed_;
};

}  // namespace

Json create_and_wait(const CreateAndWaitOptions& options) {
  const kube::ResourceType& type = resource_type(options.resource);
  std::vector<Json> items = read_list_items(options.objects_file);
  std::unordered_map<std::string, Json> wanted;
  std::vector<std::string> keys;
  for (auto& item : items) {
    item["metadata"]["namespace"] = options.ns;
    keys.push_back(options.ns + "/" + item["metadata"]["name"].get<std::string>());
    wanted[keys.back()] = item;
  }

  BenchSession session(options.kubeconfig, unthrottled(static_cast<std::size_t>(options.threads)));
  Outcomes outcomes;
  runtime::InformerOptions informer_options;
  informer_options.ns = options.ns;
  runtime::Informer informer(session.transport(), type, std::move(informer_options));
  const auto see = [&](const runtime::ObjectPtr& object) {
    const std::string key = runtime::object_key(*object);
    const auto it = wanted.find(key);
    if (it == wanted.end()) return;
    const Outcome outcome = outcome_of(options.resource, *object, it->second);
    if (outcome != Outcome::Waiting) outcomes.record(key, outcome, *object);
  };
  runtime::EventHandlers handlers;
  handlers.on_add = see;
  handlers.on_update = [&](const runtime::ObjectPtr&, const runtime::ObjectPtr& object) {
    see(object);
  };
  informer.add_handlers(std::move(handlers));
  informer.start();
  wait_for_sync({&informer}, in_seconds(60));
  if (!options.patch && outcomes.count() > 0) {
    throw std::runtime_error("namespace " + options.ns + " already holds finished objects");
  }

  std::vector<SteadyTime> sent(items.size());
  const SteadyTime start = std::chrono::steady_clock::now();
  const SendCounts counts = send_in_parallel(
      items.size(), options.threads, !options.patch,
      [&](std::size_t i) {
        if (sent[i] == SteadyTime{}) sent[i] = std::chrono::steady_clock::now();
        if (options.patch) {
          session.client().patch(type, options.ns, items[i]["metadata"]["name"].get<std::string>(),
                                 kube::PatchType::Merge, {{"spec", items[i]["spec"]}});
        } else {
          session.client().create(type, options.ns, items[i]);
        }
      },
      "request");
  const SteadyTime all_sent = std::chrono::steady_clock::now();

  // Waits, saying how far it got now and then (a run takes minutes).
  const SteadyTime deadline = start + options.deadline;
  while (!outcomes.wait(items.size(), std::min(deadline, std::chrono::steady_clock::now() +
                                                             std::chrono::seconds(15)))) {
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::cerr << "cluster_bench: " << outcomes.count() << " of " << items.size() << " "
              << options.resource << " done after "
              << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                  start)
                     .count()
              << " s\n";
  }
  informer.stop();

  std::vector<std::chrono::nanoseconds> since_start;
  std::vector<std::chrono::nanoseconds> since_sent;
  long missing = 0;
  SteadyTime last = start;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto at = outcomes.at(keys[i]);
    if (!at) {
      ++missing;
      continue;
    }
    since_start.push_back(*at - start);
    since_sent.push_back(*at - sent[i]);
    last = std::max(last, *at);
  }
  const auto failed = outcomes.failed();
  const auto seconds = [](std::chrono::nanoseconds d) {
    return std::chrono::duration<double>(d).count();
  };
  Json out = {{"resource", options.resource},
              {"namespace", options.ns},
              {"mode", options.patch ? "patch" : "create"},
              {"objects", items.size()},
              {"threads", options.threads},
              {"requests_seconds", seconds(all_sent - start)},
              {"all_done_seconds", missing == 0 ? Json(seconds(last - start)) : Json(nullptr)},
              {"done_since_first_request_ms", summarize_ms(since_start)},
              {"done_since_own_request_ms", summarize_ms(since_sent)},
              {"already_existed", counts.already_existed},
              {"retries", counts.retries},
              {"missing", missing},
              {"failed", failed.size()}};
  if (!failed.empty()) out["failed_example"] = failed.begin()->second;
  if (missing > 0 || !failed.empty()) {
    throw std::runtime_error(std::to_string(missing) + " objects never finished and " +
                             std::to_string(failed.size()) + " failed: " + out.dump());
  }
  return out;
}

}  // namespace cd4ml::bench
