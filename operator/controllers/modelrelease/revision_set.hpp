#pragma once
// A release's revisions as one reconcile finds them: the records status
// remembers, made to agree with what the cluster shows. The cluster is the
// truth and status is memory, and a write can land without the status write
// that records it (the operator killed in between). So loading also repairs:
// a Deployment without a record (created just before a restart) gets one
// rebuilt from what it carries, and a switch of the active Service that
// status does not show yet is recorded as if it had been.

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "operator/api/revision_record.hpp"

namespace cd4ml::controllers::modelrelease {

using Json = nlohmann::json;

struct RevisionSet {
  std::vector<api::RevisionRecord> records;        // in status order, rebuilt ones last
  std::map<std::string, const Json*> deployments;  // by revision
  // The active revision: what the active Service selects or, without that
  // Service (a first release, or deleted), what status remembers, as long as
  // its Deployment exists. "" when there is none.
  std::string live;

  api::RevisionRecord* find(const std::string& revision);
  const api::RevisionRecord* find(const std::string& revision) const;
  const Json* deployment(const std::string& revision) const;
};

// `selected_by_active` is the revision the active Service selects ("" when
// none, or no Service); a revision replaced by the repair is scaled down
// `scale_down_delay` from `now`.
RevisionSet load_revisions(const Json& status, const std::vector<Json>& deployments,
                           const std::string& selected_by_active,
                           std::chrono::seconds scale_down_delay,
                           std::chrono::system_clock::time_point now);

// When a revision replaced now goes: the delay rounded up to whole seconds
// (status times have whole seconds), so it is never cut short.
api::Seconds scale_down_time(std::chrono::system_clock::time_point now, std::chrono::seconds delay);
// Records `record` as replaced by revision `by`.
void mark_replaced(api::RevisionRecord& record, const std::string& by);

}  // namespace cd4ml::controllers::modelrelease
