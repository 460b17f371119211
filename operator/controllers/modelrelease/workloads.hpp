#pragma once
// The objects a release owns: one Deployment per revision and the active and
// preview Services, plus the readiness tests the safety rules rely on.

#include <nlohmann/json.hpp>
#include <string>

#include "operator/api/modelrelease.hpp"

namespace cd4ml::controllers::modelrelease {

using Json = nlohmann::json;

// Selector value of a preview Service that must select nothing (no active
// revision to fall back to). Never a revision id (those are 10 hex characters).
inline constexpr const char* kNoRevision = "none";
// What a Service selects when its selector has the release but no revision:
// every serving pod of the release (a canary's active Service, by pods).
inline constexpr const char* kEveryRevision = "*";
inline constexpr const char* kLineageAnnotation = "cd4ml.io/lineage";
inline constexpr const char* kModelUriAnnotation = "cd4ml.io/model-uri";

struct RevisionModel {
  std::string revision;
  std::string version;
  std::string uri;
  Json lineage;
};

std::string deployment_name(const std::string& release, const std::string& revision);

// The Deployment of one revision at `replicas`: the user's pod template plus
// the cd4ml.io labels, CD4ML_RELEASE, CD4ML_REVISION, CD4ML_MODEL_URI,
// CD4ML_MODEL_VERSION (and CD4ML_MODEL_DIGEST when the lineage has the
// artifact's digest) in every container, and the lineage as an annotation
// (it survives the TrainingRun).
Json build_deployment(const Json& release, const api::ReleaseSpec& spec, const RevisionModel& model,
                      int replicas);
// `revision` may be kEveryRevision.
Json build_service(const Json& release, const api::ReleaseSpec& spec, const std::string& name,
                   const std::string& revision);
// spec.ports of both Services, from spec.service.
Json service_ports(const api::ReleaseSpec& spec);
// True when a Service's port or targetPort differs from `ports`.
bool ports_differ(const Json& service, const Json& ports);
Json selector_patch(const std::string& release, const std::string& revision);

// The lineage a revision's Deployment carries (an object; empty when it has none).
Json lineage_of(const Json& deployment);

// The revision a Service selects: "" when none, kEveryRevision when it
// selects the release's pods whatever their revision.
std::string selected_revision(const Json& service);
std::string revision_of(const Json& deployment);
int spec_replicas(const Json& deployment);
// Safety rule 1: the controller has seen the current generation and every
// desired pod is updated and available, with no extra ones.
bool fully_available(const Json& deployment, int replicas);
// Safety rule 2: at least one ready pod, and not being scaled to zero.
bool has_ready_pod(const Json& deployment);
// Available pods, at most as many as it asks for.
int available_replicas(const Json& deployment);
// It asks for pods or still has some (terminating ones aside).
bool has_pods(const Json& deployment);

}  // namespace cd4ml::controllers::modelrelease
