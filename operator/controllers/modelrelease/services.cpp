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

}  // namespace

ServiceSelections observed_selections(const Observed& observed) {
  ServiceSelections s;
  if (observed.active_service) s.active = selected_revision(*observed.active_service);
  if (observed.preview_service) s.preview = selected_revision(*observed.preview_service);
  if (s.preview == kNoRevision) s.preview.clear();
  return s;
}

std::optional<std::string> service_conflict(const api::ReleaseSpec& spec,
                                            const Observed& observed) {
  if (spec.active_service == spec.preview_service) {
    // The CRD refuses this; a release stored before that rule still must not
    // have one Service patched as preview, then as active.
    return "the active and preview Service are both named " + spec.active_service +
           ": set spec.strategy.blueGreen.activeService/previewService to different names";
  }
  const std::string& uid = kube::meta_string(observed.release, "uid");
  for (const auto* service : {&observed.active_service, &observed.preview_service}) {
    if (*service && !is_controlled_by(**service, uid)) {
      return "Service " + kube::meta_string(**service, "name") +
             " exists and is not owned by this ModelRelease; it is left untouched: delete "
             "it or set spec.strategy.blueGreen.activeService/previewService";
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
    if (name != spec.active_service && name != spec.preview_service) names.push_back(name);
  }
  return names;
}

}  // namespace cd4ml::controllers::modelrelease
