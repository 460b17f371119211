#include "operator/controllers/modelrelease/services.hpp"

#include "operator/controllers/modelrelease/workloads.hpp"
#include "operator/controllers/owner.hpp"
#include "operator/kube/object_meta.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

// One Service brought to select `revision` with `ports`; nothing when it
// already does. A missing Service is created only once there is something
// to select.
void write_service(std::vector<ServiceWrite>& writes, const std::optional<Json>& seen,
                   const std::string& name, const std::string& revision, const Json& ports,
                   const Json& release, const api::ReleaseSpec& spec) {
  if (!seen) {
    if (!revision.empty()) {
      writes.push_back({name, revision, build_service(release, spec, name, revision), {}});
    }
    return;
  }
  ServiceWrite write{name, revision.empty() ? kNoRevision : revision, {}, {}};
  bool needed = selected_revision(*seen) != write.revision;
  if (ports_differ(*seen, ports)) {
    write.ports = ports;
    needed = true;
  }
  if (needed) writes.push_back(std::move(write));
}

// Where spec names the two Services.
std::string service_fields(const api::ReleaseSpec& spec) {
  return spec.canary ? "spec.strategy.canary.activeService/canaryService/stableService"
                     : "spec.strategy.blueGreen.activeService/previewService";
}

// A canary routed by an HTTPRoute also has a Service of the live revision
// alone, for the route's stable backend.
const std::string* stable_service(const api::ReleaseSpec& spec) {
  if (!spec.canary || spec.canary->http_route.empty()) return nullptr;
  return &spec.canary->stable_service;
}

}  // namespace

ServiceSelections observed_selections(const Observed& observed) {
  ServiceSelections s;
  if (observed.active_service) s.active = selected_revision(*observed.active_service);
  if (observed.preview_service) s.preview = selected_revision(*observed.preview_service);
  if (s.preview == kNoRevision) s.preview.clear();
  if (s.active == kEveryRevision) {
    s.active.clear();
    s.active_shared = true;
  }
  // A preview Service never shares; read by hand as no selection.
  if (s.preview == kEveryRevision) s.preview.clear();
  return s;
}

std::optional<std::string> service_conflict(const api::ReleaseSpec& spec,
                                            const Observed& observed) {
  if (spec.active_service == spec.preview_service) {
    // The CRD refuses this; a release stored before that rule still must not
    // have one Service patched as preview, then as active.
    return std::string(spec.canary ? "the active and canary" : "the active and preview") +
           " Service are both named " + spec.active_service + ": set " + service_fields(spec) +
           " to different names";
  }
  if (const std::string* stable = stable_service(spec);
      stable != nullptr && (*stable == spec.active_service || *stable == spec.preview_service)) {
    return "the stable Service is named " + *stable +
           " like another of the release's Services: set " + service_fields(spec) +
           " to different names";
  }
  const std::string& uid = kube::meta_string(observed.release, "uid");
  for (const auto* service :
       {&observed.active_service, &observed.preview_service, &observed.stable_service}) {
    if (*service && !is_controlled_by(**service, uid)) {
      return "Service " + kube::meta_string(**service, "name") +
             " exists and is not owned by this ModelRelease; it is left untouched: delete "
             "it or set " +
             service_fields(spec);
    }
  }
  return std::nullopt;
}

std::vector<ServiceWrite> service_writes(const BlueGreenTraffic& traffic, const Observed& observed,
                                         const api::ReleaseSpec& spec) {
  const Json ports = service_ports(spec);
  std::vector<ServiceWrite> writes;
  write_service(writes, observed.preview_service, spec.preview_service, traffic.preview, ports,
                observed.release, spec);
  if (traffic.active) {
    if (const std::string* stable = stable_service(spec)) {
      write_service(writes, observed.stable_service, *stable, *traffic.active, ports,
                    observed.release, spec);
    }
    write_service(writes, observed.active_service, spec.active_service, *traffic.active, ports,
                  observed.release, spec);
  }
  return writes;
}

std::vector<std::string> services_renamed_away(const Observed& observed,
                                               const api::ReleaseSpec& spec) {
  std::vector<std::string> names;
  for (const auto& service : observed.owned_services) {
    const std::string name = kube::meta_string(service, "name");
    const std::string* stable = stable_service(spec);
    if (name != spec.active_service && name != spec.preview_service &&
        (stable == nullptr || name != *stable)) {
      names.push_back(name);
    }
  }
  return names;
}

}  // namespace cd4ml::controllers::modelrelease
