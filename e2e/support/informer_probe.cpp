#include "informer_probe.hpp"

namespace cd4ml::e2e {

namespace {

// name -> resourceVersion, as the server has it now.
std::map<std::string, std::string> server_state(const std::string& ns) {
  std::map<std::string, std::string> out;
  for (const auto& cm : list_json("configmaps", ns)) {
    out[cm["metadata"]["name"]] = cm["metadata"]["resourceVersion"];
  }
  return out;
}

std::map<std::string, std::string> cache_state(runtime::Informer& informer) {
  std::map<std::string, std::string> out;
  for (const auto& cm : informer.store().list()) {
    out[(*cm)["metadata"]["name"]] = (*cm)["metadata"]["resourceVersion"];
  }
  return out;
}

std::string describe(const std::map<std::string, std::string>& cache,
                     const std::map<std::string, std::string>& server) {
  std::string out = "cache " + std::to_string(cache.size()) + " objects, server " +
                    std::to_string(server.size()) + "; differences:";
  for (const auto& [name, rv] : server) {
    auto it = cache.find(name);
    if (it == cache.end())
      out += " missing:" + name;
    else if (it->second != rv)
      out += " stale:" + name;
  }
  for (const auto& [name, rv] : cache) {
    if (!server.count(name)) out += " extra:" + name;
  }
  return out;
}

}  // namespace

Json config_map(const std::string& ns, const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", {{"value", value}}}};
}

void create_config_maps(const std::string& ns, const std::string& prefix, int count) {
  Json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", Json::array()}};
  for (int i = 0; i < count; ++i) {
    list["items"].push_back(config_map(ns, prefix + std::to_string(i), "v" + std::to_string(i)));
  }
  kubectl_ok({"apply", "-f", "-"}, list.dump());
}

bool cache_matches_server(runtime::Informer& informer, const std::string& ns,
                          std::chrono::milliseconds deadline) {
  std::map<std::string, std::string> cache;
  std::map<std::string, std::string> server;
  return wait_until(
      "informer cache equal to the server's list", deadline,
      [&] {
        server = server_state(ns);
        cache = cache_state(informer);
        return cache == server;
      },
      [&] { return describe(cache, server); });
}

}  // namespace cd4ml::e2e
