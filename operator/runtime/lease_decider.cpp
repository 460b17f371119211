// The pure half of leader election: what to conclude from each lease read.
// (LeaderElector, in leader_election.cpp, does the I/O.)

#include <stdexcept>

#include "operator/runtime/leader_election.hpp"
#include "operator/runtime/timestamps.hpp"

namespace cd4ml::runtime {

namespace {

// The fields that identify a holder's renewal. resourceVersion is left out on
// purpose: it also moves when unrelated metadata (labels) changes.
bool same_record(const LeaseRecord& a, const LeaseRecord& b) {
  return a.holder == b.holder && a.lease_duration_seconds == b.lease_duration_seconds &&
         a.acquire_time == b.acquire_time && a.renew_time == b.renew_time &&
         a.lease_transitions == b.lease_transitions;
}

std::string string_or_empty(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int int_or_zero(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return 0;
  const auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int>() : 0;
}

}  // namespace

LeaseDecider::LeaseDecider(LeaderElectionOptions options, const util::Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  if (options_.identity.empty()) throw std::invalid_argument("leader election needs an identity");
  if (options_.renew_deadline >= options_.lease_duration) {
    throw std::invalid_argument("leader election renew deadline must be shorter than the lease");
  }
}

void LeaseDecider::observe(const std::optional<LeaseRecord>& lease) {
  const auto now = clock_.now();
  const bool changed = !seen_ || observed_.has_value() != lease.has_value() ||
                       (lease && !same_record(*observed_, *lease));
  seen_ = true;
  observed_ = lease;
  if (changed) observed_at_ = now;
  // Someone else wrote themselves in: whatever our timers say, we lead no more.
  if (lease && lease->holder != options_.identity) leader_ = false;
}

bool LeaseDecider::can_acquire() const {
  if (!seen_) return false;  // never read: we know nothing yet
  if (!observed_) return true;
  if (observed_->holder.empty() || observed_->holder == options_.identity) return true;
  // The holder's declared duration counts, measured from when *we* saw its
  // last change: neither its renewTime nor our wall clock is trusted.
  const auto duration = observed_->lease_duration_seconds > 0
                            ? std::chrono::seconds(observed_->lease_duration_seconds)
                            : options_.lease_duration;
  return clock_.now() >= observed_at_ + duration;
}

bool LeaseDecider::is_leader() const {
  return leader_;
}

LeaseRecord LeaseDecider::desired_record(std::chrono::system_clock::time_point wall_now) const {
  LeaseRecord record;
  record.holder = options_.identity;
  record.lease_duration_seconds = static_cast<int>(options_.lease_duration.count());
  record.renew_time = format_rfc3339_micro(wall_now);
  if (observed_ && observed_->holder == options_.identity) {
    record.acquire_time =
        observed_->acquire_time.empty() ? record.renew_time : observed_->acquire_time;
    record.lease_transitions = observed_->lease_transitions;
  } else {
    record.acquire_time = record.renew_time;
    // A new holder, even after a release, is one more transition.
    record.lease_transitions = observed_ ? observed_->lease_transitions + 1 : 0;
  }
  record.resource_version = observed_ ? observed_->resource_version : std::string();
  return record;
}

LeaseRecord LeaseDecider::release_record(std::chrono::system_clock::time_point wall_now) const {
  LeaseRecord record;
  record.lease_duration_seconds = 1;
  record.acquire_time = format_rfc3339_micro(wall_now);
  record.renew_time = record.acquire_time;
  if (observed_) {
    record.lease_transitions = observed_->lease_transitions;
    record.resource_version = observed_->resource_version;
  }
  return record;
}

void LeaseDecider::on_written(const LeaseRecord& written) {
  const auto now = clock_.now();
  seen_ = true;
  observed_ = written;
  observed_at_ = now;
  leader_ = written.holder == options_.identity;
  if (leader_) last_renew_ = now;
}

bool LeaseDecider::renew_deadline_passed() const {
  return leader_ && clock_.now() >= renew_deadline_at();
}

std::chrono::steady_clock::time_point LeaseDecider::renew_deadline_at() const {
  return last_renew_ + options_.renew_deadline;
}

LeaseRecord lease_record_from_json(const nlohmann::json& lease) {
  LeaseRecord record;
  const auto spec =
      lease.is_object() ? lease.value("spec", nlohmann::json::object()) : nlohmann::json::object();
  record.holder = string_or_empty(spec, "holderIdentity");
  record.lease_duration_seconds = int_or_zero(spec, "leaseDurationSeconds");
  record.acquire_time = string_or_empty(spec, "acquireTime");
  record.renew_time = string_or_empty(spec, "renewTime");
  record.lease_transitions = int_or_zero(spec, "leaseTransitions");
  const auto metadata = lease.is_object() ? lease.value("metadata", nlohmann::json::object())
                                          : nlohmann::json::object();
  record.resource_version = string_or_empty(metadata, "resourceVersion");
  return record;
}

nlohmann::json lease_json(const nlohmann::json& base, const LeaseRecord& record,
                          const std::string& lease_namespace, const std::string& lease_name) {
  nlohmann::json lease = base.is_object() ? base : nlohmann::json::object();
  lease["apiVersion"] = "coordination.k8s.io/v1";
  lease["kind"] = "Lease";
  auto& metadata = lease["metadata"];
  if (!metadata.is_object()) metadata = nlohmann::json::object();
  metadata["name"] = lease_name;
  metadata["namespace"] = lease_namespace;
  if (record.resource_version.empty()) {
    metadata.erase("resourceVersion");
  } else {
    metadata["resourceVersion"] = record.resource_version;
  }
  // Server-owned fields would only make the write bigger.
  metadata.erase("managedFields");
  auto& spec = lease["spec"];
  if (!spec.is_object()) spec = nlohmann::json::object();
  spec["holderIdentity"] = record.holder;
  spec["leaseDurationSeconds"] = record.lease_duration_seconds;
  spec["leaseTransitions"] = record.lease_transitions;
  auto set_time = [&spec](const char* key, const std::string& value) {
    if (value.empty()) {
      spec.erase(key);
    } else {
      spec[key] = value;
    }
  };
  set_time("acquireTime", record.acquire_time);
  set_time("renewTime", record.renew_time);
  return lease;
}

}  // namespace cd4ml::runtime
