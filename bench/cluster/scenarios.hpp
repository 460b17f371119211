#pragma once
// The cluster benchmarks of cluster_bench, one function each. Each returns
// its figures as one JSON object (printed on stdout by main) and throws on
// anything that makes the figures meaningless (objects missing, errors).

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "operator/kube/watch_machine.hpp"

namespace cd4ml::bench {

using Json = nlohmann::json;

// Items of a v1 List document (bench/configmap-list.awk prints them); "-" reads stdin.
std::vector<Json> read_list_items(const std::string& file);

// Creates objects (ConfigMaps) in `ns` from `threads` threads at once.
struct PopulateOptions {
  std::filesystem::path kubeconfig;
  std::string ns;
  std::string objects_file;
  int threads = 8;
};
Json populate(const PopulateOptions& options);

// RSS of this process before an Informer on `ns` starts and after it has
// synced, and the sync time. Run it in a fresh process.
struct CacheMemoryOptions {
  std::filesystem::path kubeconfig;
  std::string ns;
  long expect = -1;  // objects the namespace must hold; -1: any
  long page_size = kube::WatchMachineOptions{}.page_size;  // 0: one unpaged list
  std::chrono::seconds sync_deadline{300};
};
Json cache_memory(const CacheMemoryOptions& options);

// Creates objects at a steady rate and times, per object, from just before its
// create request is sent to (a) the informer's add handler and (b) the start
// of its reconcile in a Controller.
struct ReconcileLatencyOptions {
  std::filesystem::path kubeconfig;
  std::string ns;
  std::string objects_file;
  double rate = 20;  // creates per second
  int workers = 1;   // --max-concurrent-reconciles
  std::chrono::seconds settle_deadline{60};
};
Json reconcile_latency(const ReconcileLatencyOptions& options);

// Creates (or, with `patch`, merge-patches the spec of) the objects of a List
// from `threads` threads at once while an Informer on the namespace notes when
// each reaches its goal: a TrainingRun Succeeded, a Job Complete, a
// ModelRelease Healthy on the current generation serving the version the
// object names. Times are from just before the first request.
struct CreateAndWaitOptions {
  std::filesystem::path kubeconfig;
  std::string ns;
  std::string resource;  // trainingruns | jobs | modelreleases
  std::string objects_file;
  int threads = 8;
  bool patch = false;
  std::chrono::seconds deadline{900};
};
Json create_and_wait(const CreateAndWaitOptions& options);

// One ModelRelease (uri + version models v0, v1, ...) rolled out `rollouts`
// times, each rollout waited for until it has settled. One watcher (Informers
// on the namespace's Deployments, Services and ModelReleases) stamps when the
// new revision's Deployment becomes fully available and when the active
// Service's selector moves to it; the operator's /metrics (metrics_address,
// host:port) is read around each rollout for its writes, and once more around
// a quiet window after the last one.
struct ReleaseRolloutsOptions {
  std::filesystem::path kubeconfig;
  std::string ns;
  std::string release = "bench";
  std::string metrics_address;
  int rollouts = 30;
  int replicas = 2;
  int scale_down_delay = 1;  // spec.strategy.*.scaleDownDelaySeconds
  // spec.strategy.canary.steps; null for blue/green. Each setWeight step's
  // latency (its pods fully available -> the operator records the step done
  // and writes its weight) is measured.
  Json canary_steps;
  int history_limit = 2;  // the CRD's default revisionHistoryLimit
  std::chrono::seconds settle_deadline{180};
  std::chrono::seconds quiet{30};
};
Json release_rollouts(const ReleaseRolloutsOptions& options);

}  // namespace cd4ml::bench
