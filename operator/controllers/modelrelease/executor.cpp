#include "operator/controllers/modelrelease/executor.hpp"

#include "operator/api/modelrelease.hpp"
#include "operator/controllers/modelrelease/workloads.hpp"
#include "operator/controllers/owner.hpp"
#include "operator/kube/errors.hpp"
#include "operator/kube/object_meta.hpp"
#include "operator/runtime/store.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

using Kind = WriteOutcome::Kind;
namespace resources = kube::resources;

WriteOutcome stopped(Kind kind, std::string service = {}, std::string message = {}) {
  return {kind, std::move(service), std::move(message)};
}

// The release whose writes these are.
struct Owner {
  const std::string& ns;
  const std::string& name;
  const std::string& uid;
  const api::ReleaseSpec spec;
  const runtime::Logger log;
};

std::optional<WriteOutcome> create_deployment(kube::Writer& writer, const Owner& owner,
                                              const Json& deployment, Observed& observed) {
  const std::string& name = kube::meta_string(deployment, "name");
  try {
    writer.create(resources::kDeployments, owner.ns, deployment);
    owner.log.info("created Deployment", {{"deployment", name}});
    return std::nullopt;
  } catch (const kube::ApiError& e) {
    const std::string revision = revision_of(deployment);
    if (kube::is_already_exists(e)) {
      // Ours, created before a restart and not yet in the cache: next round sees it.
      const auto live = writer.try_get(resources::kDeployments, owner.ns, name);
      if (!live || is_controlled_by(*live, owner.uid)) return stopped(Kind::CacheBehind);
      // Someone else's, under the name this revision needs: never touched,
      // and said in status instead of retried quietly forever.
      observed.create_failures[revision] = {
          true,
          "a Deployment of that name already exists and is not controlled by this "
          "release; it is left as it is"};
      owner.log.warn("Deployment name taken", {{"deployment", name}});
      return stopped(Kind::Replan);
    }
    // Refused (invalid template, admission webhook, quota, RBAC): the plan
    // must say so in status rather than fail silently.
    const bool permanent =
        e.kind() == kube::ErrorKind::Invalid || e.kind() == kube::ErrorKind::BadRequest;
    observed.create_failures[revision] = {permanent, e.user_message()};
    owner.log.warn("Deployment refused", {{"deployment", name}, {"error", e.what()}});
    return stopped(Kind::Replan);
  }
}

std::optional<Json>& observed_service(Observed& observed, const Owner& owner,
                                      const std::string& name) {
  if (name == owner.spec.active_service) return observed.active_service;
  if (name == owner.spec.preview_service) return observed.preview_service;
  return observed.stable_service;
}

// The canary's weights into its HTTPRoute, on the resourceVersion they were
// computed from. A route that changed or went meanwhile is read again and
// planned from; a refused write shows in the plan as the route's problem.
std::optional<WriteOutcome> write_route(kube::Writer& writer, const Owner& owner,
                                        const RouteWrite& route, Observed& observed) {
  const Json patch = {{"metadata", {{"resourceVersion", route.resource_version}}},
                      {"spec", {{"rules", route.rules}}}};
  try {
    writer.merge_patch(resources::kHTTPRoutes, owner.ns, route.name, patch);
  } catch (const kube::ApiError& e) {
    if (kube::is_conflict(e) || kube::is_not_found(e)) {
      observed.http_route = writer.try_get(resources::kHTTPRoutes, owner.ns, route.name);
      return stopped(Kind::Replan);
    }
    if (e.kind() != kube::ErrorKind::Forbidden && e.kind() != kube::ErrorKind::Invalid &&
        e.kind() != kube::ErrorKind::BadRequest) {
      throw;
    }
    observed.http_route.reset();
    observed.http_route_error = "writing its weights was refused: " + e.user_message();
    return stopped(Kind::Replan);
  }
  owner.log.info("HTTPRoute weights written", {{"httproute", route.name}});
  return std::nullopt;
}

