#include "operator/kube/secret_data.hpp"

#include "operator/kube/config_files.hpp"

namespace cd4ml::kube {

SecretValue secret_value(const nlohmann::json& secret, std::string_view key) {
  SecretValue out;
  const auto data = secret.find("data");
  if (data == secret.end() || !data->is_object()) return out;
  const auto it = data->find(std::string(key));
  if (it == data->end() || !it->is_string()) return out;
  auto decoded = config_files::decode_base64(it->get<std::string>());
  if (!decoded) {
    out.state = SecretValue::State::NotBase64;
    return out;
  }
  out.state = SecretValue::State::Found;
  out.value = std::move(*decoded);
  return out;
}

}  // namespace cd4ml::kube
