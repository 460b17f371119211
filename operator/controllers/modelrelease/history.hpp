#pragma once
// Revisions no Service needs any more. A replaced one keeps its pods for
// scaleDownDelaySeconds, then goes to 0 (rule 5); up to revisionHistoryLimit
// of the others stay at 0 for a fast rollback, older ones are deleted.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "operator/controllers/event_spec.hpp"
#include "operator/controllers/modelrelease/plan.hpp"
#include "operator/controllers/modelrelease/revision_set.hpp"

namespace cd4ml::controllers::modelrelease {

// The revisions the Services select after this reconcile, and the one a
// post-promotion analysis may switch back to: never scaled down nor deleted.
struct Selected {
  const std::string& live;
  const std::string& preview;
  const std::string& kept;  // "" when none
  bool contains(const std::string& revision) const {
    return !revision.empty() && (revision == live || revision == preview || revision == kept);
  }
};

struct ScaleDowns {
  std::vector<Scale> scales;  // to 0, now
  std::vector<EventSpec> events;
  std::optional<std::chrono::system_clock::time_point> look_again_at;  // the next one due
};

// Scale-downs that are due (their records forget scaleDownAt), and when the
// next one is.
ScaleDowns due_scale_downs(RevisionSet& revisions, const Selected& selected,
                           std::chrono::system_clock::time_point now);

// Drops the records beyond `limit` (newest kept; the target, the selected
// ones and those still waiting for their scale-down do not count), orders the
// rest by creation, and returns the Deployments to delete.
std::vector<std::string> prune_history(RevisionSet& revisions, const Selected& selected,
                                       const std::string& target, int limit);

}  // namespace cd4ml::controllers::modelrelease
