#include "operator/kube/client_writer.hpp"

namespace cd4ml::kube {

nlohmann::json ClientWriter::create(const ResourceType& type, std::string_view ns,
                                    const nlohmann::json& object) {
  return client_.create(type, ns, object);
}

nlohmann::json ClientWriter::merge_patch(const ResourceType& type, std::string_view ns,
                                         std::string_view name, const nlohmann::json& patch) {
  return client_.patch(type, ns, name, PatchType::Merge, patch);
}

void ClientWriter::remove(const ResourceType& type, std::string_view ns, std::string_view name) {
  client_.remove(type, ns, name, {"Background", {}, {}});
}

nlohmann::json ClientWriter::update_status(const ResourceType& type, const nlohmann::json& object) {
  return client_.update_status(type, object);
}

std::optional<nlohmann::json> ClientWriter::try_get(const ResourceType& type, std::string_view ns,
                                                    std::string_view name) {
  return client_.try_get(type, ns, name);
}

}  // namespace cd4ml::kube
