#pragma once
// Observe -> plan -> apply for one ModelRelease. The executor applies the
// plan's writes in order (creates, scale-ups, Service switches, scale-downs,
// deletes) and stops at the first failure, so a later write never happens
// without the earlier ones it relies on; then Events, then status.

#include "operator/controllers/modelrelease/analysis_queries.hpp"
#include "operator/controllers/modelrelease/executor.hpp"
#include "operator/controllers/modelrelease/plan.hpp"
#include "operator/kube/writer.hpp"
#include "operator/runtime/delete_memo.hpp"
#include "operator/runtime/event_sink.hpp"
#include "operator/runtime/logging.hpp"
#include "operator/runtime/patch_memo.hpp"
#include "operator/runtime/reconciler.hpp"
#include "operator/runtime/status_writes.hpp"
#include "operator/runtime/store.hpp"
#include "operator/util/clock.hpp"

namespace cd4ml::controllers::modelrelease {

// Index of releases by "namespace/trainingRunName" they reference.
inline constexpr const char* kTrainingRunIndex = "training-run-ref";
// Pods by "namespace/release" (their cd4ml.io/release label); the
// Reconciler adds it to its pods store.
inline constexpr const char* kReleasePodIndex = "release";

// "namespace/release" of a serving pod, from its label; none without one.
std::vector<std::string> release_of_pod(const Json& pod);

struct Caches {
  runtime::Store& releases;
  runtime::Store& training_runs;
  runtime::Store& deployments;  // labelled cd4ml.io/release
  runtime::Store& services;     // labelled cd4ml.io/release
  runtime::Store& pods;         // labelled cd4ml.io/release, indexed by kReleasePodIndex
};

class Reconciler final : public runtime::Reconciler {
 public:
  Reconciler(kube::Writer& writer, Caches caches, runtime::EventSink& events,
             const util::Clock& clock, AnalysisAccess analysis = {});

  runtime::Result reconcile(const runtime::Request& request) override;

 private:
  Observed observe(const Json& release) const;
  // The measurements `p` asks for, into `observed`; false when it asks none.
  bool measure(const Json& release, const Plan& p, Observed& observed) const;
  void count_verdicts(const Json& release, const Plan& p) const;
  // Says in status why a Service write was refused; the key is retried.
  runtime::Result report_service_refused(const Json& release, const WriteOutcome& outcome);

  // Also reads, live (neither is cached), a canary's HTTPRoute and the
  // Secrets an analysis names for Prometheus.
  kube::Writer& writer_;
  Caches caches_;
  runtime::EventSink& events_;
  runtime::StatusWriter status_writer_;
  runtime::PatchMemo service_patches_;
  runtime::DeleteMemo deleted_deployments_;
  runtime::DeleteMemo deleted_services_;
  Executor executor_;
  const util::Clock& clock_;
  AnalysisAccess analysis_;
};

}  // namespace cd4ml::controllers::modelrelease
