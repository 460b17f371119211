#pragma once
// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules:
//   - a lease is valid while local time < (local time we saw its holder/renewTime
//     last change) + leaseDurationSeconds: validity is judged by our own
//     observation, never by comparing clocks across machines;
//   - a candidate tries to acquire every retry period (2 s) while the lease is
//     held and valid by someone else;
//   - the leader renews every retry period; if it has not renewed for the renew
//     deadline (10 s) it steps down at once (on_stopped_leading), long before
//     the 15 s lease can be taken by another;
//   - on shutdown the leader releases the lease (empty holder) so a successor
//     need not wait out the lease.
// The decision logic is pure (LeaseDecider) and tested alone; LeaderElector
// runs it on the io thread with timers and the Transport.

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "operator/kube/transport.hpp"
#include "operator/util/clock.hpp"

namespace cd4ml::runtime {

struct LeaderElectionOptions {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // hostname + "_" + random suffix by default
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
};

// What the API server holds, as far as the election cares.
struct LeaseRecord {
  std::string holder;
  int lease_duration_seconds = 0;
  std::string acquire_time;  // RFC 3339 micro, as stored
  std::string renew_time;
  int lease_transitions = 0;
  std::string resource_version;
};

class LeaseDecider {
 public:
  LeaseDecider(LeaderElectionOptions options, const util::Clock& clock);

  // Feed every lease read (nullopt = the Lease does not exist). A record that
  // differs from the last one seen restarts the local validity window; a lease
  // held by someone else ends our leadership at once.
  void observe(const std::optional<LeaseRecord>& lease);
  // May we write ourselves as holder now? True when the lease is absent,
  // released (empty holder), ours, or expired by local observation.
  bool can_acquire() const;
  bool is_leader() const;
  // The record to write to take or renew the lease.
  LeaseRecord desired_record(std::chrono::system_clock::time_point wall_now) const;
  // The record that gives the lease up (empty holder, 1 s duration), like
  // client-go's ReleaseOnCancel, so a successor can take it at once.
  LeaseRecord release_record(std::chrono::system_clock::time_point wall_now) const;
  // After a successful write of desired_record() or release_record().
  void on_written(const LeaseRecord& written);
  // Leader only: true once the renew deadline has passed since the last
  // successful renewal (at exactly the deadline included).
  bool renew_deadline_passed() const;
  // When renew_deadline_passed() turns true if no renewal succeeds before.
  std::chrono::steady_clock::time_point renew_deadline_at() const;
  const std::optional<LeaseRecord>& observed() const { return observed_; }
  const LeaderElectionOptions& options() const { return options_; }

 private:
  LeaderElectionOptions options_;
  const util::Clock& clock_;
  bool seen_ = false;  // observe() or on_written() called at least once
  std::optional<LeaseRecord> observed_;
  std::chrono::steady_clock::time_point observed_at_{};
  std::chrono::steady_clock::time_point last_renew_{};
  bool leader_ = false;
};

// Lease JSON <-> LeaseRecord. lease_json() keeps every other field of `base`
// (labels, unknown spec fields) and sets metadata.resourceVersion from the
// record for optimistic concurrency; a null base gives a fresh Lease.
LeaseRecord lease_record_from_json(const nlohmann::json& lease);
nlohmann::json lease_json(const nlohmann::json& base, const LeaseRecord& record,
                          const std::string& lease_namespace, const std::string& lease_name);

struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  // Called once, when leadership is lost (renew deadline passed, or lease
  // taken); not on a voluntary stop_and_release(). Runs on the io thread.
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& identity)> on_new_leader;
};

class LeaderElector {
 public:
  LeaderElector(kube::Transport& transport, LeaderElectionOptions options,
                LeaderCallbacks callbacks, const util::Clock& clock);
  ~LeaderElector();

  // Campaigns on the transport's io_context until stopped or leadership is lost.
  void start();
  // Stops campaigning; if leader, releases the lease. Waits up to `timeout`
  // for that to finish (not at all when called on the io thread). Safe from
  // any thread.
  void stop_and_release(std::chrono::milliseconds timeout);
  bool is_leader() const;

 private:
  struct Loop;
  std::shared_ptr<Loop> loop_;
};

// hostname + "_" + random hex, unique per process like client-go's default.
std::string default_identity();

}  // namespace cd4ml::runtime
