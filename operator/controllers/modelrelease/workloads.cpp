#include "operator/controllers/modelrelease/workloads.hpp"

#include <algorithm>

#include "operator/api/labels.hpp"
#include "operator/controllers/owner.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

long number_at(const Json& object, const char* section, const char* key) {
  auto s = object.find(section);
  if (s == object.end() || !s->is_object()) return 0;
  auto v = s->find(key);
  return (v != s->end() && v->is_number_integer()) ? v->get<long>() : 0;
}

void set_env(Json& container, const char* name, const std::string& value) {
  Json env = container.value("env", Json::array());
  Json out = Json::array({{{"name", name}, {"value", value}}});
  // Ours first, then the user's own, minus any of the same name: the model
  // the operator deploys is the one the container must see.
  for (const auto& e : env) {
    if (e.value("name", "") != name) out.push_back(e);
  }
  container["env"] = out;
}

Json target_port(const api::ReleaseSpec& spec) {
  if (!spec.target_port.is_null()) return spec.target_port;
  const Json containers = spec.pod_template.value("/spec/containers"_json_pointer, Json::array());
  if (!containers.empty()) {
    const Json ports = containers[0].value("ports", Json::array());
    if (!ports.empty()) {
      if (ports[0].contains("name")) return ports[0]["name"];
      if (ports[0].contains("containerPort")) return ports[0]["containerPort"];
    }
  }
  return spec.port;
}

Json owned_metadata(const Json& release, const std::string& name, const Json& labels) {
  return {{"name", name},
          {"namespace", release["metadata"].value("namespace", "")},
          {"labels", labels},
          {"ownerReferences", Json::array({controller_reference(release)})}};
}

}  // namespace

std::string deployment_name(const std::string& release, const std::string& revision) {
  return release + "-" + revision;
}

Json build_deployment(const Json& release, const api::ReleaseSpec& spec, const RevisionModel& model,
                      int replicas) {
  const std::string release_name = release["metadata"].value("name", "");
  const Json selector = {{api::label::kRelease, release_name},
                         {api::label::kRevision, model.revision}};
  Json pod_labels = selector;
  pod_labels[api::label::kModelVersion] = model.version;

  Json pod_template = spec.pod_template;
  Json& template_meta = pod_template["metadata"];
  if (!template_meta.is_object()) template_meta = Json::object();
  Json labels = template_meta.value("labels", Json::object());
  labels.update(pod_labels);
  template_meta["labels"] = labels;
  // What a model server needs to know which bytes to serve and how to label
  // what it reports; the digest only when the model's producer recorded one
  // (a server then refuses readiness on other bytes).
  const std::string digest =
      model.lineage.is_object() ? model.lineage.value("artifactDigest", "") : "";
  for (const char* list : {"containers", "initContainers"}) {
    if (!pod_template["spec"].contains(list)) continue;
    for (auto& container : pod_template["spec"][list]) {
      set_env(container, "CD4ML_RELEASE", release_name);
      set_env(container, "CD4ML_REVISION", model.revision);
      set_env(container, "CD4ML_MODEL_VERSION", model.version);
      set_env(container, "CD4ML_MODEL_URI", model.uri);
      if (!digest.empty()) set_env(container, "CD4ML_MODEL_DIGEST", digest);
    }
  }

  Json deployment_labels = pod_labels;
  deployment_labels[api::label::kManagedBy] = api::label::kManagedByValue;
  Json metadata =
      owned_metadata(release, deployment_name(release_name, model.revision), deployment_labels);
  metadata["annotations"] = {{kLineageAnnotation, model.lineage.dump()},
                             {kModelUriAnnotation, model.uri}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", metadata},
          {"spec",
           {{"replicas", replicas},
            {"revisionHistoryLimit", 0},
            {"progressDeadlineSeconds", spec.progress_deadline_seconds},
            {"selector", {{"matchLabels", selector}}},
            {"template", pod_template}}}};
}

