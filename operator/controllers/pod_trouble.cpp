#include "operator/controllers/pod_trouble.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace cd4ml::controllers {

namespace {

// Long kubelet messages (a registry's whole error chain) are cut here: the
// status message holds several parts and kubectl prints it on one line.
constexpr std::size_t kMaxMessage = 240;

// Waiting reasons of a container that is starting as it should.
constexpr std::array<std::string_view, 2> kNormalWaiting = {"ContainerCreating", "PodInitializing"};

std::string shorten(std::string text) {
  if (text.size() > kMaxMessage) {
    text.resize(kMaxMessage);
    text += "...";
  }
  return text;
}

// A crash loop's waiting message only says "back-off 5m0s restarting failed
// container"; the last exit says why.
std::string crash_message(const Json& status) {
  const Json last = status.value("/lastState/terminated"_json_pointer, Json::object());
  if (last.empty()) return status.value("/state/waiting/message"_json_pointer, std::string());
  std::string text = "exited with code " + std::to_string(last.value("exitCode", 0));
  if (const std::string reason = last.value("reason", ""); !reason.empty()) {
    text += " (" + reason + ")";
  }
  if (const std::string message = last.value("message", ""); !message.empty()) {
    text += ": " + message;
  }
  return text + ", restarted " + std::to_string(status.value("restartCount", 0)) + " times";
}

// Between two back-offs a crash-looping container runs (or has just ended)
// and the kubelet says nothing is waiting: it is still the same loop, and
// a status that said so only half of the time would flap.
bool restarting_after_a_crash(const Json& status) {
  if (status.value("ready", false) || status.value("restartCount", 0) == 0) return false;
  return status.value("/lastState/terminated/exitCode"_json_pointer, 0) != 0;
}

std::optional<PodTrouble> container_trouble(const std::string& pod, const Json& statuses) {
  if (!statuses.is_array()) return std::nullopt;
  for (const auto& s : statuses) {
    const Json waiting = s.value("/state/waiting"_json_pointer, Json::object());
    if (waiting.empty() && restarting_after_a_crash(s)) {
      return PodTrouble{pod, s.value("name", ""), "CrashLoopBackOff", shorten(crash_message(s))};
    }
    const std::string reason = waiting.value("reason", "");
    if (reason.empty() ||
        std::find(kNormalWaiting.begin(), kNormalWaiting.end(), reason) != kNormalWaiting.end()) {
      continue;
    }
    const std::string message =
        reason == "CrashLoopBackOff" ? crash_message(s) : waiting.value("message", "");
    return PodTrouble{pod, s.value("name", ""), reason, shorten(message)};
  }
  return std::nullopt;
}

std::optional<PodTrouble> trouble_of(const Json& pod) {
  const std::string name = pod.value("/metadata/name"_json_pointer, std::string());
  const Json status = pod.value("status", Json::object());
  for (const auto& c : status.value("conditions", Json::array())) {
    if (c.value("type", "") == "PodScheduled" && c.value("status", "") == "False" &&
        c.value("reason", "") == "Unschedulable") {
      return PodTrouble{name, "", "Unschedulable", shorten(c.value("message", ""))};
    }
  }
  for (const char* field : {"initContainerStatuses", "containerStatuses"}) {
    if (auto t = container_trouble(name, status.value(field, Json::array()))) return t;
  }
  return std::nullopt;
}

}  // namespace

std::string PodTrouble::key() const {
  return "pod " + pod + (container.empty() ? std::string() : ": container " + container) + ": " +
         reason;
}

std::string PodTrouble::describe() const {
  return message.empty() ? key() : key() + ": " + message;
}

std::optional<PodTrouble> find_pod_trouble(const std::vector<const Json*>& pods) {
  std::vector<const Json*> sorted;
  for (const Json* pod : pods) {
    // A pod on its way out is no longer the revision's problem.
    if (!pod->value("/metadata/deletionTimestamp"_json_pointer, std::string()).empty()) continue;
    sorted.push_back(pod);
  }
  std::sort(sorted.begin(), sorted.end(), [](const Json* a, const Json* b) {
    return a->value("/metadata/name"_json_pointer, std::string()) <
           b->value("/metadata/name"_json_pointer, std::string());
  });
  for (const Json* pod : sorted) {
    if (auto t = trouble_of(*pod)) return t;
  }
  return std::nullopt;
}

}  // namespace cd4ml::controllers
