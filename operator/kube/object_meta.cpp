#include "operator/kube/object_meta.hpp"

namespace cd4ml::kube {

namespace {
const std::string kEmpty;
}  // namespace

const std::string& string_field(const nlohmann::json& object, const char* field) {
  if (!object.is_object()) return kEmpty;
  const auto value = object.find(field);
  if (value == object.end() || !value->is_string()) return kEmpty;
  return value->get_ref<const std::string&>();
}

const std::string& meta_string(const nlohmann::json& object, const char* field) {
  if (!object.is_object()) return kEmpty;
  const auto metadata = object.find("metadata");
  return metadata == object.end() ? kEmpty : string_field(*metadata, field);
}

}  // namespace cd4ml::kube
