#pragma once
// The release's Services as found and as written: who owns the configured
// names, what they select now, and the writes that carry a traffic decision
// (traffic.hpp) out to them.

#include <optional>
#include <string>
#include <vector>

#include "operator/controllers/modelrelease/plan.hpp"
#include "operator/controllers/modelrelease/traffic.hpp"

namespace cd4ml::controllers::modelrelease {

// What the active and preview Services select now ("" for nothing). An
// active Service shared by a canary's pods reads as "" with active_shared:
// the live revision is then the one status remembers.
struct ServiceSelections {
  std::string active;
  std::string preview;
  bool active_shared = false;
};
ServiceSelections observed_selections(const Observed& observed);

// Why the release cannot use the Services it is configured with (one name
// for both, or a Service of that name it does not control), or nullopt.
// A foreign Service is never taken over.
std::optional<std::string> service_conflict(const api::ReleaseSpec& spec, const Observed& observed);

// The creates and patches that make the Services select what `traffic` says
// and carry spec.service's ports: preview first, then active.
std::vector<ServiceWrite> service_writes(const BlueGreenTraffic& traffic, const Observed& observed,
                                         const api::ReleaseSpec& spec);
// Services the release controls under a name it no longer uses.
std::vector<std::string> services_renamed_away(const Observed& observed,
                                               const api::ReleaseSpec& spec);

}  // namespace cd4ml::controllers::modelrelease
