#include "operator/runtime/status_writes.hpp"

namespace cd4ml::runtime {

StatusWriter::StatusWriter(kube::Writer& writer, const kube::ResourceType& type,
                           const util::Clock& clock)
    : writer_(writer), type_(type), memo_(clock) {}

std::optional<std::chrono::milliseconds> StatusWriter::wait_for_own_write(const Json& cached) {
  const auto behind = memo_.behind_for(cached);
  if (!behind || *behind >= kOwnWriteWait) return std::nullopt;
  // Rounded up, so the wake-up never comes before the bound has passed.
  return std::chrono::ceil<std::chrono::milliseconds>(kOwnWriteWait - *behind);
}

bool StatusWriter::write(const Json& cached, const Json& status) {
  if (memo_.unseen(cached)) return false;
  Json updated = cached;
  updated["status"] = status;
  memo_.sent(cached, {{"status", status}}, writer_.update_status(type_, updated));
  return true;
}

}  // namespace cd4ml::runtime