namespace {
Json selector(const std::string& release, const std::string& revision) {
  Json out = {{api::label::kRelease, release}};
  if (revision != kEveryRevision) out[api::label::kRevision] = revision;
  return out;
}
}  // namespace

Json build_service(const Json& release, const api::ReleaseSpec& spec, const std::string& name,
                   const std::string& revision) {
  const std::string release_name = release["metadata"].value("name", "");
  const Json labels = {{api::label::kRelease, release_name},
                       {api::label::kManagedBy, api::label::kManagedByValue}};
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", owned_metadata(release, name, labels)},
          {"spec",
           {{"type", "ClusterIP"},
            {"selector", selector(release_name, revision)},
            {"ports", service_ports(spec)}}}};
}

Json service_ports(const api::ReleaseSpec& spec) {
  return Json::array({{{"name", "http"},
                       {"port", spec.port},
                       {"targetPort", target_port(spec)},
                       {"protocol", "TCP"}}});
}

bool ports_differ(const Json& service, const Json& ports) {
  const Json seen = service.value("/spec/ports"_json_pointer, Json::array());
  if (seen.size() != ports.size()) return true;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    if (seen[i].value("port", Json()) != ports[i]["port"] ||
        seen[i].value("targetPort", Json()) != ports[i]["targetPort"]) {
      return true;
    }
  }
  return false;
}

Json selector_patch(const std::string& release, const std::string& revision) {
  Json patch = {{"spec", {{"selector", selector(release, revision)}}}};
  // A merge patch removes a key set to null.
  if (revision == kEveryRevision) patch["spec"]["selector"][api::label::kRevision] = nullptr;
  return patch;
}

Json lineage_of(const Json& deployment) {
  const Json annotations = deployment.value("/metadata/annotations"_json_pointer, Json::object());
  const Json lineage = Json::parse(annotations.value(kLineageAnnotation, "{}"), nullptr, false);
  return lineage.is_object() ? lineage : Json::object();
}

std::string selected_revision(const Json& service) {
  const Json selector = service.value("/spec/selector"_json_pointer, Json::object());
  if (!selector.is_object()) return "";
  if (!selector.contains(api::label::kRevision) && selector.contains(api::label::kRelease)) {
    return kEveryRevision;
  }
  return selector.value(api::label::kRevision, "");
}

std::string revision_of(const Json& deployment) {
  return deployment.value("/metadata/labels"_json_pointer, Json::object())
      .value(api::label::kRevision, "");
}

int spec_replicas(const Json& deployment) {
  return static_cast<int>(number_at(deployment, "spec", "replicas"));
}

namespace {
bool current_generation(const Json& deployment) {
  return number_at(deployment, "status", "observedGeneration") >=
         number_at(deployment, "metadata", "generation");
}
}  // namespace

bool fully_available(const Json& deployment, int replicas) {
  if (replicas < 1 || spec_replicas(deployment) != replicas) return false;
  if (!current_generation(deployment)) return false;
  return number_at(deployment, "status", "updatedReplicas") == replicas &&
         number_at(deployment, "status", "availableReplicas") == replicas &&
         number_at(deployment, "status", "replicas") == replicas;
}

bool has_ready_pod(const Json& deployment) {
  // No generation check: a revision's template never changes, so a newer
  // generation only means a new replica count, and pods that were ready stay
  // ready while the Deployment controller catches up.
  return spec_replicas(deployment) > 0 && number_at(deployment, "status", "readyReplicas") >= 1;
}

int available_replicas(const Json& deployment) {
  const long available = number_at(deployment, "status", "availableReplicas");
  return static_cast<int>(std::min<long>(available, spec_replicas(deployment)));
}

bool has_pods(const Json& deployment) {
  // status.replicas leaves out terminating pods, which no Service sends
  // new requests to once other endpoints are ready.
  return spec_replicas(deployment) > 0 || number_at(deployment, "status", "replicas") > 0;
}

}  // namespace cd4ml::controllers::modelrelease
