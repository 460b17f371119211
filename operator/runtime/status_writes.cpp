#include "operator/runtime/status_writes.hpp"

namespace cd4ml::runtime {

StatusWriter::StatusWriter(kube::Client& client, const kube::ResourceType& type)
    : client_(client), type_(type) {}

bool StatusWriter::write(const Json& cached, const Json& status) {
  if (memo_.unseen(cached)) return false;
  Json updated = cached;
  updated["status"] = status;
  memo_.sent(cached, {{"status", status}}, client_.update_status(type_, updated));
  return true;
}

}  // namespace cd4ml::runtime
