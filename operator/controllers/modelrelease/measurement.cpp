#include "operator/controllers/modelrelease/measurement.hpp"

#include <cmath>
#include <sstream>

namespace cd4ml::controllers::modelrelease {

namespace {

using Result = MeasurementResult;

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// {a="1", b="2"}: how a series is named in a message.
std::string series_name(const kube::PromSample& sample) {
  std::string out = "{";
  for (const auto& [name, value] : sample.labels) {
    if (out.size() > 1) out += ", ";
    out.append(name).append("=\"").append(value).append("\"");
  }
  return out + "}";
}

// One value out of an answer, or why there is none. Several series are
// refused, not summed: which of them the rule was meant for is the query
// writer's to say (with sum(), avg() or a narrower selector), and a sum
// picked silently would judge a model on a number nobody wrote down.
struct OneValue {
  std::optional<double> value;
  Result otherwise = Result::Error;
  std::string why;
};

OneValue one_value(const kube::PromResult& answer, const std::string& what) {
  if (!answer.ok) return {std::nullopt, Result::Error, what + ": " + answer.error};
  if (answer.samples.empty()) return {std::nullopt, Result::Inconclusive, what + ": no data"};
  if (answer.samples.size() > 1) {
    return {std::nullopt, Result::Error,
            what + ": " + std::to_string(answer.samples.size()) + " series (" +
                series_name(answer.samples[0]) + ", " + series_name(answer.samples[1]) +
                (answer.samples.size() > 2 ? ", ..." : "") +
                ") where one value is needed; aggregate them in the query, e.g. with sum()"};
  }
  const double v = answer.samples[0].value;
  if (std::isnan(v)) return {std::nullopt, Result::Inconclusive, what + ": NaN (no samples?)"};
  return {v, Result::Successful, ""};
}

Measurement& ends(Measurement& m, Result result, std::string message) {
  m.result = result;
  m.message = std::move(message);
  return m;
}

}  // namespace

const char* to_string(MeasurementResult result) {
  switch (result) {
    case Result::Successful: return "Successful";
    case Result::Failed: return "Failed";
    case Result::Inconclusive: return "Inconclusive";
    case Result::Error: return "Error";
  }
  return "Error";
}

const char* to_string(AnalysisStage stage) {
  return stage == AnalysisStage::PostPromotion ? "PostPromotion" : "PrePromotion";
}

std::optional<MeasurementResult> measurement_result_from(const std::string& text) {
  for (const Result r : {Result::Successful, Result::Failed, Result::Inconclusive, Result::Error}) {
    if (text == to_string(r)) return r;
  }
  return std::nullopt;
}

std::string render_query(const std::string& query, const TemplateVars& vars) {
  std::string out;
  std::size_t pos = 0;
  while (pos < query.size()) {
    const std::size_t open = query.find("{{", pos);
    if (open == std::string::npos) break;
    const std::size_t close = query.find("}}", open + 2);
    if (close == std::string::npos) break;
    std::string name = query.substr(open + 2, close - open - 2);
    const auto first = name.find_first_not_of(' ');
    const auto last = name.find_last_not_of(' ');
    name = first == std::string::npos ? "" : name.substr(first, last - first + 1);
    out.append(query, pos, open - pos);
    const auto it = vars.find(name);
    if (it != vars.end()) {
      out += it->second;
    } else {
      out.append(query, open, close + 2 - open);
    }
    pos = close + 2;
  }
  out.append(query, pos, std::string::npos);
  return out;
}

Measurement judge_measurement(const api::AnalysisMetric& metric, const MeasuredAnswers& answers,
                              std::chrono::system_clock::time_point at) {
  Measurement m;
  m.metric = metric.name;
  m.at = at;
  const OneValue candidate = one_value(answers.candidate, "query");
  if (!candidate.value) return ends(m, candidate.otherwise, candidate.why);
  const double value = *candidate.value;
  m.value = value;

  if (metric.min_samples) {
    if (!answers.samples) return ends(m, Result::Error, "minSamples query was not run");
    const OneValue samples = one_value(*answers.samples, "minSamples query");
    if (!samples.value) return ends(m, samples.otherwise, samples.why);
    m.samples = *samples.value;
    if (*samples.value < metric.min_samples->count) {
      return ends(m, Result::Inconclusive,
                  number(*samples.value) + " samples, fewer than the " +
                      number(metric.min_samples->count) + " needed");
    }
  }
  const std::string shown = metric.name + " " + number(value);

  if (metric.compare_to_active.empty()) {
    if (metric.min && value < *metric.min) {
      return ends(m, Result::Failed, shown + " is below the minimum " + number(*metric.min));
    }
    if (metric.max && value > *metric.max) {
      return ends(m, Result::Failed, shown + " is above the maximum " + number(*metric.max));
    }
    return ends(m, Result::Successful, shown + " is within bounds");
  }

  if (!answers.active) return ends(m, Result::Error, "the active revision's query was not run");
  const OneValue active = one_value(*answers.active, "active revision's query");
  if (!active.value) return ends(m, active.otherwise, active.why);
  m.active_value = *active.value;
  const bool better_required = metric.compare_to_active == "Better";
  // Normalised to "higher is better", as the offline gates do.
  const double gain = metric.higher_is_better ? value - *active.value : *active.value - value;
  const bool passed = better_required ? gain > metric.tolerance : gain >= -metric.tolerance;
  const std::string versus = shown + " vs active " + number(*active.value);
  if (passed) return ends(m, Result::Successful, versus);
  return ends(m, Result::Failed,
              versus + (better_required ? ": not better" : ": worse") +
                  (metric.tolerance > 0 ? " beyond the tolerance " + number(metric.tolerance)
                                        : std::string()));
}

}  // namespace cd4ml::controllers::modelrelease
