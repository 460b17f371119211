#include "operator/controllers/owner.hpp"

namespace cd4ml::controllers {

nlohmann::json controller_reference(const nlohmann::json& owner) {
  const auto& meta = owner.at("metadata");
  return {{"apiVersion", owner.value("apiVersion", "")},
          {"kind", owner.value("kind", "")},
          {"name", meta.value("name", "")},
          {"uid", meta.value("uid", "")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

bool is_controlled_by(const nlohmann::json& object, const std::string& owner_uid) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->contains("ownerReferences")) return false;
  for (const auto& ref : (*meta)["ownerReferences"]) {
    if (ref.value("controller", false) && ref.value("uid", "") == owner_uid) return true;
  }
  return false;
}

}  // namespace cd4ml::controllers
