#pragma once
// Why a pod the operator started cannot run, in the kubelet's or the
// scheduler's own words (ErrImageNeverPull, ImagePullBackOff,
// CrashLoopBackOff, CreateContainerError, Unschedulable, ...). Deployments
// and Jobs only say "not available" or "active"; these reasons live on the
// pods, and a user reading a release's or a run's status should not have to
// go looking for them.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cd4ml::controllers {

using Json = nlohmann::json;

struct PodTrouble {
  std::string pod;
  std::string container;  // empty when the pod was not scheduled
  std::string reason;     // the kubelet's waiting reason, or Unschedulable
  std::string message;    // theirs too, shortened; for a crash loop, the last exit

  // "pod P: container C: REASON: message", for status messages and Events.
  std::string describe() const;
  // "pod P: container C: REASON": what stays the same while the kubelet
  // retries, so a retry is not told again.
  std::string key() const;
};

// The first trouble among `pods` (by pod name, so the answer is stable), or
// nullopt while each is running, starting normally or being deleted.
std::optional<PodTrouble> find_pod_trouble(const std::vector<const Json*>& pods);

}  // namespace cd4ml::controllers
