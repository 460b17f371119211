#pragma once
// Watches a release's Services while an e2e test drives a rollout and
// records every moment the traffic safety rules are broken:
//   - the active Service selects a revision with fewer ready pods than the
//     release's replicas (rule 1);
//   - the preview (or canary) Service selects a revision with no ready pod
//     (rule 2);
//   - a canary's shared active Service has the stable revision with fewer
//     ready pods than replicas, or a third revision with ready pods behind it.
// Each Service change is checked at once against a fresh (quorum) read of the
// pods, and all selections are re-checked every 100 ms in between. The test
// fails at the end if anything was recorded.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster.hpp"

namespace cd4ml::e2e {

class InvariantWatcher {
 public:
  InvariantWatcher(std::string ns, std::string release, int replicas);
  ~InvariantWatcher();

  void stop();
  std::vector<std::string> violations() const;
  long checks() const { return checks_.load(); }
  // Distinct revisions the active Service has selected, in order.
  std::vector<std::string> active_history() const;
  // When the watcher first saw the active Service select each of them (a
  // moment after the switch itself: watch delivery plus a fresh read).
  std::vector<std::chrono::system_clock::time_point> active_seen_at() const;

 private:
  struct Client;
  void loop();
  void check();

  std::string ns_;
  std::string release_;
  int replicas_;
  std::unique_ptr<Client> client_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool changed_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<long> checks_{0};
  std::vector<std::string> violations_;
  std::vector<std::string> active_history_;
  std::vector<std::chrono::system_clock::time_point> active_seen_at_;
  std::thread thread_;
};

}  // namespace cd4ml::e2e
