#include "operator/controllers/modelrelease/write_failure.hpp"

#include "operator/api/conditions.hpp"
#include "operator/api/modelrelease.hpp"

namespace cd4ml::controllers::modelrelease {

nlohmann::json service_write_failed_status(const nlohmann::json& old_status, long generation,
                                           const std::string& service, const std::string& error,
                                           std::chrono::system_clock::time_point now) {
  namespace cond = api::condition;
  nlohmann::json status = old_status.is_object() ? old_status : nlohmann::json::object();
  const std::string phase = status.value("phase", std::string());
  if (phase.empty()) status["phase"] = api::release_phase::kPending;
  if (phase == api::release_phase::kHealthy) status["phase"] = api::release_phase::kProgressing;
  const std::string message =
      api::truncate_message("writing Service " + service + " failed: " + error + "; retrying");
  status["message"] = message;
  api::set_condition(status["conditions"], {cond::kReady, false, kServiceWriteFailed, message},
                     generation, now);
  api::set_condition(status["conditions"], {cond::kReconciling, true, kServiceWriteFailed, message},
                     generation, now);
  api::set_condition(status["conditions"], {cond::kStalled, false, kServiceWriteFailed, message},
                     generation, now);
  return status;
}

}  // namespace cd4ml::controllers::modelrelease
