#pragma once
// Observe -> plan -> apply for one ModelRelease. The executor applies the
// plan's writes in order (creates, scale-ups, Service switches, scale-downs,
// deletes, status, Events) and stops at the first failure, so a later write
// never happens without the earlier ones it relies on.

#include "operator/controllers/modelrelease/plan.hpp"
#include "operator/kube/client.hpp"
#include "operator/runtime/delete_memo.hpp"
#include "operator/runtime/event_recorder.hpp"
#include "operator/runtime/logging.hpp"
#include "operator/runtime/patch_memo.hpp"
#include "operator/runtime/reconciler.hpp"
#include "operator/runtime/status_writes.hpp"
#include "operator/runtime/store.hpp"
#include "operator/util/clock.hpp"

namespace cd4ml::controllers::modelrelease {

// Index of releases by "namespace/trainingRunName" they reference.
inline constexpr const char* kTrainingRunIndex = "training-run-ref";

struct Caches {
  runtime::Store& releases;
  runtime::Store& training_runs;
  runtime::Store& deployments;  // labelled cd4ml.io/release
  runtime::Store& services;     // labelled cd4ml.io/release
};

class Reconciler final : public runtime::Reconciler {
 public:
  Reconciler(kube::Client& client, Caches caches, runtime::EventRecorder& recorder,
             const util::Clock& clock);

  runtime::Result reconcile(const runtime::Request& request) override;

 private:
  Observed observe(const Json& release) const;
  enum class Outcome {
    Applied,      // every object write succeeded
    Replan,       // a create taught us something (now in observed): plan again
    CacheBehind,  // our own earlier create is not in the cache yet
  };
  // Applies everything but status and events, stopping at the first create
  // that cannot go ahead.
  Outcome apply_writes(const Json& release, const Plan& plan, Observed& observed);

  kube::Client& client_;
  Caches caches_;
  runtime::EventRecorder& recorder_;
  runtime::StatusWriter status_writer_;
  runtime::PatchMemo service_patches_;
  // Deleted, still in the cache: planned from as gone (a second DELETE otherwise).
  runtime::DeleteMemo deleted_deployments_;
  runtime::DeleteMemo deleted_services_;
  const util::Clock& clock_;
  runtime::Logger log_;
};

}  // namespace cd4ml::controllers::modelrelease
