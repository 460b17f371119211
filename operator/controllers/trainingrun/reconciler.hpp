#pragma once
// Observe -> plan -> apply for one TrainingRun. Reads come from the informer
// caches; the only live read is the Job, when the cache and the run's status
// disagree about whether it exists (a cache lagging behind our own create
// must not look like a deleted Job).

#include "operator/controllers/trainingrun/plan.hpp"
#include "operator/kube/writer.hpp"
#include "operator/runtime/event_sink.hpp"
#include "operator/runtime/logging.hpp"
#include "operator/runtime/reconciler.hpp"
#include "operator/runtime/status_writes.hpp"
#include "operator/runtime/store.hpp"
#include "operator/util/clock.hpp"

namespace cd4ml::controllers::trainingrun {

struct Caches {
  runtime::Store& runs;
  runtime::Store& jobs;  // Jobs labelled cd4ml.io/training-run
  runtime::Store& pods;  // Pods labelled cd4ml.io/training-run
};

class Reconciler final : public runtime::Reconciler {
 public:
  Reconciler(kube::Writer& writer, Caches caches, runtime::EventSink& events,
             const util::Clock& clock);

  runtime::Result reconcile(const runtime::Request& request) override;

 private:
  Observed observe(const Json& run, std::optional<Json> job) const;

  kube::Writer& writer_;
  Caches caches_;
  runtime::EventSink& events_;
  runtime::StatusWriter status_writer_;
  const util::Clock& clock_;
  runtime::Logger log_;
};

}  // namespace cd4ml::controllers::trainingrun
