#include "operator/runtime/reconciler.hpp"

namespace cd4ml::runtime {

Request Request::from_key(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return Request{"", key};
  return Request{key.substr(0, slash), key.substr(slash + 1)};
}

}  // namespace cd4ml::runtime
