#pragma once
// What the planner's parts (plan.cpp, canary_plan.cpp) share while planning
// one release: the release as observed and parsed once, and how they add to
// the plan's Events and requeue.

#include <chrono>
#include <string>

#include "operator/api/modelrelease.hpp"
#include "operator/api/revision_record.hpp"
#include "operator/controllers/modelrelease/plan.hpp"

namespace cd4ml::controllers::modelrelease {

struct Release {
  const Observed& observed;
  const api::ReleaseSpec spec;
  const std::string name;
  const long generation;
  const Json old_status;
};

void tell(Plan& plan, const EventSpec& event);

// Requeues no later than `when` (an earlier requeue already planned stays).
void requeue_at(Plan& plan, std::chrono::system_clock::time_point when,
                std::chrono::system_clock::time_point now);

// "revision <id> (model <version>)", as Events and messages name a revision.
std::string subject(const api::RevisionRecord& record);

}  // namespace cd4ml::controllers::modelrelease
