#include "operator/controllers/trainingrun/baseline.hpp"

#include <cmath>

#include "operator/controllers/trainingrun/result.hpp"

namespace cd4ml::controllers::trainingrun {

namespace {

using Json = nlohmann::json;

// Fractions are rounded by the trainer; a sum this far from 1 is not rounding.
constexpr double kFractionSumTolerance = 0.01;

bool finite_number(const Json& value) {
  return value.is_number() && std::isfinite(value.get<double>());
}

std::optional<std::string> histogram_error(const Json& histogram, const std::string& where) {
  if (!histogram.is_object()) return where + " must be an object with \"edges\" and \"fractions\"";
  const auto edges = histogram.find("edges");
  const auto fractions = histogram.find("fractions");
  if (edges == histogram.end() || !edges->is_array() || edges->empty() ||
      edges->size() > kMaxBaselineEdges) {
    return where + ".edges must be an array of 1 to " + std::to_string(kMaxBaselineEdges) +
           " numbers";
  }
  for (std::size_t i = 0; i < edges->size(); ++i) {
    if (!finite_number((*edges)[i])) return where + ".edges holds a value that is not a number";
    if (i > 0 && (*edges)[i].get<double>() <= (*edges)[i - 1].get<double>()) {
      return where + ".edges must be strictly ascending";
    }
  }
  if (fractions == histogram.end() || !fractions->is_array() ||
      fractions->size() != edges->size() + 1) {
    return where + ".fractions must hold one number more than edges (the last bucket is +Inf)";
  }
  double sum = 0;
  for (const auto& f : *fractions) {
    if (!finite_number(f) || f.get<double>() < 0 || f.get<double>() > 1) {
      return where + ".fractions must be numbers between 0 and 1";
    }
    sum += f.get<double>();
  }
  if (std::abs(sum - 1) > kFractionSumTolerance) return where + ".fractions must sum to 1";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> baseline_error(const Json& baseline) {
  if (!baseline.is_object()) return "\"baseline\" must be an object";
  if (auto samples = baseline.find("samples"); samples != baseline.end()) {
    if (!samples->is_number_integer() || samples->get<long long>() < 1) {
      return "baseline.samples must be a positive integer";
    }
  }
  const auto features = baseline.find("features");
  if (features == baseline.end() || !features->is_object() || features->empty()) {
    return "baseline.features must be an object of feature name -> histogram";
  }
  for (const auto& [name, histogram] : features->items()) {
    if (!valid_result_name(name)) {
      return std::string("baseline.features has an invalid feature name: ") + kResultNameRule;
    }
    if (auto error = histogram_error(histogram, "baseline.features." + name)) return error;
  }
  if (auto prediction = baseline.find("prediction"); prediction != baseline.end()) {
    if (auto error = histogram_error(*prediction, "baseline.prediction")) return error;
  }
  return std::nullopt;
}

}  // namespace cd4ml::controllers::trainingrun
