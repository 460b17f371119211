#pragma once
// The core user stories as reusable steps, for tests that run them under
// conditions of their own (e.g. the operator authenticated as the Helm
// chart's ServiceAccount instead of admin). Each step fails the current test
// with the operator's log tail when the story does not come true.

#include <string>

#include "cluster.hpp"
#include "operator_process.hpp"

namespace cd4ml::e2e {

// A TrainingRun whose fake trainer reports metrics: it succeeds, its status
// carries the metrics, version and lineage, the operator's Job is owned by it,
// and Events JobCreated and Succeeded are recorded.
void trainingrun_succeeds_with_metrics(const std::string& ns, const OperatorProcess& op);

// A ModelRelease of a finished TrainingRun goes Healthy behind its Services;
// a second TrainingRun is then rolled out through preview to active, and the
// replaced revision is pruned (revisionHistoryLimit 0: the delete verb). The
// traffic safety rules hold throughout. Last, the preview Service is renamed:
// the old one is deleted (the delete verb on Services).
void modelrelease_rolls_out_a_new_training_run(const std::string& ns, const OperatorProcess& op);

// Objects of the names the operator needs that belong to someone else (a Job
// of a TrainingRun's name, a Service of a release's active name, a Deployment
// of a revision's name) are reported in status (JobConflict, ServiceConflict,
// DeploymentRejected) and left exactly as they were. These are the paths that
// read single objects (the get verb on Jobs, Services and Deployments).
void name_conflicts_are_reported_and_left_alone(const std::string& ns, const OperatorProcess& op);

}  // namespace cd4ml::e2e
