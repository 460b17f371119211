#include "operator/controllers/modelrelease/history.hpp"

#include <algorithm>

#include "operator/controllers/modelrelease/workloads.hpp"
#include "operator/kube/object_meta.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

bool created_earlier(const api::RevisionRecord& a, const api::RevisionRecord& b) {
  return a.created_at < b.created_at;
}

}  // namespace

ScaleDowns due_scale_downs(RevisionSet& revisions, const Selected& selected,
                           std::chrono::system_clock::time_point now) {
  ScaleDowns out;
  for (auto& record : revisions.records) {
    if (record.revision == selected.live || record.state == api::RevisionState::Preview) continue;
    if (const auto at = record.scale_down_at) {
      if (now < *at) {
        if (!out.look_again_at || *at < *out.look_again_at) out.look_again_at = *at;
        continue;
      }
      record.scale_down_at.reset();
    }
    const Json* deployment = revisions.deployment(record.revision);
    if (deployment == nullptr || spec_replicas(*deployment) == 0 ||
        selected.contains(record.revision)) {
      continue;
    }
    out.scales.push_back({kube::meta_string(*deployment, "name"), 0});
    if (record.reason == "Replaced") {
      out.events.push_back(
          {"Normal", "ScaledDown", "previous revision " + record.revision + " scaled down to 0"});
    }
  }
  return out;
}

std::vector<std::string> prune_history(RevisionSet& revisions, const Selected& selected,
                                       const std::string& target, int limit) {
  // Newest first. createdAt has whole seconds, so revisions created in the
  // same second are ordered by their place in the record list (creation
  // order): hence the reverse walk and the stable sorts.
  std::vector<const api::RevisionRecord*> others;
  for (auto it = revisions.records.rbegin(); it != revisions.records.rend(); ++it) {
    if (it->revision == target || selected.contains(it->revision) || it->scale_down_at) continue;
    others.push_back(&*it);
  }
  std::stable_sort(others.begin(), others.end(),
                   [](const auto* a, const auto* b) { return created_earlier(*b, *a); });
  std::vector<std::string> dropped;
  for (std::size_t i = static_cast<std::size_t>(std::max(limit, 0)); i < others.size(); ++i) {
    dropped.push_back(others[i]->revision);
  }
  std::vector<std::string> deletes;
  for (const auto& revision : dropped) {
    if (const Json* deployment = revisions.deployment(revision)) {
      deletes.push_back(kube::meta_string(*deployment, "name"));
    }
  }
  auto& records = revisions.records;
  records.erase(std::remove_if(records.begin(), records.end(),
                               [&dropped](const api::RevisionRecord& record) {
                                 return std::find(dropped.begin(), dropped.end(),
                                                  record.revision) != dropped.end();
                               }),
                records.end());
  std::stable_sort(records.begin(), records.end(), created_earlier);
  return deletes;
}

}  // namespace cd4ml::controllers::modelrelease
