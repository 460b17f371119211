#pragma once
// Judging an Informer against the real API server: counters of what it did
// (relists, watch restarts, events), ConfigMaps to feed it, and whether its
// cache equals the server's list.

#include <atomic>
#include <map>
#include <string>

#include "cluster.hpp"
#include "operator/runtime/informer.hpp"

namespace cd4ml::e2e {

struct CountingObserver final : runtime::InformerObserver {
  std::atomic<int> relists{0};
  std::atomic<int> restarts{0};
  std::atomic<int> events{0};
  void on_relist(const std::string&) override { ++relists; }
  void on_watch_restart(const std::string&) override { ++restarts; }
  void on_event(const std::string&, std::string_view) override { ++events; }
};

Json config_map(const std::string& ns, const std::string& name, const std::string& value);
// Creates (or updates) <prefix>0 .. <prefix>count-1 with kubectl apply.
void create_config_maps(const std::string& ns, const std::string& prefix, int count);
// Waits until the informer's ConfigMaps (name -> resourceVersion) equal the
// server's list; fails the test with the differences otherwise.
bool cache_matches_server(runtime::Informer& informer, const std::string& ns,
                          std::chrono::milliseconds deadline = 60s);

}  // namespace cd4ml::e2e
