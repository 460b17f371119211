#pragma once
// kube::Writer over the blocking Client: the production implementation.

#include "operator/kube/client.hpp"
#include "operator/kube/writer.hpp"

namespace cd4ml::kube {

class ClientWriter final : public Writer {
 public:
  explicit ClientWriter(Client& client) : client_(client) {}

  nlohmann::json create(const ResourceType& type, std::string_view ns,
                        const nlohmann::json& object) override;
  nlohmann::json merge_patch(const ResourceType& type, std::string_view ns, std::string_view name,
                             const nlohmann::json& patch) override;
  void remove(const ResourceType& type, std::string_view ns, std::string_view name) override;
  nlohmann::json update_status(const ResourceType& type, const nlohmann::json& object) override;
  std::optional<nlohmann::json> try_get(const ResourceType& type, std::string_view ns,
                                        std::string_view name) override;

 private:
  Client& client_;
};

}  // namespace cd4ml::kube
