#include "operator/controllers/modelrelease/analysis.hpp"

#include <algorithm>
#include <cmath>

#include "operator/api/conditions.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

using Result = MeasurementResult;

// Per measurement: ten of them per metric stay in status, which etcd
// stores with every write of it.
constexpr std::size_t kMeasurementMessageBytes = 300;
using Phase = AnalysisPhase;

std::optional<Phase> phase_from(const std::string& text) {
  for (const Phase p :
       {Phase::Running, Phase::Successful, Phase::Failed, Phase::Inconclusive, Phase::Error}) {
    if (text == to_string(p)) return p;
  }
  return std::nullopt;
}

int count_field(const Json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) return 0;
  const auto v = it->get<long long>();
  return v < 0 || v > 1'000'000'000 ? 0 : static_cast<int>(v);
}

// A string member, "" when absent or of another type (status is written
// by us, but read back from whatever the server holds).
std::string text_field(const Json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<double> number_field(const Json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

void put_number(Json& out, const char* name, const std::optional<double>& value) {
  // JSON has no NaN or infinity; a missing field reads as "no value".
  if (value && std::isfinite(*value)) out[name] = *value;
}

std::optional<Measurement> measurement_from_json(const Json& j, const std::string& metric) {
  if (!j.is_object()) return std::nullopt;
  const auto at = api::parse_rfc3339(text_field(j, "at"));
  const auto result = measurement_result_from(text_field(j, "result"));
  if (!at || !result) return std::nullopt;
  Measurement m;
  m.metric = metric;
  m.at = *at;
  m.result = *result;
  m.value = number_field(j, "value");
  m.active_value = number_field(j, "activeValue");
  m.samples = number_field(j, "samples");
  m.message = text_field(j, "message");
  return m;
}

Json to_json(const Measurement& m) {
  Json out = {{"at", api::rfc3339(m.at)}, {"result", to_string(m.result)}};
  put_number(out, "value", m.value);
  put_number(out, "activeValue", m.active_value);
  put_number(out, "samples", m.samples);
  if (!m.message.empty())
    out["message"] = api::truncate_message(m.message, kMeasurementMessageBytes);
  return out;
}

std::optional<MetricRecord> metric_from_json(const Json& j) {
  if (!j.is_object() || text_field(j, "name").empty()) return std::nullopt;
  MetricRecord m;
  m.name = text_field(j, "name");
  m.phase = phase_from(text_field(j, "phase")).value_or(Phase::Running);
  m.successful = count_field(j, "successful");
  m.failed = count_field(j, "failed");
  m.inconclusive = count_field(j, "inconclusive");
  m.error = count_field(j, "error");
  m.consecutive_errors = count_field(j, "consecutiveErrors");
  m.consecutive_inconclusive = count_field(j, "consecutiveInconclusive");
  m.step_successful = count_field(j, "stepSuccessful");
  const auto list_it = j.find("measurements");
  const Json list = list_it != j.end() ? *list_it : Json::array();
  if (list.is_array()) {
    for (const auto& item : list) {
      if (auto measurement = measurement_from_json(item, m.name)) {
        m.measurements.push_back(std::move(*measurement));
      }
    }
  }
  if (m.measurements.size() > kKeptMeasurements) {
    m.measurements.erase(m.measurements.begin(),
                         m.measurements.end() - static_cast<long>(kKeptMeasurements));
  }
  return m;
}

Json to_json(const MetricRecord& m) {
  Json measurements = Json::array();
  for (const auto& measurement : m.measurements) measurements.push_back(to_json(measurement));
  return {{"name", m.name},
          {"phase", to_string(m.phase)},
          {"successful", m.successful},
          {"failed", m.failed},
          {"inconclusive", m.inconclusive},
          {"error", m.error},
          {"consecutiveErrors", m.consecutive_errors},
          {"consecutiveInconclusive", m.consecutive_inconclusive},
          {"stepSuccessful", m.step_successful},
          {"measurements", measurements}};
}

// The last measurement of `m` with `result`, for messages.
const Measurement* last_with(const MetricRecord& m, Result result) {
  for (auto it = m.measurements.rbegin(); it != m.measurements.rend(); ++it) {
    if (it->result == result) return &*it;
  }
  return nullptr;
}

std::string last_message(const MetricRecord& m, Result result) {
  const Measurement* last = last_with(m, result);
  return last != nullptr && !last->message.empty() ? ": " + last->message : std::string();
}

// The metric's own verdict and, unless Running or Successful, why.
std::pair<Phase, std::string> metric_verdict(const MetricRecord& m,
                                             const api::AnalysisMetric& spec) {
  if (m.failed > spec.failure_limit) {
    return {Phase::Failed, m.name + " failed " + std::to_string(m.failed) + " of " +
                               std::to_string(m.successful + m.failed) +
                               " conclusive measurements (failureLimit " +
                               std::to_string(spec.failure_limit) + ")" +
                               last_message(m, Result::Failed)};
  }
  if (m.consecutive_errors > spec.consecutive_error_limit) {
    return {Phase::Error, m.name + ": " + std::to_string(m.consecutive_errors) +
                              " measurements in a row failed to run (consecutiveErrorLimit " +
                              std::to_string(spec.consecutive_error_limit) + ")" +
                              last_message(m, Result::Error)};
  }
  if (m.consecutive_inconclusive > spec.inconclusive_limit) {
    return {Phase::Inconclusive, m.name + ": " + std::to_string(m.consecutive_inconclusive) +
                                     " measurements in a row were inconclusive "
                                     "(inconclusiveLimit " +
                                     std::to_string(spec.inconclusive_limit) + ")" +
                                     last_message(m, Result::Inconclusive)};
  }
  if (m.step_successful >= spec.count.value_or(1)) return {Phase::Successful, ""};
  return {Phase::Running, ""};
}

}  // namespace

const char* to_string(AnalysisPhase phase) {
  switch (phase) {
    case Phase::Running: return "Running";
    case Phase::Successful: return "Successful";
    case Phase::Failed: return "Failed";
    case Phase::Inconclusive: return "Inconclusive";
    case Phase::Error: return "Error";
  }
  return "Running";
}

std::optional<std::chrono::system_clock::time_point> AnalysisRecord::last_measured() const {
  std::optional<std::chrono::system_clock::time_point> last;
  for (const auto& m : metrics) {
    if (!m.measurements.empty() && (!last || m.measurements.back().at > *last)) {
      last = m.measurements.back().at;
    }
  }
  return last;
}

std::optional<AnalysisRecord> analysis_record_from_json(const Json& status) {
  if (!status.is_object()) return std::nullopt;
  const auto it = status.find("analysis");
  if (it == status.end() || !it->is_object()) return std::nullopt;
  const Json& a = *it;
  AnalysisRecord out;
  out.revision = text_field(a, "revision");
  out.active_revision = text_field(a, "activeRevision");
  if (out.revision.empty()) return std::nullopt;
  out.phase = phase_from(text_field(a, "phase")).value_or(Phase::Running);
  out.message = text_field(a, "message");
  if (auto at = api::parse_rfc3339(text_field(a, "startedAt"))) {
    out.started_at = std::chrono::floor<std::chrono::seconds>(*at);
  }
  out.step = static_cast<std::size_t>(count_field(a, "step"));
  // Absent in runs written before there were post-promotion ones.
  if (text_field(a, "stage") == to_string(AnalysisStage::PostPromotion)) {
    out.stage = AnalysisStage::PostPromotion;
  }
  if (auto at = api::parse_rfc3339(text_field(a, "endsAt"))) {
    out.ends_at = std::chrono::floor<std::chrono::seconds>(*at);
  }
  if (auto at = api::parse_rfc3339(text_field(a, "endedAt"))) {
    out.ended_at = std::chrono::floor<std::chrono::seconds>(*at);
  }
  const auto metrics_it = a.find("metrics");
  const Json metrics = metrics_it != a.end() ? *metrics_it : Json::array();
  if (metrics.is_array()) {
    for (const auto& m : metrics) {
      if (auto metric = metric_from_json(m)) out.metrics.push_back(std::move(*metric));
    }
  }
  return out;
}

Json to_json(const AnalysisRecord& record) {
  Json metrics = Json::array();
  for (const auto& m : record.metrics) metrics.push_back(to_json(m));
  Json out = {{"stage", to_string(record.stage)},
              {"revision", record.revision},
              {"activeRevision", record.active_revision},
              {"phase", to_string(record.phase)},
              {"step", record.step},
              {"metrics", metrics}};
  if (!record.message.empty()) out["message"] = api::truncate_message(record.message);
  if (record.started_at) out["startedAt"] = api::rfc3339(*record.started_at);
  if (record.ends_at) out["endsAt"] = api::rfc3339(*record.ends_at);
  if (record.ended_at) out["endedAt"] = api::rfc3339(*record.ended_at);
  return out;
}

std::string passed_values(const AnalysisRecord& record) {
  std::string out;
  for (const auto& m : record.metrics) {
    if (const Measurement* last = last_with(m, Result::Successful)) {
      out += (out.empty() ? "" : "; ") + last->message;
    }
  }
  return out;
}

AnalysisRecord resume_analysis(const std::optional<AnalysisRecord>& previous,
                               const api::AnalysisSpec& spec, const RunKey& key,
                               std::chrono::system_clock::time_point start) {
  AnalysisRecord out;
  const bool same_run = previous && previous->stage == key.stage &&
                        previous->revision == key.revision &&
                        previous->active_revision == key.active;
  if (same_run) {
    out = *previous;
  } else {
    out.stage = key.stage;
    out.revision = key.revision;
    out.active_revision = key.active;
    out.started_at = std::chrono::floor<std::chrono::seconds>(start);
    out.step = key.step;
  }
  if (!out.started_at) out.started_at = std::chrono::floor<std::chrono::seconds>(start);
  const std::size_t step = key.step;
  std::vector<MetricRecord> metrics;
  for (const auto& metric : spec.metrics) {
    const auto it = std::find_if(out.metrics.begin(), out.metrics.end(),
                                 [&](const MetricRecord& m) { return m.name == metric.name; });
    MetricRecord fresh;
    fresh.name = metric.name;
    metrics.push_back(it != out.metrics.end() ? *it : fresh);
  }
  out.metrics = std::move(metrics);
  if (out.step != step) {
    out.step = step;
    for (auto& m : out.metrics) m.step_successful = 0;
  }
  return out;
}

void add_measurements(AnalysisRecord& record, const std::vector<Measurement>& measurements) {
  for (const auto& measurement : measurements) {
    const auto it =
        std::find_if(record.metrics.begin(), record.metrics.end(),
                     [&](const MetricRecord& m) { return m.name == measurement.metric; });
    if (it == record.metrics.end()) continue;
    MetricRecord& m = *it;
    switch (measurement.result) {
      case Result::Successful:
        ++m.successful;
        ++m.step_successful;
        break;
      case Result::Failed: ++m.failed; break;
      case Result::Inconclusive: ++m.inconclusive; break;
      case Result::Error: ++m.error; break;
    }
    m.consecutive_errors = measurement.result == Result::Error ? m.consecutive_errors + 1 : 0;
    m.consecutive_inconclusive =
        measurement.result == Result::Inconclusive ? m.consecutive_inconclusive + 1 : 0;
    Measurement kept = measurement;
    kept.at = std::chrono::floor<std::chrono::seconds>(measurement.at);
    m.measurements.push_back(std::move(kept));
    if (m.measurements.size() > kKeptMeasurements) m.measurements.erase(m.measurements.begin());
  }
}

void assess(AnalysisRecord& record, const api::AnalysisSpec& spec) {
  // The worst metric decides, in the order of the verdicts above.
  constexpr Phase kOrder[] = {Phase::Failed, Phase::Error, Phase::Inconclusive};
  std::vector<std::pair<Phase, std::string>> verdicts;
  for (auto& m : record.metrics) {
    const auto it = std::find_if(spec.metrics.begin(), spec.metrics.end(),
                                 [&](const api::AnalysisMetric& s) { return s.name == m.name; });
    if (it == spec.metrics.end()) continue;
    auto verdict = metric_verdict(m, *it);
    m.phase = verdict.first;
    verdicts.push_back(std::move(verdict));
  }
  for (const Phase worst : kOrder) {
    std::string message;
    for (const auto& [phase, why] : verdicts) {
      if (phase == worst) message += (message.empty() ? "" : "; ") + why;
    }
    if (!message.empty()) {
      record.phase = worst;
      record.message = message;
      return;
    }
  }
  const bool all_successful =
      !verdicts.empty() && std::all_of(verdicts.begin(), verdicts.end(),
                                       [](const auto& v) { return v.first == Phase::Successful; });
  record.phase = all_successful ? Phase::Successful : Phase::Running;
  record.message.clear();
}

std::chrono::system_clock::time_point next_measurement(const AnalysisRecord& record,
                                                       const api::AnalysisSpec& spec) {
  const auto last = record.last_measured();
  if (!last) return std::chrono::system_clock::time_point::min();
  return *last + spec.interval;
}

}  // namespace cd4ml::controllers::modelrelease