std::optional<WriteOutcome> write_service(kube::Writer& writer, runtime::PatchMemo& patches,
                                          const Owner& owner, const ServiceWrite& w,
                                          Observed& observed) {
  const auto refused = [&w](const kube::ApiError& e) {
    return stopped(Kind::ServiceRefused, w.name, e.user_message());
  };
  if (w.create) {
    try {
      writer.create(resources::kServices, owner.ns, *w.create);
    } catch (const kube::ApiError& e) {
      if (!kube::is_already_exists(e)) return refused(e);
      // Not in our labelled cache: most likely someone else's Service.
      observed_service(observed, owner, w.name) =
          writer.try_get(resources::kServices, owner.ns, w.name);
      return stopped(Kind::Replan);
    }
  } else {
    Json patch = selector_patch(owner.name, w.revision);
    if (w.ports) patch["spec"]["ports"] = *w.ports;
    const std::optional<Json>& cached = observed_service(observed, owner, w.name);
    try {
      const Json response = writer.merge_patch(resources::kServices, owner.ns, w.name, patch);
      if (cached) patches.sent(*cached, patch, response);
    } catch (const kube::ApiError& e) {
      // Gone meanwhile: the cache will say so; plain retry.
      if (kube::is_not_found(e)) throw;
      return refused(e);
    }
  }
  owner.log.info("Service selects revision", {{"service", w.name}, {"revision", w.revision}});
  return std::nullopt;
}

// Deletes `object` (already gone counts as deleted) and remembers it as
// deleted while the cache still shows it.
void remove(kube::Writer& writer, const Owner& owner, const kube::ResourceType& type,
            const std::string& object, const std::vector<Json>& cached, runtime::DeleteMemo& memo) {
  try {
    writer.remove(type, owner.ns, object);
    owner.log.info("deleted", {{"kind", type.kind}, {"object", object}});
  } catch (const kube::ApiError& e) {
    if (!kube::is_not_found(e)) throw;
  }
  const std::string release_key = runtime::object_key(owner.ns, owner.name);
  for (const auto& o : cached) {
    if (kube::meta_string(o, "name") == object) memo.sent(release_key, o);
  }
}

}  // namespace

WriteOutcome Executor::apply(const Json& release, const Plan& plan, Observed& observed) {
  const Owner owner{kube::meta_string(release, "namespace"), kube::meta_string(release, "name"),
                    kube::meta_string(release, "uid"), api::parse_release_spec(release),
                    log_.with({{"namespace", kube::meta_string(release, "namespace")},
                               {"name", kube::meta_string(release, "name")}})};
  const auto scale = [&](const Scale& s) {
    writer_.merge_patch(resources::kDeployments, owner.ns, s.deployment,
                        {{"spec", {{"replicas", s.replicas}}}});
    owner.log.info("scaled",
                   {{"deployment", s.deployment}, {"replicas", std::to_string(s.replicas)}});
  };

  for (const auto& d : plan.create_deployments) {
    if (auto stop = create_deployment(writer_, owner, d, observed)) return *stop;
  }
  for (const auto& s : plan.scale_up) scale(s);
  for (const auto& w : plan.services) {
    if (auto stop = write_service(writer_, memos_.service_patches, owner, w, observed)) {
      return *stop;
    }
  }
  if (plan.route) {
    if (auto stop = write_route(writer_, owner, *plan.route, observed)) return *stop;
  }
  for (const auto& s : plan.scale_down) scale(s);
  for (const auto& d : plan.delete_deployments) {
    remove(writer_, owner, resources::kDeployments, d, observed.deployments,
           memos_.deleted_deployments);
  }
  for (const auto& s : plan.delete_services) {
    remove(writer_, owner, resources::kServices, s, observed.owned_services,
           memos_.deleted_services);
  }
  return stopped(Kind::Applied);
}

}  // namespace cd4ml::controllers::modelrelease
