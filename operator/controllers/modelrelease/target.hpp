#pragma once
// The revision spec asks for (the target) and its record: the model comes
// from its source, or from what the release recorded once its TrainingRun
// is deleted; the target gets a Preview record (a new one, or a kept one
// revived for a fast rollback) and every other candidate is superseded
// (rule 6: the newest spec wins).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "operator/api/modelrelease.hpp"
#include "operator/controllers/event_spec.hpp"
#include "operator/controllers/modelrelease/model_source.hpp"
#include "operator/controllers/modelrelease/revision_set.hpp"

namespace cd4ml::controllers::modelrelease {

struct Target {
  ModelSource source;
  std::string revision;  // "" while the model is not ready
};

Target resolve_target(const api::ReleaseSpec& spec, const std::optional<Json>& training_run,
                      const RevisionSet& revisions);

// A revision the release recorded as the target (a post-promotion rollback
// goes back to it whatever spec asks for); an empty one when it has no record.
Target recorded_target(const RevisionSet& revisions, const std::string& revision);

// Gives the target its Preview record and supersedes other candidates;
// returns the Events that tells.
std::vector<EventSpec> enter_target(RevisionSet& revisions, const Target& target,
                                    const std::string& release,
                                    std::chrono::system_clock::time_point now);

}  // namespace cd4ml::controllers::modelrelease
